// HaMetrics: every Prometheus series the sidecar exports, declared in one
// place (names fixed by DESIGN.md section 9 and docs/metrics.md). Every
// known label value is created at start, so each series exists at 0.
//
// Counters are incremented by the threads that observe the event (elector,
// collectors); gauges are written only by HaState::Refresh, which derives
// them from the in-memory state. /metrics serializes the registry and never
// touches the database.
//
// Thread-safety: prometheus-cpp metrics are safe from any thread.

#ifndef CPHA_HA_HA_METRICS_H_
#define CPHA_HA_HA_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

namespace cpha {

class HaMetrics {
 private:
  // Declared first so that it is built before the series that live in it.
  std::shared_ptr<prometheus::Registry> registry_;

 public:
  explicit HaMetrics(const std::string& version);

  HaMetrics(const HaMetrics&) = delete;
  HaMetrics& operator=(const HaMetrics&) = delete;

  // The Prometheus text exposition (format 0.0.4) of every series.
  std::string Serialize() const;

  // Election.
  prometheus::Counter& campaigns_success;
  prometheus::Counter& campaigns_lock_held;
  prometheus::Counter& campaigns_failure;
  prometheus::Counter& keepalive_failures;
  prometheus::Counter& epoch_regressions;
  prometheus::Counter& transitions_to_leader;
  prometheus::Counter& transitions_to_not_leader;
  prometheus::Counter& lock_connect_failures;
  prometheus::Counter& monitor_connect_failures;
  prometheus::Histogram& lock_wait_seconds;

  // Authority: this process's own fence rejections, and the cluster-wide
  // count of every rejection (the sidecars' and the control plane's), read
  // from the database's rejection sequence.
  prometheus::Counter& epoch_mismatches;
  prometheus::Counter& epoch_mismatches_cluster;

  // Audit and recovery (leader only).
  prometheus::Counter& closeouts_missed;
  prometheus::Counter& closeouts_reconciled;
  prometheus::Counter& deferred_write_failed;
  prometheus::Counter& deferred_write_retried;
  prometheus::Counter& events_replayed;
  prometheus::Histogram& recovery_scan_seconds;

  // Promoter decisions, by outcome, and evidence write failures.
  prometheus::Counter& decisions_promoted;
  prometheus::Counter& decisions_blocked;
  prometheus::Counter& decisions_rollback_triggered;
  prometheus::Counter& decisions_deferred;
  prometheus::Counter& evidence_write_failures;

  // Outbox.
  prometheus::Counter& outbox_purged;
  prometheus::Histogram& outbox_dispatch_lag_seconds;

  // State gauges, written only by HaState::Refresh.
  prometheus::Gauge& epoch;
  prometheus::Gauge& session_lock_held;
  prometheus::Gauge& write_ready;
  prometheus::Gauge& read_ready;
  prometheus::Gauge& sync_replica_count;
  prometheus::Gauge& min_sync_replicas;
  prometheus::Gauge& connected_to_primary;
  prometheus::Gauge& replication_privileged;
  prometheus::Gauge& maintenance_mode;
  prometheus::Gauge& stepdown_deadline_seconds;
  prometheus::Gauge& stepdown_bound_seconds;
  prometheus::Gauge& keepalive_age_seconds;
  prometheus::Gauge& elector_last_success;
  prometheus::Gauge& monitor_last_success;
  prometheus::Gauge& monitor_applicable;
  prometheus::Gauge& legacy_events_in_horizon;
  prometheus::Gauge& audit_complete;
  prometheus::Gauge& audit_degraded;
  prometheus::Gauge& audit_legacy_limited;
  prometheus::Gauge& audit_last_success;
  prometheus::Gauge& audit_applicable;
};

}  // namespace cpha

#endif  // CPHA_HA_HA_METRICS_H_
