#include "ha/readiness.h"

namespace cpha {
namespace {

Verdict Ready() { return Verdict{true, {}}; }
Verdict NotReady(std::string reason) {
  return Verdict{false, std::move(reason)};
}

Verdict ReadVerdict(const MonitorFacts& monitor, const ReadinessPolicy& policy,
                    TimePoint now) {
  // The last round trip must have succeeded, and recently.
  if (!monitor.last_error.empty()) {
    return NotReady("database unreachable: " + monitor.last_error);
  }
  if (!monitor.ever_succeeded) {
    return NotReady("database unreachable: no check finished yet");
  }
  if (now - monitor.last_success > policy.fresh_for) {
    return NotReady(
        "database check is stale: no answer for " +
        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                           now - monitor.last_success)
                           .count()) +
        " ms");
  }
  return Ready();
}

Verdict LeaderVerdict(const ElectorFacts& elector, bool within_deadline) {
  if (elector.role != ElectorRole::kLeader || !elector.lock_held) {
    std::string reason =
        std::string("not leader (") + ElectorRoleName(elector.role) + ")";
    if (!elector.detail.empty()) reason += ": " + elector.detail;
    return NotReady(reason);
  }
  if (!within_deadline) {
    return NotReady(
        "leader keepalive not acknowledged before the step-down deadline");
  }
  if (elector.lock_session_signalled) {
    return NotReady("the server ended the lock session or wrote to it unasked");
  }
  return Ready();
}

Verdict ServerVerdict(const ElectorFacts& elector, const MonitorFacts& monitor,
                      const ReadinessPolicy& policy) {
  if (monitor.server != elector.server) {
    return NotReady("replication facts come from " + monitor.server +
                    " but the lock session is on " + elector.server);
  }
  if (monitor.in_recovery) {
    return NotReady("connected server " + monitor.server +
                    " is in recovery (a standby)");
  }
  if (!monitor.privileged && policy.min_sync_replicas > 0) {
    return NotReady(
        "insufficient privilege: the database role is neither superuser nor "
        "a member of pg_monitor, so pg_stat_replication is unreadable");
  }
  if (monitor.sync_replica_count < policy.min_sync_replicas) {
    return NotReady("synchronous standbys " +
                    std::to_string(monitor.sync_replica_count) +
                    " < required " + std::to_string(policy.min_sync_replicas));
  }
  return Ready();
}

}  // namespace

const char* ElectorRoleName(ElectorRole role) {
  switch (role) {
    case ElectorRole::kNoSession:
      return "no_session";
    case ElectorRole::kFollower:
      return "follower";
    case ElectorRole::kLeader:
      return "leader";
    case ElectorRole::kHoldingOff:
      return "holding_off";
    case ElectorRole::kStopped:
      return "stopped";
  }
  return "unknown";
}

TimePoint StepDownDeadline(TimePoint last_ack, const ReadinessPolicy& policy) {
  return last_ack + policy.stepdown_bound;
}

Readiness EvaluateReadiness(const ElectorFacts& elector,
                            const MonitorFacts& monitor,
                            const ReadinessPolicy& policy, TimePoint now) {
  Readiness readiness;
  readiness.read = ReadVerdict(monitor, policy, now);
  readiness.leader_within_deadline =
      elector.role == ElectorRole::kLeader &&
      now < StepDownDeadline(elector.last_ack, policy);

  // Each condition in turn; the first one that fails names the reason.
  readiness.write = LeaderVerdict(elector, readiness.leader_within_deadline);
  if (readiness.write.ready && !readiness.read.ready) {
    readiness.write = readiness.read;
  }
  if (readiness.write.ready) {
    readiness.write = ServerVerdict(elector, monitor, policy);
  }
  if (readiness.write.ready && policy.maintenance) {
    readiness.write = NotReady("maintenance mode");
  }
  return readiness;
}

}  // namespace cpha
