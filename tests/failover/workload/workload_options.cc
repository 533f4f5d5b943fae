#include "tests/failover/workload/workload_options.h"

#include <boost/program_options.hpp>
#include <regex>
#include <sstream>

namespace cpha::workload {
namespace {

namespace po = boost::program_options;

constexpr const char* kUsage =
    "usage: cp-ha-workload setup|run|check|watch [flags]\n"
    "       cp-ha-workload SUBCOMMAND --help\n"
    "  setup  create the table ha_workload_writes (idempotent)\n"
    "  run    fenced writes with the epoch of a write-ready sidecar\n"
    "  check  fail (exit 1) on a stale write, a fence mismatch or a lost\n"
    "         acknowledged write; exit 2 when the check cannot be made\n"
    "  watch  count polls where two or more sidecars were write-ready\n";

Status Invalid(const std::string& message) {
  return Status::Error(ErrorKind::kInvalidArgument, message);
}

// Boost.Program_options substitutes these into its error messages for as
// long as one is left, so an argument holding one never ends the loop.
bool HasBoostPlaceholder(const std::string& arg) {
  static const std::regex kPlaceholder(
      "%(canonical_option|option|value|prefix|original_token)%");
  return std::regex_search(arg, kPlaceholder);
}

// An integer flag in milliseconds with `fallback` as its default.
po::typed_value<int>* MillisValue(Millis fallback) {
  return po::value<int>()->default_value(static_cast<int>(fallback.count()));
}

void AddDbFlags(po::options_description& desc, const DbTimeouts& defaults) {
  const std::string statement_help =
      "client-side bound on each statement; the server's statement_timeout "
      "is " +
      std::to_string(kServerTimeoutSlack.count()) + " ms longer";
  desc.add_options()("postgres-url", po::value<std::string>()->required(),
                     "libpq URL; multi-host with "
                     "target_session_attrs=read-write for run")(
      "connect-timeout-ms", MillisValue(defaults.connect),
      "bound on opening a connection")(
      "db-timeout-ms", MillisValue(defaults.statement), statement_help.c_str());
}

po::options_description SetupFlags() {
  po::options_description desc("cp-ha-workload setup");
  desc.add_options()("help", "this text");
  AddDbFlags(desc, DbTimeouts{});
  return desc;
}

po::options_description RunFlags() {
  const RunOptions d;
  po::options_description desc("cp-ha-workload run");
  desc.add_options()("help", "this text");
  AddDbFlags(desc, d.db);
  desc.add_options()("sidecar", po::value<std::string>()->required(),
                     "the pod's own sidecar, http://127.0.0.1:PORT")(
      "holder", po::value<std::string>()->required(),
      "written to each row; unique per run")(
      "ack-log", po::value<std::string>()->required(),
      "appends one JSON line per acknowledged commit")(
      "fence-mode", po::value<std::string>()->default_value("shared"),
      "shared: cp_ha_fence(epoch); exclusive: cp_ha_fence(epoch, true)")(
      "poll-interval-ms", MillisValue(d.poll_interval),
      "how often the sidecar is asked")(
      "http-timeout-ms", MillisValue(d.http_timeout),
      "bound on each HTTP request to the sidecar")(
      "stale-grace-ms", MillisValue(d.stale_grace),
      "keep writing this long after the last write-ready 200")(
      "write-interval-ms", MillisValue(d.write_interval),
      "pause after each write attempt")(
      "duration-ms", MillisValue(d.duration),
      "stop after this long; 0: at SIGTERM or SIGINT");
  return desc;
}

po::options_description CheckFlags() {
  const CheckOptions d;
  po::options_description desc("cp-ha-workload check");
  desc.add_options()("help", "this text");
  AddDbFlags(desc, d.db);
  desc.add_options()("ack-log",
                     po::value<std::vector<std::string>>()->composing(),
                     "an ack log of run; repeat for several");
  return desc;
}

po::options_description WatchFlags() {
  const WatchOptions d;
  po::options_description desc("cp-ha-workload watch");
  desc.add_options()("help", "this text")(
      "sidecar", po::value<std::vector<std::string>>()->required(),
      "http://127.0.0.1:PORT; repeat for each sidecar")(
      "interval-ms", MillisValue(d.interval), "pause between rounds")(
      "duration-ms", MillisValue(d.duration),
      "stop after this long; 0: at SIGTERM or SIGINT");
  return desc;
}

std::string HelpText(const po::options_description& desc) {
  std::ostringstream text;
  text << desc;
  return text.str();
}

// Parses `args` against `desc`; under --help the required flags may be
// missing.
StatusOr<po::variables_map> Store(const po::options_description& desc,
                                  const std::vector<std::string>& args) {
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).run(), vm);
    if (vm.count("help") == 0) po::notify(vm);
  } catch (const po::error& error) {
    return Invalid(error.what());
  }
  return vm;
}

// A flag's value in milliseconds, at least `min`.
StatusOr<Millis> MillisFlag(const po::variables_map& vm, const char* name,
                            int min) {
  const int value = vm[name].as<int>();
  if (value < min) {
    return Invalid(std::string("--") + name + " must be at least " +
                   std::to_string(min) + ", got " + std::to_string(value));
  }
  return Millis(value);
}

Status ReadDbFlags(const po::variables_map& vm, std::string& url,
                   DbTimeouts& db) {
  url = vm["postgres-url"].as<std::string>();
  StatusOr<Millis> connect = MillisFlag(vm, "connect-timeout-ms", 100);
  if (!connect.ok()) return connect.status();
  StatusOr<Millis> statement = MillisFlag(vm, "db-timeout-ms", 100);
  if (!statement.ok()) return statement.status();
  db = {.connect = connect.value(), .statement = statement.value()};
  return Status();
}

StatusOr<FenceMode> ParseFenceMode(const std::string& text) {
  if (text == "shared") return FenceMode::kShared;
  if (text == "exclusive") return FenceMode::kExclusive;
  return Invalid("--fence-mode must be shared or exclusive, got '" + text +
                 "'");
}

StatusOr<Command> ParseSetup(const std::vector<std::string>& args) {
  const po::options_description desc = SetupFlags();
  StatusOr<po::variables_map> vm = Store(desc, args);
  if (!vm.ok()) return vm.status();
  if (vm->count("help")) return Command(HelpRequest{HelpText(desc)});

  SetupOptions options;
  Status db = ReadDbFlags(vm.value(), options.postgres_url, options.db);
  if (!db.ok()) return db;
  return Command(options);
}

// The interval flags of run.
Status ReadRunTimings(const po::variables_map& vm, RunOptions& options) {
  const std::pair<const char*, Millis*> flags[] = {
      {"poll-interval-ms", &options.poll_interval},
      {"http-timeout-ms", &options.http_timeout},
      {"stale-grace-ms", &options.stale_grace},
  };
  for (const auto& [name, target] : flags) {
    StatusOr<Millis> value = MillisFlag(vm, name, 1);
    if (!value.ok()) return value.status();
    *target = value.value();
  }
  StatusOr<Millis> write = MillisFlag(vm, "write-interval-ms", 0);
  if (!write.ok()) return write.status();
  options.write_interval = write.value();
  StatusOr<Millis> duration = MillisFlag(vm, "duration-ms", 0);
  if (!duration.ok()) return duration.status();
  options.duration = duration.value();
  return Status();
}

StatusOr<Command> ParseRun(const std::vector<std::string>& args) {
  const po::options_description desc = RunFlags();
  StatusOr<po::variables_map> vm = Store(desc, args);
  if (!vm.ok()) return vm.status();
  if (vm->count("help")) return Command(HelpRequest{HelpText(desc)});

  RunOptions options;
  Status db = ReadDbFlags(vm.value(), options.postgres_url, options.db);
  if (!db.ok()) return db;
  StatusOr<int> port = ParseSidecarUrl(vm.value()["sidecar"].as<std::string>());
  if (!port.ok()) return port.status();
  options.sidecar_port = port.value();
  options.holder = vm.value()["holder"].as<std::string>();
  if (options.holder.empty()) return Invalid("--holder must not be empty");
  options.ack_log = vm.value()["ack-log"].as<std::string>();
  StatusOr<FenceMode> mode =
      ParseFenceMode(vm.value()["fence-mode"].as<std::string>());
  if (!mode.ok()) return mode.status();
  options.fence_mode = mode.value();
  Status timings = ReadRunTimings(vm.value(), options);
  if (!timings.ok()) return timings;
  return Command(options);
}

StatusOr<Command> ParseCheck(const std::vector<std::string>& args) {
  const po::options_description desc = CheckFlags();
  StatusOr<po::variables_map> vm = Store(desc, args);
  if (!vm.ok()) return vm.status();
  if (vm->count("help")) return Command(HelpRequest{HelpText(desc)});

  CheckOptions options;
  Status db = ReadDbFlags(vm.value(), options.postgres_url, options.db);
  if (!db.ok()) return db;
  if (vm->count("ack-log")) {
    options.ack_logs = vm.value()["ack-log"].as<std::vector<std::string>>();
  }
  return Command(options);
}

StatusOr<Command> ParseWatch(const std::vector<std::string>& args) {
  const po::options_description desc = WatchFlags();
  StatusOr<po::variables_map> vm = Store(desc, args);
  if (!vm.ok()) return vm.status();
  if (vm->count("help")) return Command(HelpRequest{HelpText(desc)});

  WatchOptions options;
  for (const std::string& url :
       vm.value()["sidecar"].as<std::vector<std::string>>()) {
    StatusOr<int> port = ParseSidecarUrl(url);
    if (!port.ok()) return port.status();
    options.sidecar_ports.push_back(port.value());
  }
  StatusOr<Millis> interval = MillisFlag(vm.value(), "interval-ms", 1);
  if (!interval.ok()) return interval.status();
  options.interval = interval.value();
  StatusOr<Millis> duration = MillisFlag(vm.value(), "duration-ms", 0);
  if (!duration.ok()) return duration.status();
  options.duration = duration.value();
  return Command(options);
}

}  // namespace

StatusOr<int> ParseSidecarUrl(const std::string& url) {
  static const std::regex kLoopback(
      R"(^http://(127\.0\.0\.1|localhost):([0-9]{1,5})/?$)");
  std::smatch match;
  if (!std::regex_match(url, match, kLoopback)) {
    return Invalid("--sidecar must be http://127.0.0.1:PORT, got '" + url +
                   "'");
  }
  const int port = std::stoi(match[2].str());
  if (port < 1 || port > 65535) {
    return Invalid("--sidecar port out of range in '" + url + "'");
  }
  return port;
}

StatusOr<Command> ParseCommandLine(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (HasBoostPlaceholder(args[i])) {
      return Invalid("argument " + std::to_string(i + 1) +
                     " holds a reserved %name% sequence");
    }
  }
  if (args.empty()) return Invalid(kUsage);
  const std::string& subcommand = args.front();
  const std::vector<std::string> flags(args.begin() + 1, args.end());

  if (subcommand == "setup") return ParseSetup(flags);
  if (subcommand == "run") return ParseRun(flags);
  if (subcommand == "check") return ParseCheck(flags);
  if (subcommand == "watch") return ParseWatch(flags);
  if (subcommand == "--help" || subcommand == "-h" || subcommand == "help") {
    return Command(HelpRequest{kUsage});
  }
  return Invalid("unknown subcommand '" + subcommand + "'\n" + kUsage);
}

}  // namespace cpha::workload
