// The --config file, read through the real ParseOptions. The fuzzer's
// bytes are the content of every file the options name, so that
// --postgres-url-file and --admin-token-file, named in the config, read
// them too. Invariants: no exception, no hang, and an error never repeats
// a line that may hold a secret: the value of postgres-url, a line that is
// not `name = value`, or one whose name is not an option name. The marker
// byte plants a secret in those lines only.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/options.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using cpha::fuzz::Check;

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == ' ' || c == '\t' || c == '\r';
}

// True when the line may hold a secret: see the file comment.
bool MayHoldSecret(std::string_view line) {
  size_t equals = line.find('=');
  if (equals == std::string_view::npos) return true;
  std::string_view name = line.substr(0, equals);
  for (char c : name) {
    if (!IsNameChar(c)) return true;
  }
  return name.find("postgres-url") != std::string_view::npos;
}

std::string PlantInSecretLines(std::string_view text) {
  std::string planted;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    planted +=
        MayHoldSecret(line) ? cpha::fuzz::PlantSecret(line) : std::string(line);
    if (end < text.size()) planted += '\n';
    start = end + 1;
  }
  return planted;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view raw = cpha::fuzz::Text(data, size);
  const std::string content = PlantInSecretLines(raw);
  cpha::FileReader files = [&content](const std::string&) {
    return std::optional<std::string>(content);
  };
  cpha::EnvLookup no_env = [](const std::string&) {
    return std::optional<std::string>();
  };

  cpha::StatusOr<cpha::ParsedOptions> parsed =
      cpha::ParseOptions({"--config", "/fuzz/config"}, no_env, files);
  if (!parsed.ok() && !cpha::fuzz::HoldsSecret(raw)) {
    Check(!cpha::fuzz::HoldsSecret(parsed.status().message()),
          "a config error repeats a line that may hold a secret");
  }
  return 0;
}
