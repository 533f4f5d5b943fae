// The command line and the environment: ParseOptions over newline-separated
// arguments; a line "ENV NAME=VALUE" sets an environment variable instead.
// Invariants: no exception, no hang (Boost.Program_options looped forever
// on "%canonical_option%"), and an error never repeats the value of
// --postgres-url (where the fuzzer's marker byte plants a secret).

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "exporter/options.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using cpha::fuzz::Check;

struct Input {
  std::vector<std::string> args;
  std::map<std::string, std::string> env;
};

Input Split(std::string_view text) {
  Input input;
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string& line = lines[i];
    if (line.rfind("ENV ", 0) == 0) {
      size_t equals = line.find('=');
      if (equals == std::string::npos) continue;
      input.env[line.substr(4, equals - 4)] = line.substr(equals + 1);
      continue;
    }
    // The secret goes only where the database URL goes.
    const bool url_value = (i > 0 && lines[i - 1] == "--postgres-url") ||
                           line.rfind("--postgres-url=", 0) == 0;
    input.args.push_back(url_value ? cpha::fuzz::PlantSecret(line) : line);
  }
  return input;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = cpha::fuzz::Text(data, size);
  Input input = Split(text);
  cpha::EnvLookup env =
      [&input](const std::string& name) -> std::optional<std::string> {
    auto found = input.env.find(name);
    if (found == input.env.end()) return std::nullopt;
    return found->second;
  };
  cpha::FileReader no_files = [](const std::string&) {
    return std::optional<std::string>();
  };

  cpha::StatusOr<cpha::ParsedOptions> parsed =
      cpha::ParseOptions(input.args, env, no_files);
  if (!parsed.ok() && !cpha::fuzz::HoldsSecret(text)) {
    Check(!cpha::fuzz::HoldsSecret(parsed.status().message()),
          "an option error repeats the database URL");
  }
  return 0;
}
