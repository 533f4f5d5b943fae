// Scenario 6 of issue #2: the primary stops and the standby is promoted;
// sidecars on a multi-host URL elect a leader on the new primary with an
// epoch above every earlier one. It damages the pair, so it gets its own.

#include <string>

#include "tests/integration/ha_test_fixture.h"

namespace cpha::integration {
namespace {

using Clock = std::chrono::steady_clock;

class FailoverTest : public FreshPairTest {};

TEST_F(FailoverTest, NewPrimaryGetsAHigherEpochWhenStandbyIsPromoted) {
  // The promoted standby has no standby of its own: require none.
  const std::string url = pair().MultiUrl();
  SidecarProcess* a =
      StartSidecar({.holder_id = "f6-a", .url = url, .min_sync_replicas = 0});
  SidecarProcess* b =
      StartSidecar({.holder_id = "f6-b", .url = url, .min_sync_replicas = 0});
  ASSERT_TRUE(a != nullptr && b != nullptr);
  SidecarProcess* first = WaitForWriteReady({a, b}, Millis(10000));
  ASSERT_NE(first, nullptr) << "no leader 10 s after start; quorum of "
                            << a->holder_id() << ": " << Quorum(*a).dump();
  ASSERT_TRUE(WaitForFollower(first == a ? *b : *a, 1));
  const std::string highest_before =
      Sql("SELECT max(epoch) FROM leader_epochs");
  ASSERT_EQ(highest_before, "1");

  Status stopped = pair().Stop(PgNode::kPrimary);
  ASSERT_TRUE(stopped.ok()) << stopped.ToString();
  const Clock::time_point stopped_at = Clock::now();
  Status promoted = pair().Promote();
  ASSERT_TRUE(promoted.ok()) << promoted.ToString();
  const Clock::time_point promoted_at = Clock::now();

  // A sidecar leads again, at an epoch above the old primary's highest.
  SidecarProcess* next = nullptr;
  int64_t epoch = 0;
  auto led = WaitUntil(
      [&] {
        for (SidecarProcess* sidecar : {a, b}) {
          if (!IsWriteReady(*sidecar)) continue;
          epoch = Leader(*sidecar).value("current_epoch", int64_t{0});
          if (epoch > 1) {
            next = sidecar;
            return true;
          }
        }
        return false;
      },
      Millis(15000), Millis(10), promoted_at);
  ASSERT_TRUE(led.has_value())
      << "no sidecar leads a new epoch 15 s after the promotion; quorum: "
      << Quorum(*a).dump() << " / " << Quorum(*b).dump();
  ReportMillis("promote_command_ms", ToMillis(promoted_at - stopped_at));
  ReportMillis("new_leader_after_promote_ms", ToMillis(*led));
  EXPECT_GT(epoch, 1);

  // The new epoch is durable on the new primary and above all earlier ones.
  EXPECT_EQ(Sql("SELECT pg_is_in_recovery()", PgNode::kStandby), "f");
  EXPECT_EQ(Sql("SELECT current_epoch, holder_id FROM leadership_state "
                "WHERE id = 1",
                PgNode::kStandby),
            std::to_string(epoch) + "|" + next->holder_id());
  const std::string new_epoch = std::to_string(epoch);
  EXPECT_EQ(Sql("SELECT count(*) FILTER (WHERE epoch >= " + new_epoch +
                    "), max(epoch) FILTER (WHERE epoch < " + new_epoch +
                    ") FROM leader_epochs",
                PgNode::kStandby),
            "1|" + highest_before)
      << "the new epoch " << new_epoch << " must be the only one that high";
  ExpectNeverTwoWriteReady();
}

}  // namespace
}  // namespace cpha::integration
