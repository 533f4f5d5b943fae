// Elector: the leader election of DESIGN.md section 4.
//
// One thread owns one dedicated database session (the lock session). It
// campaigns with pg_try_advisory_lock, then waits for the lock server-side
// with a bounded lock_timeout, so that a holder's exit is noticed at once.
// Holding the lock, it bumps the durable epoch in one transaction and only
// after that commit is it leader. As leader it sends a keepalive every
// interval that confirms, on the same session, that the lock is held by its
// own backend and that the durable epoch and holder are still its own. Any
// failed keepalive ends its leadership at once; a keepalive that is merely
// late is covered by the step-down deadline that readiness computes from
// the last acknowledged one.
//
// The lock session carries server-side bounds (idle_session_timeout, TCP
// keepalives, tcp_user_timeout, all equal to the lock session timeout S) so
// that the server frees the lock of a silent holder no earlier than S after
// that holder's last acknowledged keepalive; the leader stops claiming at
// S - margin.
//
// Thread-safety: Start, RequestResign and Stop may be called from any
// thread; the election itself runs on the elector's own thread.

#ifndef CPHA_HA_ELECTOR_H_
#define CPHA_HA_ELECTOR_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "ha/conn_params.h"
#include "ha/ha_state.h"
#include "ha/pg_session.h"
#include "ha/wakeup.h"

namespace cpha {

struct ElectorConfig {
  ConnParams conn;
  std::string schema = "public";
  bool create_app_schema = false;
  int64_t lock_key = 0;
  Duration keepalive_interval = std::chrono::seconds(1);
  Duration campaign_interval = std::chrono::seconds(1);
  Duration lock_session_timeout = std::chrono::seconds(3);  // S
  Duration db_timeout = std::chrono::seconds(2);
  Duration connect_timeout = std::chrono::seconds(3);
  Duration resign_holdoff = std::chrono::seconds(3);
  // Synchronous standbys the server must have before this node bumps the
  // epoch: in synchronous mode the bump's COMMIT would otherwise wait for
  // one, time out, and leave an epoch behind that nobody led.
  int min_sync_replicas = 0;
  // Called on the elector's thread right after this node won `epoch`; it
  // must return quickly (hand the work to another thread).
  std::function<void(int64_t epoch)> on_elected;
};

class Elector {
 public:
  Elector(ElectorConfig config, HaState& state);
  // Stops the thread (resigning if leader) when still running.
  ~Elector();

  Elector(const Elector&) = delete;
  Elector& operator=(const Elector&) = delete;

  void Start();

  // An operator's graceful failover.
  struct ResignRequest {
    std::string operator_name;
    std::string reason;
  };

  // Asks a leader to resign gracefully: it stops claiming write authority,
  // closes its epoch with a note naming the operator and reason, records
  // the operation in ha_operations, releases the lock and holds off its own
  // campaign for the configured hold-off. Returns false when this node is
  // not leader. The resignation happens on the elector's thread; callers
  // watch HaState for its end.
  bool RequestResign(ResignRequest request);

  // Resigns if leader, closes the session and joins the thread.
  void Stop();

 private:
  enum class CampaignOutcome { kWon, kLost, kFailed };

  void Run();
  bool ConnectAndPrepare();
  Status PrepareSession();
  void CampaignCycle();
  bool WaitForHolderToLeave();
  bool WaitForSyncStandbys();
  CampaignOutcome BumpEpoch();
  Status BumpEpochInTransaction(TimePoint* commit_sent);
  void KeepaliveCycle();
  std::optional<std::string> Keepalive(TimePoint sent);
  void LoseLeadership(const std::string& reason);
  void Resign(const std::string& notes);
  void RecordOperatorResign(const ResignRequest& request, int64_t epoch);
  void HoldOff(const std::string& why);
  void ReleaseLock();
  void SleepFor(Duration duration);
  void SetRole(ElectorRole role, const std::string& detail);
  QueryParams LockKeyParams() const;
  QueryParams LockKeyOidParams() const;
  Millis DbTimeout() const;

  // Constant after construction.
  const ElectorConfig config_;
  HaState& state_;
  HaMetrics& metrics_;

  // Owned by the elector thread.
  PgSession session_;
  int64_t epoch_ = 0;
  int64_t lost_to_holder_pid_ = -1;
  TimePoint last_keepalive_sent_{};
  TimePoint hold_off_until_{};
  std::string last_connect_error_;

  Wakeup wakeup_;
  std::atomic<bool> leader_{false};
  std::atomic<bool> stop_requested_{false};
  std::mutex resign_mutex_;
  std::optional<ResignRequest> resign_request_;  // guarded by resign_mutex_
  std::thread thread_;
};

}  // namespace cpha

#endif  // CPHA_HA_ELECTOR_H_
