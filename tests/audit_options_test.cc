// The options of issue #3: replay horizon, outbox retention and purge
// interval, audit interval and fence mode.

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "exporter/options.h"

namespace cpha {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

EnvLookup NoEnv() {
  return [](const std::string&) -> std::optional<std::string> {
    return std::nullopt;
  };
}

StatusOr<ParsedOptions> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), {"--postgres-url", "host=h"});
  return ParseOptions(args, NoEnv());
}

TEST(AuditOptionsTest, DefaultsMatchTheContract) {
  auto parsed = Parse({});
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const Options& options = parsed->options;
  EXPECT_EQ(options.promotion_replay_horizon, hours(2));
  EXPECT_EQ(options.outbox_retention, hours(24));
  EXPECT_EQ(options.outbox_purge_interval, minutes(1));
  EXPECT_EQ(options.audit_interval, seconds(5));
  EXPECT_EQ(options.fence_mode, FenceLockMode::kShared);
}

TEST(AuditOptionsTest, ReadsEveryIssue3Option) {
  auto parsed =
      Parse({"--promotion-replay-horizon", "3s", "--outbox-retention", "90m",
             "--outbox-purge-interval", "250ms", "--audit-interval", "200ms",
             "--fence-mode", "for-update"});
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const Options& options = parsed->options;
  EXPECT_EQ(options.promotion_replay_horizon, seconds(3));
  EXPECT_EQ(options.outbox_retention, minutes(90));
  EXPECT_EQ(options.outbox_purge_interval, milliseconds(250));
  EXPECT_EQ(options.audit_interval, milliseconds(200));
  EXPECT_EQ(options.fence_mode, FenceLockMode::kExclusive);
}

TEST(AuditOptionsTest, ReadsTheFenceModeFromTheEnvironment) {
  auto parsed =
      ParseOptions({"--postgres-url", "host=h"},
                   [](const std::string& name) -> std::optional<std::string> {
                     if (name == "CP_HA_FENCE_MODE") return "for-update";
                     return std::nullopt;
                   });
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->options.fence_mode, FenceLockMode::kExclusive);
}

TEST(AuditOptionsTest, ParsesFenceModes) {
  EXPECT_EQ(ParseFenceMode("shared"), FenceLockMode::kShared);
  EXPECT_EQ(ParseFenceMode("for-update"), FenceLockMode::kExclusive);
  EXPECT_EQ(ParseFenceMode("FOR UPDATE"), std::nullopt);
  EXPECT_EQ(ParseFenceMode("exclusive"), std::nullopt);
  EXPECT_EQ(ParseFenceMode(""), std::nullopt);
}

struct RejectCase {
  std::vector<std::string> args;
  std::string mentions;
};

class AuditOptionsRejectTest : public ::testing::TestWithParam<RejectCase> {};

TEST_P(AuditOptionsRejectTest, EndsWithOneLineNamingTheOption) {
  const RejectCase& reject = GetParam();
  auto parsed = Parse(reject.args);
  ASSERT_FALSE(parsed.ok())
      << "accepted: " << ::testing::PrintToString(reject.args);
  EXPECT_EQ(parsed.status().kind(), ErrorKind::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find(reject.mentions), std::string::npos)
      << parsed.status().message();
  EXPECT_EQ(parsed.status().message().find('\n'), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    BadValues, AuditOptionsRejectTest,
    ::testing::Values(
        RejectCase{{"--fence-mode", "exclusive"}, "--fence-mode"},
        RejectCase{{"--fence-mode", ""}, "--fence-mode"},
        RejectCase{{"--promotion-replay-horizon", "soon"},
                   "--promotion-replay-horizon"},
        RejectCase{{"--promotion-replay-horizon", "500ms"},
                   "--promotion-replay-horizon"},
        RejectCase{{"--outbox-retention", "-1h"}, "--outbox-retention"},
        RejectCase{{"--outbox-retention", "8d"}, "--outbox-retention"},
        RejectCase{{"--audit-interval", "0s"}, "--audit-interval"},
        RejectCase{{"--audit-interval", "10ms"}, "--audit-interval"},
        RejectCase{{"--outbox-purge-interval", "1us"},
                   "--outbox-purge-interval"}));

TEST(AuditOptionsTest, HelpListsTheNewOptionsWithDefaults) {
  auto parsed = ParseOptions({"--help"}, NoEnv());
  ASSERT_TRUE(parsed.ok());
  for (const char* expected :
       {"--promotion-replay-horizon arg (=2h)", "--outbox-retention arg (=24h)",
        "--outbox-purge-interval arg (=1m)", "--audit-interval arg (=5s)",
        "--fence-mode arg (=shared)", "CP_HA_FENCE_MODE"}) {
    EXPECT_NE(parsed->help.find(expected), std::string::npos) << expected;
  }
}

}  // namespace
}  // namespace cpha
