#include "tests/failover/fault_fixture.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/integration/command.h"
#include "tests/integration/http_get.h"

namespace cpha::failover {
namespace {

using integration::CommandResult;
using integration::HttpGet;
using integration::HttpGetAll;
using integration::HttpResult;
using integration::RunCommand;
using integration::SidecarConfig;
using integration::SidecarProcess;
using integration::ToMillis;
using integration::WaitUntil;

constexpr const char* kSidecarBinary = CPHA_SIDECAR_BINARY;
constexpr const char* kWorkloadBinary = CPHA_WORKLOAD_BINARY;
constexpr const char* kHolders[2] = {"pod-a", "pod-b"};
constexpr std::chrono::seconds kHealTimeout(120);
constexpr Millis kPoll(10);
// Patroni's own work (demote, promote, rejoin the old primary as the
// synchronous standby) bounds these; the sidecar's share is milliseconds.
constexpr Millis kPatroniTakeoverTimeout(60000);

double Percentile(std::vector<double> values, double quantile) {
  std::sort(values.begin(), values.end());
  size_t rank = static_cast<size_t>(
      std::ceil(quantile * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

nlohmann::json Summarize(
    const std::map<std::string, std::vector<double>>& takeovers) {
  nlohmann::json summary = nlohmann::json::object();
  for (const auto& [kind, values] : takeovers) {
    summary[kind] = {{"n", values.size()},
                     {"p50_ms", Percentile(values, 0.50)},
                     {"p99_ms", Percentile(values, 0.99)},
                     {"max_ms", Percentile(values, 1.0)}};
  }
  return summary;
}

}  // namespace

std::unique_ptr<PatroniLab> FaultTest::lab_;
std::string FaultTest::lab_error_;
std::map<std::string, std::vector<double>> FaultTest::takeovers_;
std::map<std::string, int64_t> FaultTest::totals_;

const char* FaultName(Fault fault) {
  switch (fault) {
    case Fault::kSwitchover:
      return "switchover";
    case Fault::kFailover:
      return "failover";
    case Fault::kKillPostmaster:
      return "kill_postmaster";
    case Fault::kStandbyLoss:
      return "standby_loss";
    case Fault::kPartition:
      return "partition";
    case Fault::kFreeze:
      return "freeze";
    case Fault::kSessionKill:
      return "session_kill";
    case Fault::kSidecarCrash:
      return "sidecar_crash";
    case Fault::kSidecarResign:
      return "sidecar_resign";
  }
  return "unknown";
}

std::vector<Fault> AllFaults() {
  return {Fault::kSwitchover,  Fault::kFailover,     Fault::kKillPostmaster,
          Fault::kStandbyLoss, Fault::kPartition,    Fault::kFreeze,
          Fault::kSessionKill, Fault::kSidecarCrash, Fault::kSidecarResign};
}

// ---------------------------------------------------------------------------
// Suite and test lifecycle.

void FaultTest::SetUpTestSuite() {
  StatusOr<std::unique_ptr<PatroniLab>> lab = PatroniLab::Create();
  if (lab.ok()) {
    lab_ = std::move(lab.value());
  } else {
    lab_error_ = lab.status().ToString();
  }
}

void FaultTest::TearDownTestSuite() {
  lab_.reset();
  if (takeovers_.empty()) return;

  nlohmann::json summary = {{"takeover_ms", Summarize(takeovers_)},
                            {"workload", totals_}};
  std::cout << "fault suite summary: " << summary.dump(2) << "\n";
  if (const char* path = std::getenv("CPHA_FAULT_SUMMARY")) {
    std::ofstream(path) << summary.dump(2) << "\n";
  }
}

void FaultTest::SetUp() {
  ASSERT_NE(lab_, nullptr) << "no Patroni cluster: " << lab_error_;
  Heal();
  ASSERT_FALSE(HasFatalFailure());

  static int databases = 0;
  database_ = "fault_" + std::to_string(++databases);
  ASSERT_TRUE(lab_->PsqlLeader("CREATE DATABASE " + database_, "postgres").ok())
      << "cannot create database " << database_;

  log_dir_ = "/tmp/cpha-fault-logs-XXXXXX";
  ASSERT_NE(mkdtemp(log_dir_.data()), nullptr) << "cannot make " << log_dir_;

  watcher_ = std::make_unique<integration::WriteReadyWatcher>();
  for (int pod = 0; pod < 2; ++pod) {
    StartSidecar(pod);
    ASSERT_FALSE(HasFatalFailure());
  }
  WaitForLeader();
  ASSERT_FALSE(HasFatalFailure());

  CommandResult setup =
      RunCommand({kWorkloadBinary, "setup", "--postgres-url", WorkloadUrl()});
  ASSERT_TRUE(setup.ok()) << "cp-ha-workload setup: " << setup.Describe();
}

void FaultTest::TearDown() {
  StopWorkloads();
  if (lab_ != nullptr) {
    for (int pod = 0; pod < 2; ++pod)
      lab_->Partition(lab_->ViaAddress(pod), false);
  }
  if (watcher_ != nullptr) {
    watcher_->Stop();
    EXPECT_TRUE(watcher_->overlaps().empty())
        << "two sidecars write-ready in one round:\n"
        << ::testing::PrintToString(watcher_->overlaps());
  }
  PrintLogsOnFailure();
  for (Pod& pod : pods_) {
    pod.workload.reset();
    pod.sidecar.reset();
  }
}

void FaultTest::PrintLogsOnFailure() {
  if (!HasFailure()) return;
  for (Pod& pod : pods_) {
    if (pod.sidecar != nullptr) {
      std::cout << "--- sidecar " << pod.sidecar->holder_id() << " log ---\n"
                << pod.sidecar->ReadLog();
    }
    if (pod.workload != nullptr) {
      std::cout << "--- workload log ---\n" << pod.workload->ReadLog();
    }
  }
  if (lab_ != nullptr) std::cout << lab_->LogTails(40);
}

// ---------------------------------------------------------------------------
// Pods.

std::string FaultTest::WorkloadUrl() const {
  return lab_->MultiUrl("127.0.0.1", database_);
}

void FaultTest::StartSidecar(int pod) {
  SidecarConfig config{
      .binary = kSidecarBinary,
      .postgres_url = lab_->MultiUrl(lab_->ViaAddress(pod), database_),
      .holder_id = kHolders[pod],
      .log_path = log_dir_ + "/" + kHolders[pod] + "-" +
                  std::to_string(++workload_runs_) + ".log",
      .flags = {"--min-sync-replicas", "1"},
  };
  StatusOr<std::unique_ptr<SidecarProcess>> sidecar =
      SidecarProcess::Start(config);
  ASSERT_TRUE(sidecar.ok())
      << "sidecar " << kHolders[pod] << ": " << sidecar.status().ToString();
  pods_[pod].sidecar = std::move(sidecar.value());
  watcher_->Watch(pods_[pod].sidecar->port());
}

// Stops watching the pod's sidecar and sends it `signal`, which ends it.
bool FaultTest::EndSidecar(int pod, int signal) {
  watcher_->Unwatch(pods_[pod].sidecar->port());
  return pods_[pod].sidecar->Kill(signal);
}

void FaultTest::StartWorkload(int pod) {
  const std::string run = std::to_string(++workload_runs_);
  const std::string ack_log = log_dir_ + "/acks-" + run + ".jsonl";
  std::vector<std::string> argv = {
      kWorkloadBinary,
      "run",
      "--postgres-url",
      WorkloadUrl(),
      "--sidecar",
      "http://127.0.0.1:" + std::to_string(pods_[pod].sidecar->port()),
      "--holder",
      kHolders[pod],
      "--ack-log",
      ack_log,
  };
  StatusOr<std::unique_ptr<integration::ChildProcess>> workload =
      integration::ChildProcess::Start(argv,
                                       log_dir_ + "/workload-" + run + ".log");
  ASSERT_TRUE(workload.ok()) << workload.status().ToString();
  pods_[pod].workload = std::move(workload.value());
  ack_logs_.push_back(ack_log);
}

void FaultTest::StartWorkloads() {
  for (int pod = 0; pod < 2; ++pod) {
    if (pods_[pod].workload == nullptr) StartWorkload(pod);
  }
}

void FaultTest::StopWorkloads() {
  for (Pod& pod : pods_) {
    if (pod.workload == nullptr || !pod.workload->running()) continue;
    pod.workload->Kill(SIGTERM);
    std::optional<integration::ExitStatus> exit =
        pod.workload->WaitExit(std::chrono::seconds(15));
    EXPECT_TRUE(exit.has_value() && exit->Clean())
        << "workload " << pod.workload->log_path() << " ended with "
        << (exit ? exit->ToString() : "no exit") << ":\n"
        << pod.workload->ReadLog();
    AddWorkloadSummary(pod.workload->ReadLog());
  }
}

// The run summary is the last line of the workload's output that is a JSON
// object; its counts go into the suite's totals.
void FaultTest::AddWorkloadSummary(const std::string& output) {
  size_t start = output.rfind("\n{");
  if (start == std::string::npos) return;
  nlohmann::json summary = nlohmann::json::parse(
      output.substr(start + 1, output.find('\n', start + 1) - start - 1),
      nullptr, false);
  if (!summary.is_object()) return;
  for (const char* key : {"committed", "rejected", "errors"}) {
    if (summary.contains(key) && summary[key].is_number_integer()) {
      const int64_t count = summary[key].get<int64_t>();
      totals_[key] += count;
      trial_counts_[key] += count;
    }
  }
}

void FaultTest::RestartPod(int pod) {
  if (pods_[pod].workload != nullptr) {
    pods_[pod].workload->Kill(SIGTERM);
    pods_[pod].workload->WaitExit(std::chrono::seconds(15));
    AddWorkloadSummary(pods_[pod].workload->ReadLog());
  }
  StartSidecar(pod);
  ASSERT_FALSE(HasFatalFailure());
  StartWorkload(pod);
}

// ---------------------------------------------------------------------------
// Probes.

bool FaultTest::IsWriteReady(int pod) {
  if (pods_[pod].sidecar == nullptr) return false;
  return HttpGet(pods_[pod].sidecar->port(), "/v1/health/write-ready",
                 Millis(500))
             .status == 200;
}

int FaultTest::WriteReadyPod() {
  for (int pod = 0; pod < 2; ++pod) {
    if (IsWriteReady(pod)) return pod;
  }
  return -1;
}

int64_t FaultTest::Epoch(int pod) {
  HttpResult leader =
      HttpGet(pods_[pod].sidecar->port(), "/v1/health/leader", Millis(500));
  nlohmann::json body = leader.Json();
  if (leader.status != 200 || !body.contains("current_epoch")) return -1;
  return body["current_epoch"].get<int64_t>();
}

int FaultTest::WaitForLeader() {
  int leader = -1;
  auto found = WaitUntil(
      [&] {
        leader = WriteReadyPod();
        return leader >= 0;
      },
      Millis(60000), Millis(50));
  EXPECT_TRUE(found.has_value()) << "no sidecar became write-ready in 60 s";
  return leader;
}

std::optional<std::pair<int, double>> FaultTest::WaitTakeover(
    int64_t above, Clock::time_point since, Millis timeout, int excluded) {
  int winner = -1;
  auto took = WaitUntil(
      [&] {
        for (int pod = 0; pod < 2; ++pod) {
          if (pod == excluded || !IsWriteReady(pod)) continue;
          if (Epoch(pod) > above) {
            winner = pod;
            return true;
          }
        }
        return false;
      },
      timeout, kPoll, since);
  if (!took) return std::nullopt;
  return std::make_pair(winner, ToMillis(*took));
}

std::optional<double> FaultTest::WaitStepDown(int pod, Clock::time_point since,
                                              Millis timeout) {
  auto stepped =
      WaitUntil([&] { return !IsWriteReady(pod); }, timeout, Millis(5), since);
  if (!stepped) return std::nullopt;
  return ToMillis(*stepped);
}

std::string FaultTest::Sql(const std::string& sql) {
  StatusOr<std::string> out = lab_->PsqlLeader(sql, database_);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? out.value() : "";
}

void FaultTest::Record(const std::string& kind, double millis) {
  takeovers_[kind].push_back(millis);
  std::cout << "[takeover] " << kind << " " << millis << " ms\n";
  RecordProperty(kind + "_ms", std::to_string(millis));
}

// ---------------------------------------------------------------------------
// Checks and repairs.

void FaultTest::Heal() {
  for (int pod = 0; pod < 2; ++pod)
    lab_->Partition(lab_->ViaAddress(pod), false);
  for (const char* node : {"node1", "node2"}) {
    Status started = lab_->Start(node);
    ASSERT_TRUE(started.ok()) << started.ToString();
  }
  Status healthy = lab_->WaitHealthy(kHealTimeout);
  ASSERT_TRUE(healthy.ok()) << healthy.ToString() << "\n" << lab_->LogTails(40);
}

void FaultTest::CheckWorkload() {
  StopWorkloads();
  std::vector<std::string> argv = {kWorkloadBinary, "check", "--postgres-url",
                                   WorkloadUrl()};
  for (const std::string& log : ack_logs_) {
    argv.push_back("--ack-log");
    argv.push_back(log);
  }
  CommandResult check = RunCommand(argv);
  EXPECT_TRUE(check.ok()) << "the checker found a violation: "
                          << check.Describe() << "\n"
                          << check.out;
  nlohmann::json report = nlohmann::json::parse(check.out, nullptr, false);
  if (report.is_object()) {
    std::cout << "[check] rows " << report.value("rows", 0) << ", acks "
              << report.value("acks", 0) << ", epochs "
              << report["epochs"].size() << ", violations "
              << report.value("violations", 0) << "; this fault: committed "
              << trial_counts_["committed"] << ", rejected by the fence "
              << trial_counts_["rejected"] << "\n";
  }
  EXPECT_GT(trial_counts_["committed"], 0)
      << "the workload committed nothing around this fault";
  const std::vector<std::string> overlaps = watcher_->overlaps();
  EXPECT_EQ(overlaps.size(), overlaps_checked_)
      << "two sidecars write-ready in one round during this fault:\n"
      << ::testing::PrintToString(overlaps);
  overlaps_checked_ = overlaps.size();
  trial_counts_.clear();
  ++totals_["faults"];
  for (Pod& pod : pods_) pod.workload.reset();
}

// A write under `stale_epoch`, as a control plane that missed the step-down
// would send it, must be refused by the fence.
void FaultTest::ExpectStaleWriteRejected(int64_t stale_epoch) {
  const std::string epoch = std::to_string(stale_epoch);
  StatusOr<std::string> out = lab_->PsqlLeader(
      "BEGIN; SELECT cp_ha_fence(" + epoch +
          "); INSERT INTO ha_workload_writes (epoch, fenced_epoch, holder, "
          "client_seq) VALUES (" +
          epoch + ", " + epoch + ", 'stale-probe', -1); COMMIT;",
      database_);
  ASSERT_FALSE(out.ok()) << "a write under stale epoch " << epoch
                         << " committed";
  EXPECT_NE(out.status().ToString().find("stale epoch"), std::string::npos)
      << "the write under epoch " << epoch
      << " failed for another reason: " << out.status().ToString();
}

// ---------------------------------------------------------------------------
// Faults.

void FaultTest::RunFault(Fault fault) {
  StartWorkloads();
  ASSERT_FALSE(HasFatalFailure());
  // Let both workloads see the leader and commit before the fault.
  std::this_thread::sleep_for(Millis(1000));
  Before before;
  ASSERT_NO_FATAL_FAILURE(CaptureBefore(&before));

  switch (fault) {
    case Fault::kSwitchover:
    case Fault::kFailover:
      PatroniHandover(fault, before);
      break;
    case Fault::kKillPostmaster:
      KillPostmaster(before);
      break;
    case Fault::kStandbyLoss:
      StandbyLoss(before);
      break;
    case Fault::kPartition:
      Partition(before);
      break;
    case Fault::kFreeze:
      Freeze(before);
      break;
    case Fault::kSessionKill:
      SessionKill(before);
      break;
    case Fault::kSidecarCrash:
    case Fault::kSidecarResign:
      SidecarDeath(fault, before);
      break;
  }
  Heal();
  WaitForLeader();
  CheckWorkload();
}

void FaultTest::CaptureBefore(Before* before) {
  before->pod = WaitForLeader();
  ASSERT_GE(before->pod, 0);
  before->epoch = Epoch(before->pod);
  ASSERT_GT(before->epoch, 0) << "the leader did not say its epoch";
  StatusOr<std::string> primary = lab_->Leader();
  ASSERT_TRUE(primary.ok()) << primary.status().ToString();
  before->primary = primary.value();
}

// Patroni moves the primary: every lock session ends with the old primary,
// and a sidecar must lead on the new one at a higher epoch.
void FaultTest::PatroniHandover(Fault fault, const Before& before) {
  const int64_t epoch = before.epoch;

  const Clock::time_point injected = Clock::now();
  Status moved = fault == Fault::kSwitchover
                     ? lab_->Switchover()
                     : lab_->Failover(PatroniLab::Other(before.primary));
  ASSERT_TRUE(moved.ok()) << moved.ToString();

  auto took = WaitTakeover(epoch, injected, kPatroniTakeoverTimeout);
  ASSERT_TRUE(took.has_value())
      << FaultName(fault) << ": no sidecar write-ready above epoch " << epoch;
  Record(FaultName(fault), took->second);
  ExpectStaleWriteRejected(epoch);
}

// Patroni restarts the crashed server (or fails over); either way the lock
// is gone and a new epoch must follow.
void FaultTest::KillPostmaster(const Before& before) {
  const int leader = before.pod;
  const int64_t epoch = before.epoch;

  const Clock::time_point injected = Clock::now();
  Status killed = lab_->KillPostgres(before.primary);
  ASSERT_TRUE(killed.ok()) << killed.ToString();

  auto stepped = WaitStepDown(leader, injected, Millis(5000));
  ASSERT_TRUE(stepped.has_value())
      << "the leader still claims write authority 5 s after its server died";
  auto took = WaitTakeover(epoch, injected, kPatroniTakeoverTimeout);
  ASSERT_TRUE(took.has_value()) << "no sidecar write-ready above epoch "
                                << epoch << " after the postmaster crash";
  Record("kill_postmaster", took->second);
  ExpectStaleWriteRejected(epoch);
}

// Without its synchronous standby the leader must stop claiming write
// authority (commits would hang), and claim it again when the standby is
// back.
void FaultTest::StandbyLoss(const Before& before) {
  const int leader = before.pod;
  const std::string standby = PatroniLab::Other(before.primary);

  // The standby's host dies: Patroni and the postmaster at once. The
  // monitor reads pg_stat_replication every second.
  const Clock::time_point injected = Clock::now();
  Status killed = lab_->Kill(standby);
  ASSERT_TRUE(killed.ok()) << killed.ToString();
  auto stepped = WaitStepDown(leader, injected, Millis(10000));
  ASSERT_TRUE(stepped.has_value())
      << "the leader still write-ready 10 s after the standby died";
  Record("standby_loss_stepdown", *stepped);
  EXPECT_EQ(WriteReadyPod(), -1) << "a sidecar write-ready without a standby";

  const Clock::time_point restarted = Clock::now();
  Status started = lab_->Start(standby);
  ASSERT_TRUE(started.ok()) << started.ToString();
  auto back = WaitUntil([&] { return WriteReadyPod() >= 0; },
                        kPatroniTakeoverTimeout, kPoll, restarted);
  ASSERT_TRUE(back.has_value()) << "no sidecar write-ready after the "
                                   "standby came back";
  Record("standby_return", ToMillis(*back));
}

// The leader sidecar's packets to and from the database are dropped. It
// must stop claiming by its computed deadline (S - m after its last
// acknowledged keepalive, so at most S - m after the cut), the other pod
// must lead once the server frees the lock, and after the partition heals
// the old leader may lead again only through a new epoch.
void FaultTest::Partition(const Before& before) {
  const int leader = before.pod;
  const int other = 1 - leader;
  const int64_t epoch = before.epoch;

  const Clock::time_point injected = Clock::now();
  Status cut = lab_->Partition(lab_->ViaAddress(leader), true);
  ASSERT_TRUE(cut.ok()) << cut.ToString();

  const Millis deadline = kLockSessionTimeout - kStepdownMargin;
  auto stepped = WaitStepDown(leader, injected, deadline + kProbeSlack);
  ASSERT_TRUE(stepped.has_value())
      << "the partitioned leader still claims write authority "
      << (deadline + kProbeSlack).count() << " ms after the cut";
  Record("partition_stepdown", *stepped);

  auto took =
      WaitTakeover(epoch, injected, kPartitionTakeoverBound * 4, leader);
  ASSERT_TRUE(took.has_value()) << "the other pod did not take over";
  Record("partition", took->second);
  EXPECT_LT(took->second, kPartitionTakeoverBound.count())
      << "takeover after a silent partition exceeded the bound";
  const int64_t new_epoch = Epoch(other);

  Status healed = lab_->Partition(lab_->ViaAddress(leader), false);
  ASSERT_TRUE(healed.ok()) << healed.ToString();
  // Hand authority back: the old leader must come back at a new epoch.
  std::this_thread::sleep_for(kLockSessionTimeout);
  EXPECT_FALSE(IsWriteReady(leader))
      << "the healed old leader claims write authority beside the new one";
  EndSidecar(other, SIGTERM);
  auto back = WaitTakeover(new_epoch, Clock::now(), Millis(30000), other);
  ASSERT_TRUE(back.has_value()) << "the old leader did not lead again";
  EXPECT_GT(Epoch(leader), new_epoch);
  pods_[other].sidecar->WaitExit(std::chrono::seconds(10));
  RestartPod(other);
  ExpectStaleWriteRejected(epoch);
}

// The leader sidecar is frozen past its deadline; the other takes over when
// the server ends the idle session. Resumed, the frozen one must answer
// 503 at its very first probe, and its old epoch must not commit.
void FaultTest::Freeze(const Before& before) {
  const int leader = before.pod;
  const int64_t epoch = before.epoch;

  const Clock::time_point injected = Clock::now();
  ASSERT_TRUE(pods_[leader].sidecar->Kill(SIGSTOP));
  auto took = WaitTakeover(epoch, injected, Millis(20000), leader);
  if (!took.has_value()) pods_[leader].sidecar->Kill(SIGCONT);
  ASSERT_TRUE(took.has_value()) << "nobody took over from a frozen leader";
  Record("freeze", took->second);

  ASSERT_TRUE(pods_[leader].sidecar->Kill(SIGCONT));
  HttpResult first = HttpGet(pods_[leader].sidecar->port(),
                             "/v1/health/write-ready", Millis(2000));
  EXPECT_EQ(first.status, 503) << "the resumed leader's first answer: "
                               << first.Describe("/v1/health/write-ready");
  ExpectStaleWriteRejected(epoch);
}

// The lock session is terminated by the server, then the primary restarts:
// each must end in a new epoch, and the old one must not commit.
void FaultTest::SessionKill(const Before& before) {
  const int leader = before.pod;
  const int64_t epoch = before.epoch;

  const Clock::time_point injected = Clock::now();
  std::string killed =
      Sql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
          "WHERE application_name = 'cp-ha:" +
          std::string(kHolders[leader]) + ":lock'");
  ASSERT_EQ(killed, "1") << "the lock session of " << kHolders[leader];
  auto took = WaitTakeover(epoch, injected, Millis(10000));
  ASSERT_TRUE(took.has_value()) << "no new epoch after the session was killed";
  Record("session_kill", took->second);
  const int64_t second = Epoch(took->first);

  const Clock::time_point restarting = Clock::now();
  Status restarted = lab_->Restart(before.primary);
  ASSERT_TRUE(restarted.ok()) << restarted.ToString();
  auto again = WaitTakeover(second, restarting, kPatroniTakeoverTimeout);
  ASSERT_TRUE(again.has_value()) << "no new epoch after the restart";
  Record("db_restart", again->second);
  ExpectStaleWriteRejected(second);
}

// The leader sidecar's process ends: by kill -9 (the kernel closes its
// sessions) or by SIGTERM (it resigns). The other pod leads within the
// crash bound; the pod then gets a new sidecar.
void FaultTest::SidecarDeath(Fault fault, const Before& before) {
  const int leader = before.pod;
  const int64_t epoch = before.epoch;

  const Clock::time_point injected = Clock::now();
  const int signal = fault == Fault::kSidecarCrash ? SIGKILL : SIGTERM;
  ASSERT_TRUE(EndSidecar(leader, signal));
  auto took = WaitTakeover(epoch, injected, Millis(10000), leader);
  ASSERT_TRUE(took.has_value()) << "no takeover after " << FaultName(fault);
  Record(FaultName(fault), took->second);
  EXPECT_LT(took->second, kCrashTakeoverBound.count())
      << FaultName(fault) << " takeover exceeded the crash bound";

  pods_[leader].sidecar->WaitExit(std::chrono::seconds(10));
  RestartPod(leader);
  ExpectStaleWriteRejected(epoch);
}

}  // namespace cpha::failover
