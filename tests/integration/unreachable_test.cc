// Scenario 8 of issue #2: with the database unreachable, every endpoint
// still answers at once from memory, read-ready is false and nothing is
// counted as a campaign.

#include <signal.h>

#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "tests/integration/ha_test_fixture.h"
#include "tests/integration/loopback.h"

namespace cpha::integration {
namespace {

using Clock = std::chrono::steady_clock;

constexpr Millis kFastAnswer(100);

struct Endpoint {
  const char* path;
  int status;  // expected while the database is unreachable
};

constexpr Endpoint kEndpoints[] = {
    {"/v1/health/read-ready", 503},
    {"/v1/health/write-ready", 503},
    {"/v1/health/leader", 200},
    {"/v1/health/quorum", 200},
    {"/v1/health/audit", 200},
    {"/v1/health/live", 200},
    {"/metrics", 200},
    {"/", 200},
};

// The counters that only move when the elector does something.
const std::pair<const char*, MetricLabels> kCounters[] = {
    {"cp_leader_campaigns_total", {{"result", "success"}}},
    {"cp_leader_campaigns_total", {{"result", "lock_held"}}},
    {"cp_leader_campaigns_total", {{"result", "failure"}}},
    {"cp_leader_keepalive_failures_total", {}},
    {"cp_audit_prior_epoch_closeout_missed_total", {}},
};

using CounterValues = std::map<std::string, double>;

std::string Describe(const CounterValues& values) {
  std::ostringstream text;
  for (const auto& [name, value] : values) text << name << "=" << value << " ";
  return text.str();
}

class UnreachableTest : public SharedPairTest {
 protected:
  // The counters above, from one scrape; a missing one reads -1.
  CounterValues Counters(const SidecarProcess& sidecar) {
    HttpResult metrics = Get(sidecar, "/metrics");
    CounterValues values;
    for (const auto& [name, labels] : kCounters) {
      std::string key = name;
      for (const auto& [label, value] : labels) key += "," + value;
      values[key] = FindSample(metrics.body, name, labels).value_or(-1);
    }
    return values;
  }

  // Probes every endpoint of every sidecar, round after round, for
  // `duration`; expects each answer in under 100 ms with its status.
  void ExpectEndpointsAnswerFast(const std::vector<SidecarProcess*>& sidecars,
                                 Millis duration) {
    std::vector<std::string> slow_or_wrong;
    std::chrono::microseconds slowest{0};
    int probes = 0;
    const Clock::time_point until = Clock::now() + duration;
    while (Clock::now() < until) {
      for (SidecarProcess* sidecar : sidecars) {
        for (const Endpoint& endpoint : kEndpoints) {
          HttpResult answer = Get(*sidecar, endpoint.path);
          ++probes;
          slowest = std::max(slowest, answer.elapsed);
          if (!answer.ok() || answer.status != endpoint.status ||
              answer.elapsed >= kFastAnswer) {
            slow_or_wrong.push_back(
                sidecar->holder_id() + ": " +
                answer.Describe(endpoint.path).substr(0, 300));
          }
        }
      }
      std::this_thread::sleep_for(Millis(50));
    }
    ReportMillis("slowest_answer_while_unreachable_ms",
                 slowest.count() / 1000.0);
    EXPECT_GT(probes, 0);
    EXPECT_TRUE(slow_or_wrong.empty())
        << slow_or_wrong.size() << " of " << probes
        << " answers were slow (>= 100 ms) or had the wrong status; first: "
        << slow_or_wrong.front();
  }
};

TEST_F(UnreachableTest, AnswersFastAndNeverCampaignsWhenDatabaseIsUnreachable) {
  StatusOr<std::unique_ptr<SilentListener>> silent = SilentListener::Start();
  ASSERT_TRUE(silent.ok()) << silent.status().ToString();
  const struct {
    std::string what;
    int port;
  } kTargets[] = {
      {"closed port", FreeLoopbackPort()},
      {"server that accepts but never answers", silent.value()->port()},
  };

  for (const auto& target : kTargets) {
    SCOPED_TRACE(target.what + " at 127.0.0.1:" + std::to_string(target.port));
    const std::string url = "postgresql://postgres:postgres@127.0.0.1:" +
                            std::to_string(target.port) + "/autonomy";
    SidecarProcess* sidecar = StartSidecar(
        {.holder_id = "u8-" + std::to_string(target.port), .url = url});
    ASSERT_NE(sidecar, nullptr);

    std::this_thread::sleep_for(Millis(500));  // a few failed attempts
    const CounterValues before = Counters(*sidecar);
    ExpectEndpointsAnswerFast({sidecar}, Millis(2500));
    const CounterValues after = Counters(*sidecar);
    EXPECT_EQ(before, after)
        << "before: " << Describe(before) << "\nafter: " << Describe(after);
    for (const auto& [name, value] : after) {
      EXPECT_EQ(value, 0) << name << " moved without a database";
    }
    HttpResult read = Get(*sidecar, "/v1/health/read-ready");
    EXPECT_NE(read.Json().value("reason", "").find("unreachable"),
              std::string::npos)
        << read.Describe("/v1/health/read-ready");
    EXPECT_TRUE(sidecar->Kill(SIGKILL));
  }
  ExpectNeverTwoWriteReady();
}

TEST_F(UnreachableTest, AnswersFastAndStopsCampaigningWhenPrimaryStops) {
  SidecarProcess* a = StartSidecar({.holder_id = "u9-a"});
  SidecarProcess* b = StartSidecar({.holder_id = "u9-b"});
  ASSERT_TRUE(a != nullptr && b != nullptr);
  SidecarProcess* leader = WaitForWriteReady({a, b}, Millis(10000));
  ASSERT_NE(leader, nullptr) << "no leader 10 s after start";
  ASSERT_TRUE(WaitForFollower(leader == a ? *b : *a, 1));

  Status stopped = pair().Stop(PgNode::kPrimary);
  ASSERT_TRUE(stopped.ok()) << stopped.ToString();
  const Clock::time_point stopped_at = Clock::now();
  auto unready = WaitUntil(
      [&] {
        return Get(*a, "/v1/health/read-ready").status == 503 &&
               Get(*b, "/v1/health/read-ready").status == 503;
      },
      Millis(5000), Millis(10), stopped_at);
  ASSERT_TRUE(unready.has_value())
      << "read-ready still true 5 s after the primary stopped: "
      << Get(*a, "/v1/health/read-ready").Describe("a read-ready") << "; "
      << Get(*b, "/v1/health/read-ready").Describe("b read-ready");
  ReportMillis("read_ready_drop_after_primary_stop_ms", ToMillis(*unready));

  std::this_thread::sleep_for(Millis(300));  // let both electors settle
  const CounterValues before_a = Counters(*a);
  const CounterValues before_b = Counters(*b);
  ExpectEndpointsAnswerFast({a, b}, Millis(3000));
  EXPECT_EQ(before_a, Counters(*a)) << "before: " << Describe(before_a)
                                    << "\nafter: " << Describe(Counters(*a));
  EXPECT_EQ(before_b, Counters(*b)) << "before: " << Describe(before_b)
                                    << "\nafter: " << Describe(Counters(*b));

  // The primary comes back and so does a leader.
  Status started = pair().Start(PgNode::kPrimary);
  ASSERT_TRUE(started.ok()) << started.ToString();
  const Clock::time_point started_at = Clock::now();
  SidecarProcess* next = WaitForWriteReady({a, b}, Millis(15000));
  EXPECT_NE(next, nullptr) << "no leader 15 s after the primary restarted";
  ReportMillis("leader_after_primary_restart_ms",
               ToMillis(Clock::now() - started_at));
  ExpectNeverTwoWriteReady();
}

}  // namespace
}  // namespace cpha::integration
