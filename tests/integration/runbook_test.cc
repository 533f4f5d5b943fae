// Issue #3, "What must be shown" 6 and 7 on the real pair.
//
// 6. Every SQL query of runbook sections 1 to 4 runs verbatim against the
//    schema (with control-plane rows in it, so that the joins have
//    something to join).
// 7. Every runbook appendix key appears in /v1/health/quorum and its
//    series in /metrics; promtool check metrics is clean; no counter or
//    histogram sample ever decreases while a process lives, across
//    decisions, dispatches, purges, a fence rejection and a leader change.

#include <signal.h>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/audit_support.h"
#include "tests/integration/command.h"
#include "tests/integration/ha_test_fixture.h"

namespace cpha::integration {
namespace {

// Runbook sections 1 to 4, every SQL query verbatim, in order.
const char* const kRunbookQueries[] = {
    // 1. Leader failover.
    R"sql(
  SELECT epoch, holder_id, acquired_at, resigned_at, notes
  FROM leader_epochs
  ORDER BY epoch DESC
  LIMIT 10;
)sql",
    R"sql(SELECT pg_is_in_recovery();  -- must be false on the primary)sql",
    R"sql(SELECT application_name, sync_state, state
FROM pg_stat_replication;)sql",
    R"sql(SELECT pid, application_name, state, query_start
FROM pg_stat_activity
WHERE application_name LIKE 'cp-%';)sql",
    // 2. Degraded audit status.
    R"sql(
-- Decisions written with 'deferred_insufficient_history' origin may indicate
-- stages that were promoted without full evidence during a gap.
SELECT pd.decision_id, pd.rollout_plan_id, pd.stage_id,
       pd.epoch, pd.outcome, pd.promotion_origin,
       pd.decided_at, pd.reason
FROM promotion_decisions pd
WHERE pd.promotion_origin = 'deferred_insufficient_history'
  OR pd.promotion_origin IS NULL
ORDER BY pd.decided_at DESC
LIMIT 20;)sql",
    R"sql(-- Decisions that reference a snapshot have full evidence.
-- Decisions with NULL evidence_snapshot_id are legacy or gap rows.
SELECT pd.decision_id, pd.stage_id, pd.outcome,
       es.snapshot_id IS NOT NULL AS has_evidence
FROM promotion_decisions pd
LEFT JOIN evidence_snapshots es ON pd.evidence_snapshot_id = es.snapshot_id
WHERE pd.rollout_plan_id = '<your-plan-id>'
ORDER BY pd.decided_at;)sql",
    // 3. Legacy evidence caveats.
    R"sql(
-- Stages in stage_status that have no evidence snapshot linked to them.
-- These are candidates for legacy evidence review.
SELECT ss.plan_id, ss.stage_id, ss.phase, ss.promoted_at
FROM stage_status ss
LEFT JOIN promotion_decisions pd
  ON pd.rollout_plan_id = ss.plan_id AND pd.stage_id = ss.stage_id
WHERE pd.decision_id IS NULL
  AND ss.phase IN ('promoted', 'halted', 'rollback')
ORDER BY ss.promoted_at;)sql",
    // 4. Contention monitoring.
    R"sql(-- Active locks on the leadership_state table:
SELECT pid, mode, granted, query_start
FROM pg_locks l
JOIN pg_stat_activity a USING (pid)
WHERE relation = 'leadership_state'::regclass;)sql",
    R"sql(SELECT epoch, holder_id, acquired_at, resigned_at,
       EXTRACT(EPOCH FROM (resigned_at - acquired_at)) AS tenure_seconds
FROM leader_epochs
ORDER BY epoch DESC
LIMIT 20;)sql",
};

struct AppendixKey {
  const char* runbook_key;
  const char* series;
  MetricLabels labels;
};

// The runbook appendix, key by key, with the series DESIGN.md section 9
// names for it.
const std::vector<AppendixKey>& AppendixKeys() {
  static const std::vector<AppendixKey> keys = {
      {"cp.leader.campaigns_total{result=success}",
       "cp_leader_campaigns_total",
       {{"result", "success"}}},
      {"cp.leader.campaigns_total{result=lock_held}",
       "cp_leader_campaigns_total",
       {{"result", "lock_held"}}},
      {"cp.leader.campaigns_total{result=failure}",
       "cp_leader_campaigns_total",
       {{"result", "failure"}}},
      {"cp.leader.keepalive_failures_total",
       "cp_leader_keepalive_failures_total",
       {}},
      {"cp.authority.epoch_mismatch_total",
       "cp_authority_epoch_mismatch_total",
       {}},
      {"cp.audit.prior_epoch_closeout_missed",
       "cp_audit_prior_epoch_closeout_missed_total",
       {}},
      {"cp.audit.prior_epoch_closeout_reconciled",
       "cp_audit_prior_epoch_closeout_reconciled_total",
       {}},
      {"cp.audit.deferred_decision_write_failed",
       "cp_audit_deferred_decision_write_failed_total",
       {}},
      {"cp.audit.deferred_decision_write_retried",
       "cp_audit_deferred_decision_write_retried_total",
       {}},
      {"cp.promoter.evidence_write_failures_total",
       "cp_promoter_evidence_write_failures_total",
       {}},
      {"cp.promoter.decisions_total{outcome=promoted}",
       "cp_promoter_decisions_total",
       {{"outcome", "promoted"}}},
      {"cp.promoter.decisions_total{outcome=blocked}",
       "cp_promoter_decisions_total",
       {{"outcome", "blocked"}}},
      {"cp.promoter.decisions_total{outcome=rollback_triggered}",
       "cp_promoter_decisions_total",
       {{"outcome", "rollback_triggered"}}},
      {"cp.promoter.decisions_total{outcome=deferred_insufficient_history}",
       "cp_promoter_decisions_total",
       {{"outcome", "deferred_insufficient_history"}}},
      {"cp.outbox.purge_total", "cp_outbox_purge_total", {}},
      {"cp.leader.read_write_state_transition_total{not_leader:leader}",
       "cp_leader_read_write_state_transition_total",
       {{"from", "not_leader"}, {"to", "leader"}}},
      {"cp.leader.read_write_state_transition_total{leader:not_leader}",
       "cp_leader_read_write_state_transition_total",
       {{"from", "leader"}, {"to", "not_leader"}}},
      {"cp.leader.epoch", "cp_leader_epoch", {}},
      {"cp.leader.session_lock_held", "cp_leader_session_lock_held", {}},
      {"cp.backend.write_ready", "cp_backend_write_ready", {}},
      {"cp.backend.read_ready", "cp_backend_read_ready", {}},
      {"cp.backend.sync_replica_count", "cp_backend_sync_replicas", {}},
      {"cp.backend.connected_to_primary",
       "cp_backend_connected_to_primary",
       {}},
      {"cp.recovery.legacy_events_in_horizon",
       "cp_recovery_legacy_events_in_horizon",
       {}},
      {"cp.audit.status{status=complete}",
       "cp_audit_status",
       {{"status", "complete"}}},
      {"cp.audit.status{status=degraded}",
       "cp_audit_status",
       {{"status", "degraded"}}},
      {"cp.audit.status{status=legacy_limited}",
       "cp_audit_status",
       {{"status", "legacy_limited"}}},
      {"cp.recovery.startup_scan_duration_us_sum",
       "cp_recovery_startup_scan_duration_seconds_sum",
       {}},
      {"cp.recovery.startup_scan_duration_count",
       "cp_recovery_startup_scan_duration_seconds_count",
       {}},
      {"cp.recovery.events_replayed", "cp_recovery_events_replayed_total", {}},
      {"cp.outbox.dispatch_lag_us_sum",
       "cp_outbox_dispatch_lag_seconds_sum",
       {}},
      {"cp.outbox.dispatch_lag_count",
       "cp_outbox_dispatch_lag_seconds_count",
       {}},
      {"cp.backend.lock_wait_us_sum", "cp_backend_lock_wait_seconds_sum", {}},
      {"cp.backend.lock_wait_count", "cp_backend_lock_wait_seconds_count", {}},
  };
  return keys;
}

// Scrapes sidecars every 100 ms and records every sample of a counter or
// histogram that went down between two scrapes of the same process.
class MonotonicityWatch {
 public:
  explicit MonotonicityWatch(std::vector<int> ports)
      : ports_(std::move(ports)), thread_([this] { Run(); }) {}
  ~MonotonicityWatch() { Stop(); }

  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  int scrapes() const { return scrapes_.load(); }
  std::vector<std::string> decreases() {
    std::lock_guard<std::mutex> lock(mutex_);
    return decreases_;
  }

 private:
  void Run() {
    std::map<int, std::map<std::string, double>> last;
    while (!stop_.load()) {
      for (int port : ports_) {
        HttpResult scraped = HttpGet(port, "/metrics");
        if (!scraped.ok() || scraped.status != 200) continue;  // it ended
        ++scrapes_;
        std::map<std::string, double> now = AllSamples(scraped.body);
        for (const auto& [key, value] : now) {
          auto before = last[port].find(key);
          if (IsMonotonicSample(key) && before != last[port].end() &&
              value < before->second) {
            std::lock_guard<std::mutex> lock(mutex_);
            decreases_.push_back("port " + std::to_string(port) + " " + key +
                                 ": " + std::to_string(before->second) +
                                 " -> " + std::to_string(value));
          }
        }
        last[port] = std::move(now);
      }
      std::this_thread::sleep_for(Millis(100));
    }
  }

  const std::vector<int> ports_;
  std::atomic<bool> stop_{false};
  std::atomic<int> scrapes_{0};
  std::mutex mutex_;
  std::vector<std::string> decreases_;  // guarded by mutex_
  std::thread thread_;
};

class RunbookTest : public SharedPairTest {
 protected:
  std::vector<std::string> Flags() {
    std::vector<std::string> flags = AuditFlags();
    flags.insert(flags.end(), {"--outbox-retention", "3s"});
    return flags;
  }

  void ExpectPromtoolAccepts(const SidecarProcess& sidecar) {
    HttpResult metrics = Get(sidecar, "/metrics");
    ASSERT_TRUE(metrics.ok()) << metrics.error;
    CommandResult checked = RunCommand({"promtool", "check", "metrics"},
                                       {.stdin_text = metrics.body});
    EXPECT_TRUE(checked.ok())
        << sidecar.holder_id() << ": " << checked.Describe() << "\n"
        << checked.out;
  }

  bool EventuallyMetric(const SidecarProcess& sidecar, const std::string& name,
                        const MetricLabels& labels, double value) {
    return WaitUntil([&] { return Metric(sidecar, name, labels) == value; },
                     Millis(5000), Millis(50))
        .has_value();
  }
};

TEST_F(RunbookTest, EveryRunbookQueryRunsVerbatim) {
  SidecarProcess* a = StartSidecar({.holder_id = "q6-a", .flags = Flags()});
  SidecarProcess* b = StartSidecar({.holder_id = "q6-b", .flags = Flags()});
  ASSERT_TRUE(a != nullptr && b != nullptr);
  SidecarProcess* leader = WaitForWriteReady({a, b}, Millis(10000));
  ASSERT_NE(leader, nullptr);
  Sql("INSERT INTO evidence_snapshots (snapshot_id) VALUES ('snap-1');"
      "INSERT INTO stage_status (plan_id, stage_id, phase, promoted_at) VALUES"
      " ('<your-plan-id>', 's-1', 'promoted', now()),"
      " ('<your-plan-id>', 's-2', 'halted', now());"
      "INSERT INTO promotion_decisions (rollout_plan_id, stage_id, epoch,"
      " outcome, promotion_origin, evidence_snapshot_id) VALUES"
      " ('<your-plan-id>', 's-1', 1, 'promoted', 'promoter', 'snap-1'),"
      " ('<your-plan-id>', 's-3', NULL, 'promoted', NULL, NULL)");

  std::vector<std::string> outputs;
  for (const char* query : kRunbookQueries) {
    StatusOr<std::string> output =
        pair().Psql(PgNode::kPrimary, query, database());
    EXPECT_TRUE(output.ok()) << output.status().message();
    outputs.push_back(output.ok() ? output.value() : "");
  }

  // A few answers, to show the queries read what they are meant to.
  EXPECT_EQ(outputs[1], "f");
  EXPECT_NE(outputs[2].find("standby1|sync|streaming"), std::string::npos)
      << outputs[2];
  for (const char* session : {":lock|", ":monitor|", ":audit|", ":recovery|"}) {
    EXPECT_NE(outputs[3].find(leader->holder_id() + session), std::string::npos)
        << session << " missing from:\n"
        << outputs[3];
  }
  EXPECT_NE(outputs[4].find("|<your-plan-id>|s-3||promoted||"),
            std::string::npos)
      << outputs[4];
  EXPECT_EQ(SplitRows(outputs[5]).size(), 2u) << outputs[5];
  EXPECT_NE(outputs[5].find("|s-1|promoted|t"), std::string::npos);
  EXPECT_NE(outputs[5].find("|s-3|promoted|f"), std::string::npos);
  EXPECT_NE(outputs[6].find("<your-plan-id>|s-2|halted|"), std::string::npos)
      << outputs[6];
  EXPECT_EQ(SplitRows(outputs[8]).size(), 1u) << outputs[8];
}

TEST_F(RunbookTest, EveryAppendixKeyIsServedAndCountersNeverDecrease) {
  if (!OnPath("promtool")) GTEST_SKIP() << "promtool is not installed";
  SidecarProcess* a = StartSidecar({.holder_id = "k7-a", .flags = Flags()});
  SidecarProcess* b = StartSidecar({.holder_id = "k7-b", .flags = Flags()});
  ASSERT_TRUE(a != nullptr && b != nullptr);
  SidecarProcess* leader = WaitForWriteReady({a, b}, Millis(10000));
  ASSERT_NE(leader, nullptr);
  SidecarProcess* follower = leader == a ? b : a;
  ASSERT_TRUE(WaitForFollower(*follower, 1));
  MonotonicityWatch watch({a->port(), b->port()});
  std::this_thread::sleep_for(Millis(500));  // both audit baselines taken

  // Decisions by outcome; two promoted ones lack their evidence.
  Sql("INSERT INTO evidence_snapshots (snapshot_id) VALUES ('snap-1');"
      "INSERT INTO promotion_decisions (rollout_plan_id, stage_id, epoch,"
      " outcome, evidence_snapshot_id) VALUES"
      " ('p', 's-1', 1, 'promoted', 'snap-1'),"
      " ('p', 's-2', 1, 'promoted', NULL),"
      " ('p', 's-3', 1, 'promoted', 'snap-gone'),"
      " ('p', 's-4', 1, 'blocked', NULL),"
      " ('p', 's-5', 1, 'rollback_triggered', NULL)");
  // Three rows dispatched an hour ago: purged by the leader.
  Sql("INSERT INTO outbox (created_at, dispatched_at) SELECT"
      " now() - interval '2 hours', now() - interval '1 hour'"
      " FROM generate_series(1, 3)");
  // One row dispatched 2 s after its creation.
  Sql("INSERT INTO outbox (created_at) VALUES (now() - interval '2 seconds');"
      "UPDATE outbox SET dispatched_at = created_at + interval '2 seconds'"
      " WHERE dispatched_at IS NULL");
  // One stale write from the control plane.
  EXPECT_FALSE(pair()
                   .Psql(PgNode::kPrimary,
                         "BEGIN; SELECT cp_ha_fence(0); COMMIT;", database())
                   .ok());

  for (SidecarProcess* sidecar : {a, b}) {
    SCOPED_TRACE(sidecar->holder_id());
    EXPECT_TRUE(EventuallyMetric(*sidecar, "cp_promoter_decisions_total",
                                 {{"outcome", "promoted"}}, 3));
    EXPECT_EQ(Metric(*sidecar, "cp_promoter_decisions_total",
                     {{"outcome", "blocked"}}),
              1);
    EXPECT_EQ(Metric(*sidecar, "cp_promoter_decisions_total",
                     {{"outcome", "rollback_triggered"}}),
              1);
    EXPECT_EQ(Metric(*sidecar, "cp_promoter_evidence_write_failures_total"), 2);
    EXPECT_TRUE(EventuallyMetric(
        *sidecar, "cp_authority_epoch_mismatch_cluster_total", {}, 1));
    // The 2 s dispatch lands in the (1 s, 2.5 s] bucket.
    EXPECT_TRUE(WaitUntil(
                    [&] {
                      return Metric(*sidecar,
                                    "cp_outbox_dispatch_lag_seconds_bucket",
                                    {{"le", "2.5"}})
                                     .value_or(0) -
                                 Metric(*sidecar,
                                        "cp_outbox_dispatch_lag_seconds_bucket",
                                        {{"le", "1"}})
                                     .value_or(0) ==
                             1;
                    },
                    Millis(5000))
                    .has_value());
  }
  EXPECT_TRUE(EventuallyMetric(*leader, "cp_outbox_purge_total", {}, 3));
  EXPECT_EQ(Metric(*follower, "cp_outbox_purge_total"), 0);
  EXPECT_EQ(Sql("SELECT count(*) FROM outbox"), "1");

  // Every appendix key in the quorum snapshot, every series in /metrics,
  // on the leader and the follower.
  for (SidecarProcess* sidecar : {a, b}) {
    SCOPED_TRACE(sidecar->holder_id());
    nlohmann::json quorum = Quorum(*sidecar);
    HttpResult metrics = Get(*sidecar, "/metrics");
    ASSERT_TRUE(metrics.ok());
    for (const AppendixKey& key : AppendixKeys()) {
      EXPECT_TRUE(quorum.contains(key.runbook_key)) << key.runbook_key;
      EXPECT_TRUE(FindSample(metrics.body, key.series, key.labels).has_value())
          << key.series << " for " << key.runbook_key;
    }
    for (const char* extra : {"sync_replica_count", "audit_closeout_missed",
                              "audit_closeout_reconciled"}) {
      EXPECT_TRUE(quorum.contains(extra)) << extra;
    }
    ExpectPromtoolAccepts(*sidecar);
  }

  // A leader change while the watch scrapes.
  ASSERT_TRUE(leader->Kill(SIGTERM));
  ASSERT_TRUE(leader->WaitExit(Millis(5000)).has_value());
  ASSERT_EQ(WaitForWriteReady({follower}, Millis(10000)), follower);
  std::this_thread::sleep_for(Millis(500));
  ExpectPromtoolAccepts(*follower);
  EXPECT_EQ(Metric(*follower, "cp_promoter_decisions_total",
                   {{"outcome", "promoted"}}),
            3);

  watch.Stop();
  EXPECT_GT(watch.scrapes(), 10);
  std::vector<std::string> decreases = watch.decreases();
  EXPECT_TRUE(decreases.empty())
      << decreases.size() << " decreases, first: " << decreases.front();
  std::cout << "[ measured ] " << watch.scrapes()
            << " scrapes, no counter or histogram sample decreased\n";
}

}  // namespace
}  // namespace cpha::integration
