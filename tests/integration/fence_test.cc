// Issue #3, "What must be shown" 1 and 2: the epoch fence on the real pair.
//
// 1. A write carrying the previous epoch is rejected by the C++ fence and by
//    the SQL function, each rejection counted once cluster-wide (every
//    sidecar exports the same count, across a restart); a write carrying
//    the current epoch commits.
// 2. Shared mode: 16 fenced writers hold the singleton FOR SHARE at the
//    same time, an epoch bump waits for them and later writers of the old
//    epoch fail. FOR UPDATE mode: a second writer blocks while the first
//    holds the row (lock_timeout ends it with 55P03).

#include "ha/fence.h"

#include <signal.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "ha/ha_metrics.h"
#include "tests/integration/audit_support.h"
#include "tests/integration/ha_test_fixture.h"

namespace cpha::integration {
namespace {

constexpr Millis kQueryTimeout(5000);
constexpr Millis kHold(20000);
constexpr int kWriters = 16;
const char* const kClusterSeries = "cp_authority_epoch_mismatch_cluster_total";

class FenceTest : public SharedPairTest {
 protected:
  // Starts one sidecar with the control-plane tables and returns the epoch
  // it leads. Fatal on failure.
  void StartLeader(const std::string& holder, SidecarProcess** leader,
                   int64_t* epoch) {
    // No fast purge: the sidecar's own fenced writes stay out of the way.
    *leader =
        StartSidecar({.holder_id = holder, .flags = {"--create-app-schema"}});
    ASSERT_NE(*leader, nullptr);
    ASSERT_EQ(WaitForWriteReady({*leader}, Millis(10000)), *leader);
    *epoch = Leader(**leader).value("current_epoch", int64_t{-1});
    ASSERT_GT(*epoch, 0);
    Sql("CREATE TABLE IF NOT EXISTS fence_probe (writer int, epoch bigint)");
  }

  std::unique_ptr<PgSession> Session(const std::string& name) {
    StatusOr<std::unique_ptr<PgSession>> session =
        OpenSession(DatabaseUrl(), name);
    EXPECT_TRUE(session.ok()) << session.status().ToString();
    return session.ok() ? std::move(session.value()) : nullptr;
  }

  int64_t ClusterRejections() {
    return std::stoll(Sql("SELECT cp_ha_fence_rejections_total()"));
  }

  bool ExportsClusterCount(const SidecarProcess& sidecar, double count) {
    return WaitUntil([&] { return Metric(sidecar, kClusterSeries) == count; },
                     Millis(5000))
        .has_value();
  }
};

Status InsertProbe(PgSession& session, int writer, int64_t epoch) {
  return session.Exec("INSERT INTO fence_probe VALUES ($1, $2)", kQueryTimeout,
                      {std::to_string(writer), std::to_string(epoch)});
}

TEST_F(FenceTest, StaleEpochIsRejectedAndCountedOnceClusterWide) {
  // Epoch 1 led by a; after its resignation b leads epoch 2.
  SidecarProcess* a =
      StartSidecar({.holder_id = "f1-a", .flags = AuditFlags()});
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(WaitForWriteReady({a}, Millis(10000)), a);
  SidecarProcess* b =
      StartSidecar({.holder_id = "f1-b", .flags = AuditFlags()});
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(WaitForFollower(*b, 1));
  ASSERT_TRUE(a->Kill(SIGTERM));
  ASSERT_TRUE(a->WaitExit(Millis(5000)).has_value());
  ASSERT_EQ(WaitForWriteReady({b}, Millis(10000)), b);
  const int64_t current = Leader(*b).value("current_epoch", int64_t{-1});
  ASSERT_EQ(current, 2);
  SidecarProcess* c =
      StartSidecar({.holder_id = "f1-c", .flags = AuditFlags()});
  ASSERT_NE(c, nullptr);
  Sql("CREATE TABLE fence_probe (writer int, epoch bigint)");
  ASSERT_EQ(ClusterRejections(), 0);

  // The C++ fence refuses the previous epoch and counts it once here.
  HaMetrics metrics("test");
  EpochFence fence(metrics, FenceLockMode::kShared);
  std::unique_ptr<PgSession> session = Session("cp-test:f1");
  ASSERT_NE(session, nullptr);
  Status stale = fence.Run(*session, current - 1, kQueryTimeout,
                           [](PgSession& s) { return InsertProbe(s, 1, 1); });
  EXPECT_EQ(stale.kind(), ErrorKind::kStaleEpoch) << stale.ToString();
  EXPECT_EQ(stale.sqlstate(), kStaleEpochSqlstate);
  EXPECT_EQ(metrics.epoch_mismatches.Value(), 1);

  // The SQL function, as the control plane calls it, refuses it too.
  ASSERT_TRUE(session->Exec("BEGIN", kQueryTimeout).ok());
  Status sql_stale =
      session->Exec("SELECT cp_ha_fence($1)", kQueryTimeout, {"1"});
  EXPECT_EQ(sql_stale.sqlstate(), kStaleEpochSqlstate) << sql_stale.ToString();
  EXPECT_NE(sql_stale.message().find("stale epoch"), std::string::npos);
  ASSERT_TRUE(session->Exec("ROLLBACK", kQueryTimeout).ok());

  // Two rejections, two counts, nothing written.
  EXPECT_EQ(ClusterRejections(), 2);
  EXPECT_EQ(Sql("SELECT count(*) FROM fence_probe"), "0");
  for (SidecarProcess* sidecar : {b, c}) {
    EXPECT_TRUE(ExportsClusterCount(*sidecar, 2))
        << sidecar->holder_id() << " exports "
        << Metric(*sidecar, kClusterSeries).value_or(-1);
  }

  // The current epoch commits, and counts nothing.
  Status written =
      fence.Run(*session, current, kQueryTimeout,
                [&](PgSession& s) { return InsertProbe(s, 2, current); });
  EXPECT_TRUE(written.ok()) << written.ToString();
  EXPECT_EQ(Sql("SELECT count(*) FROM fence_probe WHERE epoch = 2"), "1");
  EXPECT_EQ(ClusterRejections(), 2);
  EXPECT_EQ(metrics.epoch_mismatches.Value(), 1);

  // A sidecar started after the rejections exports the same count.
  ASSERT_TRUE(c->Kill(SIGKILL));
  SidecarProcess* d =
      StartSidecar({.holder_id = "f1-c", .flags = AuditFlags()});
  ASSERT_NE(d, nullptr);
  EXPECT_TRUE(ExportsClusterCount(*d, 2))
      << "restarted sidecar exports "
      << Metric(*d, kClusterSeries).value_or(-1);
  EXPECT_EQ(Metric(*b, kClusterSeries), 2);
}

TEST_F(FenceTest, SharedModeWritersProceedTogetherAndTheBumpFencesThemOut) {
  SidecarProcess* leader = nullptr;
  int64_t epoch = 0;
  ASSERT_NO_FATAL_FAILURE(StartLeader("f2", &leader, &epoch));
  Sql("CREATE EXTENSION IF NOT EXISTS pgrowlocks");

  // 16 writers, each inside its fenced transaction at the same time.
  HaMetrics metrics("test");
  const EpochFence fence(metrics, FenceLockMode::kShared);
  Latch latch;
  std::vector<Status> results(kWriters);
  std::vector<std::thread> writers;
  for (int i = 0; i < kWriters; ++i) {
    writers.emplace_back([&, i] {
      StatusOr<std::unique_ptr<PgSession>> session =
          OpenSession(DatabaseUrl(), "cp-test:writer-" + std::to_string(i));
      if (!session.ok()) {
        results[i] = session.status();
        return;
      }
      results[i] =
          fence.Run(*session.value(), epoch, kQueryTimeout, [&](PgSession& s) {
            Status inserted = InsertProbe(s, i, epoch);
            latch.ArriveAndWait(kHold);
            return inserted;
          });
    });
  }
  auto all_inside =
      WaitUntil([&] { return latch.arrived() == kWriters; }, Millis(10000));
  ASSERT_TRUE(all_inside.has_value())
      << latch.arrived() << " of " << kWriters
      << " writers got past the shared fence together";
  ReportMillis("all_16_writers_inside_the_fence", ToMillis(*all_inside));

  // The server shows all 16 holding the singleton row FOR SHARE at once.
  EXPECT_EQ(Sql("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a"
                " USING (pid) WHERE l.relation = 'leadership_state'::regclass"
                " AND l.mode = 'RowShareLock' AND l.granted"
                " AND a.application_name LIKE 'cp-test:writer-%'"),
            "16");
  // pgrowlocks lists the members of the row's MultiXact: all 16 writers,
  // every one in Share mode.
  EXPECT_EQ(Sql("SELECT (SELECT count(*) FROM pg_stat_activity"
                "         WHERE application_name LIKE 'cp-test:writer-%'"
                "           AND pid = ANY (r.pids)),"
                "       (SELECT bool_and(m = 'Share') FROM unnest(r.modes) m)"
                "  FROM pgrowlocks('leadership_state') r"),
            "16|t");

  // An epoch bump from another session waits for them.
  std::atomic<bool> bumped{false};
  Status bump_status;
  std::thread bump([&] {
    StatusOr<std::unique_ptr<PgSession>> session =
        OpenSession(DatabaseUrl(), "cp-test:bump");
    if (!session.ok()) {
      bump_status = session.status();
    } else {
      bump_status = session.value()->Exec(
          "UPDATE leadership_state SET current_epoch = current_epoch + 1"
          " WHERE id = 1",
          kHold);
    }
    bumped.store(true);
  });
  auto waiting = WaitUntil(
      [&] {
        return Sql("SELECT count(*) FROM pg_stat_activity WHERE "
                   "application_name = 'cp-test:bump' AND "
                   "wait_event_type = 'Lock'") == "1";
      },
      Millis(5000));
  EXPECT_TRUE(waiting.has_value()) << "the bump never waited on a lock";
  std::this_thread::sleep_for(Millis(300));
  EXPECT_FALSE(bumped.load()) << "the bump did not wait for the writers";

  // The writers commit, then the bump goes through.
  latch.Open();
  for (std::thread& writer : writers) writer.join();
  bump.join();
  for (int i = 0; i < kWriters; ++i) {
    EXPECT_TRUE(results[i].ok())
        << "writer " << i << ": " << results[i].ToString();
  }
  EXPECT_TRUE(bump_status.ok()) << bump_status.ToString();
  EXPECT_EQ(Sql("SELECT count(*) FROM fence_probe WHERE epoch = " +
                std::to_string(epoch)),
            "16");

  // A later writer of the old epoch is fenced out.
  std::unique_ptr<PgSession> late = Session("cp-test:late");
  ASSERT_NE(late, nullptr);
  Status rejected = fence.Run(*late, epoch, kQueryTimeout, [&](PgSession& s) {
    return InsertProbe(s, 99, epoch);
  });
  EXPECT_EQ(rejected.kind(), ErrorKind::kStaleEpoch) << rejected.ToString();
  EXPECT_EQ(Sql("SELECT count(*) FROM fence_probe"), "16");
  EXPECT_EQ(metrics.epoch_mismatches.Value(), 1);
}

TEST_F(FenceTest, ForUpdateModeSerializesWriters) {
  SidecarProcess* leader = nullptr;
  int64_t epoch = 0;
  ASSERT_NO_FATAL_FAILURE(StartLeader("f3", &leader, &epoch));

  // The first writer holds the singleton FOR UPDATE inside its transaction.
  HaMetrics metrics("test");
  const EpochFence fence(metrics, FenceLockMode::kExclusive);
  Latch latch;
  Status first_status;
  std::thread first([&] {
    StatusOr<std::unique_ptr<PgSession>> session =
        OpenSession(DatabaseUrl(), "cp-test:first");
    if (!session.ok()) {
      first_status = session.status();
      return;
    }
    first_status =
        fence.Run(*session.value(), epoch, kQueryTimeout, [&](PgSession& s) {
          Status inserted = InsertProbe(s, 1, epoch);
          latch.ArriveAndWait(kHold);
          return inserted;
        });
  });
  ASSERT_TRUE(WaitUntil([&] { return latch.arrived() == 1; }, Millis(5000))
                  .has_value());

  // A second writer can not get past the fence while the first holds it.
  std::unique_ptr<PgSession> second = Session("cp-test:second");
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(second->Exec("SET lock_timeout = 300", kQueryTimeout).ok());
  Status blocked = fence.Run(*second, epoch, kQueryTimeout, [&](PgSession& s) {
    return InsertProbe(s, 2, epoch);
  });
  EXPECT_EQ(blocked.sqlstate(), "55P03") << blocked.ToString();

  // Once the first commits, the second goes through.
  latch.Open();
  first.join();
  EXPECT_TRUE(first_status.ok()) << first_status.ToString();
  Status retried = fence.Run(*second, epoch, kQueryTimeout, [&](PgSession& s) {
    return InsertProbe(s, 2, epoch);
  });
  EXPECT_TRUE(retried.ok()) << retried.ToString();
  EXPECT_EQ(Sql("SELECT count(*) FROM fence_probe"), "2");
  EXPECT_EQ(metrics.epoch_mismatches.Value(), 0);
}

}  // namespace
}  // namespace cpha::integration
