#include "ha/audit.h"

namespace cpha {

const char* AuditStatusName(AuditStatus status) {
  switch (status) {
    case AuditStatus::kComplete:
      return "complete";
    case AuditStatus::kDegraded:
      return "degraded";
    case AuditStatus::kLegacyLimited:
      return "legacy_limited";
  }
  return "complete";
}

AuditStatus EvaluateAuditStatus(const AuditFacts& facts) {
  if (!facts.recorded_gaps.empty()) return AuditStatus::kDegraded;
  if (facts.legacy_events_in_horizon > 0) return AuditStatus::kLegacyLimited;
  return AuditStatus::kComplete;
}

}  // namespace cpha
