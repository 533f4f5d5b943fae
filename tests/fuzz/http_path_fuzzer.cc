// The HTTP server's strict path decoding (DecodeRequestPath), which every
// request passes before routing. Invariants: a decoded path holds no NUL
// and is no longer than the raw one; a path without '%' is unchanged; the
// decoded path, encoded again, decodes to itself.

#include <cstddef>
#include <cstdint>
#include <string>

#include "exporter/http_server.h"
#include "tests/fuzz/fuzz_support.h"

using cpha::fuzz::Check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view raw = cpha::fuzz::Text(data, size);
  cpha::StatusOr<std::string> path = cpha::DecodeRequestPath(raw);
  if (!path.ok()) {
    Check(raw.find('%') != std::string_view::npos ||
              raw.find('\0') != std::string_view::npos,
          "a path without escapes or NUL was refused");
    return 0;
  }
  Check(path->find('\0') == std::string::npos, "a decoded path holds NUL");
  Check(path->size() <= raw.size(), "decoding made the path longer");
  if (raw.find('%') == std::string_view::npos) {
    Check(path.value() == raw, "a path without escapes changed");
  }

  static const char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  for (char c : path.value()) {
    const auto byte = static_cast<unsigned char>(c);
    encoded += '%';
    encoded += kHex[byte >> 4];
    encoded += kHex[byte & 15];
  }
  cpha::StatusOr<std::string> again = cpha::DecodeRequestPath(encoded);
  Check(again.ok() && again.value() == path.value(),
        "encoding and decoding again changed the path");
  return 0;
}
