#include "ha/ha_metrics.h"

#include <prometheus/text_serializer.h>

namespace cpha {
namespace {

using prometheus::Labels;
using prometheus::Registry;

prometheus::Counter& AddCounter(Registry& registry, const std::string& name,
                                const std::string& help,
                                const Labels& labels = {}) {
  return prometheus::BuildCounter()
      .Name(name)
      .Help(help)
      .Register(registry)
      .Add(labels);
}

prometheus::Gauge& AddGauge(Registry& registry, const std::string& name,
                            const std::string& help,
                            const Labels& labels = {}) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add(
      labels);
}

// Seconds, from a fast round trip on loopback to a lock queue that would
// page someone.
const prometheus::Histogram::BucketBoundaries kLockWaitBuckets = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1,    0.25,  0.5,    1.0,   2.5,  5.0,   10.0};

// Seconds: a scan of the replay horizon, and an outbox row's wait for its
// dispatch.
const prometheus::Histogram::BucketBoundaries kScanBuckets = {
    0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0};
const prometheus::Histogram::BucketBoundaries kLagBuckets = {
    0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0};

constexpr const char* kDecisionsHelp =
    "New promotion_decisions rows seen, by outcome.";
constexpr const char* kAuditStatusHelp =
    "Audit status: exactly one of complete, degraded, legacy_limited is 1.";
constexpr const char* kCampaignsHelp =
    "Leadership campaigns by result: success won an epoch, lock_held found "
    "another holder (counted once per epoch lost), failure hit an error.";
constexpr const char* kTransitionsHelp =
    "Changes of this node's write authority (write-ready), by direction.";
constexpr const char* kConnectHelp =
    "Failed attempts to open a database session, by session.";
constexpr const char* kLastSuccessHelp =
    "Unix time of the last successful database round trip, by component.";

}  // namespace

HaMetrics::HaMetrics(const std::string& version)
    : registry_(std::make_shared<Registry>()),
      campaigns_success(AddCounter(*registry_, "cp_leader_campaigns_total",
                                   kCampaignsHelp, {{"result", "success"}})),
      campaigns_lock_held(AddCounter(*registry_, "cp_leader_campaigns_total",
                                     kCampaignsHelp,
                                     {{"result", "lock_held"}})),
      campaigns_failure(AddCounter(*registry_, "cp_leader_campaigns_total",
                                   kCampaignsHelp, {{"result", "failure"}})),
      keepalive_failures(AddCounter(
          *registry_, "cp_leader_keepalive_failures_total",
          "Leader keepalives that failed to confirm the lock, epoch and "
          "holder; each one ends this node's leadership.")),
      epoch_regressions(AddCounter(
          *registry_, "cp_leader_epoch_regression_total",
          "Times the durable epoch was seen lower than one seen before; the "
          "node refuses to lead.")),
      transitions_to_leader(AddCounter(
          *registry_, "cp_leader_read_write_state_transition_total",
          kTransitionsHelp, {{"from", "not_leader"}, {"to", "leader"}})),
      transitions_to_not_leader(AddCounter(
          *registry_, "cp_leader_read_write_state_transition_total",
          kTransitionsHelp, {{"from", "leader"}, {"to", "not_leader"}})),
      lock_connect_failures(AddCounter(*registry_,
                                       "cp_backend_connect_failures_total",
                                       kConnectHelp, {{"session", "lock"}})),
      monitor_connect_failures(
          AddCounter(*registry_, "cp_backend_connect_failures_total",
                     kConnectHelp, {{"session", "monitor"}})),
      lock_wait_seconds(
          prometheus::BuildHistogram()
              .Name("cp_backend_lock_wait_seconds")
              .Help("Time the server took to answer a lock request (the "
                    "advisory try-lock and the singleton row lock); never "
                    "time spent waiting for another holder to leave.")
              .Register(*registry_)
              .Add({}, kLockWaitBuckets)),
      epoch_mismatches(AddCounter(
          *registry_, "cp_authority_epoch_mismatch_total",
          "Writes rejected by the epoch fence because they carried a stale "
          "epoch.")),
      epoch_mismatches_cluster(AddCounter(
          *registry_, "cp_authority_epoch_mismatch_cluster_total",
          "Fence rejections cluster-wide (sidecars and control plane), from "
          "the database; every sidecar reports the same count.")),
      closeouts_missed(AddCounter(
          *registry_, "cp_audit_prior_epoch_closeout_missed_total",
          "Epochs this node found never closed (resigned_at NULL) when it "
          "won the next one.")),
      closeouts_reconciled(AddCounter(
          *registry_, "cp_audit_prior_epoch_closeout_reconciled_total",
          "Unclosed earlier epochs whose resigned_at the recovery pass "
          "back-filled.")),
      deferred_write_failed(AddCounter(
          *registry_, "cp_audit_deferred_decision_write_failed_total",
          "Deferred decisions that could not be written after every retry "
          "(recorded gaps).")),
      deferred_write_retried(AddCounter(
          *registry_, "cp_audit_deferred_decision_write_retried_total",
          "Retries of deferred decision writes.")),
      events_replayed(
          AddCounter(*registry_, "cp_recovery_events_replayed_total",
                     "rollout_events rows inside the replay horizon scanned by "
                     "recovery passes.")),
      recovery_scan_seconds(
          prometheus::BuildHistogram()
              .Name("cp_recovery_startup_scan_duration_seconds")
              .Help("Duration of the recovery pass's replay-horizon scan.")
              .Register(*registry_)
              .Add({}, kScanBuckets)),
      decisions_promoted(AddCounter(*registry_, "cp_promoter_decisions_total",
                                    kDecisionsHelp, {{"outcome", "promoted"}})),
      decisions_blocked(AddCounter(*registry_, "cp_promoter_decisions_total",
                                   kDecisionsHelp, {{"outcome", "blocked"}})),
      decisions_rollback_triggered(
          AddCounter(*registry_, "cp_promoter_decisions_total", kDecisionsHelp,
                     {{"outcome", "rollback_triggered"}})),
      decisions_deferred(
          AddCounter(*registry_, "cp_promoter_decisions_total", kDecisionsHelp,
                     {{"outcome", "deferred_insufficient_history"}})),
      evidence_write_failures(
          AddCounter(*registry_, "cp_promoter_evidence_write_failures_total",
                     "Promoted decisions without an evidence snapshot.")),
      outbox_purged(AddCounter(
          *registry_, "cp_outbox_purge_total",
          "Dispatched outbox rows purged by the leader after the retention.")),
      outbox_dispatch_lag_seconds(
          prometheus::BuildHistogram()
              .Name("cp_outbox_dispatch_lag_seconds")
              .Help("Time from an outbox row's creation to its dispatch.")
              .Register(*registry_)
              .Add({}, kLagBuckets)),
      epoch(AddGauge(*registry_, "cp_leader_epoch",
                     "The durable epoch this node leads; 0 when not leader.")),
      session_lock_held(
          AddGauge(*registry_, "cp_leader_session_lock_held",
                   "1 when this node holds the election's advisory lock.")),
      write_ready(AddGauge(*registry_, "cp_backend_write_ready",
                           "1 when every write-authority condition holds.")),
      read_ready(AddGauge(*registry_, "cp_backend_read_ready",
                          "1 when the database answered a fresh check.")),
      sync_replica_count(
          AddGauge(*registry_, "cp_backend_sync_replicas",
                   "Streaming standbys with sync_state sync or quorum.")),
      min_sync_replicas(AddGauge(
          *registry_, "cp_backend_min_sync_replicas",
          "The configured minimum of synchronous standbys for writes.")),
      connected_to_primary(AddGauge(
          *registry_, "cp_backend_connected_to_primary",
          "1 when the checked server is a primary (not in recovery).")),
      replication_privileged(AddGauge(
          *registry_, "cp_backend_replication_privileged",
          "1 when the database role may read pg_stat_replication (superuser "
          "or pg_monitor).")),
      maintenance_mode(AddGauge(*registry_, "cp_backend_maintenance_mode",
                                "1 when the sidecar runs in maintenance "
                                "mode.")),
      stepdown_deadline_seconds(AddGauge(
          *registry_, "cp_leader_stepdown_deadline_seconds",
          "Seconds left before the leader stops claiming write authority "
          "unless a keepalive is acknowledged; 0 when not leader.")),
      stepdown_bound_seconds(AddGauge(
          *registry_, "cp_leader_stepdown_bound_seconds",
          "The configured S - margin: how long after its last acknowledged "
          "keepalive a leader may claim write authority.")),
      keepalive_age_seconds(
          AddGauge(*registry_, "cp_leader_keepalive_age_seconds",
                   "Seconds since the last acknowledged keepalive; 0 when not "
                   "leader.")),
      elector_last_success(
          AddGauge(*registry_, "cp_collector_last_success_timestamp_seconds",
                   kLastSuccessHelp, {{"collector", "elector"}})),
      monitor_last_success(
          AddGauge(*registry_, "cp_collector_last_success_timestamp_seconds",
                   kLastSuccessHelp, {{"collector", "replication"}})),
      monitor_applicable(AddGauge(
          *registry_, "cp_collector_applicable",
          "1 when the collector's tables and views exist on the server.",
          {{"collector", "replication"}})),
      legacy_events_in_horizon(AddGauge(
          *registry_, "cp_recovery_legacy_events_in_horizon",
          "rollout_events with a NULL epoch (written before the HA schema) "
          "inside the replay horizon.")),
      audit_complete(AddGauge(*registry_, "cp_audit_status", kAuditStatusHelp,
                              {{"status", "complete"}})),
      audit_degraded(AddGauge(*registry_, "cp_audit_status", kAuditStatusHelp,
                              {{"status", "degraded"}})),
      audit_legacy_limited(AddGauge(*registry_, "cp_audit_status",
                                    kAuditStatusHelp,
                                    {{"status", "legacy_limited"}})),
      audit_last_success(AddGauge(*registry_,
                                  "cp_collector_last_success_timestamp_seconds",
                                  kLastSuccessHelp, {{"collector", "audit"}})),
      audit_applicable(AddGauge(
          *registry_, "cp_collector_applicable",
          "1 when the collector's tables and views exist on the server.",
          {{"collector", "audit"}})) {
  AddGauge(*registry_, "cp_ha_sidecar_build_info",
           "Build information; the value is always 1.", {{"version", version}})
      .Set(1);
}

std::string HaMetrics::Serialize() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace cpha
