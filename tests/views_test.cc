#include "exporter/views.h"

#include <gtest/gtest.h>

#include <regex>

#include "ha/conn_params.h"
#include "ha/log.h"

namespace cpha {
namespace {

using nlohmann::json;
using std::chrono::seconds;

const TimePoint kNow = TimePoint() + seconds(100);

HaSnapshot LeaderSnapshot() {
  HaSnapshot snapshot;
  snapshot.identity = {"cp-pod-2", "f00d", "1.2.3"};
  snapshot.elector.role = ElectorRole::kLeader;
  snapshot.elector.lock_held = true;
  snapshot.elector.epoch = 4;
  snapshot.elector.acquired_at = "2026-03-09T14:23:01Z";
  snapshot.elector.last_ack = kNow;
  snapshot.taken_at = kNow;
  snapshot.readiness.read = {true, ""};
  snapshot.readiness.write = {true, ""};
  snapshot.policy.stepdown_bound = seconds(2);
  return snapshot;
}

TEST(ViewsTest, LeaderHasTheRunbookShape) {
  json body = LeaderJson(LeaderSnapshot());
  EXPECT_EQ(body, json::parse(R"({"current_epoch": 4,
                                   "holder_id": "cp-pod-2",
                                   "acquired_at": "2026-03-09T14:23:01Z",
                                   "session_lock_held": true})"));
}

TEST(ViewsTest, FollowerShowsTheDurableRowItLastRead) {
  HaSnapshot snapshot;
  snapshot.monitor.leadership = {true, 9, "cp-pod-1", "2026-03-09T14:00:00Z"};
  json body = LeaderJson(snapshot);
  EXPECT_EQ(body["current_epoch"], 9);
  EXPECT_EQ(body["holder_id"], "cp-pod-1");
  EXPECT_EQ(body["session_lock_held"], false);
}

TEST(ViewsTest, ReadinessAnswers200Or503WithReason) {
  HaSnapshot snapshot = LeaderSnapshot();
  HttpResponse ready = WriteReadyView(snapshot);
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(json::parse(ready.body), json::parse(R"({"ready":true})"));

  snapshot.readiness.write = {false, "synchronous standbys 0 < required 1"};
  HttpResponse not_ready = WriteReadyView(snapshot);
  EXPECT_EQ(not_ready.status, 503);
  EXPECT_EQ(json::parse(not_ready.body), json::parse(R"({"ready":false,
                           "reason":"synchronous standbys 0 < required 1"})"));
}

TEST(ViewsTest, QuorumUsesTheRunbookKeysAndMicroseconds) {
  HaMetrics metrics("test");
  metrics.campaigns_success.Increment();
  metrics.lock_wait_seconds.Observe(0.25);
  json body = QuorumJson(LeaderSnapshot(), metrics);

  for (const char* key :
       {"cp.leader.campaigns_total{result=success}",
        "cp.leader.campaigns_total{result=lock_held}",
        "cp.leader.campaigns_total{result=failure}",
        "cp.leader.keepalive_failures_total",
        "cp.authority.epoch_mismatch_total",
        "cp.leader.read_write_state_transition_total{not_leader:leader}",
        "cp.leader.read_write_state_transition_total{leader:not_leader}",
        "cp.leader.epoch", "cp.leader.session_lock_held",
        "cp.backend.write_ready", "cp.backend.read_ready",
        "cp.backend.sync_replica_count", "cp.backend.connected_to_primary",
        "cp.backend.lock_wait_us_sum", "cp.backend.lock_wait_count",
        "sync_replica_count", "audit_closeout_missed",
        "audit_closeout_reconciled", "stepdown_deadline_seconds"}) {
    EXPECT_TRUE(body.contains(key)) << "quorum lacks " << key;
  }
  EXPECT_EQ(body["cp.leader.campaigns_total{result=success}"], 1);
  EXPECT_EQ(body["cp.backend.lock_wait_us_sum"], 250000);
  EXPECT_EQ(body["cp.backend.lock_wait_count"], 1);
  EXPECT_EQ(body["cp.leader.epoch"], 4);
}

TEST(ViewsTest, LandingPageEscapesTheHolderName) {
  HaSnapshot snapshot = LeaderSnapshot();
  snapshot.identity.holder_id = "<script>x</script>";
  std::string page = LandingPage(snapshot);
  EXPECT_EQ(page.find("<script>"), std::string::npos);
  EXPECT_NE(page.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(page.find("href=\"/metrics\""), std::string::npos);
}

TEST(MetricsTest, SeriesFollowTheDesignNamesWithEveryLabelPreCreated) {
  HaMetrics metrics("1.2.3");
  std::string text = metrics.Serialize();
  for (const char* series :
       {"cp_leader_campaigns_total{result=\"success\"} 0",
        "cp_leader_campaigns_total{result=\"lock_held\"} 0",
        "cp_leader_campaigns_total{result=\"failure\"} 0",
        "cp_leader_keepalive_failures_total 0",
        "cp_authority_epoch_mismatch_total 0",
        "cp_audit_prior_epoch_closeout_missed_total 0",
        "cp_leader_read_write_state_transition_total{from=\"not_leader\","
        "to=\"leader\"} 0",
        "cp_leader_read_write_state_transition_total{from=\"leader\","
        "to=\"not_leader\"} 0",
        "cp_leader_epoch 0", "cp_leader_session_lock_held 0",
        "cp_backend_write_ready 0", "cp_backend_read_ready 0",
        "cp_backend_sync_replicas 0", "cp_backend_connected_to_primary 0",
        "cp_backend_lock_wait_seconds_count 0",
        "cp_leader_stepdown_deadline_seconds 0",
        "cp_leader_keepalive_age_seconds 0",
        "cp_ha_sidecar_build_info{version=\"1.2.3\"} 1"}) {
    EXPECT_NE(text.find(series), std::string::npos)
        << "/metrics lacks: " << series;
  }
  // Counters end in _total; no runbook dot survives.
  EXPECT_EQ(text.find("cp."), std::string::npos);
  std::regex counter_type("# TYPE (\\S+) counter");
  for (std::sregex_iterator it(text.begin(), text.end(), counter_type), end;
       it != end; ++it) {
    std::string name = (*it)[1];
    EXPECT_TRUE(name.size() > 6 && name.substr(name.size() - 6) == "_total")
        << "counter without _total: " << name;
  }
}

TEST(ConnParamsTest, RedactedFormNeverShowsThePassword) {
  for (const char* url :
       {"postgresql://postgres:s3cr%40t@127.0.0.1:5432,127.0.0.1:5433/db"
        "?target_session_attrs=read-write",
        "host=127.0.0.1 port=5432 user=postgres password='s3cr@t' dbname=db"}) {
    StatusOr<ConnParams> params = ConnParams::Parse(url);
    ASSERT_TRUE(params.ok()) << params.status().ToString();
    EXPECT_EQ(params->Get("password"), "s3cr@t") << url;
    std::string shown = params->Redacted();
    EXPECT_EQ(shown.find("s3cr"), std::string::npos) << shown;
    EXPECT_NE(shown.find("host=127.0.0.1"), std::string::npos) << shown;
  }
}

TEST(ConnParamsTest, ParseErrorsDoNotEchoTheInput) {
  StatusOr<ConnParams> params =
      ConnParams::Parse("postgresql://u:hunter2%zz@h/db");
  ASSERT_FALSE(params.ok());
  EXPECT_EQ(params.status().message().find("hunter2"), std::string::npos)
      << params.status().message();
}

// Found by tests/fuzz/conn_params_fuzzer.cc: libpq quotes the offending
// text, and quotes inside it made the old filter keep part of it.
TEST(ConnParamsTest, ParseErrorsWithQuotesInsideDoNotEchoTheInput) {
  for (const char* text :
       {"db\"\"\"#\"Hunter2pw x", "ab\"cdHunter2pw x=1", "a=b \"Hunter2pw"}) {
    StatusOr<ConnParams> params = ConnParams::Parse(text);
    ASSERT_FALSE(params.ok()) << "accepted: " << text;
    EXPECT_EQ(params.status().message().find("Hunter2"), std::string::npos)
        << "input: " << text << " message: " << params.status().message();
  }
}

TEST(ConnParamsTest, RefusesPasswordsThatLibpqWouldReadAsHostOrPort) {
  for (const char* url : {"postgresql://postgres:Se@cretPW@127.0.0.1:5432/db",
                          "postgresql://postgres:Se/cretPW@127.0.0.1:5432/db",
                          "postgresql://postgres@127.0.0.1:SecretPW/db",
                          "host=127.0.0.1 port=SecretPW dbname=db"}) {
    StatusOr<ConnParams> params = ConnParams::Parse(url);
    ASSERT_FALSE(params.ok()) << "accepted: " << url;
    EXPECT_EQ(params.status().message().find("cretPW"), std::string::npos)
        << url << ": " << params.status().message();
  }
  EXPECT_TRUE(ConnParams::Parse("postgresql://u:Se%40cret@h:1,h2:2/db").ok());
}

TEST(LogTest, QuotesValuesWithSpacesAndKeepsOneLine) {
  std::string line = FormatLogLine(LogLevel::kWarn, "elector", "lost it",
                                   {{"reason", "a \"b\"\nc"}, {"epoch", 3}});
  EXPECT_NE(line.find("level=warn component=elector msg=\"lost it\""),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("reason=\"a \\\"b\\\"\\nc\" epoch=3"), std::string::npos)
      << line;
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace cpha
