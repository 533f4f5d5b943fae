// Scenarios 5 and 7 of issue #2: write readiness follows the synchronous
// standby and the monitoring privilege, without a new epoch or a restart.

#include <string>

#include "tests/integration/ha_test_fixture.h"

namespace cpha::integration {
namespace {

using Clock = std::chrono::steady_clock;

// What a probe may add to the quorum interval: the monitor's round trip and
// the probe's own polling.
constexpr Millis kQuorumSlack(300);

class WriteReadinessTest : public SharedPairTest {
 protected:
  // Starts `<prefix>-a` and `<prefix>-b` on `url` (default: this test's
  // database) and returns the one that holds the lock, after the other
  // follows. Fatal on failure; call through ASSERT_NO_FATAL_FAILURE.
  void StartTwoAndFindLockHolder(const std::string& prefix,
                                 const std::string& url,
                                 SidecarProcess** holder,
                                 SidecarProcess** other) {
    SidecarProcess* a = StartSidecar({.holder_id = prefix + "-a", .url = url});
    SidecarProcess* b = StartSidecar({.holder_id = prefix + "-b", .url = url});
    ASSERT_TRUE(a != nullptr && b != nullptr);
    auto found = WaitUntil(
        [&] {
          for (SidecarProcess* sidecar : {a, b}) {
            if (Leader(*sidecar).value("session_lock_held", false)) {
              *holder = sidecar;
              *other = sidecar == a ? b : a;
              return true;
            }
          }
          return false;
        },
        Millis(10000));
    ASSERT_TRUE(found.has_value())
        << "no sidecar holds the lock 10 s after start; quorum of "
        << a->holder_id() << ": " << Quorum(*a).dump();
    ASSERT_TRUE(WaitForFollower(**other, 1))
        << (*other)->holder_id()
        << " does not follow epoch 1; quorum: " << Quorum(**other).dump();
  }
};

TEST_F(WriteReadinessTest, LeaderIsNotWriteReadyWhileTheSyncStandbyIsDown) {
  SidecarProcess* leader = nullptr;
  SidecarProcess* follower = nullptr;
  ASSERT_NO_FATAL_FAILURE(
      StartTwoAndFindLockHolder("r5", "", &leader, &follower));
  ASSERT_TRUE(WaitUntil([&] { return IsWriteReady(*leader); }, Millis(5000)))
      << Get(*leader, "/v1/health/write-ready").Describe("write-ready");
  const std::string epochs_before =
      Sql("SELECT count(*), max(epoch) FROM leader_epochs");
  ASSERT_EQ(epochs_before, "1|1");

  // Stop the standby: the leader stops claiming write authority.
  const Clock::time_point stopping = Clock::now();
  Status stopped = pair().Stop(PgNode::kStandby);
  ASSERT_TRUE(stopped.ok()) << stopped.ToString();
  const Clock::time_point stopped_at = Clock::now();
  HttpResult answer;
  auto dropped = WaitUntil(
      [&] {
        answer = Get(*leader, "/v1/health/write-ready");
        return answer.ok() && answer.status == 503;
      },
      Millis(5000), Millis(5), stopped_at);
  ASSERT_TRUE(dropped.has_value())
      << "leader still write-ready 5 s after the standby stopped: "
      << answer.Describe("/v1/health/write-ready");
  ReportMillis("standby_stop_command_ms", ToMillis(stopped_at - stopping));
  ReportMillis("write_ready_drop_after_standby_stopped_ms", ToMillis(*dropped));
  EXPECT_LE(*dropped, kQuorumInterval + kQuorumSlack);
  const std::string reason = answer.Json().value("reason", "");
  EXPECT_NE(reason.find("synchronous standbys 0"), std::string::npos)
      << "the reason should carry the sync standby count: " << reason;
  EXPECT_EQ(Quorum(*leader).value("sync_replica_count", -1), 0);
  EXPECT_TRUE(Leader(*leader).value("session_lock_held", false))
      << "the leader keeps the lock while the standby is down";
  EXPECT_FALSE(IsWriteReady(*follower));

  // Start it again: write authority returns, on the same epoch.
  Status started = pair().Start(PgNode::kStandby);
  ASSERT_TRUE(started.ok()) << started.ToString();
  const Clock::time_point started_at = Clock::now();
  auto back = WaitUntil([&] { return IsWriteReady(*leader); }, Millis(10000),
                        Millis(10), started_at);
  ASSERT_TRUE(back.has_value())
      << "leader not write-ready 10 s after the standby started: "
      << Get(*leader, "/v1/health/write-ready").Describe("write-ready");
  ReportMillis("write_ready_back_after_standby_started_ms", ToMillis(*back));
  EXPECT_EQ(Leader(*leader).value("current_epoch", int64_t{-1}), 1);
  EXPECT_EQ(Sql("SELECT count(*), max(epoch) FROM leader_epochs"),
            epochs_before);
  EXPECT_EQ(
      Metric(*leader, "cp_leader_campaigns_total", {{"result", "success"}}),
      1.0);
  ExpectNeverTwoWriteReady();
}

TEST_F(WriteReadinessTest, ReportsMissingPgMonitorUntilGrantedWithoutRestart) {
  // A login role that owns this test's database (and so may create the
  // sidecar's tables in public) but is not a member of pg_monitor.
  const std::string role = "cp_limited_" + std::to_string(lock_key());
  Sql("DROP ROLE IF EXISTS " + role);
  Sql("CREATE ROLE " + role + " LOGIN PASSWORD 'limited'");
  Sql("ALTER DATABASE " + database() + " OWNER TO " + role);
  ASSERT_EQ(Sql("SELECT rolsuper OR pg_has_role('" + role +
                "', 'pg_monitor', 'USAGE') FROM pg_roles WHERE rolname = '" +
                role + "'"),
            "f");
  const std::string url =
      pair().Url(PgNode::kPrimary,
                 {.user = role, .password = "limited", .database = database()});

  SidecarProcess* leader = nullptr;
  SidecarProcess* follower = nullptr;
  ASSERT_NO_FATAL_FAILURE(
      StartTwoAndFindLockHolder("r7", url, &leader, &follower));
  ASSERT_TRUE(WaitUntil(
      [&] { return Get(*leader, "/v1/health/read-ready").status == 200; },
      Millis(5000)))
      << Get(*leader, "/v1/health/read-ready").Describe("read-ready");

  // Leading, but not write-ready, and saying why.
  HttpResult answer = Get(*leader, "/v1/health/write-ready");
  EXPECT_EQ(answer.status, 503) << answer.Describe("write-ready");
  const std::string reason = answer.Json().value("reason", "");
  EXPECT_NE(reason.find("insufficient privilege"), std::string::npos) << reason;
  EXPECT_NE(reason.find("pg_monitor"), std::string::npos) << reason;
  nlohmann::json quorum = Quorum(*leader);
  EXPECT_EQ(quorum.value("replication_privileged", true), false)
      << quorum.dump();
  EXPECT_EQ(quorum.value("sync_replica_count", -1), 0)
      << "unreadable replication rows must not count: " << quorum.dump();
  const int64_t epoch = Leader(*leader).value("current_epoch", int64_t{-1});

  // The grant alone fixes it: same process, same epoch.
  Sql("GRANT pg_monitor TO " + role);
  const Clock::time_point granted_at = Clock::now();
  auto fixed = WaitUntil([&] { return IsWriteReady(*leader); }, Millis(5000),
                         Millis(10), granted_at);
  ASSERT_TRUE(fixed.has_value())
      << "not write-ready 5 s after GRANT pg_monitor: "
      << Get(*leader, "/v1/health/write-ready").Describe("write-ready");
  ReportMillis("write_ready_after_grant_ms", ToMillis(*fixed));
  EXPECT_TRUE(leader->running());
  EXPECT_EQ(Leader(*leader).value("current_epoch", int64_t{-2}), epoch);
  quorum = Quorum(*leader);
  EXPECT_EQ(quorum.value("replication_privileged", false), true)
      << quorum.dump();
  EXPECT_EQ(quorum.value("sync_replica_count", -1), 1) << quorum.dump();
  ExpectNeverTwoWriteReady();
}

}  // namespace
}  // namespace cpha::integration
