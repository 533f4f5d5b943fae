// The command line of cp-ha-workload, parsed with Boost.Program_options:
//
//   cp-ha-workload setup --postgres-url URL
//   cp-ha-workload run   --postgres-url URL --sidecar http://127.0.0.1:PORT
//                        --holder NAME --ack-log FILE [--fence-mode MODE]
//                        [--poll-interval-ms 100] [--stale-grace-ms 1000]
//                        [--write-interval-ms 5] [--duration-ms N] ...
//   cp-ha-workload check --postgres-url URL [--ack-log FILE ...]
//   cp-ha-workload watch --sidecar URL --sidecar URL [--interval-ms 20]
//                        [--duration-ms N]
//
// Every value is checked here; a bad one yields a kInvalidArgument Status
// whose message is the one line the process prints. The database URL never
// appears in a message.
//
// Thread-safety: functions over values.

#ifndef CPHA_TESTS_FAILOVER_WORKLOAD_WORKLOAD_OPTIONS_H_
#define CPHA_TESTS_FAILOVER_WORKLOAD_WORKLOAD_OPTIONS_H_

#include <chrono>
#include <string>
#include <variant>
#include <vector>

#include "ha/status.h"
#include "tests/failover/workload/fenced_write.h"
#include "tests/failover/workload/workload_session.h"

namespace cpha::workload {

using Millis = std::chrono::milliseconds;

struct SetupOptions {
  std::string postgres_url;  // secret
  DbTimeouts db;
};

struct RunOptions {
  std::string postgres_url;  // secret
  // The sidecar's HTTP port on 127.0.0.1.
  int sidecar_port = 0;
  std::string holder;
  std::string ack_log;
  FenceMode fence_mode = FenceMode::kShared;
  Millis poll_interval{100};
  Millis http_timeout{300};
  Millis stale_grace{1000};
  Millis write_interval{5};
  // Zero: until SIGTERM or SIGINT.
  Millis duration{0};
  DbTimeouts db;
};

struct CheckOptions {
  std::string postgres_url;  // secret
  std::vector<std::string> ack_logs;
  DbTimeouts db = {.connect = Millis(5000), .statement = Millis(30000)};
};

struct WatchOptions {
  std::vector<int> sidecar_ports;
  Millis interval{20};
  // Zero: until SIGTERM or SIGINT.
  Millis duration{0};
};

// --help for the whole program or one subcommand: print `text`, exit 0.
struct HelpRequest {
  std::string text;
};

using Command = std::variant<SetupOptions, RunOptions, CheckOptions,
                             WatchOptions, HelpRequest>;

// Parses argv without argv[0]: the subcommand, then its flags.
StatusOr<Command> ParseCommandLine(const std::vector<std::string>& args);

// The port of "http://127.0.0.1:PORT" (or localhost, optional trailing
// slash). The HTTP client speaks to loopback only.
StatusOr<int> ParseSidecarUrl(const std::string& url);

}  // namespace cpha::workload

#endif  // CPHA_TESTS_FAILOVER_WORKLOAD_WORKLOAD_OPTIONS_H_
