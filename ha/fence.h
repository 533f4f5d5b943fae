// EpochFence: the sidecar's own writes go through it (DESIGN.md section 6).
//
// Run() opens a transaction, calls the SQL fence cp_ha_fence(epoch) that the
// migrations install (it locks the leadership singleton FOR SHARE, or FOR
// UPDATE in the exclusive mode, and raises SQLSTATE CPHA1 on a stale epoch),
// runs the caller's write in the same transaction and commits. On a stale
// epoch the transaction is rolled back, the rejection is counted in
// cp_authority_epoch_mismatch_total (and, by the SQL function, in the
// cluster-wide sequence), and Run returns kStaleEpoch.
//
// Thread-safety: an EpochFence may be shared; each call uses the caller's
// session, which belongs to the caller's thread.

#ifndef CPHA_HA_FENCE_H_
#define CPHA_HA_FENCE_H_

#include <cstdint>
#include <functional>

#include "ha/ha_metrics.h"
#include "ha/pg_session.h"
#include "ha/status.h"

namespace cpha {

enum class FenceLockMode {
  // FOR SHARE: fenced writers proceed in parallel; only the epoch bump,
  // which takes the row FOR UPDATE, waits for them.
  kShared,
  // FOR UPDATE, as the runbook's EpochFence describes: writers serialize.
  kExclusive,
};

// The SQLSTATE that cp_ha_fence raises on a stale epoch.
inline constexpr const char* kStaleEpochSqlstate = "CPHA1";

using FencedWrite = std::function<Status(PgSession&)>;

class EpochFence {
 public:
  EpochFence(HaMetrics& metrics, FenceLockMode mode)
      : metrics_(metrics), mode_(mode) {}

  // Commits `write` only if `epoch` is the durable epoch at commit time.
  // Returns kStaleEpoch (rolled back, counted), the write's own error
  // (rolled back), or a database error.
  Status Run(PgSession& session, int64_t epoch, Millis timeout,
             const FencedWrite& write) const;

 private:
  Status CheckAndWrite(PgSession& session, int64_t epoch, Millis timeout,
                       const FencedWrite& write) const;

  HaMetrics& metrics_;
  const FenceLockMode mode_;
};

}  // namespace cpha

#endif  // CPHA_HA_FENCE_H_
