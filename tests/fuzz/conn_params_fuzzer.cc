// The database URL (--postgres-url, --postgres-url-file): ConnParams::Parse
// with libpq's parser. Invariants: a parse error never repeats the input
// (a planted secret never shows in it), and Redacted() does not depend on
// the password.

#include <cstddef>
#include <cstdint>
#include <string>

#include "ha/conn_params.h"
#include "tests/fuzz/fuzz_support.h"

using cpha::fuzz::Check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const bool secret_in_input =
      cpha::fuzz::HoldsSecret(cpha::fuzz::Text(data, size));
  const std::string text =
      cpha::fuzz::PlantSecret(cpha::fuzz::Text(data, size));

  cpha::StatusOr<cpha::ConnParams> parsed = cpha::ConnParams::Parse(text);
  if (!parsed.ok()) {
    Check(
        secret_in_input || !cpha::fuzz::HoldsSecret(parsed.status().message()),
        "the parse error repeats part of the URL");
    return 0;
  }
  // Redacted() must not depend on the password at all.
  cpha::ConnParams other = parsed.value();
  other.Set("password", parsed->Get("password") + "-other");
  Check(other.Redacted() == parsed->Redacted(),
        "Redacted() shows the password");
  cpha::ConnParams::CArrays arrays = parsed->ToCArrays();
  Check(arrays.keywords.back() == nullptr && arrays.values.back() == nullptr,
        "the C arrays are not null-terminated");
  return 0;
}
