// Views: the JSON and HTML answers of the health endpoints and the landing
// page, built from one HaSnapshot (and, for the quorum snapshot, the metric
// values). Pure functions: they read memory only, never the database.
//
// Shapes follow the operator runbook: /v1/health/read-ready and write-ready
// answer {"ready":true} or {"ready":false,"reason":...}; leader, quorum and
// audit always answer 200.

#ifndef CPHA_EXPORTER_VIEWS_H_
#define CPHA_EXPORTER_VIEWS_H_

#include <nlohmann/json.hpp>
#include <string>

#include "exporter/http_server.h"
#include "ha/ha_metrics.h"
#include "ha/ha_state.h"

namespace cpha {

HttpResponse ReadReadyView(const HaSnapshot& snapshot);
HttpResponse WriteReadyView(const HaSnapshot& snapshot);

// {"current_epoch", "holder_id", "acquired_at", "session_lock_held"}: the
// durable singleton row as last read, and whether this node holds the lock.
nlohmann::json LeaderJson(const HaSnapshot& snapshot);

// Every runbook metric key this node has a source for, in the runbook's own
// key spelling and units (microseconds), plus sync_replica_count,
// audit_closeout_missed and audit_closeout_reconciled, plus the sidecar's
// own extras (readiness reasons, deadline, collectors).
nlohmann::json QuorumJson(const HaSnapshot& snapshot, HaMetrics& metrics);

// {"audit_status", "recorded_gaps", "caveat"}.
nlohmann::json AuditJson(const HaSnapshot& snapshot);

// A small HTML page: what this is, live state, links.
std::string LandingPage(const HaSnapshot& snapshot);

}  // namespace cpha

#endif  // CPHA_EXPORTER_VIEWS_H_
