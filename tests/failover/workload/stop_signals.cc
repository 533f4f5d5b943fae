#include "tests/failover/workload/stop_signals.h"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

namespace cpha::workload {
namespace {

using Clock = std::chrono::steady_clock;

sigset_t StopSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

timespec ToTimespec(Clock::duration duration) {
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count();
  return {static_cast<time_t>(ns / 1000000000),
          static_cast<long>(ns % 1000000000)};
}

}  // namespace

void BlockStopSignals() {
  const sigset_t set = StopSet();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

std::string WaitForStop(std::chrono::milliseconds duration) {
  const sigset_t set = StopSet();
  const bool forever = duration.count() == 0;
  const Clock::time_point deadline = Clock::now() + duration;
  for (;;) {
    // Waits in slices of at most a second: a forever wait needs no deadline.
    Clock::duration slice = std::chrono::seconds(1);
    if (!forever) slice = std::min(slice, deadline - Clock::now());
    if (slice <= Clock::duration::zero()) return "duration";

    const timespec timeout = ToTimespec(slice);
    const int signal = sigtimedwait(&set, nullptr, &timeout);
    if (signal == SIGTERM) return "SIGTERM";
    if (signal == SIGINT) return "SIGINT";
    // EAGAIN: the slice passed; EINTR: another signal. Either way, again.
  }
}

}  // namespace cpha::workload
