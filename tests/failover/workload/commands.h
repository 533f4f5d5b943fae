// The subcommands of cp-ha-workload. Each prints one JSON document on
// stdout (its summary) and its diagnostics on stderr, and returns the
// process exit code:
//
//   0  done; for check and watch: no violation
//   1  check found a violation, or watch saw two sidecars write-ready
//   2  the work could not be done (bad input, database unreachable,
//      track_commit_timestamp off, an unreadable ack log, an ack that could
//      not be logged)
//
// Thread-safety: each runs on the main thread; run and watch block SIGINT
// and SIGTERM before they start threads.

#ifndef CPHA_TESTS_FAILOVER_WORKLOAD_COMMANDS_H_
#define CPHA_TESTS_FAILOVER_WORKLOAD_COMMANDS_H_

#include "tests/failover/workload/workload_options.h"

namespace cpha::workload {

inline constexpr int kExitOk = 0;
inline constexpr int kExitViolation = 1;
inline constexpr int kExitCannotCheck = 2;

// Creates ha_workload_writes if it does not exist.
int RunSetup(const SetupOptions& options);
// The adversarial control-plane pod: a SidecarPoller and a Writer until the
// duration passes or SIGTERM/SIGINT arrives.
int RunWorkload(const RunOptions& options);
// Reads the table and the ack logs and applies CheckWrites.
int RunCheck(const CheckOptions& options);
// Polls every sidecar's write-ready together (WriteReadyWatcher).
int RunWatch(const WatchOptions& options);

}  // namespace cpha::workload

#endif  // CPHA_TESTS_FAILOVER_WORKLOAD_COMMANDS_H_
