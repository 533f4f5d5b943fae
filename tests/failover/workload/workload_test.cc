// cp-ha-workload on a real PostgreSQL pair (primary + synchronous standby)
// with real sidecars: the workload's fenced writes survive a graceful
// failover and a killed leader without a stale commit, and the checker
// names the rows of a forged stale write and of a lost acknowledged write.
// The pair runs with track_commit_timestamp = on, which the checker needs
// (lab/pgpair.sh has no flag for it: the fixture sets it with ALTER SYSTEM
// and restarts both nodes).

#include <signal.h>

#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "tests/failover/workload/ack_log.h"
#include "tests/failover/workload/workload_process.h"
#include "tests/integration/curl_request.h"
#include "tests/integration/ha_test_fixture.h"

namespace cpha::workload {
namespace {

using integration::ChildProcess;
using integration::CommandResult;
using integration::FreshPairTest;
using integration::Millis;
using integration::PgNode;
using integration::SidecarProcess;
using integration::WaitUntil;

constexpr const char* kToken = "workload-test-token";
constexpr std::chrono::seconds kSyncTimeout(30);
// Rows each epoch must reach before the next fault.
constexpr int kRowsPerEpoch = 100;

// What a test learns from one cp-ha-workload invocation that exited.
std::string Describe(const CommandResult& result) {
  return result.Describe() + "\nstdout: " + result.out +
         "\nstderr: " + result.err;
}

// A pair whose two nodes record commit timestamps, and helpers to run the
// workload against this test's sidecars.
class WorkloadTest : public FreshPairTest {
 protected:
  void SetUp() override {
    FreshPairTest::SetUp();
    if (HasFatalFailure()) return;
    Status enabled = EnableCommitTimestamps();
    ASSERT_TRUE(enabled.ok()) << enabled.ToString();
  }

  void TearDown() override {
    if (HasFailure()) PrintWorkloadLogs();
    workloads_.clear();  // kills and reaps what still runs
    FreshPairTest::TearDown();
  }

  // ALTER SYSTEM on both nodes, then a restart of both, then a wait until
  // the standby is in sync again.
  Status EnableCommitTimestamps() {
    for (PgNode node : {PgNode::kPrimary, PgNode::kStandby}) {
      StatusOr<std::string> set =
          pair().Psql(node, "ALTER SYSTEM SET track_commit_timestamp = on");
      if (!set.ok()) return set.status();
    }
    for (PgNode node : {PgNode::kStandby, PgNode::kPrimary}) {
      Status stopped = pair().Stop(node);
      if (!stopped.ok()) return stopped;
    }
    for (PgNode node : {PgNode::kPrimary, PgNode::kStandby}) {
      Status started = pair().Start(node);
      if (!started.ok()) return started;
    }
    return pair().WaitSync(kSyncTimeout);
  }

  SidecarProcess* StartSidecarWithToken(const std::string& holder) {
    const std::string token_file = pair().dir() + "/token-" + holder;
    std::ofstream(token_file) << kToken << "\n";
    return StartSidecar(
        {.holder_id = holder, .flags = {"--admin-token-file", token_file}});
  }

  std::string AckLog(const std::string& holder) {
    return pair().dir() + "/ack-" + holder + ".jsonl";
  }

  std::vector<std::string> RunFlags(const SidecarProcess& sidecar,
                                    const std::string& holder) {
    return {"run",
            "--postgres-url",
            pair().MultiUrl(),
            "--sidecar",
            "http://127.0.0.1:" + std::to_string(sidecar.port()),
            "--holder",
            holder,
            "--ack-log",
            AckLog(holder)};
  }

  // Starts cp-ha-workload `args` in the background; its output goes to
  // files named after `name` and is printed if the test fails.
  ChildProcess* StartInBackground(const std::vector<std::string>& args,
                                  const std::string& name) {
    StatusOr<std::unique_ptr<ChildProcess>> started =
        StartWorkloadTool(args, pair().dir() + "/workload-" + name + ".log");
    if (!started.ok()) {
      ADD_FAILURE() << name << ": " << started.status().ToString();
      return nullptr;
    }
    workloads_.push_back(std::move(started.value()));
    return workloads_.back().get();
  }

  // Starts `run` in the background against `sidecar`, with `flags` added.
  ChildProcess* StartWorkload(const SidecarProcess& sidecar,
                              const std::string& holder,
                              const std::vector<std::string>& flags = {}) {
    std::vector<std::string> args = RunFlags(sidecar, holder);
    args.insert(args.end(), flags.begin(), flags.end());
    return StartInBackground(args, holder);
  }

  // Starts `watch` in the background over `sidecars`.
  ChildProcess* StartWatch(const std::vector<SidecarProcess*>& sidecars) {
    std::vector<std::string> args = {"watch"};
    for (const SidecarProcess* sidecar : sidecars) {
      args.insert(
          args.end(),
          {"--sidecar", "http://127.0.0.1:" + std::to_string(sidecar->port())});
    }
    return StartInBackground(args, "watch");
  }

  // Runs `run` against `sidecar` for `duration` and returns its summary
  // (discarded, with a failure, when it did not exit cleanly).
  nlohmann::json RunWorkloadFor(const SidecarProcess& sidecar,
                                const std::string& holder, Millis duration) {
    std::vector<std::string> flags = RunFlags(sidecar, holder);
    flags.insert(flags.end(),
                 {"--duration-ms", std::to_string(duration.count())});
    CommandResult run = RunWorkloadTool(flags);
    EXPECT_TRUE(run.ok()) << Describe(run);
    return LastJsonLine(run.out);
  }

  void CreateTable() {
    CommandResult setup =
        RunWorkloadTool({"setup", "--postgres-url", pair().MultiUrl()});
    ASSERT_TRUE(setup.ok()) << Describe(setup);
  }

  CommandResult Check(const std::vector<std::string>& holders) {
    std::vector<std::string> flags = {"check", "--postgres-url",
                                      pair().MultiUrl()};
    for (const std::string& holder : holders) {
      flags.insert(flags.end(), {"--ack-log", AckLog(holder)});
    }
    return RunWorkloadTool(flags);
  }

  int64_t RowsOfEpoch(int64_t epoch, PgNode node = PgNode::kPrimary) {
    const std::string count =
        Sql("SELECT count(*) FROM ha_workload_writes WHERE epoch = " +
                std::to_string(epoch),
            node);
    return count.empty() ? 0 : std::stoll(count);
  }

  // Waits until `epoch` has kRowsPerEpoch rows on `node`.
  bool WaitForRowsOfEpoch(int64_t epoch, PgNode node = PgNode::kPrimary) {
    return WaitUntil([&] { return RowsOfEpoch(epoch, node) >= kRowsPerEpoch; },
                     Millis(10000), Millis(50))
        .has_value();
  }

  int64_t EpochOf(const SidecarProcess& sidecar) {
    return Leader(sidecar).value("current_epoch", int64_t{-1});
  }

  // The epoch of the first of `sidecars` found write-ready with an epoch
  // above `floor`; 0 after `timeout`.
  int64_t WaitForEpochAbove(int64_t floor,
                            const std::vector<SidecarProcess*>& sidecars,
                            Millis timeout) {
    int64_t epoch = 0;
    auto led = WaitUntil(
        [&] {
          SidecarProcess* leader = WaitForWriteReady(sidecars, Millis(100));
          epoch = leader == nullptr ? 0 : EpochOf(*leader);
          return epoch > floor;
        },
        timeout);
    return led.has_value() ? epoch : 0;
  }

 private:
  void PrintWorkloadLogs() {
    for (const auto& workload : workloads_) {
      std::cout << "----- log of cp-ha-workload pid " << workload->pid() << " "
                << workload->log_path() << " -----\n"
                << workload->ReadLog() << "----- end of log -----\n";
    }
  }

  std::vector<std::unique_ptr<ChildProcess>> workloads_;
};

TEST_F(WorkloadTest, CheckPassesAfterAGracefulFailoverAndAKilledLeader) {
  SidecarProcess* a = StartSidecarWithToken("wl-side-a");
  SidecarProcess* b = StartSidecarWithToken("wl-side-b");
  SidecarProcess* second = nullptr;
  SidecarProcess* first = WaitForLeaderAndFollower(a, b, &second);
  ASSERT_NE(first, nullptr);
  ASSERT_NO_FATAL_FAILURE(CreateTable());

  // Each sidecar's pod writes, one with each fence mode; the watch
  // subcommand watches both sidecars.
  ChildProcess* writes_a = StartWorkload(*a, "wl-a");
  ChildProcess* writes_b =
      StartWorkload(*b, "wl-b", {"--fence-mode", "exclusive"});
  ChildProcess* watch = StartWatch({a, b});
  ASSERT_TRUE(writes_a != nullptr && writes_b != nullptr && watch != nullptr);
  ASSERT_TRUE(WaitForRowsOfEpoch(1))
      << "epoch 1: " << RowsOfEpoch(1) << " rows";

  // Graceful failover: the leader resigns, the other takes epoch 2.
  integration::JsonAnswer resigned =
      integration::CurlJson(first->port(), "POST", "/v1/ha/failover",
                            R"({"operator":"wl","reason":"workload test"})",
                            std::string("Bearer ") + kToken);
  ASSERT_EQ(resigned.status, 200) << resigned.body.dump();
  ASSERT_EQ(WaitForWriteReady({second}, Millis(5000)), second)
      << second->holder_id() << " not write-ready 5 s after the failover";
  ASSERT_EQ(EpochOf(*second), 2);
  ASSERT_TRUE(WaitForRowsOfEpoch(2))
      << "epoch 2: " << RowsOfEpoch(2) << " rows";

  // kill -9 of the leader: the first sidecar takes epoch 3.
  ASSERT_TRUE(second->Kill(SIGKILL));
  ASSERT_TRUE(second->WaitExit(Millis(5000)).has_value());
  ASSERT_EQ(WaitForWriteReady({first}, Millis(10000)), first)
      << first->holder_id() << " not write-ready 10 s after the kill";
  ASSERT_EQ(EpochOf(*first), 3);
  ASSERT_TRUE(WaitForRowsOfEpoch(3))
      << "epoch 3: " << RowsOfEpoch(3) << " rows";

  StatusOr<nlohmann::json> summary_a = StopWorkloadTool(*writes_a);
  StatusOr<nlohmann::json> summary_b = StopWorkloadTool(*writes_b);
  StatusOr<nlohmann::json> watched = StopWorkloadTool(*watch);
  ASSERT_TRUE(summary_a.ok()) << summary_a.status().ToString();
  ASSERT_TRUE(summary_b.ok()) << summary_b.status().ToString();
  EXPECT_TRUE(watched.ok()) << "watch saw two write-ready sidecars or failed: "
                            << watched.status().ToString();
  std::cout << "[ workload ] " << summary_a->dump() << "\n"
            << "[ workload ] " << summary_b->dump() << "\n";
  if (watched.ok()) {
    std::cout << "[ watch    ] " << watched->dump() << "\n";
    EXPECT_GT(watched.value()["rounds"].get<int64_t>(), 0) << watched->dump();
  }

  EXPECT_EQ(summary_b.value()["fence_mode"], "exclusive");
  const int64_t committed = summary_a.value()["committed"].get<int64_t>() +
                            summary_b.value()["committed"].get<int64_t>();
  const int64_t rejected = summary_a.value()["rejected"].get<int64_t>() +
                           summary_b.value()["rejected"].get<int64_t>();
  EXPECT_GT(rejected, 0) << "no write with a stale epoch was attempted: the "
                            "stale grace did not outlast a takeover";

  CommandResult check = Check({"wl-a", "wl-b"});
  EXPECT_EQ(check.exit_code, 0) << Describe(check);
  const nlohmann::json verdict = LastJsonLine(check.out);
  ASSERT_TRUE(verdict.is_object()) << Describe(check);
  std::cout << "[ check    ] " << verdict.dump() << "\n";
  EXPECT_EQ(verdict["violations"], 0) << verdict.dump();
  EXPECT_GE(verdict["epochs"].size(), 2u) << verdict.dump();
  EXPECT_EQ(verdict["acks"], committed) << verdict.dump();
  EXPECT_GE(verdict["rows"].get<int64_t>(), committed) << verdict.dump();
  RecordProperty("committed", std::to_string(committed));
  RecordProperty("rejected", std::to_string(rejected));
  ExpectNeverTwoWriteReady();
}

TEST_F(WorkloadTest, CheckPassesWhenTheStandbyIsPromotedUnderTheWorkload) {
  // The promoted standby has no standby of its own: require none.
  const std::string url = pair().MultiUrl();
  SidecarProcess* a = StartSidecar(
      {.holder_id = "pro-side-a", .url = url, .min_sync_replicas = 0});
  SidecarProcess* b = StartSidecar(
      {.holder_id = "pro-side-b", .url = url, .min_sync_replicas = 0});
  ASSERT_TRUE(a != nullptr && b != nullptr);
  SidecarProcess* first = WaitForWriteReady({a, b}, Millis(10000));
  ASSERT_NE(first, nullptr) << "no leader 10 s after start";
  ASSERT_TRUE(WaitForFollower(first == a ? *b : *a, 1));
  ASSERT_NO_FATAL_FAILURE(CreateTable());
  ChildProcess* writes_a = StartWorkload(*a, "wl-pro-a");
  ChildProcess* writes_b = StartWorkload(*b, "wl-pro-b");
  ASSERT_TRUE(writes_a != nullptr && writes_b != nullptr);
  ASSERT_TRUE(WaitForRowsOfEpoch(1))
      << "epoch 1: " << RowsOfEpoch(1) << " rows";

  // The primary's postmaster dies; the standby is promoted; the writers
  // reconnect through the multi-host URL to the new primary.
  Status killed = pair().Kill(PgNode::kPrimary);
  ASSERT_TRUE(killed.ok()) << killed.ToString();
  Status promoted = pair().Promote();
  ASSERT_TRUE(promoted.ok()) << promoted.ToString();
  const int64_t epoch = WaitForEpochAbove(1, {a, b}, Millis(15000));
  ASSERT_GT(epoch, 1) << "no sidecar leads a new epoch 15 s after the "
                         "promotion";
  ASSERT_TRUE(WaitForRowsOfEpoch(epoch, PgNode::kStandby))
      << "epoch " << epoch << ": " << RowsOfEpoch(epoch, PgNode::kStandby)
      << " rows on the promoted standby";

  StatusOr<nlohmann::json> summary_a = StopWorkloadTool(*writes_a);
  StatusOr<nlohmann::json> summary_b = StopWorkloadTool(*writes_b);
  ASSERT_TRUE(summary_a.ok()) << summary_a.status().ToString();
  ASSERT_TRUE(summary_b.ok()) << summary_b.status().ToString();
  std::cout << "[ workload ] " << summary_a->dump() << "\n"
            << "[ workload ] " << summary_b->dump() << "\n";
  const int64_t errors = summary_a.value()["errors"].get<int64_t>() +
                         summary_b.value()["errors"].get<int64_t>();
  EXPECT_GT(errors, 0) << "no write failed while the primary was dead";

  // Every acknowledged write reached the standby before it was promoted.
  CommandResult check = Check({"wl-pro-a", "wl-pro-b"});
  EXPECT_EQ(check.exit_code, 0) << Describe(check);
  const nlohmann::json verdict = LastJsonLine(check.out);
  std::cout << "[ check    ] " << verdict.dump() << "\n";
  EXPECT_EQ(verdict["violations"], 0) << verdict.dump();
  EXPECT_GE(verdict["epochs"].size(), 2u) << verdict.dump();
  ExpectNeverTwoWriteReady();
}

struct ForgedRow {
  std::string name;
  // Inserted directly, bypassing the fence, after the workload's rows.
  std::string insert;
  std::string kind;
};

TEST_F(WorkloadTest, CheckExitsOneAndNamesAForgedRow) {
  // Epoch 2: the first sidecar dies, the second wins.
  SidecarProcess* a = StartSidecar({.holder_id = "forge-a"});
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(WaitForWriteReady({a}, Millis(10000)), a);
  ASSERT_TRUE(a->Kill(SIGKILL));
  SidecarProcess* b = StartSidecar({.holder_id = "forge-b"});
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(WaitForWriteReady({b}, Millis(10000)), b);
  ASSERT_EQ(EpochOf(*b), 2);
  ASSERT_NO_FATAL_FAILURE(CreateTable());
  const nlohmann::json run = RunWorkloadFor(*b, "wl-forge", Millis(1000));
  ASSERT_GT(run.value("committed", 0), 0) << run.dump();
  CommandResult clean = Check({"wl-forge"});
  ASSERT_EQ(clean.exit_code, 0) << Describe(clean);

  const std::string insert =
      "INSERT INTO ha_workload_writes (epoch, fenced_epoch, holder, "
      "client_seq) VALUES ";
  const std::vector<ForgedRow> cases = {
      {"a lower epoch committed after a higher one",
       insert + "(1, 1, 'forger', 1)", "epoch_regression"},
      {"an epoch the fence did not return", insert + "(2, 1, 'forger', 2)",
       "fence_mismatch"},
  };
  for (const ForgedRow& input : cases) {
    const std::vector<std::vector<std::string>> inserted =
        integration::SplitRows(Sql(input.insert + " RETURNING id"));
    ASSERT_FALSE(inserted.empty() || inserted[0].empty()) << input.name;
    const std::string id = inserted[0][0];

    CommandResult check = Check({"wl-forge"});

    EXPECT_EQ(check.exit_code, 1) << input.name << ": " << Describe(check);
    EXPECT_NE(check.err.find(input.kind + ": row id=" + id + " "),
              std::string::npos)
        << input.name << ": stderr does not name row " << id << ": "
        << check.err;
    const nlohmann::json verdict = LastJsonLine(check.out);
    EXPECT_EQ(verdict["violations"], 1) << input.name << ": " << check.out;
    EXPECT_EQ(verdict["offending"][0]["kind"], input.kind)
        << input.name << ": " << check.out;
    EXPECT_EQ(verdict["offending"][0]["row"]["id"], std::stoll(id))
        << input.name << ": " << check.out;
    Sql("DELETE FROM ha_workload_writes WHERE id = " + id);
  }
  ExpectNeverTwoWriteReady();
}

TEST_F(WorkloadTest, CheckExitsOneAndNamesADeletedAcknowledgedWrite) {
  SidecarProcess* sidecar = StartSidecar({.holder_id = "lost-a"});
  ASSERT_NE(sidecar, nullptr);
  ASSERT_EQ(WaitForWriteReady({sidecar}, Millis(10000)), sidecar);
  ASSERT_NO_FATAL_FAILURE(CreateTable());
  const nlohmann::json run = RunWorkloadFor(*sidecar, "wl-lost", Millis(1000));
  ASSERT_GT(run.value("committed", 0), 2) << run.dump();
  StatusOr<std::vector<Ack>> acks = ReadAckLog(AckLog("wl-lost"));
  ASSERT_TRUE(acks.ok()) << acks.status().ToString();
  ASSERT_EQ(static_cast<int64_t>(acks->size()), run["committed"].get<int64_t>())
      << "the ack log holds one line per commit";
  CommandResult clean = Check({"wl-lost"});
  ASSERT_EQ(clean.exit_code, 0) << Describe(clean);

  const Ack& victim = acks.value()[acks->size() / 2];
  Sql("DELETE FROM ha_workload_writes WHERE id = " + std::to_string(victim.id));
  CommandResult check = Check({"wl-lost"});

  EXPECT_EQ(check.exit_code, 1) << Describe(check);
  const std::string named = "lost_write: ack holder=wl-lost client_seq=" +
                            std::to_string(victim.client_seq) + " ";
  EXPECT_NE(check.err.find(named), std::string::npos)
      << "stderr does not name client_seq " << victim.client_seq << ": "
      << check.err;
  const nlohmann::json verdict = LastJsonLine(check.out);
  EXPECT_EQ(verdict["violations_by_kind"]["lost_write"], 1) << check.out;
  EXPECT_EQ(verdict["offending"][0]["ack"]["id"], victim.id) << check.out;
  ExpectNeverTwoWriteReady();
}

// The pair as lab/pgpair.sh makes it: track_commit_timestamp is off.
class WorkloadWithoutCommitTimestampsTest : public FreshPairTest {};

TEST_F(WorkloadWithoutCommitTimestampsTest, CheckExitsTwoAndSaysWhy) {
  ASSERT_NE(StartSidecar({.holder_id = "no-ts"}), nullptr);
  CommandResult setup =
      RunWorkloadTool({"setup", "--postgres-url", pair().MultiUrl()});
  ASSERT_TRUE(setup.ok()) << Describe(setup);

  CommandResult check =
      RunWorkloadTool({"check", "--postgres-url", pair().MultiUrl()});

  EXPECT_EQ(check.exit_code, 2) << Describe(check);
  EXPECT_NE(check.err.find("track_commit_timestamp is off"), std::string::npos)
      << check.err;
  EXPECT_EQ(LastJsonLine(check.out)["checked"], false) << check.out;
  ExpectNeverTwoWriteReady();
}

}  // namespace
}  // namespace cpha::workload
