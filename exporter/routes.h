// The sidecar's HTTP routes (DESIGN.md section 8). Every handler reads a
// fresh HaSnapshot from memory; none waits on the database.

#ifndef CPHA_EXPORTER_ROUTES_H_
#define CPHA_EXPORTER_ROUTES_H_

#include <vector>

#include "exporter/http_server.h"
#include "ha/ha_state.h"

namespace cpha {

// Routes for the health endpoints, /metrics, the liveness probe and the
// landing page. `state` must outlive the server.
std::vector<Route> HealthRoutes(HaState& state);

}  // namespace cpha

#endif  // CPHA_EXPORTER_ROUTES_H_
