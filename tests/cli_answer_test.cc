// The operator CLI's handling of answers (RenderCliAnswer) and of
// --orchestrator-url (ParseBaseUrl): whatever a node sends, the CLI prints
// something sensible and never crashes (issue #9; cases found by
// tests/fuzz/cli_answer_fuzzer.cc and the 130 KB URL that overflowed
// std::regex).

#include "exporter/cli_answer.h"

#include <gtest/gtest.h>

#include <string>

#include "exporter/http_client.h"

namespace cpha {
namespace {

constexpr const char* kUrl = "http://node:1";

TEST(CliAnswerTest, PrintsTheStatusViewOfAWellFormedAnswer) {
  CliOutput output = RenderCliAnswer(
      CliView::kStatus, false, kUrl, 200,
      R"({"holder_id":"n1","role":"leader","current_epoch":3,)"
      R"("write_ready":true,"quorum":{"sync_replica_count":1,)"
      R"("min_sync_replicas":1,"replication":[{"application_name":"s1",)"
      R"("state":"streaming","sync_state":"sync"}]}})");
  EXPECT_FALSE(output.refused);
  for (const char* expected :
       {"Node:           n1 (leader)", "Epoch:          3",
        "Write-Ready:    true", "Read-Ready:     false",
        "replica s1 streaming sync", "Sync standbys:  1 (minimum 1)"}) {
    EXPECT_NE(output.out.find(expected), std::string::npos)
        << "missing '" << expected << "' in:\n"
        << output.out;
  }
}

TEST(CliAnswerTest, SurvivesMissingAndMistypedFieldsInEveryView) {
  const char* bodies[] = {
      "{}",
      "[]",
      "null",
      "7",
      R"({"holder_id":5,"quorum":"x","current_epoch":{"a":[]}})",
      R"({"quorum":{"replication":[1,"x",null,{"state":[]}]}})",
      R"({"backups":[1,{"size_bytes":"big","epoch":1e300}]})",
      R"({"backup":[],"epoch_before":-1,"resigned_epoch":18446744073709551615})",
  };
  const CliView views[] = {CliView::kStatus,     CliView::kQuorum,
                           CliView::kFailover,   CliView::kBackupCreate,
                           CliView::kBackupList, CliView::kBackupRestore};
  for (const char* body : bodies) {
    for (CliView view : views) {
      for (bool json_output : {false, true}) {
        CliOutput output;
        EXPECT_NO_THROW(output =
                            RenderCliAnswer(view, json_output, kUrl, 200, body))
            << "body: " << body << " view " << static_cast<int>(view);
        EXPECT_FALSE(output.refused) << "body: " << body;
      }
    }
  }
}

TEST(CliAnswerTest, ShowsControlCharactersOfTheNodeAsQuestionMarks) {
  CliOutput text = RenderCliAnswer(CliView::kFailover, false, kUrl, 200,
                                   R"({"holder_id":"a\u001b[2Jb\u009bc"})");
  EXPECT_EQ(text.out.find('\x1b'), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("a?[2Jb?c"), std::string::npos) << text.out;

  // A DEL in a key, printed with --output json (found by the fuzzer).
  CliOutput json = RenderCliAnswer(CliView::kQuorum, true, kUrl, 200,
                                   "{\"qu\x7frum\":\"\xc2\x9b\"}");
  EXPECT_EQ(json.out.find('\x7f'), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("\\u007f"), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("\\u009b"), std::string::npos) << json.out;

  CliOutput raw =
      RenderCliAnswer(CliView::kStatus, false, kUrl, 200, "not json\x1b]0;x");
  EXPECT_EQ(raw.out, "not json?]0;x\n");
}

TEST(CliAnswerTest, RefusalQuotesTheErrorFieldOrTheBodyOnOneLine) {
  CliOutput error = RenderCliAnswer(CliView::kFailover, false, kUrl, 409,
                                    R"({"error":"not the leader"})");
  EXPECT_TRUE(error.refused);
  EXPECT_EQ(error.error, "http://node:1 answered 409: not the leader");
  EXPECT_EQ(error.out, "");

  CliOutput raw =
      RenderCliAnswer(CliView::kFailover, false, kUrl, 502, "bad\ngateway");
  EXPECT_EQ(raw.error, "http://node:1 answered 502: bad?gateway");

  CliOutput mistyped = RenderCliAnswer(CliView::kStatus, false, kUrl, 500,
                                       R"({"error":{"nested":1}})");
  EXPECT_NE(mistyped.error.find("nested"), std::string::npos) << mistyped.error;
}

TEST(BaseUrlTest, AcceptsHostAndPortFormsOnly) {
  struct Case {
    std::string url;
    bool ok;
    std::string host;
    int port;
  };
  const Case cases[] = {
      {"http://127.0.0.1:18088", true, "127.0.0.1", 18088},
      {"https://node.example/", true, "node.example", 443},
      {"http://[::1]:8888", true, "::1", 8888},
      {"http://localhost", true, "localhost", 80},
      {"http://h:0", false, "", 0},
      {"http://h:65536", false, "", 0},
      {"http://h:123456", false, "", 0},
      {"http://h:", false, "", 0},
      {"http://h/path", false, "", 0},
      {"http://user@h", false, "", 0},
      {"ftp://h", false, "", 0},
      {"http://", false, "", 0},
      {"http://[]:1", false, "", 0},
      {"http://[::1", false, "", 0},
      {"http://" + std::string(130000, 'a'), true, std::string(130000, 'a'),
       80},
  };
  for (const Case& input : cases) {
    StatusOr<HttpTarget> target = ParseBaseUrl(input.url);
    const std::string shown = input.url.substr(0, 40);
    ASSERT_EQ(target.ok(), input.ok) << "url: " << shown;
    if (!input.ok) continue;
    EXPECT_EQ(target->host, input.host) << "url: " << shown;
    EXPECT_EQ(target->port, input.port) << "url: " << shown;
  }
}

}  // namespace
}  // namespace cpha
