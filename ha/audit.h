// Audit status (DESIGN.md section 7, runbook sections 2 and 3): whether the
// trail of promotion decisions is complete, has recorded gaps (deferred
// decisions that could not be written), or is limited by legacy events
// (written before the HA schema) inside the replay horizon.
//
// Thread-safety: values and pure functions.

#ifndef CPHA_HA_AUDIT_H_
#define CPHA_HA_AUDIT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "ha/readiness.h"

namespace cpha {

enum class AuditStatus { kComplete, kDegraded, kLegacyLimited };

const char* AuditStatusName(AuditStatus status);

// The caveat /v1/health/audit shows with legacy_limited.
inline constexpr const char* kLegacyCaveat =
    "Pre-HA stages exist in the promotion horizon. Evidence integrity is "
    "advisory for these stages. See runbook section 3 (Legacy Evidence "
    "Caveats).";

struct AuditFacts {
  // The control plane's tables exist; otherwise every audit collector
  // reports "not applicable".
  bool applicable = false;
  bool ever_succeeded = false;
  TimePoint last_success{};
  std::string last_error;
  // A recovery pass ran in this process (as leader).
  bool recovery_ran = false;
  // One line per deferred decision that could not be written since start,
  // e.g. "stage s-003 deferred write failed at 2026-03-09T11:00:00Z".
  std::vector<std::string> recorded_gaps;
  int64_t legacy_events_in_horizon = 0;
};

// degraded when any deferred write failed since start, else legacy_limited
// when legacy events are in the horizon, else complete.
AuditStatus EvaluateAuditStatus(const AuditFacts& facts);

}  // namespace cpha

#endif  // CPHA_HA_AUDIT_H_
