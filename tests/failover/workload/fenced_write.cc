#include "tests/failover/workload/fenced_write.h"

namespace cpha::workload {
namespace {

constexpr std::string_view kReadOnlySqlstate = "25006";

const char* FenceSql(FenceMode mode) {
  switch (mode) {
    case FenceMode::kShared:
      return "SELECT cp_ha_fence($1::bigint)";
    case FenceMode::kExclusive:
      return "SELECT cp_ha_fence($1::bigint, true)";
  }
  return "";
}

// The result of a statement that failed before COMMIT was sent.
WriteResult FailedBeforeCommit(WorkloadSession& session, Status error) {
  if (error.kind() == ErrorKind::kQuery) {
    if (error.sqlstate() == kReadOnlySqlstate ||
        !session.Exec("ROLLBACK").ok()) {
      session.Close();
    }
  }
  WriteResult result;
  result.outcome = error.sqlstate() == kStaleEpochSqlstate
                       ? WriteOutcome::kRejected
                       : WriteOutcome::kFailed;
  result.error = std::move(error);
  return result;
}

// The result of a COMMIT that did not succeed.
WriteResult CommitFailed(Status error) {
  WriteResult result;
  // An ERROR answer means the server rolled back; no answer means unknown.
  result.outcome = error.kind() == ErrorKind::kQuery ? WriteOutcome::kFailed
                                                     : WriteOutcome::kInDoubt;
  result.error = std::move(error);
  return result;
}

}  // namespace

const char* FenceModeName(FenceMode mode) {
  switch (mode) {
    case FenceMode::kShared:
      return "shared";
    case FenceMode::kExclusive:
      return "exclusive";
  }
  return "unknown";
}

const char* WriteOutcomeName(WriteOutcome outcome) {
  switch (outcome) {
    case WriteOutcome::kCommitted:
      return "committed";
    case WriteOutcome::kRejected:
      return "rejected";
    case WriteOutcome::kFailed:
      return "failed";
    case WriteOutcome::kInDoubt:
      return "in_doubt";
  }
  return "unknown";
}

WriteResult FencedWrite(WorkloadSession& session, const WriteRequest& request) {
  Status connected = session.EnsureConnected();
  if (!connected.ok()) return FailedBeforeCommit(session, connected);

  Status begun = session.Exec("BEGIN");
  if (!begun.ok()) return FailedBeforeCommit(session, begun);

  StatusOr<PgResult> fence =
      session.Query(FenceSql(request.mode), {std::to_string(request.epoch)});
  if (!fence.ok()) return FailedBeforeCommit(session, fence.status());
  const int64_t fenced_epoch = fence->Int(0, 0);

  StatusOr<PgResult> inserted = session.Query(
      "INSERT INTO ha_workload_writes (epoch, fenced_epoch, holder, "
      "client_seq) VALUES ($1::bigint, $2::bigint, $3, $4::bigint) "
      "RETURNING id",
      {std::to_string(request.epoch), std::to_string(fenced_epoch),
       request.holder, std::to_string(request.client_seq)});
  if (!inserted.ok()) return FailedBeforeCommit(session, inserted.status());

  Status committed = session.Exec("COMMIT");
  if (!committed.ok()) return CommitFailed(committed);

  WriteResult result;
  result.outcome = WriteOutcome::kCommitted;
  result.id = inserted->Int(0, 0);
  result.fenced_epoch = fenced_epoch;
  return result;
}

}  // namespace cpha::workload
