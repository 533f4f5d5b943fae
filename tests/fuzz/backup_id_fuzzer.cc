// The backup id and output directory checks that keep a backup inside the
// directory it names (IsSafeBackupId, OutputDirProblem). Invariants: a
// safe id is 1 to 100 bytes without '/', NUL or ".."; an accepted
// directory is absolute, without NUL and without a ".." step.

#include <cstddef>
#include <cstdint>
#include <string>

#include "ha/backup.h"
#include "tests/fuzz/fuzz_support.h"

using cpha::fuzz::Check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = cpha::fuzz::Text(data, size);
  if (cpha::IsSafeBackupId(text)) {
    Check(!text.empty() && text.size() <= 100, "a safe id has a bad length");
    Check(text.find_first_of(std::string_view("/\0", 2)) ==
              std::string_view::npos,
          "a safe id holds '/' or NUL");
    Check(text.find("..") == std::string_view::npos, "a safe id holds '..'");
  }
  if (cpha::OutputDirProblem(text).empty()) {
    Check(!text.empty() && text.front() == '/', "a relative dir was accepted");
    Check(text.find('\0') == std::string_view::npos, "a dir holds NUL");
    const std::string dir(text);
    Check(dir.find("/../") == std::string::npos &&
              (dir.size() < 3 || dir.compare(dir.size() - 3, 3, "/..") != 0),
          "a dir with a '..' step was accepted");
  }
  return 0;
}
