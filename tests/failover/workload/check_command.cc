// cp-ha-workload check.

#include <iostream>

#include "tests/failover/workload/checker.h"
#include "tests/failover/workload/commands.h"

namespace cpha::workload {
namespace {

// Offending rows printed in the JSON summary; stderr has them all.
constexpr size_t kMaxViolationsInSummary = 100;

// Every row in commit order, with its commit time in microseconds; the
// commit time is NULL for a row committed while track_commit_timestamp was
// off.
constexpr const char* kRowsSql =
    "SELECT id, epoch, fenced_epoch, holder, client_seq,"
    " (extract(epoch FROM committed) * 1000000)::bigint"
    " FROM (SELECT w.*, pg_xact_commit_timestamp(w.xmin) AS committed"
    "       FROM ha_workload_writes w) AS t"
    " ORDER BY committed, epoch, id";

// Prints why the check cannot be made, on stderr and as JSON on stdout.
int CannotCheck(const std::string& why) {
  std::cerr << "check: " << why << "\n";
  std::cout << nlohmann::json{{"checked", false}, {"error", why}}.dump()
            << std::endl;
  return kExitCannotCheck;
}

// "" when track_commit_timestamp is on, else why the check cannot be made.
std::string CommitTimestampsOff(WorkloadSession& session) {
  StatusOr<PgResult> setting = session.Query("SHOW track_commit_timestamp");
  if (!setting.ok()) {
    return "cannot read track_commit_timestamp: " + setting.status().ToString();
  }
  if (setting->Text(0, 0) == "on") return "";
  return "track_commit_timestamp is " + setting->Text(0, 0) + " on " +
         session.server() +
         ": the commit order of the writes is unknown. Turn it on "
         "(ALTER SYSTEM SET track_commit_timestamp = on, then restart) on "
         "every node before the workload runs";
}

// The rows, or why they cannot be checked (a row without a commit time).
StatusOr<std::vector<WriteRow>> ReadRows(WorkloadSession& session) {
  StatusOr<PgResult> result = session.Query(kRowsSql);
  if (!result.ok()) return result.status();

  std::vector<WriteRow> rows;
  int64_t untimed = 0;
  for (int i = 0; i < result->rows(); ++i) {
    if (result->IsNull(i, 5)) {
      ++untimed;
      continue;
    }
    rows.push_back({.id = result->Int(i, 0),
                    .epoch = result->Int(i, 1),
                    .fenced_epoch = result->Int(i, 2),
                    .holder = result->Text(i, 3),
                    .client_seq = result->Int(i, 4),
                    .commit_us = result->Int(i, 5)});
  }
  if (untimed > 0) {
    return Status::Error(
        ErrorKind::kFailedPrecondition,
        std::to_string(untimed) +
            " rows have no commit timestamp (committed while "
            "track_commit_timestamp was off, or frozen): their commit order "
            "is unknown");
  }
  return rows;
}

StatusOr<std::vector<Ack>> ReadAcks(const std::vector<std::string>& paths) {
  std::vector<Ack> all;
  for (const std::string& path : paths) {
    StatusOr<std::vector<Ack>> acks = ReadAckLog(path);
    if (!acks.ok()) return acks.status();
    all.insert(all.end(), acks->begin(), acks->end());
  }
  return all;
}

int Report(const CheckReport& report, const WorkloadSession& session,
           const CheckOptions& options) {
  nlohmann::json out = report.summary;
  out["checked"] = true;
  out["server"] = session.server();
  out["ack_logs"] = options.ack_logs;
  out["offending"] = nlohmann::json::array();
  for (const Violation& violation : report.violations) {
    std::cerr << "VIOLATION " << DescribeViolation(violation) << "\n";
    if (out["offending"].size() < kMaxViolationsInSummary) {
      out["offending"].push_back(ViolationToJson(violation));
    }
  }
  std::cout << out.dump() << std::endl;
  return report.violations.empty() ? kExitOk : kExitViolation;
}

}  // namespace

int RunCheck(const CheckOptions& options) {
  StatusOr<std::unique_ptr<WorkloadSession>> created = WorkloadSession::Create(
      options.postgres_url, "ha-workload-check", options.db);
  if (!created.ok()) return CannotCheck(created.status().ToString());
  WorkloadSession& session = *created.value();
  Status connected = session.EnsureConnected();
  if (!connected.ok()) {
    return CannotCheck(connected.ToString() + " (" + session.redacted_url() +
                       ")");
  }

  const std::string off = CommitTimestampsOff(session);
  if (!off.empty()) return CannotCheck(off);
  StatusOr<std::vector<WriteRow>> rows = ReadRows(session);
  if (!rows.ok()) return CannotCheck(rows.status().ToString());
  StatusOr<std::vector<Ack>> acks = ReadAcks(options.ack_logs);
  if (!acks.ok()) return CannotCheck(acks.status().message());

  return Report(CheckWrites(std::move(rows.value()), acks.value()), session,
                options);
}

}  // namespace cpha::workload
