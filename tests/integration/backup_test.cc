// Issue #4 on a real PostgreSQL pair: backups with pg_dump, restore with
// pg_restore in maintenance mode (the epoch never goes backwards), the
// refusals of bad backup requests, and HTTPS on the listener.

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/command.h"
#include "tests/integration/curl_request.h"
#include "tests/integration/ha_test_fixture.h"

namespace cpha::integration {
namespace {

constexpr const char* kToken = "backup-t0ken";

// pg_restore of the pair's PostgreSQL 15, else the one on PATH.
std::string PgRestore() {
  const std::string pinned = "/usr/lib/postgresql/15/bin/pg_restore";
  return access(pinned.c_str(), X_OK) == 0 ? pinned : "pg_restore";
}

std::string FirstBytes(const std::string& path, size_t count) {
  std::ifstream file(path, std::ios::binary);
  std::string bytes(count, '\0');
  file.read(bytes.data(), static_cast<std::streamsize>(count));
  bytes.resize(static_cast<size_t>(file.gcount()));
  return bytes;
}

class BackupTest : public SharedPairTest {
 protected:
  void SetUp() override {
    SharedPairTest::SetUp();
    const std::string tag = std::to_string(lock_key());
    token_file_ = pair().dir() + "/backup-token-" + tag;
    std::ofstream(token_file_) << kToken << "\n";
    backup_dir_ = pair().dir() + "/backups-" + tag;
  }

  SidecarProcess* StartWithToken(const std::string& holder,
                                 bool maintenance = false) {
    std::vector<std::string> flags = {"--admin-token-file", token_file_};
    if (maintenance) flags.push_back("--maintenance");
    return StartSidecar({.holder_id = holder, .flags = flags});
  }

  std::string UrlOf(const SidecarProcess& sidecar) {
    return "http://127.0.0.1:" + std::to_string(sidecar.port());
  }

  CommandResult Cli(std::vector<std::string> words) {
    words.insert(words.begin(), {CPHA_SIDECAR_BINARY, "ha"});
    return RunCommand(words, {.timeout = std::chrono::seconds(60)});
  }

  CommandResult CreateBackup(const SidecarProcess& sidecar,
                             const std::string& id) {
    return Cli({"backup", "create", "--orchestrator-url", UrlOf(sidecar),
                "--operator", "local-verify", "--reason",
                "PR-13 local verification", "--backup-id", id, "--output-dir",
                backup_dir_, "--token-file", token_file_});
  }

  JsonAnswer Curl(const SidecarProcess& sidecar, const std::string& method,
                  const std::string& path, const std::string& body,
                  const std::string& authorization) {
    return CurlJson(sidecar.port(), method, path, body, authorization);
  }

  int64_t DurableEpoch() {
    return std::atoll(
        Sql("SELECT current_epoch FROM leadership_state").c_str());
  }

  std::string token_file_;
  std::string backup_dir_;
};

TEST_F(BackupTest, RestoreInMaintenanceModeBringsTheProbeRowBack) {
  SidecarProcess* leader = StartWithToken("bak-a");
  ASSERT_NE(leader, nullptr);
  ASSERT_EQ(WaitForWriteReady({leader}, Millis(10000)), leader);
  Sql("CREATE TABLE probe (id int PRIMARY KEY, value text NOT NULL)");
  Sql("INSERT INTO probe VALUES (1, 'before backup')");

  // Back up, then check the file as the runbook does.
  CommandResult created = CreateBackup(*leader, "backup-pr13-local");
  ASSERT_TRUE(created.ok()) << created.Describe();
  EXPECT_NE(created.out.find("Backup backup-pr13-local created"),
            std::string::npos)
      << created.out;
  const std::string file = backup_dir_ + "/backup-pr13-local.dump";
  EXPECT_EQ(FirstBytes(file, 5), "PGDMP");
  CommandResult listed_dump = RunCommand({PgRestore(), "-l", file});
  ASSERT_TRUE(listed_dump.ok()) << listed_dump.Describe();
  EXPECT_NE(listed_dump.out.find("TABLE DATA public probe"), std::string::npos)
      << listed_dump.out;
  EXPECT_NE(listed_dump.out.find("leadership_state"), std::string::npos);
  CommandResult listed = Cli({"backup", "list", "--orchestrator-url",
                              UrlOf(*leader), "--output", "json"});
  ASSERT_TRUE(listed.ok()) << listed.Describe();
  nlohmann::json inventory = nlohmann::json::parse(listed.out, nullptr, false);
  ASSERT_TRUE(inventory.is_object()) << listed.out;
  ASSERT_EQ(inventory["backups"].size(), 1u) << listed.out;
  EXPECT_EQ(inventory["backups"][0]["epoch"], 1);
  EXPECT_EQ(inventory["backups"][0]["size_bytes"],
            static_cast<int64_t>(std::filesystem::file_size(file)));
  EXPECT_EQ(inventory["backups"][0]["checksum"].get<std::string>().size(),
            7u + 64u);

  // Mutate, then move leadership on so that the dump's epoch is old.
  Sql("UPDATE probe SET value = 'after backup' WHERE id = 1");
  leader->Kill(SIGTERM);
  ASSERT_TRUE(leader->WaitExit(Millis(5000)).has_value());
  SidecarProcess* keeper = StartWithToken("bak-b", /*maintenance=*/true);
  ASSERT_NE(keeper, nullptr);
  ASSERT_TRUE(
      WaitUntil([&] { return Leader(*keeper).value("current_epoch", 0) == 2; },
                Millis(10000)))
      << "the maintenance node did not take epoch 2";
  const int64_t highest_before =
      std::atoll(Sql("SELECT greatest(max(epoch), (SELECT current_epoch FROM "
                     "leadership_state)) FROM leader_epochs")
                     .c_str());
  ASSERT_EQ(highest_before, 2);

  CommandResult restored = Cli(
      {"backup", "restore", "--orchestrator-url", UrlOf(*keeper), "--backup-id",
       "backup-pr13-local", "--operator", "local-verify", "--reason",
       "PR-13 restore verification", "--confirm", "--token-file", token_file_});
  ASSERT_TRUE(restored.ok()) << restored.Describe();
  EXPECT_NE(restored.out.find("Restored backup backup-pr13-local"),
            std::string::npos)
      << restored.out;

  EXPECT_EQ(Sql("SELECT value FROM probe WHERE id = 1"), "before backup");
  EXPECT_GT(DurableEpoch(), highest_before);
  EXPECT_EQ(Sql("SELECT operation, operator, result FROM ha_operations "
                "WHERE operation = 'restore'"),
            "restore|local-verify|restored backup-pr13-local");
  // The node leads again on an epoch above every one before the restore.
  EXPECT_TRUE(WaitUntil(
      [&] {
        return Leader(*keeper).value("session_lock_held", false) &&
               Leader(*keeper).value("current_epoch", 0) > highest_before + 1;
      },
      Millis(10000)))
      << Leader(*keeper).dump();
  EXPECT_EQ(Sql("SELECT count(*) FROM leader_epochs WHERE epoch <= 2"), "1")
      << "the restored history holds only the epoch of the backup";
  EXPECT_EQ(keeper->ReadLog().find("went backwards"), std::string::npos)
      << "a session saw the restored, older epoch";
  ExpectNeverTwoWriteReady();
}

TEST_F(BackupTest, RefusesBadBackupRequestsWithAJsonReasonAndChangesNothing) {
  SidecarProcess* leader = StartWithToken("bak-bad");
  ASSERT_NE(leader, nullptr);
  ASSERT_EQ(WaitForWriteReady({leader}, Millis(10000)), leader);
  SidecarProcess* keeper = StartWithToken("bak-maint", /*maintenance=*/true);
  ASSERT_NE(keeper, nullptr);
  ASSERT_TRUE(CreateBackup(*leader, "kept").ok());
  const std::string bearer = std::string("Bearer ") + kToken;
  auto backup = [&](const std::string& id_json) {
    return R"({"operator":"op","reason":"test","output_dir":")" + backup_dir_ +
           R"(","backup_id":)" + id_json + "}";
  };
  auto restore = [](const std::string& id_json, const std::string& confirm) {
    return R"({"operator":"op","reason":"test","backup_id":)" + id_json +
           confirm + "}";
  };

  struct Case {
    std::string name;
    SidecarProcess* sidecar;
    std::string path;
    std::string body;
    std::string authorization;
    int expected_status;
  };
  const std::string create = "/v1/ha/backups";
  const std::string restore_path = "/v1/ha/backups/restore";
  const std::vector<Case> cases = {
      {"no token", leader, create, backup(R"("b1")"), "", 401},
      {"wrong token", leader, create, backup(R"("b1")"), "Bearer nope", 401},
      {"not JSON", leader, create, "backup_id=b1", bearer, 400},
      {"missing operator", leader, create,
       R"({"reason":"r","backup_id":"b1","output_dir":"/tmp"})", bearer, 400},
      {"missing reason", leader, create,
       R"({"operator":"o","backup_id":"b1","output_dir":"/tmp"})", bearer, 400},
      {"missing backup_id", leader, create,
       R"({"operator":"o","reason":"r","output_dir":"/tmp"})", bearer, 400},
      {"id with a slash", leader, create, backup(R"("a/b")"), bearer, 400},
      {"id ..", leader, create, backup(R"("..")"), bearer, 400},
      {"id with ..", leader, create, backup(R"("x..y")"), bearer, 400},
      {"id with NUL", leader, create, backup(R"("a\u0000b")"), bearer, 400},
      {"relative output_dir", leader, create,
       R"({"operator":"o","reason":"r","backup_id":"b1","output_dir":"x"})",
       bearer, 400},
      {"output_dir with ..", leader, create,
       R"({"operator":"o","reason":"r","backup_id":"b1",)"
       R"("output_dir":"/tmp/../etc"})",
       bearer, 400},
      {"id taken", leader, create, backup(R"("kept")"), bearer, 409},
      {"oversized body", leader, create, std::string(100 * 1024, 'x'), bearer,
       413},
      {"restore without confirm", keeper, restore_path,
       restore(R"("kept")", ""), bearer, 400},
      {"restore confirm false", keeper, restore_path,
       restore(R"("kept")", R"(,"confirm":false)"), bearer, 400},
      {"restore confirm as text", keeper, restore_path,
       restore(R"("kept")", R"(,"confirm":"yes")"), bearer, 400},
      {"restore outside maintenance", leader, restore_path,
       restore(R"("kept")", R"(,"confirm":true)"), bearer, 409},
      {"restore unknown id", keeper, restore_path,
       restore(R"("nope")", R"(,"confirm":true)"), bearer, 404},
      {"restore no token", keeper, restore_path,
       restore(R"("kept")", R"(,"confirm":true)"), "", 401},
      {"restore wrong token", keeper, restore_path,
       restore(R"("kept")", R"(,"confirm":true)"), "Bearer x", 401},
      {"restore id with a slash", keeper, restore_path,
       restore(R"("../kept")", R"(,"confirm":true)"), bearer, 400},
      {"restore id with NUL", keeper, restore_path,
       restore(R"("kept\u0000")", R"(,"confirm":true)"), bearer, 400},
      {"restore not JSON", keeper, restore_path, "{", bearer, 400},
      {"restore missing operator", keeper, restore_path,
       R"({"reason":"r","backup_id":"kept","confirm":true})", bearer, 400},
  };
  for (const Case& input : cases) {
    JsonAnswer answer = Curl(*input.sidecar, "POST", input.path, input.body,
                             input.authorization);
    EXPECT_EQ(answer.status, input.expected_status) << input.name;
    EXPECT_TRUE(answer.body.is_object() && answer.body.contains("error"))
        << input.name << ": " << answer.body.dump();
  }

  // Nothing changed: one backup, one file, one operation, the same leader.
  JsonAnswer list = Curl(*leader, "GET", create, "", "");
  EXPECT_EQ(list.status, 200) << "the inventory needs no token";
  EXPECT_EQ(list.body["backups"].size(), 1u) << list.body.dump();
  EXPECT_EQ(Sql("SELECT string_agg(id, ',') FROM backup_inventory"), "kept");
  EXPECT_EQ(Sql("SELECT string_agg(operation, ',') FROM ha_operations"),
            "backup");
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(backup_dir_)) {
    EXPECT_EQ(entry.path().filename(), "kept.dump");
    ++files;
  }
  EXPECT_EQ(files, 1u);
  EXPECT_TRUE(IsWriteReady(*leader)) << "a refused request changed the leader";
  EXPECT_EQ(DurableEpoch(), 1);
  ExpectNeverTwoWriteReady();
}

// A pg_dump that records how it was started and then hangs: the password
// reaches it only through a 0600 passfile, the timeout kills it, nothing is
// left behind, and the health endpoints answer meanwhile.
TEST_F(BackupTest, HungDumpTimesOutLeavesNothingAndNeverShowsThePassword) {
  const std::string bin = backup_dir_ + "-bin";
  std::filesystem::create_directories(bin);
  const std::string seen = bin + "/seen";
  std::ofstream(bin + "/pg_dump")
      << "#!/bin/sh\n"
      << "echo \"$@\" > " << seen << ".args\n"
      << "env > " << seen << ".env\n"
      << "stat -c %a \"$PGPASSFILE\" > " << seen << ".mode\n"
      << "cat \"$PGPASSFILE\" > " << seen << ".pass\n"
      << "exec sleep 30\n";
  std::ofstream(bin + "/pg_restore") << "#!/bin/sh\nexit 1\n";
  for (const char* tool : {"/pg_dump", "/pg_restore"}) {
    std::filesystem::permissions(bin + tool, std::filesystem::perms::owner_all);
  }
  SidecarProcess* leader =
      StartSidecar({.holder_id = "bak-hung",
                    .flags = {"--admin-token-file", token_file_, "--pg-bin-dir",
                              bin, "--backup-timeout", "1500ms"}});
  ASSERT_NE(leader, nullptr);
  ASSERT_EQ(WaitForWriteReady({leader}, Millis(10000)), leader);

  // The health endpoint is polled while the backup waits on pg_dump.
  std::atomic<bool> done{false};
  double slowest_ms = 0;
  std::thread poller([&] {
    while (!done) {
      auto start = std::chrono::steady_clock::now();
      Get(*leader, "/v1/health/write-ready");
      slowest_ms = std::max(slowest_ms,
                            ToMillis(std::chrono::steady_clock::now() - start));
      std::this_thread::sleep_for(Millis(20));
    }
  });
  auto start = std::chrono::steady_clock::now();
  CommandResult hung = CreateBackup(*leader, "hung");
  const double took_ms = ToMillis(std::chrono::steady_clock::now() - start);
  done = true;
  poller.join();

  EXPECT_EQ(hung.exit_code, 1) << hung.Describe();
  EXPECT_NE(hung.err.find("504"), std::string::npos) << hung.err;
  EXPECT_LT(took_ms, 5000) << "the timeout did not end the dump";
  EXPECT_LT(slowest_ms, 500) << "a health probe waited on the backup";
  EXPECT_EQ(Sql("SELECT count(*) FROM backup_inventory"), "0");
  EXPECT_EQ(Sql("SELECT count(*) FROM ha_operations"), "0");
  EXPECT_TRUE(std::filesystem::is_empty(backup_dir_))
      << "a partial dump was left behind";

  auto read = [](const std::string& path) {
    std::ifstream file(path);
    return std::string(std::istreambuf_iterator<char>(file), {});
  };
  EXPECT_EQ(Trim(read(seen + ".mode")), "600");
  EXPECT_NE(read(seen + ".pass").find("postgres"), std::string::npos)
      << "the passfile holds the password";
  EXPECT_EQ(read(seen + ".args").find("password"), std::string::npos)
      << read(seen + ".args");
  EXPECT_EQ(read(seen + ".env").find("PGPASSWORD"), std::string::npos);
  EXPECT_NE(read(seen + ".env").find("PGPASSFILE="), std::string::npos);
  EXPECT_NE(read(seen + ".args").find("application_name='cp-ha:bak-hung:"),
            std::string::npos)
      << read(seen + ".args");
  ExpectNeverTwoWriteReady();
}

CommandResult Cli(std::vector<std::string> words) {
  words.insert(words.begin(), {CPHA_SIDECAR_BINARY, "ha"});
  return RunCommand(words, {.timeout = std::chrono::seconds(20)});
}

TEST(BackupCliTest, RefusesARestoreWithoutConfirmAndABackupWithoutId) {
  CommandResult unconfirmed =
      Cli({"backup", "restore", "--orchestrator-url", "http://127.0.0.1:1",
           "--backup-id", "x", "--operator", "o", "--reason", "r"});
  EXPECT_EQ(unconfirmed.exit_code, 2) << unconfirmed.Describe();
  EXPECT_NE(unconfirmed.err.find("--confirm"), std::string::npos);
  CommandResult no_id =
      Cli({"backup", "create", "--orchestrator-url", "http://127.0.0.1:1",
           "--operator", "o", "--reason", "r"});
  EXPECT_EQ(no_id.exit_code, 2) << no_id.Describe();
  EXPECT_NE(no_id.err.find("--backup-id"), std::string::npos);
  CommandResult down = Cli({"backup", "list", "--orchestrator-url",
                            "http://127.0.0.1:1", "--timeout", "2000"});
  EXPECT_EQ(down.exit_code, 3) << down.Describe();
}

// HTTPS on the listener: a self-signed certificate made with openssl, the
// health endpoint answered over TLS, and a plain-HTTP client on the TLS
// port refused without harming the process.
TEST(HttpsListenerTest, ServesTheHealthEndpointsOverTls) {
  if (!OnPath("openssl") || !OnPath("curl")) {
    GTEST_SKIP() << "openssl or curl not installed";
  }
  char pattern[] = "/tmp/cpha-tls-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const std::string dir = pattern;
  CommandResult made =
      RunCommand({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                  "-keyout", dir + "/key.pem", "-out", dir + "/cert.pem",
                  "-days", "1", "-subj", "/CN=localhost"});
  ASSERT_TRUE(made.ok()) << made.Describe();
  {
    std::ofstream pem(dir + "/sidecar.pem");
    pem << std::ifstream(dir + "/cert.pem").rdbuf()
        << std::ifstream(dir + "/key.pem").rdbuf();
  }

  SidecarConfig config;
  config.binary = CPHA_SIDECAR_BINARY;
  // No database: the health endpoints answer all the same.
  config.postgres_url = "host=127.0.0.1 port=1 dbname=none";
  config.holder_id = "tls";
  config.log_path = dir + "/sidecar.log";
  config.flags = {"--tls-cert-file", dir + "/sidecar.pem"};
  StatusOr<std::unique_ptr<SidecarProcess>> sidecar =
      SidecarProcess::Start(config);
  ASSERT_TRUE(sidecar.ok()) << sidecar.status().ToString();
  const std::string port = std::to_string(sidecar.value()->port());

  auto https = [&] {
    return RunCommand({"curl", "-s", "--cacert", dir + "/cert.pem", "-w",
                       "\n%{http_code}",
                       "https://localhost:" + port + "/v1/health/leader"});
  };
  CommandResult secure = https();
  ASSERT_TRUE(secure.ok()) << secure.Describe();
  EXPECT_NE(secure.out.find("\"current_epoch\""), std::string::npos)
      << secure.out;
  EXPECT_EQ(secure.out.substr(secure.out.rfind('\n') + 1), "200");

  CommandResult plain =
      RunCommand({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                  "http://127.0.0.1:" + port + "/v1/health/leader"});
  EXPECT_NE(plain.out, "200") << "plain HTTP answered on the TLS port";
  CommandResult again = https();
  EXPECT_TRUE(again.ok()) << "the sidecar did not survive a plain-HTTP "
                             "client: "
                          << again.Describe() << "\n"
                          << sidecar.value()->ReadLog();
  sidecar.value().reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cpha::integration
