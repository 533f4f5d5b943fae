// Helpers of the libFuzzer targets (issue #9): an invariant check that
// aborts, so that libFuzzer keeps the input as a crash, and a planted
// secret. A fuzzer writes the byte kSecretMarker where a secret may go;
// PlantSecret puts kSecret there, and a message that must not repeat
// secrets is then checked for kSecretStem.
//
// Thread-safety: free functions over values.

#ifndef CPHA_TESTS_FUZZ_FUZZ_SUPPORT_H_
#define CPHA_TESTS_FUZZ_FUZZ_SUPPORT_H_

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace cpha::fuzz {

inline constexpr char kSecretMarker = '\x01';
inline constexpr std::string_view kSecret = "Sekr3tPw";
inline constexpr std::string_view kSecretStem = "Sekr";

// Aborts with "fuzz invariant broken: <what>" when `condition` is false.
inline void Check(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  std::abort();
}

// `text` with every kSecretMarker replaced by kSecret.
inline std::string PlantSecret(std::string_view text) {
  std::string planted;
  for (char c : text) {
    if (c == kSecretMarker) {
      planted += kSecret;
    } else {
      planted += c;
    }
  }
  return planted;
}

inline bool HoldsSecret(std::string_view text) {
  return text.find(kSecretStem) != std::string_view::npos;
}

// The fuzzer's bytes as text.
inline std::string_view Text(const unsigned char* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

}  // namespace cpha::fuzz

#endif  // CPHA_TESTS_FUZZ_FUZZ_SUPPORT_H_
