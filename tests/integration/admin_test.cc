// Issue #4 on a real PostgreSQL pair: the HA admin API and the operator CLI
// (the runbook's lab success criteria, bad input, unreachable nodes).

#include <fstream>
#include <string>
#include <vector>

#include "tests/integration/command.h"
#include "tests/integration/curl_request.h"
#include "tests/integration/ha_test_fixture.h"

namespace cpha::integration {
namespace {

constexpr const char* kToken = "t0k#en=with@odd'chars %";

class AdminTest : public SharedPairTest {
 protected:
  void SetUp() override {
    SharedPairTest::SetUp();
    token_file_ = pair().dir() + "/admin-token-" + std::to_string(lock_key());
    std::ofstream(token_file_) << kToken << "\n";
  }

  SidecarProcess* StartWithToken(const std::string& holder) {
    return StartSidecar(
        {.holder_id = holder, .flags = {"--admin-token-file", token_file_}});
  }

  std::string UrlOf(const SidecarProcess& sidecar) {
    return "http://127.0.0.1:" + std::to_string(sidecar.port());
  }

  CommandResult Cli(std::vector<std::string> words) {
    words.insert(words.begin(), {CPHA_SIDECAR_BINARY, "ha"});
    return RunCommand(words, {.timeout = std::chrono::seconds(20)});
  }

  JsonAnswer Curl(const SidecarProcess& sidecar, const std::string& method,
                  const std::string& path, const std::string& body,
                  const std::string& authorization) {
    return CurlJson(sidecar.port(), method, path, body, authorization);
  }

  std::string token_file_;
};

TEST_F(AdminTest, FailoverThroughTheCliHandsTheNextEpochToTheOtherNode) {
  SidecarProcess* a = StartWithToken("adm-a");
  SidecarProcess* b = StartWithToken("adm-b");
  SidecarProcess* other = nullptr;
  SidecarProcess* leader = WaitForLeaderAndFollower(a, b, &other);
  ASSERT_NE(leader, nullptr);

  CommandResult status = Cli({"status", "--orchestrator-url", UrlOf(*leader)});
  ASSERT_TRUE(status.ok()) << status.Describe();
  EXPECT_NE(status.out.find("Write-Ready:    true"), std::string::npos)
      << status.out;
  EXPECT_NE(status.out.find("replica standby1 streaming sync"),
            std::string::npos)
      << status.out;

  CommandResult refused = Cli(
      {"failover", "trigger", "--orchestrator-url", UrlOf(*other), "--operator",
       "local-verify", "--reason", "wrong node", "--token-file", token_file_});
  EXPECT_EQ(refused.exit_code, 1) << refused.Describe();
  EXPECT_NE(refused.err.find("not the leader"), std::string::npos)
      << refused.err;

  CommandResult failover =
      Cli({"failover", "trigger", "--orchestrator-url", UrlOf(*leader),
           "--operator", "local-verify", "--reason", "PR-12 local verification",
           "--token-file", token_file_});
  ASSERT_TRUE(failover.ok()) << failover.Describe();
  EXPECT_NE(failover.out.find("Graceful resignation"), std::string::npos)
      << failover.out;

  SidecarProcess* next = WaitForWriteReady({other}, Millis(3000));
  ASSERT_EQ(next, other) << other->holder_id()
                         << " not write-ready 3 s after the failover";
  EXPECT_EQ(Leader(*other).value("current_epoch", int64_t{-1}), 2);
  CommandResult after = Cli({"status", "--orchestrator-url", UrlOf(*other)});
  EXPECT_NE(after.out.find("Write-Ready:    true"), std::string::npos)
      << after.out;

  EXPECT_EQ(Sql("SELECT resigned_at IS NOT NULL, notes FROM leader_epochs "
                "WHERE epoch = 1"),
            "t|failover by local-verify: PR-12 local verification");
  EXPECT_EQ(Sql("SELECT operation, operator, epoch, result FROM "
                "ha_operations"),
            "failover|local-verify|1|resigned");
  ExpectNeverTwoWriteReady();
}

TEST_F(AdminTest, RefusesBadAdminRequestsWithAJsonReasonAndChangesNothing) {
  SidecarProcess* leader = StartWithToken("adm-bad");
  ASSERT_NE(leader, nullptr);
  ASSERT_EQ(WaitForWriteReady({leader}, Millis(10000)), leader);
  SidecarProcess* open = StartSidecar({.holder_id = "adm-notoken"});
  ASSERT_NE(open, nullptr);
  const std::string bearer = std::string("Bearer ") + kToken;
  const std::string good = R"({"operator":"op","reason":"test"})";

  struct Case {
    std::string name;
    SidecarProcess* sidecar;
    std::string method;
    std::string body;
    std::string authorization;
    int expected_status;
  };
  const std::vector<Case> cases = {
      {"no token header", leader, "POST", good, "", 401},
      {"wrong token", leader, "POST", good, "Bearer nope", 401},
      {"no token configured", open, "POST", good, bearer, 403},
      {"body not JSON", leader, "POST", "operator=op", bearer, 400},
      {"JSON but not an object", leader, "POST", "[1,2]", bearer, 400},
      {"missing operator", leader, "POST", R"({"reason":"r"})", bearer, 400},
      {"missing reason", leader, "POST", R"({"operator":"o"})", bearer, 400},
      {"operator not a string", leader, "POST",
       R"({"operator":1,"reason":"r"})", bearer, 400},
      {"oversized body", leader, "POST", std::string(100 * 1024, 'x'), bearer,
       413},
      {"GET on a POST route", leader, "GET", "", bearer, 405},
  };
  for (const Case& input : cases) {
    JsonAnswer answer = Curl(*input.sidecar, input.method, "/v1/ha/failover",
                             input.body, input.authorization);
    EXPECT_EQ(answer.status, input.expected_status) << input.name;
    EXPECT_TRUE(answer.body.is_object() && answer.body.contains("error"))
        << input.name << ": " << answer.body.dump();
  }

  EXPECT_TRUE(IsWriteReady(*leader)) << "a refused request changed the leader";
  EXPECT_EQ(Leader(*leader).value("current_epoch", int64_t{-1}), 1);
  EXPECT_EQ(Sql("SELECT count(*) FROM ha_operations"), "0");
  ExpectNeverTwoWriteReady();
}

CommandResult Cli(std::vector<std::string> words) {
  words.insert(words.begin(), {CPHA_SIDECAR_BINARY, "ha"});
  return RunCommand(words, {.timeout = std::chrono::seconds(20)});
}

TEST(AdminCliTest, ExitsNonZeroWithOneLineWhenTheNodeIsDown) {
  CommandResult down = Cli({"status", "--orchestrator-url",
                            "http://127.0.0.1:1", "--timeout", "2000"});
  EXPECT_EQ(down.exit_code, 3) << down.Describe();
  EXPECT_EQ(std::count(down.err.begin(), down.err.end(), '\n'), 1) << down.err;
  EXPECT_TRUE(down.out.empty()) << down.out;

  CommandResult usage =
      Cli({"failover", "trigger", "--orchestrator-url", "http://127.0.0.1:1"});
  EXPECT_EQ(usage.exit_code, 2) << usage.Describe();
  EXPECT_NE(usage.err.find("--operator"), std::string::npos) << usage.err;
}

}  // namespace
}  // namespace cpha::integration
