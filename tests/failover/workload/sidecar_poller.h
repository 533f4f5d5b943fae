// SidecarPoller: what a control-plane pod knows of its own sidecar. A
// thread asks the sidecar, every poll interval, GET /v1/health/leader and
// then GET /v1/health/write-ready, each with a short timeout, so that a
// frozen or dead sidecar counts as not ready. When write-ready answers 200
// it records the epoch the leader answer carried and when the 200 arrived.
// A later 503 or silence does not clear that record: the writer decides
// from its age how long to trust it.
//
// Thread-safety: every public method may be called from any thread.

#ifndef CPHA_TESTS_FAILOVER_WORKLOAD_SIDECAR_POLLER_H_
#define CPHA_TESTS_FAILOVER_WORKLOAD_SIDECAR_POLLER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>

namespace cpha::workload {

// The epoch of the last poll that found the sidecar write-ready.
struct ReadyEpoch {
  int64_t epoch = 0;
  // When the write-ready 200 arrived (steady clock).
  std::chrono::steady_clock::time_point ready_at;
};

struct PollerStats {
  int64_t polls = 0;
  // Polls that ended in write-ready 200 with an epoch.
  int64_t ready = 0;
  // Polls that got an answer, but not write-ready (503, or a 200 whose
  // leader answer carried no epoch).
  int64_t not_ready = 0;
  // Polls where either request failed or timed out.
  int64_t unreachable = 0;
  // Every epoch seen with write-ready 200.
  std::set<int64_t> epochs;
};

nlohmann::json PollerStatsToJson(const PollerStats& stats);

class SidecarPoller {
 public:
  // Starts polling 127.0.0.1:`port` at once.
  SidecarPoller(int port, std::chrono::milliseconds interval,
                std::chrono::milliseconds http_timeout);
  // Stops the thread.
  ~SidecarPoller();

  SidecarPoller(const SidecarPoller&) = delete;
  SidecarPoller& operator=(const SidecarPoller&) = delete;

  // Ends polling; idempotent.
  void Stop();

  // nullopt until a poll found the sidecar write-ready.
  std::optional<ReadyEpoch> last_ready() const;
  PollerStats stats() const;

 private:
  enum class PollResult { kReady, kNotReady, kUnreachable };

  void Run();
  // One leader + write-ready exchange; records a ready epoch.
  PollResult PollOnce();
  void Count(PollResult result);

  // Constant after construction.
  const int port_;
  const std::chrono::milliseconds interval_;
  const std::chrono::milliseconds http_timeout_;

  mutable std::mutex mutex_;
  std::condition_variable stop_cv_;
  // Guarded by mutex_.
  bool stop_ = false;
  std::optional<ReadyEpoch> last_ready_;
  PollerStats stats_;

  std::thread thread_;
};

}  // namespace cpha::workload

#endif  // CPHA_TESTS_FAILOVER_WORKLOAD_SIDECAR_POLLER_H_
