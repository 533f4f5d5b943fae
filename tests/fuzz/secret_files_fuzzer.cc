// The secret files the sidecar reads itself: --postgres-url-file
// (SecretFileText) and --admin-token-file (AdminTokenText, also the CLI's
// --token-file). Invariants: each result is a prefix of the content, the
// URL has no trailing whitespace and the token no line break.

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>

#include "exporter/options.h"
#include "tests/fuzz/fuzz_support.h"

using cpha::fuzz::Check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view content = cpha::fuzz::Text(data, size);

  cpha::StatusOr<std::string> url = cpha::SecretFileText(content);
  if (url.ok()) {
    Check(!url->empty() && content.rfind(url.value(), 0) == 0,
          "the URL is not a non-empty prefix of the file");
    Check(!std::isspace(static_cast<unsigned char>(url->back())),
          "the URL ends in whitespace");
  }

  cpha::StatusOr<std::string> token = cpha::AdminTokenText(content);
  if (token.ok()) {
    Check(!token->empty() && content.rfind(token.value(), 0) == 0,
          "the token is not a non-empty prefix of the file");
    Check(token->find('\n') == std::string::npos, "the token holds a newline");
  }
  return 0;
}
