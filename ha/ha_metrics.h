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

  // Authority and audit.
  // TODO(#3): incremented by the epoch fence and its SQL function.
  prometheus::Counter& epoch_mismatches;
  prometheus::Counter& closeouts_missed;

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
};

}  // namespace cpha

#endif  // CPHA_HA_HA_METRICS_H_
