#include "exporter/views.h"

#include <prometheus/client_metric.h>

#include <chrono>

namespace cpha {
namespace {

using nlohmann::json;

HttpResponse Json(int status, const json& body) {
  HttpResponse response;
  response.status = status;
  response.body = body.dump();
  return response;
}

HttpResponse VerdictView(const Verdict& verdict) {
  if (verdict.ready) return Json(200, {{"ready", true}});
  return Json(503, {{"ready", false}, {"reason", verdict.reason}});
}

double Seconds(Duration duration) {
  return std::chrono::duration<double>(duration).count();
}

int64_t Micros(double seconds) {
  return static_cast<int64_t>(seconds * 1e6 + 0.5);
}

// The runbook's histogram keys are a sum in microseconds and a count.
void AddHistogram(json& out, const std::string& prefix,
                  prometheus::Histogram& histogram) {
  prometheus::ClientMetric collected = histogram.Collect();
  out[prefix + "_us_sum"] = Micros(collected.histogram.sample_sum);
  out[prefix + "_count"] = collected.histogram.sample_count;
}

int64_t CounterValue(prometheus::Counter& counter) {
  return static_cast<int64_t>(counter.Value());
}

// The runbook appendix keys fed by the recovery pass and the audit
// collector.
void AddAuditKeys(json& out, const HaSnapshot& snapshot, HaMetrics& metrics) {
  const AuditStatus status = EvaluateAuditStatus(snapshot.audit);
  out["cp.audit.prior_epoch_closeout_reconciled"] =
      CounterValue(metrics.closeouts_reconciled);
  out["cp.audit.deferred_decision_write_failed"] =
      CounterValue(metrics.deferred_write_failed);
  out["cp.audit.deferred_decision_write_retried"] =
      CounterValue(metrics.deferred_write_retried);
  out["cp.promoter.evidence_write_failures_total"] =
      CounterValue(metrics.evidence_write_failures);
  out["cp.promoter.decisions_total{outcome=promoted}"] =
      CounterValue(metrics.decisions_promoted);
  out["cp.promoter.decisions_total{outcome=blocked}"] =
      CounterValue(metrics.decisions_blocked);
  out["cp.promoter.decisions_total{outcome=rollback_triggered}"] =
      CounterValue(metrics.decisions_rollback_triggered);
  out["cp.promoter.decisions_total{outcome=deferred_insufficient_history}"] =
      CounterValue(metrics.decisions_deferred);
  out["cp.outbox.purge_total"] = CounterValue(metrics.outbox_purged);
  out["cp.recovery.legacy_events_in_horizon"] =
      snapshot.audit.legacy_events_in_horizon;
  for (AuditStatus each : {AuditStatus::kComplete, AuditStatus::kDegraded,
                           AuditStatus::kLegacyLimited}) {
    out[std::string("cp.audit.status{status=") + AuditStatusName(each) + "}"] =
        each == status ? 1 : 0;
  }
  AddHistogram(out, "cp.recovery.startup_scan_duration",
               metrics.recovery_scan_seconds);
  out["cp.recovery.events_replayed"] = CounterValue(metrics.events_replayed);
  AddHistogram(out, "cp.outbox.dispatch_lag",
               metrics.outbox_dispatch_lag_seconds);
}

std::string HtmlEscape(const std::string& text) {
  std::string escaped;
  for (char c : text) {
    switch (c) {
      case '<':
        escaped += "&lt;";
        break;
      case '>':
        escaped += "&gt;";
        break;
      case '&':
        escaped += "&amp;";
        break;
      case '"':
        escaped += "&quot;";
        break;
      default:
        escaped += c;
    }
  }
  return escaped;
}

}  // namespace

HttpResponse ReadReadyView(const HaSnapshot& snapshot) {
  return VerdictView(snapshot.readiness.read);
}

HttpResponse WriteReadyView(const HaSnapshot& snapshot) {
  return VerdictView(snapshot.readiness.write);
}

json LeaderJson(const HaSnapshot& snapshot) {
  const ElectorFacts& elector = snapshot.elector;
  const DurableLeadership& durable = snapshot.monitor.leadership;
  const bool leader = elector.role == ElectorRole::kLeader;

  // The leader knows the row it wrote; others show what the monitor read.
  json body;
  if (leader) {
    body["current_epoch"] = elector.epoch;
    body["holder_id"] = snapshot.identity.holder_id;
    body["acquired_at"] = elector.acquired_at;
  } else {
    body["current_epoch"] = durable.current_epoch;
    body["holder_id"] = durable.holder_id;
    body["acquired_at"] =
        durable.acquired_at.empty() ? json(nullptr) : json(durable.acquired_at);
  }
  body["session_lock_held"] = elector.lock_held;
  return body;
}

json QuorumJson(const HaSnapshot& snapshot, HaMetrics& metrics) {
  const ElectorFacts& elector = snapshot.elector;
  const MonitorFacts& monitor = snapshot.monitor;
  const bool leader = elector.role == ElectorRole::kLeader;
  json out;

  out["cp.leader.campaigns_total{result=success}"] =
      CounterValue(metrics.campaigns_success);
  out["cp.leader.campaigns_total{result=lock_held}"] =
      CounterValue(metrics.campaigns_lock_held);
  out["cp.leader.campaigns_total{result=failure}"] =
      CounterValue(metrics.campaigns_failure);
  out["cp.leader.keepalive_failures_total"] =
      CounterValue(metrics.keepalive_failures);
  out["cp.authority.epoch_mismatch_total"] =
      CounterValue(metrics.epoch_mismatches);
  out["cp.audit.prior_epoch_closeout_missed"] =
      CounterValue(metrics.closeouts_missed);
  out["cp.leader.read_write_state_transition_total{not_leader:leader}"] =
      CounterValue(metrics.transitions_to_leader);
  out["cp.leader.read_write_state_transition_total{leader:not_leader}"] =
      CounterValue(metrics.transitions_to_not_leader);
  out["cp.leader.epoch"] = leader ? elector.epoch : 0;
  out["cp.leader.session_lock_held"] = elector.lock_held ? 1 : 0;
  out["cp.backend.write_ready"] = snapshot.readiness.write.ready ? 1 : 0;
  out["cp.backend.read_ready"] = snapshot.readiness.read.ready ? 1 : 0;
  out["cp.backend.sync_replica_count"] = monitor.sync_replica_count;
  out["cp.backend.connected_to_primary"] =
      snapshot.readiness.read.ready && !monitor.in_recovery ? 1 : 0;
  AddHistogram(out, "cp.backend.lock_wait", metrics.lock_wait_seconds);
  AddAuditKeys(out, snapshot, metrics);

  out["sync_replica_count"] = monitor.sync_replica_count;
  out["audit_closeout_missed"] = CounterValue(metrics.closeouts_missed);
  out["audit_closeout_reconciled"] = CounterValue(metrics.closeouts_reconciled);

  out["holder_id"] = snapshot.identity.holder_id;
  out["holder_instance"] = snapshot.identity.holder_instance;
  out["version"] = snapshot.identity.version;
  out["role"] = ElectorRoleName(elector.role);
  out["read_ready_reason"] = snapshot.readiness.read.reason;
  out["write_ready_reason"] = snapshot.readiness.write.reason;
  out["min_sync_replicas"] = snapshot.policy.min_sync_replicas;
  out["replication_privileged"] = monitor.privileged;
  out["maintenance"] = snapshot.policy.maintenance;
  out["stepdown_bound_seconds"] = Seconds(snapshot.policy.stepdown_bound);
  if (leader) {
    TimePoint deadline = StepDownDeadline(elector.last_ack, snapshot.policy);
    out["stepdown_deadline_seconds"] =
        std::max(0.0, Seconds(deadline - snapshot.taken_at));
    out["keepalive_age_seconds"] =
        Seconds(snapshot.taken_at - elector.last_ack);
  } else {
    out["stepdown_deadline_seconds"] = 0;
    out["keepalive_age_seconds"] = nullptr;
  }
  out["collectors"] = {
      {"replication",
       {{"applicable", monitor.ever_succeeded},
        {"seconds_since_success",
         monitor.ever_succeeded
             ? json(Seconds(snapshot.taken_at - monitor.last_success))
             : json(nullptr)},
        {"last_error", monitor.last_error}}}};
  return out;
}

json AuditJson(const HaSnapshot& snapshot) {
  const AuditFacts& audit = snapshot.audit;
  const AuditStatus status = EvaluateAuditStatus(audit);
  return {
      {"audit_status", AuditStatusName(status)},
      {"recorded_gaps", audit.recorded_gaps},
      {"caveat", status == AuditStatus::kLegacyLimited ? kLegacyCaveat : ""},
      {"applicable", audit.applicable},
      {"recovery_pass_ran", audit.recovery_ran},
      {"legacy_events_in_horizon", audit.legacy_events_in_horizon}};
}

std::string LandingPage(const HaSnapshot& snapshot) {
  const ElectorFacts& elector = snapshot.elector;
  auto yes_no = [](const Verdict& verdict) {
    return verdict.ready ? std::string("yes")
                         : "no (" + HtmlEscape(verdict.reason) + ")";
  };
  std::string page =
      "<!doctype html><html><head><meta charset=\"utf-8\">"
      "<title>cp-ha-sidecar</title></head><body>"
      "<h1>cp-ha-sidecar</h1>"
      "<p>HA sidecar of the control plane: leader election over PostgreSQL, "
      "write fencing, readiness and metrics.</p><table>";
  auto row = [&](const std::string& name, const std::string& value) {
    page +=
        "<tr><th align=\"left\">" + name + "</th><td>" + value + "</td></tr>";
  };
  row("holder", HtmlEscape(snapshot.identity.holder_id));
  row("role", ElectorRoleName(elector.role));
  row("epoch",
      std::to_string(LeaderJson(snapshot)["current_epoch"].get<int64_t>()));
  row("read-ready", yes_no(snapshot.readiness.read));
  row("write-ready", yes_no(snapshot.readiness.write));
  row("version", HtmlEscape(snapshot.identity.version));
  page +=
      "</table><ul>"
      "<li><a href=\"/metrics\">/metrics</a></li>"
      "<li><a href=\"/v1/health/read-ready\">/v1/health/read-ready</a></li>"
      "<li><a href=\"/v1/health/write-ready\">/v1/health/write-ready</a></li>"
      "<li><a href=\"/v1/health/leader\">/v1/health/leader</a></li>"
      "<li><a href=\"/v1/health/quorum\">/v1/health/quorum</a></li>"
      "<li><a href=\"/v1/health/audit\">/v1/health/audit</a></li>"
      "</ul></body></html>";
  return page;
}

}  // namespace cpha
