#include "ha/ha_state.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>

#include "ha/log.h"

namespace cpha {
namespace {

double Seconds(Duration duration) {
  return std::chrono::duration<double>(duration).count();
}

// Converts a monotonic time point to Unix seconds, for the one metric that
// operators read as a timestamp.
double UnixSeconds(TimePoint point, TimePoint now) {
  auto wall_now = std::chrono::system_clock::now();
  auto wall_then =
      wall_now -
      std::chrono::duration_cast<std::chrono::system_clock::duration>(now -
                                                                      point);
  return std::chrono::duration<double>(wall_then.time_since_epoch()).count();
}

// Whether the server ended or is ending the lock session (see
// HaState::SetLockSocket); never waits.
bool SocketSignalled(int fd, LockSocketUse use) {
  pollfd descriptor = {fd, POLLIN | POLLRDHUP, 0};
  if (poll(&descriptor, 1, 0) <= 0) return false;
  if ((descriptor.revents & ~POLLIN) != 0) return true;  // closed or bad
  if (use == LockSocketUse::kIdle) return true;

  char first = 0;
  ssize_t peeked = recv(fd, &first, 1, MSG_PEEK | MSG_DONTWAIT);
  return peeked == 0 || (peeked == 1 && first == 'E');
}

}  // namespace

HaState::HaState(NodeIdentity identity, ReadinessPolicy policy,
                 HaMetrics& metrics)
    : identity_(std::move(identity)), metrics_(metrics), policy_(policy) {}

void HaState::UpdateElector(const std::function<void(ElectorFacts&)>& update) {
  std::lock_guard<std::mutex> lock(mutex_);
  update(elector_);
}

void HaState::UpdateMonitor(const std::function<void(MonitorFacts&)>& update) {
  std::lock_guard<std::mutex> lock(mutex_);
  update(monitor_);
}

void HaState::UpdateAudit(const std::function<void(AuditFacts&)>& update) {
  std::lock_guard<std::mutex> lock(mutex_);
  update(audit_);
}

void HaState::SetMaintenance(bool maintenance) {
  std::lock_guard<std::mutex> lock(mutex_);
  policy_.maintenance = maintenance;
}

ReadinessPolicy HaState::policy() {
  std::lock_guard<std::mutex> lock(mutex_);
  return policy_;
}

bool HaState::ObserveEpoch(int64_t durable_epoch) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (durable_epoch < highest_epoch_seen_) {
    // Counted once per regressed value, not once per observation of it.
    if (durable_epoch != last_regressed_epoch_) {
      metrics_.epoch_regressions.Increment();
      last_regressed_epoch_ = durable_epoch;
      Log(LogLevel::kError, "state", "durable epoch went backwards",
          {{"seen", durable_epoch}, {"highest_seen", highest_epoch_seen_}});
    }
    return false;
  }
  highest_epoch_seen_ = durable_epoch;
  return true;
}

void HaState::SetLockSocket(int fd, LockSocketUse use) {
  std::lock_guard<std::mutex> lock(mutex_);
  lock_socket_ = fd;
  lock_socket_use_ = use;
}

HaSnapshot HaState::Refresh(TimePoint now) {
  HaSnapshot snapshot;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    snapshot.identity = identity_;
    snapshot.elector = elector_;
    snapshot.elector.lock_session_signalled =
        lock_socket_ >= 0 && SocketSignalled(lock_socket_, lock_socket_use_);
    snapshot.monitor = monitor_;
    snapshot.audit = audit_;
    snapshot.policy = policy_;
    snapshot.highest_epoch_seen = highest_epoch_seen_;
    snapshot.taken_at = now;
    snapshot.readiness =
        EvaluateReadiness(snapshot.elector, monitor_, policy_, now);

    bool write_ready = snapshot.readiness.write.ready;
    if (write_ready != last_write_ready_) {
      (write_ready ? metrics_.transitions_to_leader
                   : metrics_.transitions_to_not_leader)
          .Increment();
      last_write_ready_ = write_ready;
      if (write_ready) last_write_epoch_ = elector_.epoch;
      Log(LogLevel::kInfo, "state",
          write_ready ? "write authority gained" : "write authority lost",
          {{"epoch", write_ready ? elector_.epoch : last_write_epoch_},
           {"reason", snapshot.readiness.write.reason}});
    }
    WriteGauges(snapshot);
  }
  return snapshot;
}

void HaState::WriteGauges(const HaSnapshot& snapshot) {
  const ElectorFacts& elector = snapshot.elector;
  const MonitorFacts& monitor = snapshot.monitor;
  const bool leader = elector.role == ElectorRole::kLeader;

  metrics_.epoch.Set(leader ? static_cast<double>(elector.epoch) : 0);
  metrics_.session_lock_held.Set(elector.lock_held ? 1 : 0);
  metrics_.write_ready.Set(snapshot.readiness.write.ready ? 1 : 0);
  metrics_.read_ready.Set(snapshot.readiness.read.ready ? 1 : 0);
  metrics_.sync_replica_count.Set(monitor.sync_replica_count);
  metrics_.min_sync_replicas.Set(snapshot.policy.min_sync_replicas);
  metrics_.connected_to_primary.Set(
      snapshot.readiness.read.ready && !monitor.in_recovery ? 1 : 0);
  metrics_.replication_privileged.Set(monitor.privileged ? 1 : 0);
  metrics_.maintenance_mode.Set(snapshot.policy.maintenance ? 1 : 0);
  metrics_.stepdown_bound_seconds.Set(Seconds(snapshot.policy.stepdown_bound));

  double left = 0;
  double age = 0;
  if (leader) {
    TimePoint deadline = StepDownDeadline(elector.last_ack, snapshot.policy);
    left = std::max(0.0, Seconds(deadline - snapshot.taken_at));
    age = Seconds(snapshot.taken_at - elector.last_ack);
  }
  metrics_.stepdown_deadline_seconds.Set(left);
  metrics_.keepalive_age_seconds.Set(age);

  if (monitor.ever_succeeded) {
    metrics_.monitor_last_success.Set(
        UnixSeconds(monitor.last_success, snapshot.taken_at));
  }
  metrics_.monitor_applicable.Set(monitor.ever_succeeded ? 1 : 0);
  if (leader) {
    metrics_.elector_last_success.Set(
        UnixSeconds(elector.last_ack, snapshot.taken_at));
  }
  WriteAuditGauges(snapshot);
}

void HaState::WriteAuditGauges(const HaSnapshot& snapshot) {
  const AuditFacts& audit = snapshot.audit;
  const AuditStatus status = EvaluateAuditStatus(audit);
  metrics_.audit_complete.Set(status == AuditStatus::kComplete ? 1 : 0);
  metrics_.audit_degraded.Set(status == AuditStatus::kDegraded ? 1 : 0);
  metrics_.audit_legacy_limited.Set(status == AuditStatus::kLegacyLimited ? 1
                                                                          : 0);
  metrics_.legacy_events_in_horizon.Set(
      static_cast<double>(audit.legacy_events_in_horizon));
  metrics_.audit_applicable.Set(audit.applicable ? 1 : 0);
  if (audit.ever_succeeded) {
    metrics_.audit_last_success.Set(
        UnixSeconds(audit.last_success, snapshot.taken_at));
  }
}

}  // namespace cpha
