// Scenario 9 of issue #2: promtool accepts the sidecar's /metrics.

#include <string>

#include "tests/integration/command.h"
#include "tests/integration/ha_test_fixture.h"

namespace cpha::integration {
namespace {

class MetricsTest : public SharedPairTest {};

TEST_F(MetricsTest, PromtoolAcceptsMetricsOfLeaderAndFollower) {
  ASSERT_TRUE(OnPath("promtool"))
      << "promtool is not installed (Debian package prometheus; "
         "scripts/install-deps.sh installs it)";
  SidecarProcess* a = StartSidecar({.holder_id = "m9-a"});
  SidecarProcess* b = StartSidecar({.holder_id = "m9-b"});
  ASSERT_TRUE(a != nullptr && b != nullptr);
  SidecarProcess* leader = WaitForWriteReady({a, b}, Millis(10000));
  ASSERT_NE(leader, nullptr) << "no leader 10 s after start";
  ASSERT_TRUE(WaitForFollower(leader == a ? *b : *a, 1));

  for (SidecarProcess* sidecar : {a, b}) {
    SCOPED_TRACE(sidecar->holder_id());
    HttpResult metrics = Get(*sidecar, "/metrics");
    ASSERT_TRUE(metrics.ok()) << metrics.error;
    ASSERT_EQ(metrics.status, 200) << metrics.body;
    EXPECT_EQ(metrics.content_type, "text/plain; version=0.0.4; charset=utf-8");
    // Every known label value exists from the start.
    for (const char* result : {"success", "lock_held", "failure"}) {
      EXPECT_TRUE(FindSample(metrics.body, "cp_leader_campaigns_total",
                             {{"result", result}})
                      .has_value())
          << "cp_leader_campaigns_total{result=\"" << result << "\"}";
    }

    CommandResult checked = RunCommand({"promtool", "check", "metrics"},
                                       {.stdin_text = metrics.body});
    // promtool exits 1 when the text does not parse, 3 on lint problems.
    EXPECT_TRUE(checked.ok())
        << "promtool check metrics: " << checked.Describe() << "\n"
        << checked.out << "\n--- the exposition ---\n"
        << metrics.body;
  }
  ExpectNeverTwoWriteReady();
}

}  // namespace
}  // namespace cpha::integration
