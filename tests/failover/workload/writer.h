// Writer: the writing half of the adversarial control-plane pod. It keeps
// making fenced writes (FencedWrite), one every write interval, with the
// epoch of the last write-ready 200 its SidecarPoller saw, for as long as
// that 200 is younger than the stale grace. The grace is deliberately
// longer than a poll, so that after the sidecar stops claiming, writes with
// the old epoch are still attempted: the fence must reject each of them.
//
// Every committed write is appended to the ack log before the next write
// starts. The outcome of every attempt is counted (WriterStats).
//
// Thread-safety: Run belongs to one thread; stats() may be read once Run
// has returned. The poller is read through its own thread-safe methods.

#ifndef CPHA_TESTS_FAILOVER_WORKLOAD_WRITER_H_
#define CPHA_TESTS_FAILOVER_WORKLOAD_WRITER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "tests/failover/workload/ack_log.h"
#include "tests/failover/workload/fenced_write.h"
#include "tests/failover/workload/sidecar_poller.h"
#include "tests/failover/workload/workload_session.h"

namespace cpha::workload {

struct WriterConfig {
  std::string holder;
  FenceMode fence_mode = FenceMode::kShared;
  std::chrono::milliseconds stale_grace{1000};
  std::chrono::milliseconds write_interval{5};
};

struct EpochCounts {
  int64_t committed = 0;
  int64_t rejected = 0;
  // Failed or in doubt.
  int64_t errors = 0;
};

// When a commit was acknowledged, by both clocks of the writer.
struct CommitTime {
  int64_t mono_ns = 0;
  int64_t wall_us = 0;
};

struct WriterStats {
  int64_t attempts = 0;
  int64_t committed = 0;
  int64_t rejected = 0;
  // Failed before or at COMMIT: nothing committed.
  int64_t failed = 0;
  // The session was lost after COMMIT was sent.
  int64_t in_doubt = 0;
  // Committed writes that could not be appended to the ack log.
  int64_t ack_log_errors = 0;
  // failed + in_doubt by cause: "connection", "timeout", "query:SQLSTATE".
  std::map<std::string, int64_t> errors_by_cause;
  std::map<int64_t, EpochCounts> epochs;
  std::optional<CommitTime> first_commit;
  std::optional<CommitTime> last_commit;
  std::string last_error;
};

// The stats as the "run" summary shows them.
nlohmann::json WriterStatsToJson(const WriterStats& stats);

class Writer {
 public:
  // Keeps references to `session`, `ack_log` and `poller`, which must
  // outlive it.
  Writer(WriterConfig config, WorkloadSession& session, AckLogWriter& ack_log,
         const SidecarPoller& poller);

  // Writes until `stop` is set; each attempt is bounded by the session's
  // timeouts, so Run returns within about one of them.
  void Run(const std::atomic<bool>& stop);

  const WriterStats& stats() const { return stats_; }

 private:
  // The epoch to write with, or nullopt when the last 200 is too old.
  std::optional<int64_t> FreshEpoch() const;
  void Record(const WriteRequest& request, const WriteResult& result);
  void RecordCommit(const WriteRequest& request, const WriteResult& result);
  void RecordError(const WriteRequest& request, const WriteResult& result);
  // Logs when the outcome differs from the previous attempt's.
  void LogChange(const WriteRequest& request, const WriteResult& result);

  // Constant after construction.
  const WriterConfig config_;
  WorkloadSession& session_;
  AckLogWriter& ack_log_;
  const SidecarPoller& poller_;

  int64_t client_seq_ = 0;
  std::optional<WriteOutcome> previous_outcome_;
  WriterStats stats_;
};

}  // namespace cpha::workload

#endif  // CPHA_TESTS_FAILOVER_WORKLOAD_WRITER_H_
