// The checker's rules (checker.h) on rows and acks made up in the test: no
// database.

#include "tests/failover/workload/checker.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cpha::workload {
namespace {

// A row whose epoch matches its fence, committed at `commit_us`.
WriteRow Row(int64_t id, int64_t epoch, int64_t commit_us,
             const std::string& holder = "h", int64_t client_seq = 0) {
  return {.id = id,
          .epoch = epoch,
          .fenced_epoch = epoch,
          .holder = holder,
          .client_seq = client_seq == 0 ? id : client_seq,
          .commit_us = commit_us};
}

Ack AckOf(const WriteRow& row) {
  return {.epoch = row.epoch,
          .fenced_epoch = row.fenced_epoch,
          .holder = row.holder,
          .client_seq = row.client_seq,
          .id = row.id,
          .source = "test:" + std::to_string(row.id)};
}

std::string Describe(const std::vector<Violation>& violations) {
  std::string text;
  for (const Violation& violation : violations) {
    text += DescribeViolation(violation) + "\n";
  }
  return text.empty() ? "(none)" : text;
}

struct RegressionCase {
  std::string name;
  std::vector<WriteRow> rows;
  // Ids of the rows reported as epoch regressions, in commit order.
  std::vector<int64_t> stale_ids;
};

TEST(CheckerTest, FlagsExactlyTheRowsCommittedBelowAnEarlierEpoch) {
  const std::vector<RegressionCase> cases = {
      {"no rows", {}, {}},
      {"epochs rising", {Row(1, 1, 100), Row(2, 1, 110), Row(3, 2, 120)}, {}},
      {"one stale row after a higher epoch",
       {Row(1, 1, 100), Row(2, 2, 110), Row(3, 1, 120)},
       {3}},
      {"order is the commit time, not the id",
       {Row(5, 2, 100), Row(1, 1, 200)},
       {1}},
      {"ids out of commit order but epochs in order",
       {Row(9, 1, 100), Row(2, 2, 200)},
       {}},
      {"every row below the highest so far",
       {Row(1, 3, 100), Row(2, 2, 110), Row(3, 1, 120), Row(4, 3, 130)},
       {2, 3}},
      {"a tie in commit time is not an order",
       {Row(1, 2, 100), Row(2, 1, 100), Row(3, 2, 110)},
       {}},
      {"a tie after a higher epoch is still stale",
       {Row(1, 3, 90), Row(2, 2, 100), Row(3, 3, 100)},
       {2}},
  };
  for (const RegressionCase& input : cases) {
    CheckReport report = CheckWrites(input.rows, {});
    std::vector<int64_t> stale;
    for (const Violation& violation : report.violations) {
      ASSERT_EQ(violation.kind, ViolationKind::kEpochRegression)
          << input.name << ": " << Describe(report.violations);
      stale.push_back(violation.row->id);
      EXPECT_GT(violation.earlier->epoch, violation.row->epoch) << input.name;
      EXPECT_LT(violation.earlier->commit_us, violation.row->commit_us)
          << input.name;
    }
    EXPECT_EQ(stale, input.stale_ids)
        << input.name << ": " << Describe(report.violations);
    EXPECT_EQ(report.summary["violations"], input.stale_ids.size())
        << input.name;
  }
}

TEST(CheckerTest, FlagsARowWhoseEpochIsNotTheFencedOne) {
  WriteRow forged = Row(2, 2, 110);
  forged.fenced_epoch = 1;

  CheckReport report = CheckWrites({Row(1, 1, 100), forged}, {});

  ASSERT_EQ(report.violations.size(), 1u) << Describe(report.violations);
  EXPECT_EQ(report.violations[0].kind, ViolationKind::kFenceMismatch);
  EXPECT_EQ(report.violations[0].row->id, 2);
  EXPECT_EQ(report.summary["violations_by_kind"]["fence_mismatch"], 1);
}

TEST(CheckerTest, FlagsAnAcknowledgedWriteMissingFromTheTable) {
  const WriteRow kept = Row(1, 1, 100, "wl-a", 7);
  const WriteRow deleted = Row(2, 1, 110, "wl-a", 8);

  CheckReport report = CheckWrites({kept}, {AckOf(kept), AckOf(deleted)});

  ASSERT_EQ(report.violations.size(), 1u) << Describe(report.violations);
  const Violation& lost = report.violations[0];
  EXPECT_EQ(lost.kind, ViolationKind::kLostWrite);
  EXPECT_EQ(lost.ack->client_seq, 8);
  EXPECT_FALSE(lost.row.has_value());
  EXPECT_NE(DescribeViolation(lost).find("holder=wl-a client_seq=8"),
            std::string::npos)
      << DescribeViolation(lost);
  EXPECT_EQ(report.summary["acks"], 2);
}

TEST(CheckerTest, FlagsAnAckWhoseRowIdHoldsAnotherWrite) {
  const WriteRow row = Row(1, 2, 100, "wl-a", 5);
  Ack other_epoch = AckOf(row);
  other_epoch.epoch = 1;
  Ack without_id = AckOf(row);
  without_id.id = 0;

  CheckReport report = CheckWrites({row}, {other_epoch, without_id});

  ASSERT_EQ(report.violations.size(), 1u) << Describe(report.violations);
  EXPECT_EQ(report.violations[0].kind, ViolationKind::kLostWrite);
  EXPECT_EQ(report.violations[0].ack->epoch, 1);
  ASSERT_TRUE(report.violations[0].row.has_value());
  EXPECT_EQ(report.violations[0].row->id, 1);
}

TEST(CheckerTest, SummarizesEpochsWithRowsAndHolders) {
  CheckReport report = CheckWrites(
      {Row(1, 1, 100, "a"), Row(2, 1, 110, "b"), Row(3, 2, 120, "a")}, {});

  EXPECT_TRUE(report.violations.empty()) << Describe(report.violations);
  const nlohmann::json& epochs = report.summary["epochs"];
  ASSERT_EQ(epochs.size(), 2u) << report.summary.dump();
  EXPECT_EQ(epochs[0]["epoch"], 1);
  EXPECT_EQ(epochs[0]["rows"], 2);
  EXPECT_EQ(epochs[0]["holders"], (nlohmann::json{{"a", 1}, {"b", 1}}));
  EXPECT_EQ(epochs[1]["epoch"], 2);
  EXPECT_EQ(report.summary["rows"], 3);
  EXPECT_EQ(report.summary["violations"], 0);
}

}  // namespace
}  // namespace cpha::workload
