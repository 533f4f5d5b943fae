#include "exporter/cli.h"

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "exporter/cli_answer.h"
#include "exporter/http_client.h"

namespace cpha {
namespace po = boost::program_options;
namespace {

using nlohmann::json;

struct CliOptions {
  std::string verb;
  std::string url;
  std::string operator_name;
  std::string reason;
  std::string output;
  std::string token;
  int timeout_ms = 10000;
  bool timeout_given = false;
  std::string backup_id;
  std::string output_dir;
  bool confirm = false;
};

// Backups and restores wait on pg_dump and pg_restore: without --timeout
// the CLI waits a little longer than the sidecar's default tool timeout.
constexpr int kBackupTimeoutMs = 11 * 60 * 1000;

po::options_description Describe() {
  po::options_description desc(
      "cp-ha-sidecar ha <status|quorum|failover trigger|backup create|"
      "backup list|backup restore> [options]");
  desc.add_options()(
      "orchestrator-url",
      po::value<std::string>()->default_value("http://127.0.0.1:8888"),
      "the sidecar to talk to")("operator", po::value<std::string>(),
                                "who asks (mutating verbs)")(
      "reason", po::value<std::string>(), "why (mutating verbs)")(
      "output", po::value<std::string>()->default_value("text"),
      "text or json")("token-file", po::value<std::string>(),
                      "file holding the admin token (else CP_HA_TOKEN)")(
      "timeout", po::value<int>()->default_value(10000),
      "milliseconds to wait for the answer")(
      "backup-id", po::value<std::string>(), "backup verbs")(
      "output-dir", po::value<std::string>(), "backup verbs")(
      "confirm", po::bool_switch(), "backup restore");
  return desc;
}

Status Usage(const std::string& message) {
  return Status::Error(ErrorKind::kInvalidArgument, message);
}

// The token as the sidecar reads its own (see AdminTokenText).
StatusOr<std::string> ReadToken(const po::variables_map& vm,
                                const EnvLookup& env) {
  if (vm.count("token-file") == 0) return env("CP_HA_TOKEN").value_or("");
  const std::string& path = vm["token-file"].as<std::string>();
  std::optional<std::string> content = DiskFiles()(path);
  if (!content) return Usage("--token-file: cannot read " + path);
  StatusOr<std::string> token = AdminTokenText(content.value());
  if (!token.ok()) {
    return Usage("--token-file: " + path + " holds no token on its first line");
  }
  return token.value();
}

StatusOr<CliOptions> ParseCli(const std::vector<std::string>& args,
                              const EnvLookup& env) {
  CliOptions options;
  size_t first_flag = 0;
  while (first_flag < args.size() && args[first_flag].rfind("--", 0) != 0) {
    options.verb += (options.verb.empty() ? "" : " ") + args[first_flag];
    ++first_flag;
  }

  po::variables_map vm;
  try {
    std::vector<std::string> flags(args.begin() + first_flag, args.end());
    po::store(po::command_line_parser(flags).options(Describe()).run(), vm);
    po::notify(vm);
  } catch (const po::error& error) {
    return Usage(error.what());
  }
  options.url = vm["orchestrator-url"].as<std::string>();
  options.output = vm["output"].as<std::string>();
  options.timeout_ms = vm["timeout"].as<int>();
  options.timeout_given = !vm["timeout"].defaulted();
  if (vm.count("backup-id")) {
    options.backup_id = vm["backup-id"].as<std::string>();
  }
  if (vm.count("output-dir")) {
    options.output_dir = vm["output-dir"].as<std::string>();
  }
  options.confirm = vm["confirm"].as<bool>();
  if (vm.count("operator"))
    options.operator_name = vm["operator"].as<std::string>();
  if (vm.count("reason")) options.reason = vm["reason"].as<std::string>();
  if (options.output != "text" && options.output != "json") {
    return Usage("--output must be text or json");
  }
  StatusOr<std::string> token = ReadToken(vm, env);
  if (!token.ok()) return token.status();
  options.token = token.value();
  return options;
}

int Fail(std::FILE* err, int code, const std::string& message) {
  std::fprintf(err, "cp-ha-sidecar ha: %s\n", message.c_str());
  return code;
}

// Calls the node and prints its answer as `view`; returns the exit code.
int CallAndPrint(const CliOptions& options, const std::string& method,
                 const std::string& path, const json& body, CliView view,
                 std::FILE* out, std::FILE* err) {
  StatusOr<HttpAnswer> answer =
      HttpCall(options.url, method, path, body.is_null() ? "" : body.dump(),
               options.token, options.timeout_ms);
  if (!answer.ok()) {
    return Fail(err,
                answer.status().kind() == ErrorKind::kInvalidArgument
                    ? kCliUsage
                    : kCliUnreachable,
                answer.status().message());
  }
  CliOutput output = RenderCliAnswer(view, options.output == "json",
                                     options.url, answer->status, answer->body);
  if (output.refused) return Fail(err, kCliRefused, output.error);
  std::fwrite(output.out.data(), 1, output.out.size(), out);
  return kCliOk;
}

// The mutating backup verbs need an operator, a reason and a backup id.
std::string MissingBackupFlags(const CliOptions& options) {
  if (options.operator_name.empty() || options.reason.empty() ||
      options.backup_id.empty()) {
    return options.verb + " needs --operator, --reason and --backup-id";
  }
  return "";
}

int RunBackupVerb(CliOptions options, std::FILE* out, std::FILE* err) {
  if (!options.timeout_given) options.timeout_ms = kBackupTimeoutMs;
  if (options.verb == "backup list") {
    return CallAndPrint(options, "GET", "/v1/ha/backups", nullptr,
                        CliView::kBackupList, out, err);
  }
  if (options.verb == "backup create") {
    if (std::string missing = MissingBackupFlags(options); !missing.empty()) {
      return Fail(err, kCliUsage, missing);
    }
    json body = {{"operator", options.operator_name},
                 {"reason", options.reason},
                 {"backup_id", options.backup_id}};
    if (!options.output_dir.empty()) body["output_dir"] = options.output_dir;
    return CallAndPrint(options, "POST", "/v1/ha/backups", body,
                        CliView::kBackupCreate, out, err);
  }
  if (options.verb == "backup restore") {
    if (std::string missing = MissingBackupFlags(options); !missing.empty()) {
      return Fail(err, kCliUsage, missing);
    }
    if (!options.confirm) {
      return Fail(err, kCliUsage,
                  "backup restore replaces the database: add --confirm");
    }
    json body = {{"operator", options.operator_name},
                 {"reason", options.reason},
                 {"backup_id", options.backup_id},
                 {"confirm", true}};
    return CallAndPrint(options, "POST", "/v1/ha/backups/restore", body,
                        CliView::kBackupRestore, out, err);
  }
  return Fail(err, kCliUsage,
              "unknown verb '" + options.verb +
                  "'; use backup create, backup list or backup restore");
}

}  // namespace

int RunCli(const std::vector<std::string>& args, const EnvLookup& env,
           std::FILE* out, std::FILE* err) {
  StatusOr<CliOptions> parsed = ParseCli(args, env);
  if (!parsed.ok()) return Fail(err, kCliUsage, parsed.status().message());
  const CliOptions& options = parsed.value();

  if (options.verb == "status") {
    return CallAndPrint(options, "GET", "/v1/ha/status", nullptr,
                        CliView::kStatus, out, err);
  }
  if (options.verb == "quorum") {
    return CallAndPrint(options, "GET", "/v1/ha/quorum", nullptr,
                        CliView::kQuorum, out, err);
  }
  if (options.verb == "failover trigger") {
    if (options.operator_name.empty() || options.reason.empty()) {
      return Fail(err, kCliUsage,
                  "failover trigger needs --operator and --reason");
    }
    json body = {{"operator", options.operator_name},
                 {"reason", options.reason}};
    return CallAndPrint(options, "POST", "/v1/ha/failover", body,
                        CliView::kFailover, out, err);
  }
  if (options.verb.rfind("backup", 0) == 0) {
    return RunBackupVerb(options, out, err);
  }
  return Fail(err, kCliUsage,
              "unknown verb '" + options.verb +
                  "'; use status, quorum, failover trigger, backup create, "
                  "backup list or backup restore");
}

}  // namespace cpha
