#include "ha/readiness.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ha/ha_metrics.h"
#include "ha/ha_state.h"

namespace cpha {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const TimePoint kStart = TimePoint() + seconds(1000);

ReadinessPolicy Policy() {
  ReadinessPolicy policy;
  policy.min_sync_replicas = 1;
  policy.stepdown_bound = seconds(2);
  policy.fresh_for = seconds(3);
  return policy;
}

ElectorFacts Leader(TimePoint last_ack) {
  ElectorFacts elector;
  elector.role = ElectorRole::kLeader;
  elector.lock_held = true;
  elector.epoch = 7;
  elector.last_ack = last_ack;
  elector.server = "127.0.0.1:5432";
  return elector;
}

MonitorFacts HealthyPrimary(TimePoint checked) {
  MonitorFacts monitor;
  monitor.ever_succeeded = true;
  monitor.last_success = checked;
  monitor.privileged = true;
  monitor.server = "127.0.0.1:5432";
  monitor.sync_replica_count = 1;
  return monitor;
}

TEST(ReadinessTest, LeaderOnHealthyPrimaryIsWriteReady) {
  Readiness readiness =
      EvaluateReadiness(Leader(kStart), HealthyPrimary(kStart), Policy(),
                        kStart + milliseconds(10));
  EXPECT_TRUE(readiness.read.ready) << readiness.read.reason;
  EXPECT_TRUE(readiness.write.ready) << readiness.write.reason;
  EXPECT_TRUE(readiness.write.reason.empty());
}

TEST(ReadinessTest, LeaderStopsClaimingAtTheStepDownDeadline) {
  const ElectorFacts leader = Leader(kStart);
  // The monitor stays fresh; only the keepalive ages.
  for (auto [elapsed, expected] : {std::pair{milliseconds(1999), true},
                                   {milliseconds(2000), false},
                                   {milliseconds(5000), false}}) {
    TimePoint now = kStart + elapsed;
    Readiness readiness =
        EvaluateReadiness(leader, HealthyPrimary(now), Policy(), now);
    EXPECT_EQ(readiness.write.ready, expected)
        << "elapsed since ack: " << elapsed.count() << " ms";
    if (!expected) {
      EXPECT_NE(readiness.write.reason.find("step-down deadline"),
                std::string::npos)
          << readiness.write.reason;
    }
  }
}

struct FailureCase {
  std::string name;
  std::function<void(ElectorFacts&, MonitorFacts&, ReadinessPolicy&)> spoil;
  std::string reason_contains;
  bool read_ready;
};

class ReadinessFailureTest : public testing::TestWithParam<FailureCase> {};

TEST_P(ReadinessFailureTest, WriteReadyIsFalseWithAReason) {
  const FailureCase& input = GetParam();
  ElectorFacts elector = Leader(kStart);
  MonitorFacts monitor = HealthyPrimary(kStart);
  ReadinessPolicy policy = Policy();
  input.spoil(elector, monitor, policy);

  Readiness readiness =
      EvaluateReadiness(elector, monitor, policy, kStart + milliseconds(100));

  EXPECT_FALSE(readiness.write.ready) << input.name;
  EXPECT_NE(readiness.write.reason.find(input.reason_contains),
            std::string::npos)
      << input.name << ": reason was '" << readiness.write.reason << "'";
  EXPECT_EQ(readiness.read.ready, input.read_ready) << input.name;
}

INSTANTIATE_TEST_SUITE_P(
    Conditions, ReadinessFailureTest,
    testing::Values(
        FailureCase{"follower",
                    [](ElectorFacts& e, MonitorFacts&, ReadinessPolicy&) {
                      e.role = ElectorRole::kFollower;
                      e.lock_held = false;
                      e.detail = "held by cp-node-2";
                    },
                    "not leader (follower): held by cp-node-2", true},
        FailureCase{"lock session ended by the server",
                    [](ElectorFacts& e, MonitorFacts&, ReadinessPolicy&) {
                      e.lock_session_signalled = true;
                    },
                    "the server ended the lock session", true},
        FailureCase{"standby",
                    [](ElectorFacts&, MonitorFacts& m, ReadinessPolicy&) {
                      m.in_recovery = true;
                    },
                    "in recovery", true},
        FailureCase{"no sync standby",
                    [](ElectorFacts&, MonitorFacts& m, ReadinessPolicy&) {
                      m.sync_replica_count = 0;
                    },
                    "synchronous standbys 0 < required 1", true},
        FailureCase{"no pg_monitor",
                    [](ElectorFacts&, MonitorFacts& m, ReadinessPolicy&) {
                      m.privileged = false;
                      m.sync_replica_count = 0;
                    },
                    "insufficient privilege", true},
        FailureCase{"maintenance",
                    [](ElectorFacts&, MonitorFacts&, ReadinessPolicy& p) {
                      p.maintenance = true;
                    },
                    "maintenance mode", true},
        FailureCase{"stale monitor",
                    [](ElectorFacts&, MonitorFacts& m, ReadinessPolicy&) {
                      m.last_success = kStart - seconds(10);
                    },
                    "database check is stale", false},
        FailureCase{"last check failed",
                    [](ElectorFacts&, MonitorFacts& m, ReadinessPolicy&) {
                      m.last_error = "timeout: no answer";
                    },
                    "database unreachable: timeout: no answer", false},
        FailureCase{"never reached",
                    [](ElectorFacts&, MonitorFacts& m, ReadinessPolicy&) {
                      m = MonitorFacts();
                      m.last_error = "connect: refused";
                    },
                    "database unreachable: connect: refused", false},
        FailureCase{"facts from another server",
                    [](ElectorFacts&, MonitorFacts& m, ReadinessPolicy&) {
                      m.server = "127.0.0.1:5433";
                    },
                    "lock session is on 127.0.0.1:5432", true}),
    [](const testing::TestParamInfo<FailureCase>& param_info) {
      std::string name = param_info.param.name;
      for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

TEST(ReadinessTest, MissingPrivilegeDoesNotMatterWithoutASyncMinimum) {
  MonitorFacts monitor = HealthyPrimary(kStart);
  monitor.privileged = false;
  ReadinessPolicy policy = Policy();
  policy.min_sync_replicas = 0;
  Readiness readiness =
      EvaluateReadiness(Leader(kStart), monitor, policy, kStart);
  EXPECT_TRUE(readiness.write.ready) << readiness.write.reason;
}

class HaStateTest : public testing::Test {
 protected:
  HaMetrics metrics_{"test"};
  HaState state_{NodeIdentity{"cp-node-1", "abc", "test"}, Policy(), metrics_};
};

TEST_F(HaStateTest, CountsEachWriteAuthorityTransitionOnce) {
  state_.UpdateMonitor([](MonitorFacts& m) { m = HealthyPrimary(kStart); });
  state_.UpdateElector([](ElectorFacts& e) { e = Leader(kStart); });

  state_.Refresh(kStart + milliseconds(10));
  state_.Refresh(kStart + milliseconds(20));
  EXPECT_EQ(metrics_.transitions_to_leader.Value(), 1);
  EXPECT_EQ(metrics_.write_ready.Value(), 1);

  // Time alone ends write authority: the keepalive was never renewed.
  state_.UpdateMonitor(
      [](MonitorFacts& m) { m.last_success = kStart + seconds(3); });
  state_.Refresh(kStart + seconds(3));
  state_.Refresh(kStart + seconds(3) + milliseconds(1));
  EXPECT_EQ(metrics_.transitions_to_not_leader.Value(), 1);
  EXPECT_EQ(metrics_.write_ready.Value(), 0);
  EXPECT_EQ(metrics_.transitions_to_leader.Value(), 1);
}

// The lock session's socket, as a socket pair: the test plays the server on
// the other end.
class LockSocketTest : public HaStateTest {
 protected:
  void SetUp() override {
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, ends_), 0);
    state_.UpdateMonitor([](MonitorFacts& m) { m = HealthyPrimary(kStart); });
    state_.UpdateElector([](ElectorFacts& e) { e = Leader(kStart); });
    state_.SetLockSocket(ends_[0], LockSocketUse::kIdle);
  }
  void TearDown() override {
    state_.SetLockSocket(-1, LockSocketUse::kIdle);
    close(ends_[0]);
    if (ends_[1] >= 0) close(ends_[1]);
  }

  Verdict WriteVerdict() {
    return state_.Refresh(kStart + milliseconds(10)).readiness.write;
  }

  int ends_[2] = {-1, -1};
};

TEST_F(LockSocketTest, QuietSocketLeavesTheLeaderWriteReady) {
  Verdict verdict = WriteVerdict();
  EXPECT_TRUE(verdict.ready) << verdict.reason;
}

TEST_F(LockSocketTest, ServerMessageOnTheIdleSessionEndsWriteReady) {
  ASSERT_EQ(write(ends_[1], "E", 1), 1);  // a FATAL ErrorResponse begins so
  Verdict verdict = WriteVerdict();
  EXPECT_FALSE(verdict.ready);
  EXPECT_NE(verdict.reason.find("ended the lock session"), std::string::npos)
      << verdict.reason;
}

TEST_F(LockSocketTest, ServerClosingTheIdleSessionEndsWriteReady) {
  close(ends_[1]);
  ends_[1] = -1;
  EXPECT_FALSE(WriteVerdict().ready);
}

TEST_F(LockSocketTest, AnswerToAnInFlightKeepaliveLeavesWriteReady) {
  state_.SetLockSocket(ends_[0], LockSocketUse::kQuerying);
  ASSERT_EQ(write(ends_[1], "1", 1), 1);  // ParseComplete, a normal answer
  Verdict verdict = WriteVerdict();
  EXPECT_TRUE(verdict.ready) << verdict.reason;
}

TEST_F(LockSocketTest, ErrorAnswerToAnInFlightKeepaliveEndsWriteReady) {
  state_.SetLockSocket(ends_[0], LockSocketUse::kQuerying);
  ASSERT_EQ(write(ends_[1], "E", 1), 1);  // the FATAL of a terminated backend
  EXPECT_FALSE(WriteVerdict().ready);
}

TEST_F(LockSocketTest, ServerClosingDuringAKeepaliveEndsWriteReady) {
  state_.SetLockSocket(ends_[0], LockSocketUse::kQuerying);
  close(ends_[1]);
  ends_[1] = -1;
  EXPECT_FALSE(WriteVerdict().ready);
}

TEST_F(LockSocketTest, WithdrawnSocketIsNotWatched) {
  ASSERT_EQ(write(ends_[1], "E", 1), 1);
  state_.SetLockSocket(
      -1, LockSocketUse::kIdle);  // the elector is using the session again
  Verdict verdict = WriteVerdict();
  EXPECT_TRUE(verdict.ready) << verdict.reason;
}

TEST_F(HaStateTest, ExportsTheStepDownDeadlineAndKeepaliveAge) {
  state_.UpdateMonitor([](MonitorFacts& m) { m = HealthyPrimary(kStart); });
  state_.UpdateElector([](ElectorFacts& e) { e = Leader(kStart); });

  state_.Refresh(kStart + milliseconds(500));

  EXPECT_DOUBLE_EQ(metrics_.stepdown_deadline_seconds.Value(), 1.5);
  EXPECT_DOUBLE_EQ(metrics_.keepalive_age_seconds.Value(), 0.5);
  EXPECT_DOUBLE_EQ(metrics_.stepdown_bound_seconds.Value(), 2.0);
  EXPECT_EQ(metrics_.epoch.Value(), 7);
}

TEST_F(HaStateTest, RefusesAnEpochLowerThanOneSeenAndCountsItOnce) {
  EXPECT_TRUE(state_.ObserveEpoch(5));
  EXPECT_TRUE(state_.ObserveEpoch(5));
  EXPECT_FALSE(state_.ObserveEpoch(4));
  EXPECT_FALSE(state_.ObserveEpoch(4));
  EXPECT_EQ(metrics_.epoch_regressions.Value(), 1);
  EXPECT_TRUE(state_.ObserveEpoch(6));
}

}  // namespace
}  // namespace cpha
