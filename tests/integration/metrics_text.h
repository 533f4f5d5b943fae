// Reads sample values out of a Prometheus text exposition, as served by the
// sidecar's /metrics.
//
// Thread-safety: pure functions.

#ifndef CPHA_TESTS_INTEGRATION_METRICS_TEXT_H_
#define CPHA_TESTS_INTEGRATION_METRICS_TEXT_H_

#include <map>
#include <optional>
#include <string>

namespace cpha::integration {

using MetricLabels = std::map<std::string, std::string>;

// The value of the sample named `name` whose label set is exactly `labels`,
// or nullopt when the text has no such sample (or its value is not a
// number).
std::optional<double> FindSample(const std::string& text,
                                 const std::string& name,
                                 const MetricLabels& labels = {});

}  // namespace cpha::integration

#endif  // CPHA_TESTS_INTEGRATION_METRICS_TEXT_H_
