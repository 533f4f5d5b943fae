// The operator CLI's handling of a node's answer (RenderCliAnswer): any
// status and body, for every view, as text and as JSON. The first byte
// picks the view and the output, the next two the HTTP status. Invariants:
// no exception; text never carries a control character other than a line
// break or tab; a refusal is one line.

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>

#include "exporter/cli_answer.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using cpha::fuzz::Check;

// No C0 control byte or DEL (but '\n' and '\t' when `allow_newlines`),
// and no C1 control in its UTF-8 form.
bool NoControlBytes(const std::string& text, bool allow_newlines) {
  for (size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (allow_newlines && (text[i] == '\n' || text[i] == '\t')) continue;
    if (byte < 0x20 || byte == 0x7f) return false;
    if (byte == 0xc2 && i + 1 < text.size() &&
        static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const cpha::CliView views[] = {
      cpha::CliView::kStatus,     cpha::CliView::kQuorum,
      cpha::CliView::kFailover,   cpha::CliView::kBackupCreate,
      cpha::CliView::kBackupList, cpha::CliView::kBackupRestore};
  const cpha::CliView view = views[(data[0] & 0x7f) % 6];
  const bool json_output = (data[0] & 0x80) != 0;
  const int status = 100 + (data[1] << 8 | data[2]) % 500;
  const std::string_view body = cpha::fuzz::Text(data + 3, size - 3);

  cpha::CliOutput output;
  try {
    output =
        cpha::RenderCliAnswer(view, json_output, "http://node:1", status, body);
  } catch (const std::exception&) {
    Check(false, "RenderCliAnswer threw");
  }
  Check(NoControlBytes(output.out, /*allow_newlines=*/true),
        "the output holds a control character");
  Check(NoControlBytes(output.error, /*allow_newlines=*/false),
        "the refusal line holds a control character or a line break");
  Check(output.refused == (status / 100 != 2), "refused does not match");
  return 0;
}
