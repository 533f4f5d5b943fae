// FencedWrite: one write of the workload, as the control plane makes it:
//
//   BEGIN;
//   SELECT cp_ha_fence($epoch[, true]);          -- SQLSTATE CPHA1 if stale
//   INSERT INTO ha_workload_writes (epoch, fenced_epoch, holder, client_seq)
//     VALUES (...) RETURNING id;
//   COMMIT;
//
// fenced_epoch is what the fence returned (the durable epoch it saw).
//
// Thread-safety: a function; the session belongs to the calling thread.

#ifndef CPHA_TESTS_FAILOVER_WORKLOAD_FENCED_WRITE_H_
#define CPHA_TESTS_FAILOVER_WORKLOAD_FENCED_WRITE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "ha/status.h"
#include "tests/failover/workload/workload_session.h"

namespace cpha::workload {

enum class FenceMode {
  kShared,     // cp_ha_fence(epoch): FOR SHARE on the singleton
  kExclusive,  // cp_ha_fence(epoch, true): FOR UPDATE
};

const char* FenceModeName(FenceMode mode);

enum class WriteOutcome {
  // COMMIT returned success: the write is acknowledged.
  kCommitted,
  // The fence raised SQLSTATE CPHA1: the epoch is not the durable one.
  kRejected,
  // Failed before COMMIT was sent, or COMMIT itself answered an error:
  // nothing was committed.
  kFailed,
  // The session was lost or timed out after COMMIT was sent: the write may
  // or may not have committed. It is not acknowledged.
  kInDoubt,
};

const char* WriteOutcomeName(WriteOutcome outcome);

struct WriteResult {
  WriteOutcome outcome = WriteOutcome::kFailed;
  // Set when committed.
  int64_t id = 0;
  int64_t fenced_epoch = 0;
  // Why, unless committed.
  Status error = {};
};

struct WriteRequest {
  int64_t epoch = 0;
  std::string holder;
  int64_t client_seq = 0;
  FenceMode mode = FenceMode::kShared;
};

// Connects the session if needed, then runs the transaction above. After a
// server error the transaction is rolled back and the session kept, except
// when the server is read-only (SQLSTATE 25006: a demoted primary), where
// the session is closed so that the next write reconnects to the primary.
WriteResult FencedWrite(WorkloadSession& session, const WriteRequest& request);

// The table the writes go to; idempotent.
inline constexpr std::string_view kCreateTableSql =
    "CREATE TABLE IF NOT EXISTS ha_workload_writes ("
    " id bigserial PRIMARY KEY,"
    " epoch bigint NOT NULL,"
    " fenced_epoch bigint NOT NULL,"
    " holder text NOT NULL,"
    " client_seq bigint NOT NULL,"
    " written_at timestamptz NOT NULL DEFAULT clock_timestamp())";

// The SQLSTATE the fence raises on a stale epoch (schema/0002).
inline constexpr std::string_view kStaleEpochSqlstate = "CPHA1";

}  // namespace cpha::workload

#endif  // CPHA_TESTS_FAILOVER_WORKLOAD_FENCED_WRITE_H_
