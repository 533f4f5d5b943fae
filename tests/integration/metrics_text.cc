#include "tests/integration/metrics_text.h"

#include <cstdlib>
#include <sstream>

namespace cpha::integration {
namespace {

// Parses `k="v",k2="v2"` (the part between the braces); false when it is
// malformed.
bool ParseLabels(const std::string& text, MetricLabels& labels) {
  size_t at = 0;
  while (at < text.size()) {
    size_t equals = text.find('=', at);
    if (equals == std::string::npos || equals + 1 >= text.size() ||
        text[equals + 1] != '"') {
      return false;
    }
    std::string key = text.substr(at, equals - at);
    std::string value;
    size_t i = equals + 2;
    for (; i < text.size() && text[i] != '"'; ++i) {
      if (text[i] == '\\' && i + 1 < text.size()) ++i;
      value += text[i];
    }
    if (i >= text.size()) return false;
    labels[key] = value;
    at = i + 1;
    if (at < text.size() && text[at] == ',') ++at;
  }
  return true;
}

}  // namespace

std::optional<double> FindSample(const std::string& text,
                                 const std::string& name,
                                 const MetricLabels& labels) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;

    // name{labels} value [timestamp]
    size_t name_end = line.find_first_of("{ ");
    if (name_end == std::string::npos || line.substr(0, name_end) != name) {
      continue;
    }
    MetricLabels found;
    size_t value_start = name_end;
    if (line[name_end] == '{') {
      size_t close = line.rfind('}');
      if (close == std::string::npos ||
          !ParseLabels(line.substr(name_end + 1, close - name_end - 1),
                       found)) {
        continue;
      }
      value_start = close + 1;
    }
    if (found != labels) continue;

    std::istringstream rest(line.substr(value_start));
    std::string value;
    rest >> value;
    char* end = nullptr;
    double parsed = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0') return std::nullopt;
    return parsed;
  }
  return std::nullopt;
}

}  // namespace cpha::integration
