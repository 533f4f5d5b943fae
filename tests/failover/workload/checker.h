// The checker's rules, over rows already read from ha_workload_writes and
// acks already read from the ack logs (no I/O here):
//
//   1. epoch regression: a row whose epoch is lower than that of a row
//      committed strictly before it (commit order = commit timestamp).
//      Rows with the same commit timestamp are not ordered against each
//      other; a fenced epoch bump always commits between two epochs'
//      writes, so a tie never hides a real regression.
//   2. fence mismatch: a row whose epoch differs from the epoch its fence
//      returned.
//   3. lost write: an acknowledged write that is not in the table: no row
//      with the ack's id (or, for an ack without an id, its holder and
//      client_seq), or a row there with another holder, client_seq or
//      epoch.
//
// Thread-safety: functions over values.

#ifndef CPHA_TESTS_FAILOVER_WORKLOAD_CHECKER_H_
#define CPHA_TESTS_FAILOVER_WORKLOAD_CHECKER_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tests/failover/workload/ack_log.h"

namespace cpha::workload {

struct WriteRow {
  int64_t id = 0;
  int64_t epoch = 0;
  int64_t fenced_epoch = 0;
  std::string holder;
  int64_t client_seq = 0;
  // pg_xact_commit_timestamp(xmin) in microseconds since the Unix epoch.
  int64_t commit_us = 0;
};

nlohmann::json WriteRowToJson(const WriteRow& row);

enum class ViolationKind {
  kEpochRegression,
  kFenceMismatch,
  kLostWrite,
};

const char* ViolationKindName(ViolationKind kind);

struct Violation {
  ViolationKind kind = ViolationKind::kEpochRegression;
  // The offending row; for a lost write, the row found in its place.
  std::optional<WriteRow> row = {};
  // For an epoch regression: the first row of the higher epoch committed
  // before it.
  std::optional<WriteRow> earlier = {};
  // For a lost write: the acknowledgement.
  std::optional<Ack> ack = {};
};

nlohmann::json ViolationToJson(const Violation& violation);
// One line for people: kind, the row or ack, and why.
std::string DescribeViolation(const Violation& violation);

struct CheckReport {
  std::vector<Violation> violations;
  // rows, acks, epochs (each with rows, holders and commit times),
  // violations by kind, first and last commit.
  nlohmann::json summary;
};

// Applies the three rules. `rows` may come in any order.
CheckReport CheckWrites(std::vector<WriteRow> rows,
                        const std::vector<Ack>& acks);

}  // namespace cpha::workload

#endif  // CPHA_TESTS_FAILOVER_WORKLOAD_CHECKER_H_
