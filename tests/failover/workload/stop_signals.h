// How run and watch end: after a duration, or at SIGTERM or SIGINT. The
// signals are blocked and taken synchronously with sigtimedwait(2), so no
// handler runs in the middle of a libpq call and every thread sees the same
// mask.
//
// Thread-safety: BlockStopSignals must run on the main thread before any
// other thread starts; WaitForStop on one thread at a time.

#ifndef CPHA_TESTS_FAILOVER_WORKLOAD_STOP_SIGNALS_H_
#define CPHA_TESTS_FAILOVER_WORKLOAD_STOP_SIGNALS_H_

#include <chrono>
#include <string>

namespace cpha::workload {

// Blocks SIGINT and SIGTERM; threads started afterwards inherit the mask.
void BlockStopSignals();

// Waits for SIGINT or SIGTERM, or until `duration` passed (zero: no
// limit). Returns "SIGTERM", "SIGINT" or "duration".
std::string WaitForStop(std::chrono::milliseconds duration);

}  // namespace cpha::workload

#endif  // CPHA_TESTS_FAILOVER_WORKLOAD_STOP_SIGNALS_H_
