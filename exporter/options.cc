#include "exporter/options.h"

#include <unistd.h>

#include <boost/program_options.hpp>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

namespace cpha {
namespace po = boost::program_options;
namespace {

constexpr const char* kEnvPrefix = "CP_HA_";

// Durations the options take, with their defaults.
const std::map<std::string, std::string> kDurationDefaults = {
    {"quorum-monitor-interval", "1s"},  {"keepalive-interval", "1s"},
    {"campaign-interval", "1s"},        {"lock-session-timeout", "3s"},
    {"stepdown-margin", "1s"},          {"db-timeout", "2s"},
    {"connect-timeout", "3s"},          {"resign-holdoff", "3s"},
    {"promotion-replay-horizon", "2h"}, {"outbox-retention", "24h"},
    {"outbox-purge-interval", "1m"},    {"audit-interval", "5s"},
    {"backup-timeout", "10m"},
};

std::string EnvName(const std::string& option) {
  std::string name = kEnvPrefix;
  for (char c : option) {
    name += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  }
  return name;
}

std::string DefaultHolderId() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') {
    return "cp-ha-sidecar";
  }
  return name;
}

void AddDescribed(po::options_description& desc, const char* name,
                  const po::value_semantic* semantic, const std::string& help) {
  std::string text = help + " [env " + EnvName(name) + "]";
  desc.add_options()(name, semantic, text.c_str());
}

po::options_description Describe() {
  po::options_description desc(
      "Usage: cp-ha-sidecar [options]\n"
      "       cp-ha-sidecar ha <verb> [options]   (operator CLI)\n\n"
      "Options");
  desc.add_options()("help", "print this help and exit")(
      "version", "print the version and exit");
  AddDescribed(desc, "config", po::value<std::string>(),
               "read further options from this file (key = value lines)");
  AddDescribed(desc, "postgres-url", po::value<std::string>(),
               "libpq URI or key=value string of the database; several "
               "hosts with target_session_attrs=read-write follow a failover");
  AddDescribed(desc, "postgres-url-file", po::value<std::string>(),
               "file holding the database URL (keeps it out of ps and env)");
  AddDescribed(desc, "holder-id",
               po::value<std::string>()->default_value(DefaultHolderId()),
               "this node's name in leadership_state (default: host name)");
  AddDescribed(desc, "listen",
               po::value<std::string>()->default_value("0.0.0.0:8888"),
               "HTTP listen address host:port");
  AddDescribed(desc, "min-sync-replicas", po::value<int>()->default_value(0),
               "synchronous standbys required for write readiness");
  for (const auto& [name, fallback] : kDurationDefaults) {
    AddDescribed(desc, name.c_str(),
                 po::value<std::string>()->default_value(fallback),
                 "duration (e.g. 500ms, 1s, 2m)");
  }
  AddDescribed(desc, "advisory-lock-key",
               po::value<int64_t>()->default_value(727372700),
               "bigint key of the election's session advisory lock");
  AddDescribed(desc, "schema",
               po::value<std::string>()->default_value("public"),
               "schema of the sidecar's tables");
  AddDescribed(desc, "log-level",
               po::value<std::string>()->default_value("info"),
               "debug, info, warn or error");
  AddDescribed(desc, "admin-token-file", po::value<std::string>(),
               "file holding the bearer token for mutating admin endpoints");
  AddDescribed(desc, "tls-cert-file", po::value<std::string>(),
               "PEM file with certificate and key: serve HTTPS");
  AddDescribed(desc, "maintenance",
               po::value<bool>()->default_value(false)->implicit_value(true),
               "maintenance mode: never write-ready; restore allowed");
  AddDescribed(desc, "create-app-schema",
               po::value<bool>()->default_value(false)->implicit_value(true),
               "also create the control plane's tables (labs and tests)");
  AddDescribed(desc, "http-threads", po::value<int>()->default_value(256),
               "HTTP worker threads");
  AddDescribed(desc, "fence-mode",
               po::value<std::string>()->default_value("shared"),
               "row lock of the sidecar's fenced writes: shared (FOR SHARE) "
               "or for-update (the runbook's FOR UPDATE)");
  AddDescribed(desc, "backup-dir", po::value<std::string>(),
               "absolute directory for backups whose request names no "
               "output_dir");
  AddDescribed(desc, "pg-bin-dir", po::value<std::string>(),
               "directory of pg_dump and pg_restore (default: PATH)");
  return desc;
}

// Boost's parse_environment maps CP_HA_POSTGRES_URL to "postgres-url" and
// drops every variable that is not one of our options.
po::parsed_options ParseEnvironment(const po::options_description& desc,
                                    const EnvLookup& env) {
  po::parsed_options parsed(&desc);
  for (const auto& option : desc.options()) {
    const std::string& name = option->long_name();
    if (name == "help" || name == "version") continue;
    std::optional<std::string> value = env(EnvName(name));
    if (!value) continue;
    po::option entry;
    entry.string_key = name;
    entry.value.push_back(*value);
    entry.original_tokens = {EnvName(name)};
    parsed.options.push_back(entry);
  }
  return parsed;
}

Status Invalid(const std::string& message) {
  return Status::Error(ErrorKind::kInvalidArgument, message);
}

// The file an option names, read through `files`, with the option's name
// in the message of a failure.
StatusOr<std::string> ReadOptionFile(const FileReader& files,
                                     const std::string& option,
                                     const std::string& path) {
  std::optional<std::string> content = files(path);
  if (!content) return Invalid("--" + option + ": cannot read file " + path);
  return *content;
}

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view TrimBlanks(std::string_view text) {
  while (!text.empty() && IsBlank(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsBlank(text.back())) text.remove_suffix(1);
  return text;
}

bool IsOptionName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return false;
    }
  }
  return true;
}

Status ReadDurations(const po::variables_map& vm, Options& options) {
  const std::map<std::string, Duration*> targets = {
      {"quorum-monitor-interval", &options.quorum_monitor_interval},
      {"keepalive-interval", &options.keepalive_interval},
      {"campaign-interval", &options.campaign_interval},
      {"lock-session-timeout", &options.lock_session_timeout},
      {"stepdown-margin", &options.stepdown_margin},
      {"db-timeout", &options.db_timeout},
      {"connect-timeout", &options.connect_timeout},
      {"resign-holdoff", &options.resign_holdoff},
      {"promotion-replay-horizon", &options.promotion_replay_horizon},
      {"outbox-retention", &options.outbox_retention},
      {"outbox-purge-interval", &options.outbox_purge_interval},
      {"audit-interval", &options.audit_interval},
      {"backup-timeout", &options.backup_timeout},
  };
  for (const auto& [name, target] : targets) {
    const std::string& text = vm[name].as<std::string>();
    std::optional<Duration> parsed = ParseDuration(text);
    if (!parsed || parsed->count() <= 0) {
      return Invalid("--" + name + ": '" + text +
                     "' is not a positive duration (e.g. 500ms, 1s, 2m)");
    }
    *target = *parsed;
  }
  return Status();
}

// The step-down arithmetic of DESIGN.md section 4 must leave the leader
// room to renew before it stops claiming.
Status CheckTimingRelations(const Options& options) {
  if (options.stepdown_margin >= options.lock_session_timeout) {
    return Invalid(
        "--stepdown-margin must be shorter than --lock-session-timeout");
  }
  if (options.keepalive_interval >=
      options.lock_session_timeout - options.stepdown_margin) {
    return Invalid(
        "--keepalive-interval must be shorter than --lock-session-timeout "
        "minus --stepdown-margin, or the leader steps down between "
        "keepalives");
  }
  if (options.lock_session_timeout < std::chrono::seconds(1)) {
    return Invalid("--lock-session-timeout must be at least 1s");
  }
  if (options.audit_interval < std::chrono::milliseconds(100) ||
      options.outbox_purge_interval < std::chrono::milliseconds(100)) {
    return Invalid(
        "--audit-interval and --outbox-purge-interval must be at least "
        "100ms");
  }
  if (options.promotion_replay_horizon < std::chrono::seconds(1) ||
      options.outbox_retention < std::chrono::seconds(1)) {
    return Invalid(
        "--promotion-replay-horizon and --outbox-retention must be at least "
        "1s");
  }
  return Status();
}

Status ReadDatabaseUrl(const po::variables_map& vm, const FileReader& files,
                       Options& options) {
  const bool inline_url = vm.count("postgres-url") != 0;
  const bool url_file = vm.count("postgres-url-file") != 0;
  if (inline_url && url_file) {
    return Invalid(
        "give either --postgres-url or --postgres-url-file, not "
        "both");
  }
  if (url_file) {
    const std::string& path = vm["postgres-url-file"].as<std::string>();
    StatusOr<std::string> content =
        ReadOptionFile(files, "postgres-url-file", path);
    if (!content.ok()) return content.status();
    StatusOr<std::string> url = SecretFileText(content.value());
    if (!url.ok()) {
      return Invalid("--postgres-url-file: file " + path + " is empty");
    }
    options.postgres_url = url.value();
    return Status();
  }
  if (!inline_url || vm["postgres-url"].as<std::string>().empty()) {
    return Invalid("--postgres-url (or --postgres-url-file) is required");
  }
  options.postgres_url = vm["postgres-url"].as<std::string>();
  return Status();
}

// --admin-token-file and --tls-cert-file: both must be readable; the token
// is read here, once.
Status ReadFileOptions(const po::variables_map& vm, const FileReader& files,
                       Options& options) {
  if (vm.count("tls-cert-file")) {
    options.tls_cert_file = vm["tls-cert-file"].as<std::string>();
    StatusOr<std::string> cert =
        ReadOptionFile(files, "tls-cert-file", options.tls_cert_file);
    if (!cert.ok()) return cert.status();
  }
  if (vm.count("admin-token-file") == 0) return Status();
  options.admin_token_file = vm["admin-token-file"].as<std::string>();
  StatusOr<std::string> content =
      ReadOptionFile(files, "admin-token-file", options.admin_token_file);
  if (!content.ok()) return content.status();
  StatusOr<std::string> token = AdminTokenText(content.value());
  if (!token.ok()) {
    return Invalid("--admin-token-file: " + options.admin_token_file +
                   " holds no token on its first line");
  }
  options.admin_token = token.value();
  return Status();
}

Status ReadScalars(const po::variables_map& vm, Options& options) {
  options.holder_id = vm["holder-id"].as<std::string>();
  if (options.holder_id.empty() || options.holder_id.size() > 200) {
    return Invalid("--holder-id must be 1 to 200 characters");
  }

  StatusOr<ListenAddress> listen =
      ParseListenAddress(vm["listen"].as<std::string>());
  if (!listen.ok()) return listen.status();
  options.listen_host = listen->host;
  options.listen_port = listen->port;

  options.min_sync_replicas = vm["min-sync-replicas"].as<int>();
  if (options.min_sync_replicas < 0 || options.min_sync_replicas > 64) {
    return Invalid("--min-sync-replicas must be between 0 and 64");
  }
  options.http_threads = vm["http-threads"].as<int>();
  if (options.http_threads < 2 || options.http_threads > 1024) {
    return Invalid("--http-threads must be between 2 and 1024");
  }

  options.advisory_lock_key = vm["advisory-lock-key"].as<int64_t>();
  options.schema = vm["schema"].as<std::string>();
  static const std::regex kIdentifier("[a-z_][a-z0-9_]{0,62}");
  if (!std::regex_match(options.schema, kIdentifier)) {
    return Invalid("--schema must be a lower-case identifier");
  }

  std::optional<LogLevel> level =
      ParseLogLevel(vm["log-level"].as<std::string>());
  if (!level) return Invalid("--log-level must be debug, info, warn or error");
  options.log_level = *level;
  options.maintenance = vm["maintenance"].as<bool>();
  options.create_app_schema = vm["create-app-schema"].as<bool>();

  const std::string& fence_mode = vm["fence-mode"].as<std::string>();
  std::optional<FenceLockMode> mode = ParseFenceMode(fence_mode);
  if (!mode) {
    return Invalid("--fence-mode must be shared or for-update, not '" +
                   fence_mode + "'");
  }
  options.fence_mode = *mode;
  return Status();
}

// Issue #4: where backups go and which pg_dump and pg_restore run them.
Status ReadBackupOptions(const po::variables_map& vm, Options& options) {
  if (vm.count("backup-dir")) {
    options.backup_dir = vm["backup-dir"].as<std::string>();
    if (options.backup_dir.empty() || options.backup_dir.front() != '/') {
      return Invalid("--backup-dir must be an absolute path");
    }
  }
  if (vm.count("pg-bin-dir")) {
    options.pg_bin_dir = vm["pg-bin-dir"].as<std::string>();
    for (const char* tool : {"/pg_dump", "/pg_restore"}) {
      if (access((options.pg_bin_dir + tool).c_str(), X_OK) != 0) {
        return Invalid("--pg-bin-dir: no executable " + options.pg_bin_dir +
                       tool);
      }
    }
  }
  return Status();
}

// Boost.Program_options fills these placeholders into its error messages
// until none is left; a value that holds one makes that loop endless.
bool HoldsBoostPlaceholder(const std::string& text) {
  for (const char* placeholder : {"%canonical_option%", "%option%", "%value%",
                                  "%prefix%", "%original_token%"}) {
    if (text.find(placeholder) != std::string::npos) return true;
  }
  return false;
}

// True when `message` repeats an argument meant as the database URL: the
// one after --postgres-url, or --postgres-url=... (Boost echoes a value that
// it takes for an unknown option, e.g. one starting with '-').
bool RepeatsDatabaseUrl(const std::string& message,
                        const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const bool url = (i > 0 && args[i - 1] == "--postgres-url") ||
                     args[i].rfind("--postgres-url=", 0) == 0;
    // Boost's message is a C string: it ends at a NUL of the argument.
    const std::string shown = args[i].substr(0, args[i].find('\0'));
    if (url && !shown.empty() && message.find(shown) != std::string::npos) {
      return true;
    }
  }
  return false;
}

// The --config file as Boost's parsed options. Our own reader rather than
// po::parse_config_file: Boost's cuts every line at '#' (a password may
// hold one) and echoes a malformed line, which may hold a secret, in its
// error.
StatusOr<po::parsed_options> ParseConfigFile(
    const po::options_description& desc, const std::string& path,
    const FileReader& files) {
  StatusOr<std::string> text = ReadOptionFile(files, "config", path);
  if (!text.ok()) return text.status();
  StatusOr<std::vector<ConfigEntry>> entries = ParseConfigText(text.value());
  if (!entries.ok()) {
    return Invalid("--config " + path + ": " + entries.status().message());
  }
  po::parsed_options parsed(&desc);
  for (const ConfigEntry& entry : entries.value()) {
    if (desc.find_nothrow(entry.name, /*approx=*/false) == nullptr ||
        entry.name == "help" || entry.name == "version" ||
        entry.name == "config") {
      return Invalid("--config " + path + ": unknown option '" + entry.name +
                     "'");
    }
    if (HoldsBoostPlaceholder(entry.value)) {
      return Invalid("--config " + path + ": the value of '" + entry.name +
                     "' holds a reserved %name% sequence");
    }
    po::option option;
    option.string_key = entry.name;
    option.value.push_back(entry.value);
    option.original_tokens = {entry.name};
    parsed.options.push_back(option);
  }
  return parsed;
}

StatusOr<po::variables_map> StoreAll(const std::vector<std::string>& args,
                                     const EnvLookup& env,
                                     const FileReader& files,
                                     const po::options_description& desc) {
  po::variables_map vm;
  // No positional arguments: a stray word is a mistake, not something to
  // ignore while the process joins the election.
  po::positional_options_description no_positionals;
  po::store(po::command_line_parser(args)
                .options(desc)
                .positional(no_positionals)
                .run(),
            vm);
  po::store(ParseEnvironment(desc, env), vm);

  if (vm.count("config")) {
    StatusOr<po::parsed_options> config =
        ParseConfigFile(desc, vm["config"].as<std::string>(), files);
    if (!config.ok()) return config.status();
    po::store(config.value(), vm);
  }
  po::notify(vm);
  return vm;
}

}  // namespace

FileReader DiskFiles() {
  return [](const std::string& path) -> std::optional<std::string> {
    std::ifstream file(path, std::ios::binary);
    if (!file) return std::nullopt;
    std::stringstream content;
    content << file.rdbuf();
    if (file.bad()) return std::nullopt;
    return content.str();
  };
}

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

StatusOr<ParsedOptions> ParseOptions(const std::vector<std::string>& args,
                                     const EnvLookup& env,
                                     const FileReader& files) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (HoldsBoostPlaceholder(args[i])) {
      return Invalid("argument " + std::to_string(i + 1) +
                     " holds a reserved %name% sequence");
    }
  }
  po::options_description desc = Describe();
  for (const auto& option : desc.options()) {
    std::optional<std::string> value = env(EnvName(option->long_name()));
    if (value && HoldsBoostPlaceholder(*value)) {
      return Invalid(EnvName(option->long_name()) +
                     " holds a reserved %name% sequence");
    }
  }
  StatusOr<po::variables_map> stored = Invalid("unparsed");
  try {
    stored = StoreAll(args, env, files, desc);
  } catch (const po::error& error) {
    // Boost's messages name the option and, for bad values, echo the value:
    // say which option without repeating what was given.
    std::string message = error.what();
    if (message.find("postgres-url") != std::string::npos ||
        RepeatsDatabaseUrl(message, args)) {
      message = "the option --postgres-url is malformed";
    }
    return Invalid(message);
  }
  if (!stored.ok()) return stored.status();
  const po::variables_map& vm = stored.value();

  ParsedOptions parsed;
  if (vm.count("help")) {
    std::ostringstream text;
    text << desc;
    parsed.action = Action::kHelp;
    parsed.help = text.str();
    return parsed;
  }
  if (vm.count("version")) {
    parsed.action = Action::kVersion;
    return parsed;
  }

  Status url = ReadDatabaseUrl(vm, files, parsed.options);
  if (!url.ok()) return url;
  for (auto step : {ReadScalars, ReadDurations, ReadBackupOptions}) {
    Status status = step(vm, parsed.options);
    if (!status.ok()) return status;
  }
  Status read = ReadFileOptions(vm, files, parsed.options);
  if (!read.ok()) return read;
  Status timing = CheckTimingRelations(parsed.options);
  if (!timing.ok()) return timing;
  return parsed;
}

StatusOr<std::vector<ConfigEntry>> ParseConfigText(std::string_view text) {
  std::vector<ConfigEntry> entries;
  size_t number = 0;
  while (!text.empty()) {
    ++number;
    size_t end = text.find('\n');
    std::string_view line = TrimBlanks(
        text.substr(0, end == std::string_view::npos ? text.size() : end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.empty() || line.front() == '#') continue;

    size_t equals = line.find('=');
    std::string_view name = TrimBlanks(line.substr(0, equals));
    if (equals == std::string_view::npos || !IsOptionName(name)) {
      return Invalid("line " + std::to_string(number) +
                     " is not 'name = value'");
    }
    entries.push_back(
        {std::string(name), std::string(TrimBlanks(line.substr(equals + 1)))});
  }
  return entries;
}

StatusOr<std::string> SecretFileText(std::string_view content) {
  while (!content.empty() &&
         std::isspace(static_cast<unsigned char>(content.back()))) {
    content.remove_suffix(1);
  }
  if (content.empty()) return Invalid("the file is empty");
  return std::string(content);
}

StatusOr<std::string> AdminTokenText(std::string_view content) {
  std::string_view line = content.substr(0, content.find('\n'));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) return Invalid("no token on the first line");
  return std::string(line);
}

std::optional<Duration> ParseDuration(std::string_view text) {
  size_t digits_end = 0;
  while (digits_end < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[digits_end])) ||
          text[digits_end] == '.')) {
    ++digits_end;
  }
  if (digits_end == 0) return std::nullopt;

  double number = 0;
  std::string number_text(text.substr(0, digits_end));
  char* end = nullptr;
  number = std::strtod(number_text.c_str(), &end);
  if (end != number_text.c_str() + number_text.size() ||
      !std::isfinite(number)) {
    return std::nullopt;
  }

  static const std::map<std::string_view, double> kUnitSeconds = {
      {"", 1.0},    {"s", 1.0},  {"ms", 1e-3},
      {"us", 1e-6}, {"m", 60.0}, {"h", 3600.0}};
  auto unit = kUnitSeconds.find(text.substr(digits_end));
  if (unit == kUnitSeconds.end()) return std::nullopt;

  double seconds = number * unit->second;
  if (seconds > 7 * 24 * 3600.0) return std::nullopt;
  return std::chrono::duration_cast<Duration>(
      std::chrono::duration<double>(seconds));
}

std::optional<FenceLockMode> ParseFenceMode(std::string_view text) {
  if (text == "shared") return FenceLockMode::kShared;
  if (text == "for-update") return FenceLockMode::kExclusive;
  return std::nullopt;
}

StatusOr<ListenAddress> ParseListenAddress(std::string_view text) {
  const std::string shown(text);
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return Invalid("--listen: '" + shown + "' is not host:port");
  }
  ListenAddress address;
  address.host = std::string(text.substr(0, colon));
  if (address.host.size() >= 2 && address.host.front() == '[' &&
      address.host.back() == ']') {
    address.host = address.host.substr(1, address.host.size() - 2);
  }

  std::string_view port = text.substr(colon + 1);
  int value = -1;
  auto [end, error] =
      std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || error != std::errc() ||
      end != port.data() + port.size() || value < 0 || value > 65535) {
    return Invalid("--listen: port in '" + shown +
                   "' is not a number from 0 to 65535");
  }
  address.port = value;
  return address;
}

}  // namespace cpha
