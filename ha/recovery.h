// RecoveryRunner: the leader's recovery pass and maintenance (DESIGN.md
// section 7, runbook sections 2 to 4).
//
// Trigger(epoch), called by the elector right after it won `epoch`, hands
// the epoch to the runner's own thread and returns at once. The thread then
// runs one recovery pass for that epoch on its own database session
// (application_name "cp-ha:<holder>:recovery"):
//
//   1. closeout reconciliation: every earlier epoch still open in
//      leader_epochs gets resigned_at (the next epoch's acquired_at, the
//      latest moment its authority can have ended) and a note saying that
//      the recovery pass of `epoch` reconciled it, through the fence;
//   2. replay-horizon scan of rollout_events (timed into
//      cp_recovery_startup_scan_duration_seconds; events counted, legacy
//      events with a NULL epoch recorded in the audit facts);
//   3. for every active stage (stage_status.phase not promoted, halted or
//      rollback) without enough history, which means no rollout_events row
//      with a non-NULL epoch inside the horizon, one promotion_decisions row
//      with outcome and origin 'deferred_insufficient_history' and our
//      epoch, through the fence, unless this epoch already wrote one. A
//      failed write is retried with exponential backoff; when the retries
//      are spent the stage becomes a recorded gap of the audit facts.
//
// While it leads, the runner also purges dispatched outbox rows older than
// the retention, through the fence, every purge interval.
//
// When the control plane's tables are absent, steps 2 and 3 and the purge
// are "not applicable" (AuditFacts.applicable = false), never an error. A
// stale epoch (another node won meanwhile) ends the pass quietly: the next
// leader runs its own.
//
// Every query is bounded by the database timeout; the session also carries
// a server-side lock_timeout, so a locked table costs one retry, not a hung
// thread.
//
// Thread-safety: Trigger, Stop and the destructor are safe from any thread
// and never wait on the database except Stop, which joins the thread (at
// most one query timeout).

#ifndef CPHA_HA_RECOVERY_H_
#define CPHA_HA_RECOVERY_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "ha/conn_params.h"
#include "ha/fence.h"
#include "ha/ha_state.h"
#include "ha/pg_session.h"
#include "ha/wakeup.h"

namespace cpha {

struct RecoveryConfig {
  ConnParams conn;
  std::string schema = "public";
  FenceLockMode fence_mode = FenceLockMode::kShared;
  Duration replay_horizon = std::chrono::hours(2);
  Duration outbox_retention = std::chrono::hours(24);
  Duration purge_interval = std::chrono::minutes(1);
  Duration db_timeout = std::chrono::seconds(2);
  Duration connect_timeout = std::chrono::seconds(3);
  // Retries of one deferred decision write after its first attempt, and the
  // first backoff (doubled for each further retry, capped at max_backoff).
  int deferred_write_retries = 3;
  Duration initial_backoff = std::chrono::milliseconds(100);
  Duration max_backoff = std::chrono::seconds(2);
  // When set, a pass waits (at most `baseline_wait`) until it returns true
  // before it writes deferred decisions: the audit collector's baseline of
  // promotion_decisions, so that it counts what the pass writes.
  std::function<bool()> audit_baseline_ready;
  Duration baseline_wait = std::chrono::seconds(10);
};

class RecoveryRunner {
 public:
  RecoveryRunner(RecoveryConfig config, HaState& state);
  // Stops the thread when still running.
  ~RecoveryRunner();

  RecoveryRunner(const RecoveryRunner&) = delete;
  RecoveryRunner& operator=(const RecoveryRunner&) = delete;

  void Start();

  // Asks for a recovery pass for `epoch` (which this node just won). Never
  // blocks; a later epoch replaces one not yet started.
  void Trigger(int64_t epoch);

  // Ends the current query at the latest after its timeout, closes the
  // session and joins the thread.
  void Stop();

 private:
  enum class WriteOutcome { kWritten, kStale, kGap };

  struct Stage {
    std::string plan_id;
    std::string stage_id;
  };

  void Run();
  void RunPassWithRetries(int64_t epoch);
  int64_t TakePending();
  void WaitUntil(TimePoint until);
  Status EnsureConnected();

  // One pass for `epoch`; kStaleEpoch when another node won meanwhile.
  Status RunPass(int64_t epoch);
  // The steps of a pass; *applicable tells whether the control plane's
  // tables exist.
  Status RunSteps(int64_t epoch, bool* applicable);
  void RecordPassFailure(int64_t epoch, const Status& status);
  StatusOr<bool> TablesPresent();
  Status ReconcileCloseouts(int64_t epoch);
  StatusOr<std::vector<Stage>> ScanHorizon(int64_t epoch);
  Status RecordDeferredDecisions(int64_t epoch,
                                 const std::vector<Stage>& stages);
  WriteOutcome WriteDeferredDecision(int64_t epoch, const Stage& stage);
  Status InsertDeferredDecision(int64_t epoch, const Stage& stage);
  void WaitForAuditBaseline();

  // The outbox purge, when this node still leads `epoch`.
  void PurgeOutboxIfLeader(int64_t epoch);
  StatusOr<int64_t> PurgeBatch(int64_t epoch);
  bool StillLeads(int64_t epoch);

  Millis DbTimeout() const;

  // Constant after construction.
  const RecoveryConfig config_;
  HaState& state_;
  HaMetrics& metrics_;
  const EpochFence fence_;

  // Owned by the runner thread.
  PgSession session_;
  int64_t leading_epoch_ = 0;
  TimePoint next_purge_{};
  std::string last_logged_error_;

  std::mutex mutex_;
  int64_t pending_epoch_ = 0;  // guarded by mutex_

  Wakeup wakeup_;
  std::atomic<bool> stop_requested_{false};
  std::thread thread_;
};

}  // namespace cpha

#endif  // CPHA_HA_RECOVERY_H_
