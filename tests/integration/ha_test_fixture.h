// Fixtures for the integration tests: sidecars on a real PostgreSQL pair.
//
// SidecarTest starts sidecars with short timings and owns them, runs a
// WriteReadyWatcher over every sidecar it started, and at the end of each
// test checks that the watcher polled and never saw two sidecars
// write-ready in one round; on failure it prints every sidecar's log and
// the tails of both server logs. Two flavours provide the pair:
//   - SharedPairTest: one pair per test suite, made in SetUpTestSuite and
//     healed in SetUp (both nodes running, standby in sync); each test gets
//     a fresh database and its own advisory lock key.
//   - FreshPairTest: a new pair for each test, for tests that damage it.
//
// Thread-safety: test-thread only, like any GoogleTest fixture.

#ifndef CPHA_TESTS_INTEGRATION_HA_TEST_FIXTURE_H_
#define CPHA_TESTS_INTEGRATION_HA_TEST_FIXTURE_H_

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tests/integration/http_get.h"
#include "tests/integration/metrics_text.h"
#include "tests/integration/pg_pair.h"
#include "tests/integration/sidecar_process.h"
#include "tests/integration/wait_until.h"
#include "tests/integration/write_ready_watcher.h"

namespace cpha::integration {

// How a test wants one sidecar started.
struct SidecarSpec {
  std::string holder_id = {};
  // Empty: this test's database on the primary.
  std::string url = {};
  int min_sync_replicas = 1;
  // Appended after the fixture's flags; must not repeat one of them.
  std::vector<std::string> flags = {};
};

class SidecarTest : public ::testing::Test {
 protected:
  // The timings every sidecar gets, short so that the suite runs fast.
  static constexpr Millis kKeepaliveInterval{200};
  static constexpr Millis kCampaignInterval{200};
  static constexpr Millis kQuorumInterval{200};
  static constexpr Millis kLockSessionTimeout{2000};
  static constexpr Millis kStepdownMargin{500};
  static constexpr Millis kResignHoldoff{1000};
  static constexpr Millis kDbTimeout{1000};
  static constexpr Millis kConnectTimeout{1000};

  void SetUp() override;
  void TearDown() override;

  // The pair this test runs against.
  virtual PgPair& pair() = 0;
  // The database this test's sidecars use by default.
  virtual std::string database() const = 0;

  // Starts a sidecar (see SidecarSpec) and has the watcher watch it.
  // Returns nullptr, with a non-fatal failure naming the holder and the
  // log, when it does not start; callers ASSERT on the pointer.
  SidecarProcess* StartSidecar(const SidecarSpec& spec);

  // This test's database on `node`, as the superuser.
  std::string DatabaseUrl(PgNode node = PgNode::kPrimary);
  // Runs SQL in this test's database; on error records a non-fatal failure
  // naming the statement and returns "".
  std::string Sql(const std::string& sql, PgNode node = PgNode::kPrimary);

  // GET against a sidecar with a 2 s timeout.
  HttpResult Get(const SidecarProcess& sidecar, const std::string& path);
  bool IsWriteReady(const SidecarProcess& sidecar);
  // /v1/health/leader and /v1/health/quorum as JSON (discarded when the
  // request failed).
  nlohmann::json Leader(const SidecarProcess& sidecar);
  nlohmann::json Quorum(const SidecarProcess& sidecar);
  // A sample from the sidecar's /metrics, nullopt when absent.
  std::optional<double> Metric(const SidecarProcess& sidecar,
                               const std::string& name,
                               const MetricLabels& labels = {});

  // Polls every 10 ms until one of `sidecars` answers write-ready 200;
  // returns it, or nullptr after `timeout`.
  SidecarProcess* WaitForWriteReady(
      const std::vector<SidecarProcess*>& sidecars, Millis timeout);
  // Waits until `follower` has lost a campaign to a holder (it then waits
  // on the lock) and shows `epoch` as the durable one. False on timeout.
  bool WaitForFollower(const SidecarProcess& follower, int64_t epoch,
                       Millis timeout = Millis(5000));
  // For two sidecars just started: waits up to 10 s until one is
  // write-ready and the other follows it at epoch 1. Returns the leader and
  // sets *follower; on a missing sidecar or a timeout records a non-fatal
  // failure naming what did not happen and returns nullptr.
  SidecarProcess* WaitForLeaderAndFollower(SidecarProcess* a, SidecarProcess* b,
                                           SidecarProcess** follower);

  // Stops the watcher and expects that it polled with a sidecar watched
  // and never saw two write-ready in one round. TearDown calls it when the
  // test did not.
  void ExpectNeverTwoWriteReady();

  // Prints a measured figure on stdout and records it in the XML report.
  void ReportMillis(const std::string& key, double millis);

  int64_t lock_key() const { return lock_key_; }

  // What failure output may show of `text` (a sidecar's log, a server log
  // tail, a start-up failure): all of it, unless the test holds secrets
  // that must not reach the output either.
  virtual std::string Shown(const std::string& text) const { return text; }

 private:
  void PrintLogsOnFailure();
  // Fails the test when a sidecar's log holds a sanitizer report (only
  // sanitizer builds write them; see -DCPHA_SANITIZE).
  void ExpectNoSanitizerReport();

  int64_t lock_key_ = 0;
  std::unique_ptr<WriteReadyWatcher> watcher_;
  bool watcher_checked_ = false;
  std::vector<std::unique_ptr<SidecarProcess>> sidecars_;
};

class SharedPairTest : public SidecarTest {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();

  void SetUp() override;

  PgPair& pair() override { return *shared_pair_; }
  std::string database() const override { return database_; }

 private:
  // Owned for the duration of one test suite.
  static std::unique_ptr<PgPair> shared_pair_;
  static std::string shared_pair_error_;

  std::string database_;
};

class FreshPairTest : public SidecarTest {
 protected:
  void SetUp() override;
  void TearDown() override;

  PgPair& pair() override { return *pair_; }
  std::string database() const override { return "autonomy"; }

 private:
  std::unique_ptr<PgPair> pair_;
};

}  // namespace cpha::integration

#endif  // CPHA_TESTS_INTEGRATION_HA_TEST_FIXTURE_H_
