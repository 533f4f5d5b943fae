#include "exporter/options.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace cpha {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

EnvLookup FakeEnv(std::map<std::string, std::string> values = {}) {
  return [values](const std::string& name) -> std::optional<std::string> {
    auto found = values.find(name);
    if (found == values.end()) return std::nullopt;
    return found->second;
  };
}

StatusOr<ParsedOptions> Parse(std::vector<std::string> args,
                              std::map<std::string, std::string> env = {}) {
  return ParseOptions(args, FakeEnv(std::move(env)));
}

std::string TempFile(const std::string& content) {
  char path[] = "/tmp/cpha-options-XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << content;
  return path;
}

TEST(OptionsTest, ReadsTheRunbookFlags) {
  auto parsed =
      Parse({"--postgres-url", "postgres://u:p@h:5432/db", "--holder-id",
             "cp-node-1:18088", "--listen", "127.0.0.1:18088",
             "--min-sync-replicas", "1", "--quorum-monitor-interval", "250ms"});
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const Options& options = parsed->options;
  EXPECT_EQ(options.postgres_url, "postgres://u:p@h:5432/db");
  EXPECT_EQ(options.holder_id, "cp-node-1:18088");
  EXPECT_EQ(options.listen_host, "127.0.0.1");
  EXPECT_EQ(options.listen_port, 18088);
  EXPECT_EQ(options.min_sync_replicas, 1);
  EXPECT_EQ(options.quorum_monitor_interval, milliseconds(250));
}

TEST(OptionsTest, DefaultsHolderIdToTheHostName) {
  auto parsed = Parse({"--postgres-url", "host=h"});
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_FALSE(parsed->options.holder_id.empty());
  EXPECT_EQ(parsed->options.listen_port, 8888);
}

TEST(OptionsTest, FlagsOverrideEnvironmentWhichOverridesConfigFile) {
  std::string config = TempFile(
      "min-sync-replicas = 3\nholder-id = from-file\nschema = fromfile\n");
  auto parsed = Parse(
      {"--config", config, "--holder-id", "from-flag"},
      {{"CP_HA_POSTGRES_URL", "host=env"}, {"CP_HA_MIN_SYNC_REPLICAS", "2"}});
  std::remove(config.c_str());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->options.holder_id, "from-flag");
  EXPECT_EQ(parsed->options.min_sync_replicas, 2);
  EXPECT_EQ(parsed->options.schema, "fromfile");
  EXPECT_EQ(parsed->options.postgres_url, "host=env");
}

TEST(OptionsTest, ReadsTheDatabaseUrlFromAFile) {
  std::string file = TempFile("postgres://u:secret@h/db\n");
  auto parsed = Parse({"--postgres-url-file", file});
  std::remove(file.c_str());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->options.postgres_url, "postgres://u:secret@h/db");
}

TEST(OptionsTest, HelpListsEveryOptionWithItsEnvironmentVariable) {
  auto parsed = Parse({"--help"});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->action, Action::kHelp);
  for (const char* expected :
       {"--postgres-url", "CP_HA_POSTGRES_URL", "--holder-id", "--listen",
        "--min-sync-replicas", "--quorum-monitor-interval",
        "--keepalive-interval", "--campaign-interval", "--advisory-lock-key",
        "--log-level", "--lock-session-timeout", "(=1s)"}) {
    EXPECT_NE(parsed->help.find(expected), std::string::npos)
        << "help lacks " << expected;
  }
}

struct BadInput {
  std::vector<std::string> args;
  std::string expected_in_message;
};

class OptionsRejectTest : public testing::TestWithParam<BadInput> {};

TEST_P(OptionsRejectTest, EndsWithOneLineNamingTheProblem) {
  const BadInput& input = GetParam();
  std::vector<std::string> args = {"--postgres-url", "host=h"};
  args.insert(args.end(), input.args.begin(), input.args.end());
  std::string shown;
  for (const auto& arg : input.args) shown += arg + " ";

  auto parsed = Parse(args);

  ASSERT_FALSE(parsed.ok()) << "accepted: " << shown;
  const std::string& message = parsed.status().message();
  EXPECT_NE(message.find(input.expected_in_message), std::string::npos)
      << "input: " << shown << "message: " << message;
  EXPECT_EQ(message.find('\n'), std::string::npos)
      << "input: " << shown << "message has several lines: " << message;
}

INSTANTIATE_TEST_SUITE_P(
    BadValues, OptionsRejectTest,
    testing::Values(
        BadInput{{"--no-such-flag"}, "no-such-flag"},
        BadInput{{"status"}, "positional"},
        BadInput{{"--x%canonical_option%"}, "reserved"},
        BadInput{{"--log-level", "%value%"}, "reserved"},
        BadInput{{"--keepalive-interval", "-1s"}, "--keepalive-interval"},
        BadInput{{"--keepalive-interval", "soon"}, "--keepalive-interval"},
        BadInput{{"--campaign-interval", "0s"}, "--campaign-interval"},
        BadInput{{"--quorum-monitor-interval", "1 fortnight"},
                 "--quorum-monitor-interval"},
        BadInput{{"--listen", "127.0.0.1:70000"}, "--listen"},
        BadInput{{"--listen", "127.0.0.1:http"}, "--listen"},
        BadInput{{"--listen", "no-port"}, "--listen"},
        BadInput{{"--min-sync-replicas", "-1"}, "--min-sync-replicas"},
        BadInput{{"--min-sync-replicas", "two"}, "min-sync-replicas"},
        BadInput{{"--log-level", "loud"}, "--log-level"},
        BadInput{{"--schema", "Robert'); DROP"}, "--schema"},
        BadInput{{"--admin-token-file", "/nonexistent/token"},
                 "/nonexistent/token"},
        BadInput{{"--config", "/nonexistent/conf"}, "/nonexistent/conf"},
        BadInput{{"--keepalive-interval", "3s"}, "--keepalive-interval"},
        BadInput{{"--stepdown-margin", "5s"}, "--stepdown-margin"}));

TEST(OptionsTest, RejectsAMissingDatabaseUrl) {
  auto parsed = Parse({});
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("--postgres-url"),
            std::string::npos);
}

TEST(OptionsTest, RejectsAnUnreadableUrlFileWithoutShowingSecrets) {
  auto parsed = Parse({"--postgres-url-file", "/nonexistent/url"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("/nonexistent/url"),
            std::string::npos);
}

struct DurationCase {
  std::string text;
  std::optional<Duration> expected;
};

class ParseDurationTest : public testing::TestWithParam<DurationCase> {};

TEST_P(ParseDurationTest, ParsesGoStyleDurations) {
  const DurationCase& input = GetParam();
  EXPECT_EQ(ParseDuration(input.text), input.expected)
      << "input: '" << input.text << "'";
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ParseDurationTest,
    testing::Values(
        DurationCase{"1s", seconds(1)},
        DurationCase{"250ms", milliseconds(250)},
        DurationCase{"1.5s", milliseconds(1500)},
        DurationCase{"2m", seconds(120)}, DurationCase{"1h", seconds(3600)},
        DurationCase{"3", seconds(3)}, DurationCase{"", std::nullopt},
        DurationCase{"-1s", std::nullopt}, DurationCase{"s", std::nullopt},
        DurationCase{"1x", std::nullopt}, DurationCase{"1..2s", std::nullopt},
        DurationCase{"100000h", std::nullopt}));

TEST(ParseListenAddressTest, AcceptsHostPortForms) {
  auto v4 = ParseListenAddress("127.0.0.1:18088");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 18088);

  auto any = ParseListenAddress(":0");
  ASSERT_TRUE(any.ok());
  EXPECT_EQ(any->host, "");
  EXPECT_EQ(any->port, 0);

  auto v6 = ParseListenAddress("[::1]:9000");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
}

// Issue #9: the files the options name, read through a fake reader.
FileReader FakeFiles(std::map<std::string, std::string> files) {
  return [files](const std::string& path) -> std::optional<std::string> {
    auto found = files.find(path);
    if (found == files.end()) return std::nullopt;
    return found->second;
  };
}

TEST(ConfigFileTest, KeepsHashAndEqualsSignsInsideValues) {
  const std::string url =
      "host=h user=u password='a#b = c' dbname=d";  // one '#', two '='
  auto parsed =
      ParseOptions({"--config", "/c"}, FakeEnv(),
                   FakeFiles({{"/c", "# comment\n\n  postgres-url = " + url +
                                         "  \r\nholder-id=n#1\n"}}));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->options.postgres_url, url);
  EXPECT_EQ(parsed->options.holder_id, "n#1");
}

TEST(ConfigFileTest, ErrorsNameTheLineNeverItsContent) {
  struct Case {
    std::string content;
    std::string expected_in_message;
  };
  const Case cases[] = {
      {"holder-id = n\npostgres-url postgresql://u:Hunter2pw@h/db\n", "line 2"},
      {"postgresql://u:Hunter2pw@h/db?sslmode=require\n", "line 1"},
      {"[section]\nHunter2pw = x\n", "line 1"},
      {"no-such-option = Hunter2pw\n", "no-such-option"},
      {"log-level = %canonical_option%Hunter2pw\n", "reserved"},
  };
  for (const Case& input : cases) {
    auto parsed = ParseOptions({"--postgres-url", "host=h", "--config", "/c"},
                               FakeEnv(), FakeFiles({{"/c", input.content}}));
    ASSERT_FALSE(parsed.ok()) << "accepted config: " << input.content;
    const std::string& message = parsed.status().message();
    EXPECT_NE(message.find(input.expected_in_message), std::string::npos)
        << "config: " << input.content << "message: " << message;
    EXPECT_EQ(message.find("Hunter2"), std::string::npos)
        << "config: " << input.content << "message: " << message;
  }
}

// Found by tests/fuzz/options_args_fuzzer.cc: with the flag given twice,
// Boost takes the second for the value of the first and echoed the next
// argument, meant as the URL, as an unknown option.
TEST(OptionsTest, NeverRepeatsAnArgumentMeantAsTheDatabaseUrl) {
  auto parsed = Parse({"--postgres-url", "--postgres-url", "-hHunter2pw@h"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message().find("Hunter2"), std::string::npos)
      << parsed.status().message();
}

TEST(OptionsTest, ReadsTheAdminTokenFromTheFirstLineOfItsFile) {
  const std::string token = "t0k#en=with@odd'chars %";
  auto parsed =
      ParseOptions({"--postgres-url", "host=h", "--admin-token-file", "/t"},
                   FakeEnv(), FakeFiles({{"/t", token + "\r\nignored\n"}}));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_TRUE(parsed->options.admin_token.has_value());
  EXPECT_TRUE(*parsed->options.admin_token == token)
      << "the token read differs from the file's first line";

  auto empty =
      ParseOptions({"--postgres-url", "host=h", "--admin-token-file", "/t"},
                   FakeEnv(), FakeFiles({{"/t", "\nsecond\n"}}));
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("no token"), std::string::npos)
      << empty.status().message();
}

TEST(SecretFileTextTest, DropsTrailingWhitespaceOnly) {
  EXPECT_EQ(SecretFileText(" host=h password='a b '\n\n").value(),
            " host=h password='a b '");
  EXPECT_FALSE(SecretFileText(" \n\t").ok());
  EXPECT_EQ(AdminTokenText("a b\r\n").value(), "a b");
  EXPECT_FALSE(AdminTokenText("\r\nx").ok());
}

}  // namespace
}  // namespace cpha
