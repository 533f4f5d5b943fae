// WriteReadyWatcher: a background thread that asks every watched sidecar
// for /v1/health/write-ready about every 20 ms, all of them at once in each
// round (HttpGetAll), and records every round in which two or more answered
// 200. That must never happen: two sidecars claiming write authority
// together is the split brain the elector exists to prevent.
//
// Thread-safety: every public method may be called from any thread.

#ifndef CPHA_TESTS_INTEGRATION_WRITE_READY_WATCHER_H_
#define CPHA_TESTS_INTEGRATION_WRITE_READY_WATCHER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/http_get.h"

namespace cpha::integration {

class WriteReadyWatcher {
 public:
  // Starts polling at once (an empty set of ports until Watch is called).
  explicit WriteReadyWatcher(
      std::chrono::milliseconds interval = std::chrono::milliseconds(20));
  // Stops the thread.
  ~WriteReadyWatcher();

  WriteReadyWatcher(const WriteReadyWatcher&) = delete;
  WriteReadyWatcher& operator=(const WriteReadyWatcher&) = delete;

  // Adds a sidecar's HTTP port. A port whose sidecar died answers nothing
  // and so never counts as write-ready.
  void Watch(int port);
  // Stops asking `port`: call it before its sidecar is stopped for good, or
  // an unrelated server that later binds the freed port would be polled.
  void Unwatch(int port);
  // Stops polling; the counts stay readable. Idempotent.
  void Stop();

  // Rounds in which at least one port was watched.
  int rounds() const { return rounds_.load(); }
  // Rounds in which some sidecar answered 200.
  int rounds_with_a_leader() const { return rounds_with_a_leader_.load(); }
  // One line per round in which two or more answered 200: when (ms since
  // the watcher started), which ports, and when each answer was sent and
  // received.
  std::vector<std::string> overlaps() const;

 private:
  void Run();
  // One line naming the round's time and, for each answer in `ready`, its
  // port and when it was sent and received.
  std::string DescribeRound(std::chrono::steady_clock::time_point round_started,
                            const std::vector<int>& ports,
                            const std::vector<HttpResult>& answers,
                            const std::vector<size_t>& ready) const;

  // Constant after construction.
  const std::chrono::milliseconds interval_;
  const std::chrono::steady_clock::time_point started_;

  mutable std::mutex mutex_;
  std::condition_variable stop_cv_;
  // Guarded by mutex_.
  bool stop_ = false;
  std::set<int> ports_;
  std::vector<std::string> overlaps_;

  std::atomic<int> rounds_{0};
  std::atomic<int> rounds_with_a_leader_{0};
  std::thread thread_;
};

}  // namespace cpha::integration

#endif  // CPHA_TESTS_INTEGRATION_WRITE_READY_WATCHER_H_
