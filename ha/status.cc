#include "ha/status.h"

namespace cpha {

const char* ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kConnection:
      return "connection";
    case ErrorKind::kTimeout:
      return "timeout";
    case ErrorKind::kQuery:
      return "query";
    case ErrorKind::kStaleEpoch:
      return "stale_epoch";
    case ErrorKind::kFailedPrecondition:
      return "failed_precondition";
    case ErrorKind::kInvalidArgument:
      return "invalid_argument";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string text = std::string(ErrorKindName(kind())) + ": " + message();
  if (!sqlstate().empty()) text += " (SQLSTATE " + sqlstate() + ")";
  return text;
}

}  // namespace cpha
