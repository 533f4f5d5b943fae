// Issue #9: every database call has a timeout. The primary's processes
// (postmaster, backends, walsender) are stopped with SIGSTOP, as when its
// host freezes: the sidecars' open sessions stop answering mid-query and
// new connections are accepted by the kernel but never served. Unlike
// unreachable_test.cc (a closed port, a silent listener from the start, a
// stopped server that closes its sessions), nothing here ever fails fast.
// While frozen: every endpoint answers from memory within 100 ms; the
// leader drops write-ready within the step-down bound; read-readiness
// drops with a reason; the elector, the replication monitor and the audit
// collector each log a timeout within their bound and keep retrying; the
// admin calls that touch the database answer within their bounds; the
// processes stay up. After SIGCONT a leader is back.

#include <signal.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/curl_request.h"
#include "tests/integration/ha_test_fixture.h"

namespace cpha::integration {
namespace {

using Clock = std::chrono::steady_clock;
using WallClock = std::chrono::system_clock;

constexpr Millis kFastAnswer(100);
constexpr Millis kAuditInterval(500);
// Slack on every bound: scheduling on a loaded two-core machine.
constexpr Millis kSlack(700);
// AdminConfig::failover_timeout: how long POST /v1/ha/failover waits.
constexpr Millis kFailoverWait(5000);
constexpr const char* kToken = "hang-t0ken";

// The processes of one PostgreSQL server, stopped until Thaw() or the
// destructor. Only the test's own pair is touched.
class ServerFreeze {
 public:
  // Stops the postmaster first, so that it forks nothing new, then its
  // children. Fails the test when the postmaster is not found.
  explicit ServerFreeze(const std::string& data_dir) {
    std::ifstream pid_file(data_dir + "/postmaster.pid");
    pid_t postmaster = 0;
    pid_file >> postmaster;
    EXPECT_GT(postmaster, 0) << "no postmaster.pid in " << data_dir;
    if (postmaster <= 0 || kill(postmaster, SIGSTOP) != 0) return;
    stopped_.push_back(postmaster);
    for (pid_t child : ChildrenOf(postmaster)) {
      if (kill(child, SIGSTOP) == 0) stopped_.push_back(child);
    }
  }
  ~ServerFreeze() { Thaw(); }
  ServerFreeze(const ServerFreeze&) = delete;
  ServerFreeze& operator=(const ServerFreeze&) = delete;

  // Continues the children, then the postmaster.
  void Thaw() {
    for (auto pid = stopped_.rbegin(); pid != stopped_.rend(); ++pid) {
      kill(*pid, SIGCONT);
    }
    stopped_.clear();
  }

  size_t count() const { return stopped_.size(); }

 private:
  static std::vector<pid_t> ChildrenOf(pid_t parent) {
    std::vector<pid_t> children;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      const std::string name = entry.path().filename();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      std::ifstream stat(entry.path() / "stat");
      std::string line;
      std::getline(stat, line);
      // "pid (comm) state ppid ...": the command may hold spaces.
      size_t close = line.rfind(") ");
      if (close == std::string::npos) continue;
      char state = 0;
      int ppid = 0;
      if (std::sscanf(line.c_str() + close + 2, "%c %d", &state, &ppid) == 2 &&
          ppid == parent) {
        children.push_back(std::stoi(name));
      }
    }
    return children;
  }

  std::vector<pid_t> stopped_;
};

// "ts=2026-01-02T03:04:05.678Z ..." as a wall-clock time.
std::optional<WallClock::time_point> LogTime(const std::string& line) {
  std::tm utc{};
  int millis = 0;
  if (std::sscanf(line.c_str(), "ts=%d-%d-%dT%d:%d:%d.%dZ", &utc.tm_year,
                  &utc.tm_mon, &utc.tm_mday, &utc.tm_hour, &utc.tm_min,
                  &utc.tm_sec, &millis) != 7) {
    return std::nullopt;
  }
  utc.tm_year -= 1900;
  utc.tm_mon -= 1;
  return WallClock::from_time_t(timegm(&utc)) + Millis(millis);
}

// One log line the test expects after the freeze, and its bound.
struct Expected {
  const char* what;
  std::regex line;
  Millis bound;
};

class DatabaseHangTest : public SharedPairTest {
 protected:
  SidecarProcess* StartWithToken(const std::string& holder) {
    const std::string token_file =
        pair().dir() + "/hang-token-" + std::to_string(lock_key());
    std::ofstream(token_file) << kToken << "\n";
    return StartSidecar(
        {.holder_id = holder,
         .flags = {"--admin-token-file", token_file, "--audit-interval",
                   std::to_string(kAuditInterval.count()) + "ms"}});
  }

  // Expects the first line of `sidecar`'s log that matches `expected`,
  // at or after `since`, no later than its bound after `since`.
  void ExpectLogLineWithin(const SidecarProcess& sidecar,
                           const Expected& expected,
                           WallClock::time_point since) {
    std::istringstream log(sidecar.ReadLog());
    std::string line;
    while (std::getline(log, line)) {
      std::optional<WallClock::time_point> at = LogTime(line);
      if (!at || *at < since || !std::regex_search(line, expected.line)) {
        continue;
      }
      const auto after = std::chrono::duration_cast<Millis>(*at - since);
      EXPECT_LE(after, expected.bound)
          << sidecar.holder_id() << ": " << expected.what << " came "
          << after.count() << " ms after the freeze: " << line;
      ReportMillis(sidecar.holder_id() + "_" + expected.what + "_ms",
                   static_cast<double>(after.count()));
      return;
    }
    ADD_FAILURE() << sidecar.holder_id() << " never logged that "
                  << expected.what << " after the freeze";
  }

  // One admin call: its answer must come within `bound`. Safe from any
  // thread (it records no failure itself; the caller checks the result).
  struct Timed {
    std::string call;
    int status = 0;
    double millis = 0;
    std::string body;
  };
  static Timed TimedAdminCall(const SidecarProcess& sidecar,
                              const std::string& method,
                              const std::string& path,
                              const std::string& body) {
    const Clock::time_point start = Clock::now();
    JsonAnswer answer = CurlJson(sidecar.port(), method, path, body,
                                 "Bearer " + std::string(kToken));
    return {method + " " + path + " on " + sidecar.holder_id(), answer.status,
            ToMillis(Clock::now() - start), answer.body.dump()};
  }

  void ExpectAnsweredWithin(const Timed& timed, Millis bound) {
    ReportMillis(timed.call + " while frozen", timed.millis);
    std::cout << "[ frozen   ] " << timed.call << " -> " << timed.status
              << " in " << timed.millis << " ms: " << timed.body << "\n";
    EXPECT_NE(timed.status, 0) << timed.call << ": no answer";
    EXPECT_LE(timed.millis, static_cast<double>(bound.count()))
        << timed.call << " took " << timed.millis << " ms: " << timed.body;
  }

  double Counter(const SidecarProcess& sidecar, const std::string& session) {
    return Metric(sidecar, "cp_backend_connect_failures_total",
                  {{"session", session}})
        .value_or(-1);
  }
};

// Probes every endpoint of both sidecars every 50 ms on its own thread.
class Prober {
 public:
  explicit Prober(std::vector<int> ports)
      : ports_(std::move(ports)), thread_([this] { Run(); }) {}
  ~Prober() { Stop(); }

  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Valid after Stop().
  int probes() const { return probes_; }
  const std::vector<std::string>& slow_or_failed() const { return bad_; }

 private:
  void Run() {
    static const char* kPaths[] = {"/v1/health/read-ready",
                                   "/v1/health/write-ready",
                                   "/v1/health/leader",
                                   "/v1/health/quorum",
                                   "/v1/health/audit",
                                   "/v1/health/live",
                                   "/metrics",
                                   "/v1/ha/status",
                                   "/v1/ha/quorum",
                                   "/"};
    while (!stop_) {
      for (int port : ports_) {
        for (const char* path : kPaths) {
          HttpResult answer = HttpGet(port, path, Millis(2000));
          ++probes_;
          if (!answer.ok() || answer.elapsed >= kFastAnswer ||
              (answer.status >= 500 && answer.status != 503)) {
            bad_.push_back(std::to_string(port) + " " +
                           answer.Describe(path).substr(0, 300));
          }
        }
      }
      std::this_thread::sleep_for(Millis(50));
    }
  }

  const std::vector<int> ports_;
  std::atomic<bool> stop_{false};
  int probes_ = 0;                // written by thread_ until joined
  std::vector<std::string> bad_;  // written by thread_ until joined
  std::thread thread_;
};

TEST_F(DatabaseHangTest, EveryDatabaseCallEndsWithinItsTimeoutWhileFrozen) {
  SidecarProcess* a = StartWithToken("hang-a");
  SidecarProcess* b = StartWithToken("hang-b");
  SidecarProcess* follower = nullptr;
  SidecarProcess* leader = WaitForLeaderAndFollower(a, b, &follower);
  ASSERT_NE(leader, nullptr);
  const pid_t pids[] = {a->pid(), b->pid()};

  const WallClock::time_point frozen_wall = WallClock::now();
  const Clock::time_point frozen_at = Clock::now();
  ServerFreeze freeze(pair().dir() + "/primary");
  ASSERT_GT(freeze.count(), 3u) << "stopped too few server processes";
  Prober prober({a->port(), b->port()});

  // The leader stops claiming within the step-down bound; both say why
  // they are not read-ready once the monitor's facts are stale.
  const Millis stepdown = kLockSessionTimeout - kStepdownMargin;
  auto unready = WaitUntil([&] { return !IsWriteReady(*leader); },
                           stepdown + kSlack, Millis(10), frozen_at);
  ASSERT_TRUE(unready.has_value())
      << "the leader was still write-ready " << (stepdown + kSlack).count()
      << " ms after the freeze";
  ReportMillis("write_ready_drop_after_freeze_ms", ToMillis(*unready));
  for (SidecarProcess* sidecar : {a, b}) {
    auto stale = WaitUntil(
        [&] { return Get(*sidecar, "/v1/health/read-ready").status == 503; },
        kQuorumInterval + kDbTimeout + kQuorumInterval + kSlack);
    EXPECT_TRUE(stale.has_value())
        << sidecar->holder_id() << " still read-ready while frozen";
    const std::string reason =
        Get(*sidecar, "/v1/health/read-ready").Json().value("reason", "");
    EXPECT_FALSE(reason.empty()) << sidecar->holder_id() << ": no reason";
    std::cout << "[ frozen   ] " << sidecar->holder_id()
              << " read-ready reason: " << reason << "\n";
  }
  const double lock_failures = Counter(*follower, "lock");
  const double monitor_failures = Counter(*follower, "monitor");

  // The admin calls that open a database session: a session's connect,
  // its SET and its query are each bounded.
  const Millis session_bound = kConnectTimeout + 2 * kDbTimeout + kSlack;
  ExpectAnsweredWithin(TimedAdminCall(*follower, "GET", "/v1/ha/backups", ""),
                       session_bound);
  ExpectAnsweredWithin(
      TimedAdminCall(*leader, "POST", "/v1/ha/backups",
                     R"({"operator":"op","reason":"hang","backup_id":"hang",)"
                     R"("output_dir":")" +
                         pair().dir() + R"(/hang-backups"})"),
      session_bound);

  // Each loop keeps trying: a thread stuck in a call would count no more.
  std::this_thread::sleep_for(3 * kConnectTimeout);
  for (SidecarProcess* sidecar : {a, b}) {
    EXPECT_TRUE(sidecar->running()) << sidecar->holder_id() << " exited";
  }
  EXPECT_GE(Counter(*follower, "lock"), lock_failures + 2)
      << "the elector stopped retrying its connection";
  EXPECT_GE(Counter(*follower, "monitor"), monitor_failures + 2)
      << "the replication monitor stopped retrying its connection";
  prober.Stop();
  ReportMillis("frozen_ms", ToMillis(Clock::now() - frozen_at));
  EXPECT_GT(prober.probes(), 100);
  EXPECT_TRUE(prober.slow_or_failed().empty())
      << prober.slow_or_failed().size() << " of " << prober.probes()
      << " probes were slow (>= 100 ms) or failed; first: "
      << prober.slow_or_failed().front();

  // After SIGCONT: the same processes, and a leader again.
  freeze.Thaw();
  const Clock::time_point thawed_at = Clock::now();
  SidecarProcess* next = WaitForWriteReady({a, b}, Millis(15000));
  EXPECT_NE(next, nullptr) << "no leader 15 s after SIGCONT";
  ReportMillis("leader_after_thaw_ms", ToMillis(Clock::now() - thawed_at));
  EXPECT_EQ(a->pid(), pids[0]);
  EXPECT_EQ(b->pid(), pids[1]);
  for (SidecarProcess* sidecar : {a, b}) {
    EXPECT_TRUE(WaitUntil(
        [&] { return Get(*sidecar, "/v1/health/read-ready").status == 200; },
        Millis(10000)))
        << sidecar->holder_id() << " not read-ready 10 s after SIGCONT";
  }

  // Every component logged a timeout within its own bound: the elector's
  // query (keepalive or lock wait) and then its reconnect; the monitor's
  // query and then the fresh connect it tries at once; the audit's query.
  const Expected leader_lines[] = {
      {"elector_lost_leadership",
       std::regex("component=elector msg=\"lost leadership\""),
       kKeepaliveInterval + kDbTimeout + kSlack},
  };
  const Expected both_lines[] = {
      {"elector_connect_timeout",
       std::regex("component=elector msg=\"cannot open the lock session\" "
                  "error=\"timeout"),
       kCampaignInterval + kDbTimeout + kConnectTimeout + kSlack},
      {"monitor_timeout",
       std::regex("component=replication_monitor .*msg=\"database check "
                  "failed\" error=\"timeout"),
       kQuorumInterval + kDbTimeout + kConnectTimeout + kSlack},
      {"audit_timeout",
       std::regex("component=audit_collector .*msg=\"audit read failed\" "
                  "error=\"timeout"),
       kAuditInterval + kDbTimeout + kSlack},
  };
  for (const Expected& expected : leader_lines) {
    ExpectLogLineWithin(*leader, expected, frozen_wall);
  }
  for (SidecarProcess* sidecar : {a, b}) {
    for (const Expected& expected : both_lines) {
      ExpectLogLineWithin(*sidecar, expected, frozen_wall);
    }
  }
  ExpectNeverTwoWriteReady();
}

// A failover asked of a leader whose server froze a moment before: the
// resignation's statements time out, the answer comes within the wait of
// POST /v1/ha/failover, and after SIGCONT the next epoch is won.
TEST_F(DatabaseHangTest, FailoverOfAFrozenLeaderAnswersWithinItsWait) {
  SidecarProcess* a = StartWithToken("hang-fa");
  SidecarProcess* b = StartWithToken("hang-fb");
  SidecarProcess* follower = nullptr;
  SidecarProcess* leader = WaitForLeaderAndFollower(a, b, &follower);
  ASSERT_NE(leader, nullptr);

  const WallClock::time_point frozen_wall = WallClock::now();
  ServerFreeze freeze(pair().dir() + "/primary");
  ASSERT_GT(freeze.count(), 3u) << "stopped too few server processes";
  ExpectAnsweredWithin(TimedAdminCall(*leader, "POST", "/v1/ha/failover",
                                      R"({"operator":"op","reason":"hang"})"),
                       kFailoverWait + kSlack);
  EXPECT_FALSE(IsWriteReady(*leader)) << "write-ready after the failover";
  ExpectLogLineWithin(
      *leader,
      {"elector_resigned",
       std::regex("component=elector msg=resigned .*closeout=\"timeout"),
       kKeepaliveInterval + kDbTimeout + kSlack},
      frozen_wall);

  freeze.Thaw();
  SidecarProcess* next = WaitForWriteReady({a, b}, Millis(15000));
  ASSERT_NE(next, nullptr) << "no leader 15 s after SIGCONT";
  EXPECT_EQ(Leader(*next).value("current_epoch", int64_t{-1}), 2);
  EXPECT_TRUE(a->running() && b->running()) << "a sidecar exited";
  ExpectNeverTwoWriteReady();
}

}  // namespace
}  // namespace cpha::integration
