// WaitUntil: polls a condition until it holds or a timeout passes, and says
// how long that took, so that tests can both bound and report a latency.
//
// Thread-safety: a function; the condition runs on the calling thread.

#ifndef CPHA_TESTS_INTEGRATION_WAIT_UNTIL_H_
#define CPHA_TESTS_INTEGRATION_WAIT_UNTIL_H_

#include <chrono>
#include <optional>
#include <thread>

namespace cpha::integration {

using Millis = std::chrono::milliseconds;

// Milliseconds, with a fraction, for printing measured latencies.
inline double ToMillis(std::chrono::steady_clock::duration duration) {
  return std::chrono::duration<double, std::milli>(duration).count();
}

// Calls `condition` every `poll` until it returns true; returns the time
// from `since` to the first true, or nullopt when `timeout` (counted from
// the call) passed first. The condition is tried at least once.
template <typename Condition>
std::optional<std::chrono::steady_clock::duration> WaitUntil(
    Condition condition, Millis timeout, Millis poll = Millis(10),
    std::chrono::steady_clock::time_point since =
        std::chrono::steady_clock::now()) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return std::chrono::steady_clock::now() - since;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(poll);
  }
}

}  // namespace cpha::integration

#endif  // CPHA_TESTS_INTEGRATION_WAIT_UNTIL_H_
