// libFuzzer target over the parsers of outside input (issue #9). The first
// byte picks the parser; the rest is its input:
//   0: ConnParams::Parse (--postgres-url), and the password never shows in
//      Redacted()
//   1: ParseDuration (every duration flag)
//   2: ParseListenAddress (--listen)
//   3: nlohmann::json parsing of an admin request body, as the admin
//      routes do it (no exceptions)
//   4: ParseOptions over newline-separated arguments (flags and values)
// Built by tests/fuzz/run.sh with clang -fsanitize=fuzzer,address,undefined.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/options.h"
#include "ha/conn_params.h"

namespace {

void FuzzConnParams(std::string_view text) {
  cpha::StatusOr<cpha::ConnParams> parsed = cpha::ConnParams::Parse(text);
  if (!parsed.ok()) return;
  const std::string password = parsed.value().Get("password");
  const std::string redacted = parsed.value().Redacted();
  // A password of a few bytes may appear by chance (e.g. "a" in "host=a").
  if (password.size() >= 6 && redacted.find(password) != std::string::npos) {
    std::abort();  // the redacted form leaked the password
  }
  parsed.value().ToCArrays();
}

void FuzzOptions(std::string_view text) {
  std::vector<std::string> args = {"cp-ha-sidecar"};
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    args.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  cpha::EnvLookup no_environment = [](const std::string&) {
    return std::optional<std::string>();
  };
  cpha::ParseOptions(args, no_environment);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
      FuzzConnParams(text);
      break;
    case 1:
      cpha::ParseDuration(text);
      break;
    case 2:
      cpha::ParseListenAddress(text);
      break;
    case 3: {
      // The admin routes answer with what they parsed (the operator, the
      // reason), so dumping a parsed body must not throw either.
      nlohmann::json body = nlohmann::json::parse(text, nullptr, false);
      if (!body.is_discarded()) body.dump();
      break;
    }
    case 4:
      FuzzOptions(text);
      break;
  }
  return 0;
}
