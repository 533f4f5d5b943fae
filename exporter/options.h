// Options: the sidecar's configuration from flags, environment variables
// (CP_HA_<FLAG_IN_UPPER_SNAKE>) and an optional config file (--config), in
// that order of precedence, parsed with Boost.Program_options.
//
// Every value is checked here; a bad one yields a Status whose message is
// the single line the process prints before it exits. Secrets (the database
// URL, the admin token) never appear in that message, nor does any line of
// the config file.
//
// Thread-safety: free functions over values.

#ifndef CPHA_EXPORTER_OPTIONS_H_
#define CPHA_EXPORTER_OPTIONS_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ha/fence.h"
#include "ha/log.h"
#include "ha/status.h"

namespace cpha {

using Duration = std::chrono::steady_clock::duration;

struct Options {
  std::string postgres_url;  // secret: never logged, shown or labelled
  std::string holder_id;
  std::string listen_host;
  int listen_port = 8888;
  int min_sync_replicas = 0;
  Duration quorum_monitor_interval = std::chrono::seconds(1);
  Duration keepalive_interval = std::chrono::seconds(1);
  Duration campaign_interval = std::chrono::seconds(1);
  Duration lock_session_timeout = std::chrono::seconds(3);
  Duration stepdown_margin = std::chrono::seconds(1);
  Duration db_timeout = std::chrono::seconds(2);
  Duration connect_timeout = std::chrono::seconds(3);
  Duration resign_holdoff = std::chrono::seconds(3);
  int64_t advisory_lock_key = 0;
  std::string schema;
  LogLevel log_level = LogLevel::kInfo;
  std::string admin_token_file;
  // secret: the first line of --admin-token-file; nullopt without the flag
  std::optional<std::string> admin_token;
  std::string tls_cert_file;
  bool maintenance = false;
  bool create_app_schema = false;
  int http_threads = 8;
  // Issue #3: the recovery pass, the audit collector and the fence.
  Duration promotion_replay_horizon = std::chrono::hours(2);
  Duration outbox_retention = std::chrono::hours(24);
  Duration outbox_purge_interval = std::chrono::minutes(1);
  Duration audit_interval = std::chrono::seconds(5);
  FenceLockMode fence_mode = FenceLockMode::kShared;
  // Issue #4: backups.
  std::string backup_dir;  // empty: each request names its output_dir
  std::string pg_bin_dir;  // empty: pg_dump and pg_restore from PATH
  Duration backup_timeout = std::chrono::minutes(10);
};

enum class Action { kRun, kHelp, kVersion };

struct ParsedOptions {
  Action action = Action::kRun;
  Options options;
  std::string help;  // the --help text, filled for kHelp
};

// Looks up an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// The process environment.
EnvLookup ProcessEnvironment();

// Reads a whole file; nullopt when it can not be read.
using FileReader =
    std::function<std::optional<std::string>(const std::string& path)>;

// Files on disk.
FileReader DiskFiles();

// Parses the arguments after the program name. The files named by
// --config, --postgres-url-file, --admin-token-file and --tls-cert-file are
// read through `files`. Never throws.
StatusOr<ParsedOptions> ParseOptions(const std::vector<std::string>& args,
                                     const EnvLookup& env,
                                     const FileReader& files = DiskFiles());

// One `name = value` line of a --config file.
struct ConfigEntry {
  std::string name;
  std::string value;
};

// The lines of a --config file: `name = value` with the name in
// [a-z0-9-] and the value everything after the first '=', both trimmed of
// blanks, so a value may hold '#' and '='. Blank lines and lines starting
// with '#' are skipped. A malformed line fails (kInvalidArgument) naming its
// number, never its content.
StatusOr<std::vector<ConfigEntry>> ParseConfigText(std::string_view text);

// The content of --postgres-url-file without trailing whitespace;
// kInvalidArgument when nothing is left.
StatusOr<std::string> SecretFileText(std::string_view content);

// The admin token: the first line of --admin-token-file without a trailing
// '\r'; kInvalidArgument when that line is empty.
StatusOr<std::string> AdminTokenText(std::string_view content);

// "1s", "250ms", "1.5s", "2m", "1h", or a bare number of seconds. Rejects
// negative, empty and non-numeric text.
std::optional<Duration> ParseDuration(std::string_view text);

// "shared" (FOR SHARE, the default) or "for-update" (the runbook's FOR
// UPDATE); nullopt otherwise.
std::optional<FenceLockMode> ParseFenceMode(std::string_view text);

// "host:port", "[v6]:port" or ":port" (all interfaces).
struct ListenAddress {
  std::string host;
  int port = 0;
};
StatusOr<ListenAddress> ParseListenAddress(std::string_view text);

}  // namespace cpha

#endif  // CPHA_EXPORTER_OPTIONS_H_
