// Issue #9 on a real PostgreSQL pair: a database password and an admin
// token holding '#', '=', '@', '\'', '%', a space, '"', '\\', ':', '/', '?'
// and '&'. For each form of the database URL (a URI with percent-encoding,
// a key=value string with quoting, a passfile) two sidecars elect a
// leader, serve, back up with pg_dump and fail over; then no log line, no
// JSON answer (health, admin API with and without the token, refusals),
// no /metrics, no output of the CLI and no `ps -eo args` taken meanwhile
// holds either secret in any form. Failure messages show placeholders.

#include <sys/stat.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/integration/command.h"
#include "tests/integration/curl_request.h"
#include "tests/integration/ha_test_fixture.h"

namespace cpha::integration {
namespace {

// Each starts and ends with a marker that no other text holds, so that a
// part of a secret (cut at '#', at a quote, ...) is found too.
constexpr std::string_view kPassword = "Pw7Kx #=@'%:/?&\"\\ a b%41end9Qz";
constexpr std::string_view kToken = "Tk4Rn #=@'%\"\\ x=y tail8Jy";
constexpr std::string_view kMarkers[][2] = {{"Pw7Kx", "end9Qz"},
                                            {"Tk4Rn", "tail8Jy"}};
constexpr const char* kNames[] = {"<PASSWORD>", "<TOKEN>"};

std::string PercentEncoded(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
  return out;
}

// `text` with a backslash before every character in `special`.
std::string Escaped(std::string_view text, std::string_view special) {
  std::string out;
  for (char c : text) {
    if (special.find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string Replaced(std::string text, const std::string& from,
                     const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// Every form in which a secret could be written: as it is, percent-encoded,
// as a JSON string, as a log value, quoted for libpq, escaped for a
// passfile.
std::vector<std::string> Forms(std::string_view secret) {
  const std::string json = nlohmann::json(std::string(secret)).dump();
  return {std::string(secret),
          PercentEncoded(secret),
          json.substr(1, json.size() - 2),
          Escaped(secret, "\"\\"),
          Escaped(secret, "'\\"),
          Escaped(secret, ":\\")};
}

// A SQL string literal.
std::string SqlLiteral(std::string_view text) {
  return "'" + Replaced(std::string(text), "'", "''") + "'";
}

// Polls `ps -eo args` until stopped; keeps every output.
class PsSampler {
 public:
  PsSampler()
      : thread_([this] {
          while (!stop_) {
            samples_.push_back(RunCommand({"ps", "-eo", "args"}).out);
            std::this_thread::sleep_for(Millis(20));
          }
        }) {}
  ~PsSampler() { Stop(); }

  // Stops polling; returns the outputs.
  std::vector<std::string> Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return samples_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::string> samples_;  // written by thread_ until joined
  std::thread thread_;
};

class SecretsTest : public SharedPairTest {
 protected:
  void SetUp() override {
    SharedPairTest::SetUp();
    if (HasFatalFailure()) return;
    const std::string tag = std::to_string(lock_key());
    role_ = "cp_secret_" + tag;
    token_file_ = pair().dir() + "/secret-token-" + tag;
    passfile_ = pair().dir() + "/secret-pgpass-" + tag;
    backup_dir_ = pair().dir() + "/secret-backups-" + tag;
    std::ofstream(token_file_) << kToken << "\n";
    std::ofstream(passfile_) << "*:*:" << database() << ":" << role_ << ":"
                             << Escaped(kPassword, ":\\") << "\n";
    ASSERT_EQ(chmod(passfile_.c_str(), 0600), 0);

    // A role that owns the test's database and may read replication.
    for (const std::string& sql :
         {"DROP ROLE IF EXISTS " + role_,
          "CREATE ROLE " + role_ + " LOGIN PASSWORD " + SqlLiteral(kPassword),
          "GRANT pg_monitor TO " + role_,
          "ALTER DATABASE " + database() + " OWNER TO " + role_}) {
      StatusOr<std::string> done = pair().Psql(PgNode::kPrimary, sql);
      ASSERT_TRUE(done.ok()) << Shown(done.status().message());
    }
  }

  std::string Shown(const std::string& text) const override {
    std::string shown = text;
    const std::string_view secrets[] = {kPassword, kToken};
    for (size_t i = 0; i < 2; ++i) {
      for (const std::string& form : Forms(secrets[i])) {
        shown = Replaced(shown, form, kNames[i]);
      }
      for (std::string_view marker : kMarkers[i]) {
        shown = Replaced(shown, std::string(marker), "<PART-OF-SECRET>");
      }
    }
    return shown;
  }

  // The placeholders of the secrets that `text` holds, or "".
  static std::string Leaks(const std::string& text) {
    std::string found;
    for (size_t i = 0; i < 2; ++i) {
      for (std::string_view marker : kMarkers[i]) {
        if (text.find(marker) != std::string::npos) {
          found += std::string(kNames[i]) + " ";
          break;
        }
      }
    }
    return found;
  }

  std::string Port(PgNode node) { return std::to_string(pair().port(node)); }

  std::string UriForm() {
    return "postgresql://" + role_ + ":" + PercentEncoded(kPassword) + "@" +
           "127.0.0.1:" + Port(PgNode::kPrimary) +
           ",127.0.0.1:" + Port(PgNode::kStandby) + "/" + database() +
           "?target_session_attrs=read-write";
  }
  std::string KeyValueForm() {
    return "host=127.0.0.1,127.0.0.1 port=" + Port(PgNode::kPrimary) + "," +
           Port(PgNode::kStandby) + " dbname=" + database() + " user=" + role_ +
           " target_session_attrs=read-write password='" +
           Escaped(kPassword, "'\\") + "'";
  }
  std::string PassfileForm() {
    return "postgresql://" + role_ + "@" +
           "127.0.0.1:" + Port(PgNode::kPrimary) +
           ",127.0.0.1:" + Port(PgNode::kStandby) + "/" + database() +
           "?target_session_attrs=read-write&passfile=" +
           PercentEncoded(passfile_);
  }

  CommandResult Cli(std::vector<std::string> words) {
    words.insert(words.begin(), {CPHA_SIDECAR_BINARY, "ha"});
    return RunCommand(words, {.timeout = std::chrono::seconds(60)});
  }

  static std::string UrlOf(const SidecarProcess& sidecar) {
    return "http://127.0.0.1:" + std::to_string(sidecar.port());
  }

  // Keeps `text` for the final check, under the name `where`.
  void Keep(const std::string& where, const std::string& text) {
    seen_.emplace_back(where, text);
  }

  // Every health endpoint, /metrics and the landing page of `sidecar`.
  void KeepHealthAnswers(const SidecarProcess& sidecar) {
    for (const char* path :
         {"/v1/health/read-ready", "/v1/health/write-ready",
          "/v1/health/leader", "/v1/health/quorum", "/v1/health/audit",
          "/v1/health/live", "/metrics", "/"}) {
      HttpResult answer = Get(sidecar, path);
      EXPECT_TRUE(answer.ok()) << answer.Describe(path);
      Keep(sidecar.holder_id() + " GET " + path, answer.body);
    }
  }

  // The admin API with the token, without it, with a wrong one, and with
  // bodies it refuses.
  void KeepAdminAnswers(const SidecarProcess& sidecar) {
    const std::string bearer = "Bearer " + std::string(kToken);
    const std::string wrong = bearer.substr(0, bearer.size() - 1) + "!";
    const std::string good = R"({"operator":"op","reason":"secrets test"})";
    struct Call {
      std::string method, path, body, authorization;
    };
    const Call calls[] = {
        {"GET", "/v1/ha/status", "", bearer},
        {"GET", "/v1/ha/quorum", "", ""},
        {"GET", "/v1/ha/backups", "", bearer},
        {"POST", "/v1/ha/failover", good, wrong},
        {"POST", "/v1/ha/failover", good, "Bearer"},
        {"POST", "/v1/ha/failover", good, std::string(kToken)},
        {"POST", "/v1/ha/failover", R"({"operator":"op"})", bearer},
        {"POST", "/v1/ha/backups", good, wrong},
        {"POST", "/v1/ha/backups", good, bearer},
        {"POST", "/v1/ha/backups/restore", good, bearer},
        {"GET", "/v1/ha/failover", "", bearer},
    };
    for (const Call& call : calls) {
      JsonAnswer answer = CurlJson(sidecar.port(), call.method, call.path,
                                   call.body, call.authorization);
      const std::string where = sidecar.holder_id() + " " + call.method + " " +
                                call.path + " -> " +
                                std::to_string(answer.status);
      EXPECT_FALSE(answer.body.is_discarded()) << where << ": not JSON";
      Keep(where, answer.body.dump());
    }
  }

  void KeepCli(const std::string& where, const CommandResult& result) {
    Keep("cli " + where + " stdout", result.out);
    Keep("cli " + where + " stderr", result.err + result.error);
  }

  // The operator CLI: views, a refused failover with a wrong token file,
  // and a backup (pg_dump signs in with the password) with `ps` sampled
  // meanwhile.
  void KeepCliAnswers(const SidecarProcess& leader) {
    const std::string url = UrlOf(leader);
    for (const char* verb : {"status", "quorum"}) {
      CommandResult view = Cli({verb, "--orchestrator-url", url});
      EXPECT_TRUE(view.ok()) << verb << ": " << Shown(view.Describe());
      KeepCli(verb, view);
    }
    const std::string wrong_file = token_file_ + "-wrong";
    std::ofstream(wrong_file) << kToken << "!\n";
    CommandResult refused =
        Cli({"failover", "trigger", "--orchestrator-url", url, "--operator",
             "op", "--reason", "wrong token", "--token-file", wrong_file});
    EXPECT_EQ(refused.exit_code, 1) << Shown(refused.Describe());
    KeepCli("failover with a wrong token", refused);

    PsSampler sampler;
    CommandResult backup =
        Cli({"backup", "create", "--orchestrator-url", url, "--operator", "op",
             "--reason", "secrets test", "--backup-id", "secrets",
             "--output-dir", backup_dir_, "--token-file", token_file_});
    std::vector<std::string> ps = sampler.Stop();
    EXPECT_TRUE(backup.ok()) << "backup create: " << Shown(backup.Describe());
    KeepCli("backup create", backup);
    CommandResult list = Cli({"backup", "list", "--orchestrator-url", url});
    EXPECT_NE(list.out.find("secrets"), std::string::npos)
        << Shown(list.Describe());
    KeepCli("backup list", list);
    for (size_t i = 0; i < ps.size(); ++i) {
      Keep("ps -eo args during the backup, sample " + std::to_string(i), ps[i]);
    }
  }

  // Two sidecars on `url` elect a leader; every answer is kept; a failover
  // through the CLI hands over; then nothing kept holds a secret.
  void ElectServeAndExpectNoSecrets(const std::string& url) {
    const std::vector<std::string> flags = {"--admin-token-file", token_file_,
                                            "--log-level", "debug"};
    SidecarProcess* a =
        StartSidecar({.holder_id = "sec-a", .url = url, .flags = flags});
    SidecarProcess* b =
        StartSidecar({.holder_id = "sec-b", .url = url, .flags = flags});
    ASSERT_TRUE(a != nullptr && b != nullptr);
    SidecarProcess* leader = WaitForWriteReady({a, b}, Millis(15000));
    ASSERT_NE(leader, nullptr) << "no write-ready leader 15 s after start";
    SidecarProcess* follower = leader == a ? b : a;
    ASSERT_TRUE(WaitForFollower(*follower, 1));

    for (SidecarProcess* sidecar : {leader, follower}) {
      KeepHealthAnswers(*sidecar);
      KeepAdminAnswers(*sidecar);
    }
    KeepCliAnswers(*leader);
    Keep("ps -eo args", RunCommand({"ps", "-eo", "args"}).out);

    CommandResult failover =
        Cli({"failover", "trigger", "--orchestrator-url", UrlOf(*leader),
             "--operator", "op", "--reason", "secrets test", "--token-file",
             token_file_});
    EXPECT_TRUE(failover.ok()) << Shown(failover.Describe());
    KeepCli("failover trigger", failover);
    EXPECT_EQ(WaitForWriteReady({follower}, Millis(5000)), follower)
        << follower->holder_id() << " not write-ready 5 s after the failover";
    KeepHealthAnswers(*follower);
    KeepCliAnswersAfterFailover(*follower);

    for (SidecarProcess* sidecar : {a, b}) {
      Keep("log of " + sidecar->holder_id(), sidecar->ReadLog());
    }
    ExpectNoSecretsKept();
    ExpectNeverTwoWriteReady();
  }

  void KeepCliAnswersAfterFailover(const SidecarProcess& leader) {
    CommandResult status = Cli(
        {"status", "--orchestrator-url", UrlOf(leader), "--output", "json"});
    EXPECT_TRUE(status.ok()) << Shown(status.Describe());
    KeepCli("status --output json after the failover", status);
  }

  void ExpectNoSecretsKept() {
    ASSERT_FALSE(seen_.empty());
    size_t lines = 0;
    for (const auto& [where, text] : seen_) {
      size_t start = 0;
      for (size_t number = 1; start < text.size(); ++number) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        const std::string line = text.substr(start, end - start);
        ++lines;
        const std::string leaks = Leaks(line);
        EXPECT_EQ(leaks, "") << where << ", line " << number
                             << ", shows a secret: " << Shown(line);
        start = end + 1;
      }
    }
    std::cout << "[ secrets  ] " << seen_.size() << " texts, " << lines
              << " lines checked\n";
  }

  std::string role_;
  std::string token_file_;
  std::string passfile_;
  std::string backup_dir_;
  std::vector<std::pair<std::string, std::string>> seen_;
};

TEST_F(SecretsTest, UriWithPercentEncodingElectsAndNeverShowsTheSecrets) {
  ElectServeAndExpectNoSecrets(UriForm());
}

TEST_F(SecretsTest, KeyValueStringElectsAndNeverShowsTheSecrets) {
  ElectServeAndExpectNoSecrets(KeyValueForm());
}

TEST_F(SecretsTest, PassfileElectsAndNeverShowsTheSecrets) {
  ElectServeAndExpectNoSecrets(PassfileForm());
}

}  // namespace
}  // namespace cpha::integration
