// AuditCollector: the audit, promoter, outbox and cluster-fence facts that
// every sidecar reads (DESIGN.md sections 6 and 7), leader or not. Every
// --audit-interval, on its own database session
// (application_name "cp-ha:<holder>:audit"), it reads:
//
//   - whether the control plane's tables exist (to_regclass); when they do
//     not, it records "not applicable" and reads none of them;
//   - legacy events (rollout_events with a NULL epoch) inside the replay
//     horizon, so that legacy_limited turns complete once the horizon has
//     passed them;
//   - promotion_decisions rows newer than the highest decision_id seen,
//     counted by outcome; a promoted row whose evidence_snapshot_id is NULL
//     or names no evidence_snapshots row counts an evidence write failure.
//     The first read only sets the baseline: rows from before the start are
//     not counted;
//   - outbox rows dispatched since the last read, observing dispatched_at -
//     created_at into the dispatch-lag histogram (same baseline rule);
//   - cp_ha_fence_rejections_total(), the cluster-wide count of fence
//     rejections: cp_authority_epoch_mismatch_cluster_total is raised by
//     the increase since the last read, and the first read raises it from 0
//     to the value, so that every sidecar exports the same count. It never
//     decreases (a lower value, after a restore, becomes the new base).
//
// It records applicability, the time of its last success and its last
// error in HaState's audit facts. It never serves HTTP.
//
// Thread-safety: Start, Stop and baseline_taken from any thread; the work
// runs on the collector's own thread.

#ifndef CPHA_COLLECTORS_AUDIT_COLLECTOR_H_
#define CPHA_COLLECTORS_AUDIT_COLLECTOR_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>

#include "ha/conn_params.h"
#include "ha/ha_state.h"
#include "ha/pg_session.h"
#include "ha/wakeup.h"

namespace cpha {

struct AuditCollectorConfig {
  ConnParams conn;
  std::string schema = "public";
  Duration interval = std::chrono::seconds(5);
  Duration replay_horizon = std::chrono::hours(2);
  Duration db_timeout = std::chrono::seconds(2);
  Duration connect_timeout = std::chrono::seconds(3);
};

class AuditCollector {
 public:
  AuditCollector(AuditCollectorConfig config, HaState& state);
  ~AuditCollector();

  AuditCollector(const AuditCollector&) = delete;
  AuditCollector& operator=(const AuditCollector&) = delete;

  void Start();
  void Stop();

  // True once a read found the control plane's tables absent, or set the
  // promotion_decisions baseline: from then on every new row is counted.
  bool baseline_taken() const { return baseline_taken_.load(); }

 private:
  struct Cursor {
    std::string dispatched_at;  // text of a timestamptz, in UTC
    int64_t id = 0;
  };

  void Run();
  Status EnsureConnected();
  Status CollectOnce(TimePoint started);
  StatusOr<bool> TablesPresent();
  Status ReadFenceRejections();
  StatusOr<int64_t> ReadLegacyEvents();
  Status ReadDecisions();
  Status ReadDispatches();
  void CountDecision(const std::string& outcome, bool missing_evidence);
  void RecordFailure(const Status& status);
  Millis DbTimeout() const;

  // Constant after construction.
  const AuditCollectorConfig config_;
  HaState& state_;
  HaMetrics& metrics_;

  // Owned by the collector thread.
  PgSession session_;
  std::optional<int64_t> fence_rejections_seen_;
  std::optional<int64_t> highest_decision_id_;
  std::optional<Cursor> dispatch_cursor_;
  std::optional<bool> last_applicable_;
  std::string last_logged_error_;

  std::atomic<bool> baseline_taken_{false};
  Wakeup wakeup_;
  std::atomic<bool> stop_requested_{false};
  std::thread thread_;
};

}  // namespace cpha

#endif  // CPHA_COLLECTORS_AUDIT_COLLECTOR_H_
