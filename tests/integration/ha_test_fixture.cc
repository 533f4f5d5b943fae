#include "tests/integration/ha_test_fixture.h"

#include <atomic>
#include <cctype>
#include <iostream>

#ifndef CPHA_SIDECAR_BINARY
#error "CPHA_SIDECAR_BINARY must name the built cp-ha-sidecar (set by CMake)"
#endif

namespace cpha::integration {
namespace {

constexpr Millis kHttpTimeout(2000);
constexpr std::chrono::seconds kSyncTimeout(30);
constexpr int kServerLogLines = 30;
// Advisory lock keys of the tests: one per test, far from the default.
constexpr int64_t kFirstLockKey = 810000000;

std::string Flag(Millis duration) {
  return std::to_string(duration.count()) + "ms";
}

// A database name made from the test's name: lower case, at most 63 bytes.
std::string DatabaseNameForTest() {
  const ::testing::TestInfo* test =
      ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = "it_";
  for (char c : std::string(test->test_suite_name()) + "_" + test->name()) {
    name += std::isalnum(static_cast<unsigned char>(c))
                ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                : '_';
  }
  return name.substr(0, 63);
}

std::string CurrentTestName() {
  return ::testing::UnitTest::GetInstance()->current_test_info()->name();
}

}  // namespace

// ---------------------------------------------------------------------------
// SidecarTest

void SidecarTest::SetUp() {
  static std::atomic<int64_t> next_key{kFirstLockKey};
  lock_key_ = next_key++;
  watcher_ = std::make_unique<WriteReadyWatcher>();
}

void SidecarTest::TearDown() {
  if (watcher_ == nullptr) return;  // SetUp failed before starting anything
  if (!watcher_checked_) ExpectNeverTwoWriteReady();
  ExpectNoSanitizerReport();
  PrintLogsOnFailure();
  sidecars_.clear();  // kills and reaps whatever still runs
}

SidecarProcess* SidecarTest::StartSidecar(const SidecarSpec& spec) {
  SidecarConfig config;
  config.binary = CPHA_SIDECAR_BINARY;
  config.postgres_url = spec.url.empty() ? DatabaseUrl() : spec.url;
  config.holder_id = spec.holder_id;
  config.log_path = pair().dir() + "/sidecar-" + CurrentTestName() + "-" +
                    spec.holder_id + "-" + std::to_string(sidecars_.size()) +
                    ".log";
  const std::pair<const char*, std::string> settings[] = {
      {"--keepalive-interval", Flag(kKeepaliveInterval)},
      {"--campaign-interval", Flag(kCampaignInterval)},
      {"--quorum-monitor-interval", Flag(kQuorumInterval)},
      {"--lock-session-timeout", Flag(kLockSessionTimeout)},
      {"--stepdown-margin", Flag(kStepdownMargin)},
      {"--resign-holdoff", Flag(kResignHoldoff)},
      {"--db-timeout", Flag(kDbTimeout)},
      {"--connect-timeout", Flag(kConnectTimeout)},
      {"--advisory-lock-key", std::to_string(lock_key_)},
      {"--min-sync-replicas", std::to_string(spec.min_sync_replicas)},
  };
  for (const auto& [flag, value] : settings) {
    config.flags.push_back(flag);
    config.flags.push_back(value);
  }
  config.flags.insert(config.flags.end(), spec.flags.begin(), spec.flags.end());

  StatusOr<std::unique_ptr<SidecarProcess>> started =
      SidecarProcess::Start(config);
  if (!started.ok()) {
    ADD_FAILURE() << "sidecar " << spec.holder_id
                  << " did not start: " << Shown(started.status().ToString());
    return nullptr;
  }
  sidecars_.push_back(std::move(started.value()));
  watcher_->Watch(sidecars_.back()->port());
  return sidecars_.back().get();
}

std::string SidecarTest::DatabaseUrl(PgNode node) {
  return pair().Url(node, {.database = database()});
}

std::string SidecarTest::Sql(const std::string& sql, PgNode node) {
  StatusOr<std::string> output = pair().Psql(node, sql, database());
  if (!output.ok()) {
    ADD_FAILURE() << output.status().message();
    return "";
  }
  return output.value();
}

HttpResult SidecarTest::Get(const SidecarProcess& sidecar,
                            const std::string& path) {
  return HttpGet(sidecar.port(), path, kHttpTimeout);
}

bool SidecarTest::IsWriteReady(const SidecarProcess& sidecar) {
  HttpResult result = Get(sidecar, "/v1/health/write-ready");
  return result.ok() && result.status == 200;
}

nlohmann::json SidecarTest::Leader(const SidecarProcess& sidecar) {
  return Get(sidecar, "/v1/health/leader").Json();
}

nlohmann::json SidecarTest::Quorum(const SidecarProcess& sidecar) {
  return Get(sidecar, "/v1/health/quorum").Json();
}

std::optional<double> SidecarTest::Metric(const SidecarProcess& sidecar,
                                          const std::string& name,
                                          const MetricLabels& labels) {
  HttpResult metrics = Get(sidecar, "/metrics");
  if (!metrics.ok() || metrics.status != 200) return std::nullopt;
  return FindSample(metrics.body, name, labels);
}

SidecarProcess* SidecarTest::WaitForWriteReady(
    const std::vector<SidecarProcess*>& sidecars, Millis timeout) {
  SidecarProcess* ready = nullptr;
  WaitUntil(
      [&] {
        for (SidecarProcess* sidecar : sidecars) {
          if (IsWriteReady(*sidecar)) {
            ready = sidecar;
            return true;
          }
        }
        return false;
      },
      timeout);
  return ready;
}

bool SidecarTest::WaitForFollower(const SidecarProcess& follower, int64_t epoch,
                                  Millis timeout) {
  return WaitUntil(
             [&] {
               nlohmann::json quorum = Quorum(follower);
               nlohmann::json leader = Leader(follower);
               return quorum.is_object() && leader.is_object() &&
                      quorum.value("role", "") == "follower" &&
                      quorum.value(
                          "cp.leader.campaigns_total{result=lock_held}", 0) >=
                          1 &&
                      leader.value("current_epoch", int64_t{-1}) == epoch;
             },
             timeout)
      .has_value();
}

SidecarProcess* SidecarTest::WaitForLeaderAndFollower(
    SidecarProcess* a, SidecarProcess* b, SidecarProcess** follower) {
  if (a == nullptr || b == nullptr) {
    ADD_FAILURE() << "a sidecar did not start";
    return nullptr;
  }
  SidecarProcess* leader = WaitForWriteReady({a, b}, Millis(10000));
  if (leader == nullptr) {
    ADD_FAILURE() << "no leader 10 s after start";
    return nullptr;
  }
  *follower = leader == a ? b : a;
  if (!WaitForFollower(**follower, 1)) {
    ADD_FAILURE() << (*follower)->holder_id()
                  << " does not follow the leader at epoch 1";
    return nullptr;
  }
  return leader;
}

void SidecarTest::ExpectNeverTwoWriteReady() {
  watcher_checked_ = true;
  watcher_->Stop();
  EXPECT_GT(watcher_->rounds(), 0)
      << "the write-ready watcher never polled a sidecar";
  std::vector<std::string> overlaps = watcher_->overlaps();
  EXPECT_TRUE(overlaps.empty())
      << overlaps.size() << " of " << watcher_->rounds()
      << " watcher rounds saw two sidecars write-ready; first: "
      << overlaps.front();
  std::cout << "[ watcher  ] " << watcher_->rounds() << " rounds, "
            << watcher_->rounds_with_a_leader() << " with a write-ready "
            << "sidecar, " << overlaps.size() << " with two\n";
}

void SidecarTest::ExpectNoSanitizerReport() {
  for (const auto& sidecar : sidecars_) {
    std::string report = sidecar->SanitizerReport();
    EXPECT_TRUE(report.empty())
        << "sidecar " << sidecar->holder_id() << " (pid " << sidecar->pid()
        << ") logged a sanitizer report:\n"
        << Shown(report);
  }
}

void SidecarTest::ReportMillis(const std::string& key, double millis) {
  std::cout << "[ measured ] " << key << " = " << millis << " ms\n";
  RecordProperty(key, std::to_string(millis));
}

void SidecarTest::PrintLogsOnFailure() {
  if (!HasFailure()) return;
  for (const auto& sidecar : sidecars_) {
    std::cout << "----- log of sidecar " << sidecar->holder_id() << " (pid "
              << sidecar->pid() << ", port " << sidecar->port() << ") "
              << sidecar->log_path() << " -----\n"
              << Shown(sidecar->ReadLog()) << "----- end of log -----\n";
  }
  for (PgNode node : {PgNode::kPrimary, PgNode::kStandby}) {
    std::cout << "----- last " << kServerLogLines << " lines of the "
              << PgNodeName(node) << " server log -----\n"
              << Shown(pair().LogTail(node, kServerLogLines));
  }
}

// ---------------------------------------------------------------------------
// SharedPairTest

std::unique_ptr<PgPair> SharedPairTest::shared_pair_;
std::string SharedPairTest::shared_pair_error_;

void SharedPairTest::SetUpTestSuite() {
  StatusOr<std::unique_ptr<PgPair>> created = PgPair::Create();
  if (created.ok()) {
    shared_pair_ = std::move(created.value());
    shared_pair_error_.clear();
  } else {
    shared_pair_error_ = created.status().ToString();
  }
}

void SharedPairTest::TearDownTestSuite() { shared_pair_.reset(); }

void SharedPairTest::SetUp() {
  ASSERT_NE(shared_pair_, nullptr)
      << "no PostgreSQL pair: " << shared_pair_error_;

  // Heal what an earlier test may have left behind.
  for (PgNode node : {PgNode::kPrimary, PgNode::kStandby}) {
    Status started = shared_pair_->Start(node);
    ASSERT_TRUE(started.ok()) << started.ToString();
  }
  Status synced = shared_pair_->WaitSync(kSyncTimeout);
  ASSERT_TRUE(synced.ok()) << synced.ToString();

  database_ = DatabaseNameForTest();
  for (const std::string& sql :
       {"DROP DATABASE IF EXISTS " + database_ + " WITH (FORCE)",
        "CREATE DATABASE " + database_}) {
    StatusOr<std::string> done = shared_pair_->Psql(PgNode::kPrimary, sql);
    ASSERT_TRUE(done.ok()) << done.status().message();
  }
  SidecarTest::SetUp();
}

// ---------------------------------------------------------------------------
// FreshPairTest

void FreshPairTest::SetUp() {
  StatusOr<std::unique_ptr<PgPair>> created = PgPair::Create();
  ASSERT_TRUE(created.ok())
      << "no PostgreSQL pair: " << created.status().ToString();
  pair_ = std::move(created.value());
  SidecarTest::SetUp();
}

void FreshPairTest::TearDown() {
  if (pair_ != nullptr) SidecarTest::TearDown();
  pair_.reset();
}

}  // namespace cpha::integration
