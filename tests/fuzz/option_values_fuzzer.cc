// The values of single options: durations (every duration flag), --listen,
// --fence-mode and --log-level. The first byte picks the parser.
// Invariants: a duration is never negative nor above a week; a listen port
// is 0 to 65535.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "exporter/options.h"
#include "ha/log.h"
#include "tests/fuzz/fuzz_support.h"

using cpha::fuzz::Check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text = cpha::fuzz::Text(data + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      std::optional<cpha::Duration> duration = cpha::ParseDuration(text);
      Check(!duration || (duration->count() >= 0 &&
                          *duration <= std::chrono::hours(7 * 24)),
            "a duration is negative or longer than a week");
      break;
    }
    case 1: {
      cpha::StatusOr<cpha::ListenAddress> address =
          cpha::ParseListenAddress(text);
      Check(!address.ok() || (address->port >= 0 && address->port <= 65535),
            "a listen port is out of range");
      break;
    }
    case 2:
      cpha::ParseFenceMode(text);
      break;
    case 3:
      cpha::ParseLogLevel(text);
      break;
  }
  return 0;
}
