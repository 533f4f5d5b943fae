#include "tests/failover/workload/checker.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

namespace cpha::workload {
namespace {

using WriteKey = std::pair<std::string, int64_t>;  // holder, client_seq

bool CommitOrder(const WriteRow& a, const WriteRow& b) {
  return std::tie(a.commit_us, a.epoch, a.id) <
         std::tie(b.commit_us, b.epoch, b.id);
}

// Rule 1 over rows in commit order.
void FindRegressions(const std::vector<WriteRow>& rows,
                     std::vector<Violation>& out) {
  std::optional<WriteRow> highest;  // committed before the current group
  size_t group = 0;
  while (group < rows.size()) {
    size_t end = group;
    while (end < rows.size() && rows[end].commit_us == rows[group].commit_us) {
      if (highest && rows[end].epoch < highest->epoch) {
        out.push_back({.kind = ViolationKind::kEpochRegression,
                       .row = rows[end],
                       .earlier = highest});
      }
      ++end;
    }
    for (size_t i = group; i < end; ++i) {
      if (!highest || rows[i].epoch > highest->epoch) highest = rows[i];
    }
    group = end;
  }
}

// Rule 2.
void FindFenceMismatches(const std::vector<WriteRow>& rows,
                         std::vector<Violation>& out) {
  for (const WriteRow& row : rows) {
    if (row.epoch != row.fenced_epoch) {
      out.push_back({.kind = ViolationKind::kFenceMismatch, .row = row});
    }
  }
}

// True when `row` is the write that `ack` acknowledged.
bool Matches(const WriteRow& row, const Ack& ack) {
  return row.holder == ack.holder && row.client_seq == ack.client_seq &&
         row.epoch == ack.epoch && (ack.id == 0 || row.id == ack.id);
}

// Rule 3. An ack names its row by id (RETURNING id); one without an id is
// looked up by (holder, client_seq).
void FindLostWrites(const std::vector<WriteRow>& rows,
                    const std::vector<Ack>& acks, std::vector<Violation>& out) {
  std::map<int64_t, const WriteRow*> by_id;
  std::map<WriteKey, const WriteRow*> by_key;
  for (const WriteRow& row : rows) {
    by_id[row.id] = &row;
    by_key[{row.holder, row.client_seq}] = &row;
  }
  for (const Ack& ack : acks) {
    const WriteRow* found = nullptr;
    if (ack.id != 0) {
      auto it = by_id.find(ack.id);
      if (it != by_id.end()) found = it->second;
    } else {
      auto it = by_key.find({ack.holder, ack.client_seq});
      if (it != by_key.end()) found = it->second;
    }
    if (found != nullptr && Matches(*found, ack)) continue;

    Violation lost{.kind = ViolationKind::kLostWrite, .ack = ack};
    if (found != nullptr) lost.row = *found;
    out.push_back(std::move(lost));
  }
}

nlohmann::json EpochsSummary(const std::vector<WriteRow>& rows) {
  struct Seen {
    int64_t rows = 0;
    std::map<std::string, int64_t> holders;
    int64_t first_us = 0;
    int64_t last_us = 0;
  };
  std::map<int64_t, Seen> epochs;
  for (const WriteRow& row : rows) {
    Seen& seen = epochs[row.epoch];
    if (seen.rows++ == 0) seen.first_us = row.commit_us;
    ++seen.holders[row.holder];
    seen.last_us = row.commit_us;
  }
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [epoch, seen] : epochs) {
    list.push_back({{"epoch", epoch},
                    {"rows", seen.rows},
                    {"holders", seen.holders},
                    {"first_commit", FormatWallMicros(seen.first_us)},
                    {"last_commit", FormatWallMicros(seen.last_us)}});
  }
  return list;
}

nlohmann::json Summary(const std::vector<WriteRow>& rows,
                       const std::vector<Ack>& acks,
                       const std::vector<Violation>& violations) {
  std::map<std::string, int64_t> by_kind = {
      {ViolationKindName(ViolationKind::kEpochRegression), 0},
      {ViolationKindName(ViolationKind::kFenceMismatch), 0},
      {ViolationKindName(ViolationKind::kLostWrite), 0}};
  for (const Violation& violation : violations) {
    ++by_kind[ViolationKindName(violation.kind)];
  }
  nlohmann::json summary = {
      {"rows", rows.size()},           {"acks", acks.size()},
      {"epochs", EpochsSummary(rows)}, {"violations", violations.size()},
      {"violations_by_kind", by_kind}, {"first_commit", nullptr},
      {"last_commit", nullptr}};
  if (!rows.empty()) {
    summary["first_commit"] = FormatWallMicros(rows.front().commit_us);
    summary["last_commit"] = FormatWallMicros(rows.back().commit_us);
  }
  return summary;
}

std::string DescribeRow(const WriteRow& row) {
  return "row id=" + std::to_string(row.id) +
         " epoch=" + std::to_string(row.epoch) +
         " fenced_epoch=" + std::to_string(row.fenced_epoch) +
         " holder=" + row.holder +
         " client_seq=" + std::to_string(row.client_seq) +
         " committed_at=" + FormatWallMicros(row.commit_us);
}

std::string DescribeAck(const Ack& ack) {
  return "ack holder=" + ack.holder +
         " client_seq=" + std::to_string(ack.client_seq) +
         " epoch=" + std::to_string(ack.epoch) +
         " id=" + std::to_string(ack.id) + " (" + ack.source + ")";
}

}  // namespace

nlohmann::json WriteRowToJson(const WriteRow& row) {
  return {{"id", row.id},
          {"epoch", row.epoch},
          {"fenced_epoch", row.fenced_epoch},
          {"holder", row.holder},
          {"client_seq", row.client_seq},
          {"committed_at", FormatWallMicros(row.commit_us)}};
}

const char* ViolationKindName(ViolationKind kind) {
  switch (kind) {
    case ViolationKind::kEpochRegression:
      return "epoch_regression";
    case ViolationKind::kFenceMismatch:
      return "fence_mismatch";
    case ViolationKind::kLostWrite:
      return "lost_write";
  }
  return "unknown";
}

nlohmann::json ViolationToJson(const Violation& violation) {
  nlohmann::json out = {{"kind", ViolationKindName(violation.kind)}};
  if (violation.row) out["row"] = WriteRowToJson(*violation.row);
  if (violation.earlier) out["earlier"] = WriteRowToJson(*violation.earlier);
  if (violation.ack) {
    out["ack"] = AckToJson(*violation.ack);
    out["ack"]["source"] = violation.ack->source;
  }
  return out;
}

std::string DescribeViolation(const Violation& violation) {
  std::string text = std::string(ViolationKindName(violation.kind)) + ": ";
  switch (violation.kind) {
    case ViolationKind::kEpochRegression:
      return text + DescribeRow(*violation.row) +
             " committed after a higher epoch: " +
             DescribeRow(*violation.earlier);
    case ViolationKind::kFenceMismatch:
      return text + DescribeRow(*violation.row) +
             ": the epoch written is not the one the fence returned";
    case ViolationKind::kLostWrite:
      if (!violation.row) {
        return text + DescribeAck(*violation.ack) + " is not in the table";
      }
      return text + DescribeAck(*violation.ack) +
             " does not match the row with its id: " +
             DescribeRow(*violation.row);
  }
  return text;
}

CheckReport CheckWrites(std::vector<WriteRow> rows,
                        const std::vector<Ack>& acks) {
  std::sort(rows.begin(), rows.end(), CommitOrder);

  CheckReport report;
  FindRegressions(rows, report.violations);
  FindFenceMismatches(rows, report.violations);
  FindLostWrites(rows, acks, report.violations);

  report.summary = Summary(rows, acks, report.violations);
  return report;
}

}  // namespace cpha::workload
