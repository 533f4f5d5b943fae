#include "ha/fence.h"

namespace cpha {

Status EpochFence::Run(PgSession& session, int64_t epoch, Millis timeout,
                       const FencedWrite& write) const {
  Status began = session.Exec("BEGIN", timeout);
  if (!began.ok()) return began;

  Status written = CheckAndWrite(session, epoch, timeout, write);
  if (!written.ok()) {
    if (session.connected()) session.Exec("ROLLBACK", timeout);
    return written;
  }
  return session.Exec("COMMIT", timeout);
}

Status EpochFence::CheckAndWrite(PgSession& session, int64_t epoch,
                                 Millis timeout,
                                 const FencedWrite& write) const {
  Status fenced = session.Exec(
      "SELECT cp_ha_fence($1, $2)", timeout,
      {std::to_string(epoch), mode_ == FenceLockMode::kExclusive ? "t" : "f"});
  if (!fenced.ok()) {
    if (fenced.sqlstate() != kStaleEpochSqlstate) return fenced;
    metrics_.epoch_mismatches.Increment();
    return Status::Error(ErrorKind::kStaleEpoch, fenced.message(),
                         fenced.sqlstate());
  }
  return write(session);
}

}  // namespace cpha
