// FaultTest: the fixture of the failover suite (issue #7). One Patroni
// cluster per test suite; each test gets a fresh database and two pods, a
// pod being a sidecar (default timings, one synchronous standby required)
// with its own loopback route to the database plus a fenced-write workload
// client (cp-ha-workload run) that asks that sidecar for the epoch.
//
// Around every fault the fixture
//   - watches both sidecars' write-ready every 20 ms and fails the test if
//     two answer 200 in one round;
//   - stops the workloads and runs the checker (cp-ha-workload check),
//     which fails the test if a write committed with an epoch lower than
//     one committed before it, or if an acknowledged write is missing;
//   - heals the cluster (partitions lifted, both nodes running, a
//     streaming synchronous standby).
// Takeover times are collected per fault kind and printed, with p50, p99
// and max, at the end of the suite; CPHA_FAULT_SUMMARY names a JSON file
// that receives them too.
//
// Thread-safety: test-thread only, like any GoogleTest fixture.

#ifndef CPHA_TESTS_FAILOVER_FAULT_FIXTURE_H_
#define CPHA_TESTS_FAILOVER_FAULT_FIXTURE_H_

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/failover/patroni_lab.h"
#include "tests/integration/child_process.h"
#include "tests/integration/sidecar_process.h"
#include "tests/integration/wait_until.h"
#include "tests/integration/write_ready_watcher.h"

namespace cpha::failover {

using integration::Millis;
using Clock = std::chrono::steady_clock;

// The sidecar settings the suite runs with (the binary's defaults), which
// the step-down inequality of docs/safety.md is stated for.
inline constexpr Millis kKeepaliveInterval{1000};
inline constexpr Millis kLockSessionTimeout{3000};
inline constexpr Millis kStepdownMargin{1000};
// How long a probe may take to see a change, on top of any bound.
inline constexpr Millis kProbeSlack{300};
// The takeover bound after a silent partition that the suite asserts.
inline constexpr Millis kPartitionTakeoverBound{5000};
// The takeover bound after the leader's process dies.
inline constexpr Millis kCrashTakeoverBound{2000};

enum class Fault {
  kSwitchover,      // patronictl switchover
  kFailover,        // patronictl failover to the standby
  kKillPostmaster,  // kill -9 of the primary's postmaster
  kStandbyLoss,     // the synchronous standby stopped, then started
  kPartition,       // the leader sidecar's packets dropped silently
  kFreeze,          // the leader sidecar stopped (SIGSTOP) past its deadline
  kSessionKill,     // the lock session terminated, then the primary restarted
  kSidecarCrash,    // kill -9 of the leader sidecar
  kSidecarResign,   // SIGTERM of the leader sidecar
};

const char* FaultName(Fault fault);
std::vector<Fault> AllFaults();

class FaultTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();

  void SetUp() override;
  void TearDown() override;

  // Injects `fault` with the workloads running, asserts what the fault's
  // scenario promises (see fault_fixture.cc), records the takeover time,
  // heals the cluster, then stops the workloads and runs the checker.
  // Starts fresh workloads first when none run.
  void RunFault(Fault fault);

 private:
  struct Pod {
    std::unique_ptr<integration::SidecarProcess> sidecar;
    std::unique_ptr<integration::ChildProcess> workload;
  };

  // Pod lifecycle.
  void StartSidecar(int pod);
  void StartWorkload(int pod);
  void StartWorkloads();
  void StopWorkloads();
  // Stops watching the pod's sidecar and sends it a signal that ends it.
  bool EndSidecar(int pod, int signal);
  // A new sidecar for a pod whose sidecar ended, and a workload for it.
  void RestartPod(int pod);

  // The pod whose sidecar answers write-ready 200, or -1.
  int WriteReadyPod();
  bool IsWriteReady(int pod);
  // The epoch in the pod's /v1/health/leader, or -1 when it did not answer.
  int64_t Epoch(int pod);
  // Waits for the current leader; fails the test after 60 s.
  int WaitForLeader();
  // Polls until some pod other than `excluded` (-1: any) is write-ready at
  // an epoch above `above`; returns that pod and the time since `since`.
  std::optional<std::pair<int, double>> WaitTakeover(int64_t above,
                                                     Clock::time_point since,
                                                     Millis timeout,
                                                     int excluded = -1);
  // Polls until `pod` stops answering write-ready 200; the time since
  // `since`, or nullopt after `timeout`.
  std::optional<double> WaitStepDown(int pod, Clock::time_point since,
                                     Millis timeout);

  // Who leads, at which epoch, on which Patroni node, before a fault.
  struct Before {
    int pod = -1;
    int64_t epoch = -1;
    std::string primary;
  };
  void CaptureBefore(Before* before);

  // The scenarios.
  void PatroniHandover(Fault fault, const Before& before);
  void KillPostmaster(const Before& before);
  void StandbyLoss(const Before& before);
  void Partition(const Before& before);
  void Freeze(const Before& before);
  void SessionKill(const Before& before);
  void SidecarDeath(Fault fault, const Before& before);

  // Checks and repairs.
  void Heal();
  void CheckWorkload();
  void AddWorkloadSummary(const std::string& output);
  void ExpectStaleWriteRejected(int64_t stale_epoch);
  void Record(const std::string& kind, double millis);
  void PrintLogsOnFailure();

  std::string Sql(const std::string& sql);
  std::string WorkloadUrl() const;

  static std::unique_ptr<PatroniLab> lab_;
  static std::string lab_error_;
  static std::map<std::string, std::vector<double>> takeovers_;
  // Workload counts (committed, rejected, errors) and faults checked.
  static std::map<std::string, int64_t> totals_;

  std::string database_;
  std::string log_dir_;
  int workload_runs_ = 0;
  std::vector<std::string> ack_logs_;
  // The workload counts since the last check.
  std::map<std::string, int64_t> trial_counts_;
  // Overlapping rounds already reported, so each fault reports its own.
  size_t overlaps_checked_ = 0;
  std::array<Pod, 2> pods_;
  std::unique_ptr<integration::WriteReadyWatcher> watcher_;
};

}  // namespace cpha::failover

#endif  // CPHA_TESTS_FAILOVER_FAULT_FIXTURE_H_
