// The CLI's --orchestrator-url (ParseBaseUrl). Invariants: an accepted URL
// has a non-empty host without '/', '@' or whitespace and a port from 1 to
// 65535.

#include <cstddef>
#include <cstdint>
#include <string>

#include "exporter/http_client.h"
#include "tests/fuzz/fuzz_support.h"

using cpha::fuzz::Check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string url(cpha::fuzz::Text(data, size));
  cpha::StatusOr<cpha::HttpTarget> target = cpha::ParseBaseUrl(url);
  if (!target.ok()) return 0;
  Check(!target->host.empty(), "an accepted URL has no host");
  Check(target->host.find_first_of("/@ \t\r\n") == std::string::npos,
        "an accepted host holds '/', '@' or whitespace");
  Check(target->port >= 1 && target->port <= 65535,
        "an accepted port is out of range");
  return 0;
}
