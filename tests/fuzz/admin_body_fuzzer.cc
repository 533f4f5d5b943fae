// Request bodies of the admin API, through ParseAdminBody, the function
// the routes call. The first byte picks the route. Invariants: an accepted
// body has the fields the route needs, within their limits; the answer and
// the log line built from them can be written (no exception, one line);
// a refusal never repeats the body.

#include <cstddef>
#include <cstdint>
#include <exception>
#include <nlohmann/json.hpp>
#include <string>

#include "exporter/admin_routes.h"
#include "ha/backup.h"
#include "ha/log.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using cpha::fuzz::Check;

bool Printable(const std::string& text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20) return false;
  }
  return true;
}

void CheckAccepted(const cpha::AdminBody& body, cpha::AdminBodyKind kind) {
  for (const std::string* field : {&body.operator_name, &body.reason}) {
    Check(!field->empty() && field->size() <= 200 && Printable(*field),
          "operator or reason out of bounds");
  }
  if (kind != cpha::AdminBodyKind::kFailover) {
    Check(cpha::IsSafeBackupId(body.backup_id), "an unsafe backup id passed");
  }
  // What the failover answer and its log line are made of.
  try {
    nlohmann::json answer = {{"operator", body.operator_name},
                             {"reason", body.reason},
                             {"backup_id", body.backup_id},
                             {"output_dir", body.output_dir}};
    answer.dump();
  } catch (const std::exception&) {
    Check(false, "the answer can not be written as JSON");
  }
  std::string line = cpha::FormatLogLine(
      cpha::LogLevel::kInfo, "admin", "failover requested",
      {{"operator", body.operator_name}, {"reason", body.reason}});
  Check(line.find('\n') == std::string::npos, "the log line spans lines");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const cpha::AdminBodyKind kinds[] = {cpha::AdminBodyKind::kFailover,
                                       cpha::AdminBodyKind::kBackupCreate,
                                       cpha::AdminBodyKind::kBackupRestore};
  const cpha::AdminBodyKind kind = kinds[data[0] % 3];
  const std::string_view raw = cpha::fuzz::Text(data + 1, size - 1);
  const std::string body = cpha::fuzz::PlantSecret(raw);

  cpha::StatusOr<cpha::AdminBody> parsed = cpha::ParseAdminBody(body, kind);
  if (parsed.ok()) {
    CheckAccepted(parsed.value(), kind);
  } else if (!cpha::fuzz::HoldsSecret(raw)) {
    Check(!cpha::fuzz::HoldsSecret(parsed.status().message()),
          "a refusal repeats the body");
  }
  return 0;
}
