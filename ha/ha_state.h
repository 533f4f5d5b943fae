// HaState: the one in-memory picture of this node's HA facts. The elector
// and the collectors write their facts into it; HTTP handlers and /metrics
// read snapshots of it. Nothing here touches the database, so no reader
// ever waits on PostgreSQL.
//
// Refresh() evaluates readiness at the given time, writes the state gauges
// and counts write-authority transitions: each change is counted exactly
// once, whichever caller (the ticker, a probe, a scrape) notices it first.
//
// Thread-safety: every method is safe from any thread; writers and readers
// hold one mutex for a few field copies.

#ifndef CPHA_HA_HA_STATE_H_
#define CPHA_HA_HA_STATE_H_

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "ha/audit.h"
#include "ha/ha_metrics.h"
#include "ha/readiness.h"

namespace cpha {

struct NodeIdentity {
  std::string holder_id;        // the configured name, e.g. the pod name
  std::string holder_instance;  // unique per process start
  std::string version;
};

enum class LockSocketUse { kIdle, kQuerying };

struct HaSnapshot {
  NodeIdentity identity;
  ElectorFacts elector;
  MonitorFacts monitor;
  AuditFacts audit;
  ReadinessPolicy policy;
  Readiness readiness;
  TimePoint taken_at{};
  int64_t highest_epoch_seen = 0;
};

class HaState {
 public:
  HaState(NodeIdentity identity, ReadinessPolicy policy, HaMetrics& metrics);

  HaState(const HaState&) = delete;
  HaState& operator=(const HaState&) = delete;

  // Applies `update` to the elector's facts under the lock.
  void UpdateElector(const std::function<void(ElectorFacts&)>& update);
  // Applies `update` to the monitor's facts under the lock.
  void UpdateMonitor(const std::function<void(MonitorFacts&)>& update);
  // The elector publishes its lock session's socket while it leads: idle
  // while it sleeps on it, querying while a keepalive is in flight; it
  // withdraws it (fd -1) before it closes the session. Refresh looks at a
  // published socket without waiting. A server that ends the session
  // (pg_terminate_backend, shutdown) sends its FATAL ErrorResponse before
  // its backend frees the lock, so the probe answers 503 before another
  // node can win, however late the elector thread is scheduled: an idle
  // session must have nothing to read, and the first byte waiting on a
  // querying one must not be an ErrorResponse ('E'). A peer that closed
  // (FIN, reset) counts in both. Over TLS only the close can be seen.
  void SetLockSocket(int fd, LockSocketUse use);

  // Applies `update` to the audit facts under the lock.
  void UpdateAudit(const std::function<void(AuditFacts&)>& update);

  void SetMaintenance(bool maintenance);

  // Records a durable epoch read from the database. Returns false, and
  // counts a regression, when it is lower than one seen before: the caller
  // must then refuse to lead.
  bool ObserveEpoch(int64_t durable_epoch);

  // Evaluates readiness at `now`, updates gauges and transition counters,
  // and returns a consistent copy of everything.
  HaSnapshot Refresh(TimePoint now);

  ReadinessPolicy policy();

  const NodeIdentity& identity() const { return identity_; }
  HaMetrics& metrics() { return metrics_; }

 private:
  void WriteGauges(const HaSnapshot& snapshot);
  void WriteAuditGauges(const HaSnapshot& snapshot);

  // Constant after construction.
  const NodeIdentity identity_;
  HaMetrics& metrics_;

  std::mutex mutex_;
  // Guarded by mutex_.
  ReadinessPolicy policy_;
  ElectorFacts elector_;
  MonitorFacts monitor_;
  AuditFacts audit_;
  int64_t highest_epoch_seen_ = 0;
  int lock_socket_ = -1;
  LockSocketUse lock_socket_use_ = LockSocketUse::kIdle;
  int64_t last_regressed_epoch_ = -1;
  bool last_write_ready_ = false;
  int64_t last_write_epoch_ = 0;
};

}  // namespace cpha

#endif  // CPHA_HA_HA_STATE_H_
