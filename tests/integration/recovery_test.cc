// Issue #3, "What must be shown" 3, 4 and 5: the leader's recovery pass and
// the audit status on the real pair.
//
// 3. An epoch left open by a crashed leader: the next leader counts it as
//    missed and reconciled (one each) and back-fills resigned_at with a
//    note saying how.
// 4. promotion_decisions locked (SHARE mode, so reads go on and inserts
//    wait) while the recovery pass records a deferred decision: retries
//    counted, then degraded with the gap listed; a restart clears it and
//    the decision is written.
// 5. Legacy events inside a 3 s horizon: legacy_limited with the caveat, the
//    runbook's legacy-stage query runs verbatim; once the horizon passes:
//    complete.

#include <signal.h>

#include <string>

#include "tests/integration/audit_support.h"
#include "tests/integration/ha_test_fixture.h"

namespace cpha::integration {
namespace {

constexpr Millis kQueryTimeout(5000);

// Runbook section 2, verbatim.
constexpr const char* kRunbookDeferredQuery = R"sql(
-- Decisions written with 'deferred_insufficient_history' origin may indicate
-- stages that were promoted without full evidence during a gap.
SELECT pd.decision_id, pd.rollout_plan_id, pd.stage_id,
       pd.epoch, pd.outcome, pd.promotion_origin,
       pd.decided_at, pd.reason
FROM promotion_decisions pd
WHERE pd.promotion_origin = 'deferred_insufficient_history'
  OR pd.promotion_origin IS NULL
ORDER BY pd.decided_at DESC
LIMIT 20;
)sql";

// Runbook section 3, verbatim.
constexpr const char* kRunbookLegacyStagesQuery = R"sql(
-- Stages in stage_status that have no evidence snapshot linked to them.
-- These are candidates for legacy evidence review.
SELECT ss.plan_id, ss.stage_id, ss.phase, ss.promoted_at
FROM stage_status ss
LEFT JOIN promotion_decisions pd
  ON pd.rollout_plan_id = ss.plan_id AND pd.stage_id = ss.stage_id
WHERE pd.decision_id IS NULL
  AND ss.phase IN ('promoted', 'halted', 'rollback')
ORDER BY ss.promoted_at;
)sql";

class RecoveryTest : public SharedPairTest {
 protected:
  nlohmann::json Audit(const SidecarProcess& sidecar) {
    return Get(sidecar, "/v1/health/audit").Json();
  }

  // Waits until /v1/health/audit says `status`; returns how long it took.
  std::optional<std::chrono::steady_clock::duration> WaitForAudit(
      const SidecarProcess& sidecar, const std::string& status,
      Millis timeout) {
    return WaitUntil(
        [&] { return Audit(sidecar).value("audit_status", "") == status; },
        timeout, Millis(50));
  }

  // The control plane's tables, made before any sidecar starts.
  void CreateAppSchema() {
    StatusOr<std::unique_ptr<PgSession>> session =
        OpenSession(DatabaseUrl(), "cp-test:schema");
    ASSERT_TRUE(session.ok()) << session.status().ToString();
    Status migrated = ApplyAllMigrations(*session.value());
    ASSERT_TRUE(migrated.ok()) << migrated.ToString();
  }
};

TEST_F(RecoveryTest, UnclosedPriorEpochIsCountedMissedAndReconciled) {
  SidecarProcess* a =
      StartSidecar({.holder_id = "r3-a", .flags = AuditFlags()});
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(WaitForWriteReady({a}, Millis(10000)), a);
  // b writes through the runbook's FOR UPDATE fence.
  std::vector<std::string> for_update = AuditFlags();
  for_update.insert(for_update.end(), {"--fence-mode", "for-update"});
  SidecarProcess* b = StartSidecar({.holder_id = "r3-b", .flags = for_update});
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(WaitForFollower(*b, 1));

  // A crash: epoch 1 is never closed.
  ASSERT_TRUE(a->Kill(SIGKILL));
  ASSERT_EQ(WaitForWriteReady({b}, Millis(10000)), b);
  ASSERT_EQ(Leader(*b).value("current_epoch", int64_t{-1}), 2);

  auto reconciled = WaitUntil(
      [&] {
        return Quorum(*b).value("audit_closeout_reconciled", int64_t{0}) >= 1;
      },
      Millis(5000));
  ASSERT_TRUE(reconciled.has_value()) << Quorum(*b).dump();
  nlohmann::json quorum = Quorum(*b);
  EXPECT_EQ(quorum.value("audit_closeout_missed", int64_t{-1}), 1);
  EXPECT_EQ(quorum.value("audit_closeout_reconciled", int64_t{-1}), 1);
  EXPECT_EQ(quorum.value("cp.audit.prior_epoch_closeout_missed", int64_t{-1}),
            1);
  EXPECT_EQ(
      quorum.value("cp.audit.prior_epoch_closeout_reconciled", int64_t{-1}), 1);
  EXPECT_EQ(Metric(*b, "cp_audit_prior_epoch_closeout_missed_total"), 1);
  EXPECT_EQ(Metric(*b, "cp_audit_prior_epoch_closeout_reconciled_total"), 1);

  // resigned_at of epoch 1 is epoch 2's acquired_at, with a note saying so.
  std::vector<std::vector<std::string>> rows =
      SplitRows(Sql("SELECT e.epoch, e.resigned_at = n.acquired_at, e.notes"
                    "  FROM leader_epochs e JOIN leader_epochs n ON n.epoch = 2"
                    " WHERE e.epoch = 1"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][1], "t");
  EXPECT_EQ(rows[0][2].rfind("resigned_at reconciled by the recovery pass of "
                             "epoch 2: the holder never closed this epoch",
                             0),
            0u)
      << rows[0][2];
  EXPECT_EQ(Sql("SELECT resigned_at IS NULL FROM leader_epochs"
                " WHERE epoch = 2"),
            "t");
  // Reconciled once only: another look finds nothing open before epoch 2.
  EXPECT_EQ(Sql("SELECT count(*) FROM leader_epochs"
                " WHERE epoch < 2 AND resigned_at IS NULL"),
            "0");
}

TEST_F(RecoveryTest, LockedDecisionsTableDegradesAuditUntilRestart) {
  ASSERT_NO_FATAL_FAILURE(CreateAppSchema());
  Sql("INSERT INTO stage_status (plan_id, stage_id, phase)"
      " VALUES ('plan-1', 's-003', 'running')");

  // Inserts into promotion_decisions wait; reads go on.
  StatusOr<std::unique_ptr<PgSession>> locker =
      OpenSession(DatabaseUrl(), "cp-test:locker");
  ASSERT_TRUE(locker.ok()) << locker.status().ToString();
  PgSession& lock = *locker.value();
  ASSERT_TRUE(lock.Exec("BEGIN", kQueryTimeout).ok());
  ASSERT_TRUE(
      lock.Exec("LOCK TABLE promotion_decisions IN SHARE MODE", kQueryTimeout)
          .ok());

  SidecarProcess* a = StartSidecar({.holder_id = "r4", .flags = AuditFlags()});
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(WaitForWriteReady({a}, Millis(10000)), a);
  auto degraded = WaitForAudit(*a, "degraded", Millis(15000));
  ASSERT_TRUE(degraded.has_value()) << Audit(*a).dump();
  ReportMillis("write_ready_to_degraded", ToMillis(*degraded));

  // One gap, in the runbook's words, after three retries.
  nlohmann::json audit = Audit(*a);
  ASSERT_EQ(audit["recorded_gaps"].size(), 1u) << audit.dump();
  const std::string gap = audit["recorded_gaps"][0].get<std::string>();
  const std::string prefix = "stage s-003 deferred write failed at ";
  ASSERT_EQ(gap.rfind(prefix, 0), 0u) << gap;
  EXPECT_TRUE(IsRfc3339Utc(gap.substr(prefix.size()))) << gap;
  EXPECT_EQ(Metric(*a, "cp_audit_deferred_decision_write_retried_total"), 3);
  EXPECT_EQ(Metric(*a, "cp_audit_deferred_decision_write_failed_total"), 1);
  EXPECT_EQ(Metric(*a, "cp_audit_status", {{"status", "degraded"}}), 1);
  EXPECT_EQ(Metric(*a, "cp_audit_status", {{"status", "complete"}}), 0);
  nlohmann::json quorum = Quorum(*a);
  EXPECT_EQ(quorum.value("cp.audit.deferred_decision_write_retried", -1), 3);
  EXPECT_EQ(quorum.value("cp.audit.deferred_decision_write_failed", -1), 1);
  EXPECT_EQ(quorum.value("cp.audit.status{status=degraded}", -1), 1);
  EXPECT_EQ(Sql(kRunbookDeferredQuery), "");

  // Released, the gap stays until the process restarts (runbook section 2).
  ASSERT_TRUE(lock.Exec("COMMIT", kQueryTimeout).ok());
  std::this_thread::sleep_for(Millis(500));
  EXPECT_EQ(Audit(*a).value("audit_status", ""), "degraded");

  ASSERT_TRUE(a->Kill(SIGTERM));
  ASSERT_TRUE(a->WaitExit(Millis(5000)).has_value());
  SidecarProcess* restarted =
      StartSidecar({.holder_id = "r4", .flags = AuditFlags()});
  ASSERT_NE(restarted, nullptr);
  ASSERT_EQ(WaitForWriteReady({restarted}, Millis(10000)), restarted);
  auto deferred = WaitUntil(
      [&] {
        return Metric(*restarted, "cp_promoter_decisions_total",
                      {{"outcome", "deferred_insufficient_history"}}) == 1;
      },
      Millis(5000));
  EXPECT_TRUE(deferred.has_value()) << Quorum(*restarted).dump();
  audit = Audit(*restarted);
  EXPECT_EQ(audit.value("audit_status", ""), "complete") << audit.dump();
  EXPECT_TRUE(audit["recorded_gaps"].empty()) << audit.dump();
  EXPECT_EQ(Metric(*restarted, "cp_audit_deferred_decision_write_failed_total"),
            0);

  // The decision the restarted leader wrote, as the runbook lists it.
  std::vector<std::vector<std::string>> rows =
      SplitRows(Sql(kRunbookDeferredQuery));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][1], "plan-1");
  EXPECT_EQ(rows[0][2], "s-003");
  EXPECT_EQ(rows[0][3], "2");
  EXPECT_EQ(rows[0][4], "deferred_insufficient_history");
  EXPECT_EQ(rows[0][5], "deferred_insufficient_history");
}

TEST_F(RecoveryTest, LegacyEventsLimitTheAuditUntilTheHorizonPasses) {
  ASSERT_NO_FATAL_FAILURE(CreateAppSchema());
  Sql("INSERT INTO stage_status (plan_id, stage_id, phase, promoted_at)"
      " VALUES ('plan-legacy', 's-001', 'promoted', now())");
  Sql("INSERT INTO rollout_events (plan_id, stage_id, epoch)"
      " VALUES ('plan-legacy', 's-001', NULL), ('plan-legacy', 's-001', NULL)");
  const auto inserted = std::chrono::steady_clock::now();

  SidecarProcess* a = StartSidecar({.holder_id = "r5", .flags = AuditFlags()});
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(WaitForAudit(*a, "legacy_limited", Millis(5000)).has_value())
      << Audit(*a).dump();

  nlohmann::json audit = Audit(*a);
  EXPECT_NE(audit.value("caveat", "").find("runbook section 3"),
            std::string::npos)
      << audit.dump();
  EXPECT_EQ(audit.value("legacy_events_in_horizon", -1), 2);
  EXPECT_EQ(Metric(*a, "cp_recovery_legacy_events_in_horizon"), 2);
  EXPECT_EQ(Metric(*a, "cp_audit_status", {{"status", "legacy_limited"}}), 1);
  EXPECT_EQ(Quorum(*a).value("cp.recovery.legacy_events_in_horizon", -1), 2);
  std::vector<std::vector<std::string>> stages =
      SplitRows(Sql(kRunbookLegacyStagesQuery));
  ASSERT_EQ(stages.size(), 1u);
  EXPECT_EQ(stages[0][0], "plan-legacy");
  EXPECT_EQ(stages[0][1], "s-001");
  EXPECT_EQ(stages[0][2], "promoted");

  // The recovery pass scanned the horizon: events counted, scan timed.
  ASSERT_EQ(WaitForWriteReady({a}, Millis(10000)), a);
  ASSERT_TRUE(
      WaitUntil([&] { return Audit(*a).value("recovery_pass_ran", false); },
                Millis(5000))
          .has_value());
  nlohmann::json quorum = Quorum(*a);
  EXPECT_EQ(quorum.value("cp.recovery.events_replayed", -1), 2);
  EXPECT_EQ(quorum.value("cp.recovery.startup_scan_duration_count", -1), 1);
  EXPECT_EQ(Metric(*a, "cp_recovery_startup_scan_duration_seconds_count"), 1);

  // Once the 3 s horizon passed the events: complete.
  auto complete = WaitForAudit(*a, "complete", Millis(8000));
  ASSERT_TRUE(complete.has_value()) << Audit(*a).dump();
  ReportMillis("legacy_rows_inserted_to_complete",
               ToMillis(std::chrono::steady_clock::now() - inserted));
  EXPECT_EQ(Metric(*a, "cp_recovery_legacy_events_in_horizon"), 0);
  EXPECT_EQ(Audit(*a).value("caveat", "x"), "");
}

TEST_F(RecoveryTest, WithoutTheControlPlaneTablesAuditIsNotApplicable) {
  SidecarProcess* a =
      StartSidecar({.holder_id = "r0", .flags = {"--audit-interval", "200ms"}});
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(WaitForWriteReady({a}, Millis(10000)), a);
  ASSERT_TRUE(WaitUntil(
                  [&] {
                    return Audit(*a).value("recovery_pass_ran", false) &&
                           Metric(*a,
                                  "cp_collector_last_success_timestamp_"
                                  "seconds",
                                  {{"collector", "audit"}})
                                   .value_or(0) > 0;
                  },
                  Millis(5000))
                  .has_value())
      << Audit(*a).dump();
  nlohmann::json audit = Audit(*a);
  EXPECT_EQ(audit.value("applicable", true), false);
  EXPECT_EQ(audit.value("audit_status", ""), "complete");
  EXPECT_EQ(Metric(*a, "cp_collector_applicable", {{"collector", "audit"}}), 0);
  EXPECT_EQ(Sql("SELECT to_regclass('promotion_decisions') IS NULL"), "t");
  EXPECT_EQ(a->ReadLog().find("level=error"), std::string::npos)
      << a->ReadLog();
}

}  // namespace
}  // namespace cpha::integration
