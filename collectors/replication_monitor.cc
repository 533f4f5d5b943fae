#include "collectors/replication_monitor.h"

#include "ha/log.h"

namespace cpha {
namespace {

constexpr const char* kComponent = "replication_monitor";
constexpr const char* kUndefinedTable = "42P01";

constexpr const char* kServerSql =
    "SELECT pg_is_in_recovery(),"
    "       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
    "       OR pg_has_role(current_user, 'pg_monitor', 'USAGE')";

// Without pg_monitor the rows of other roles' WAL senders read NULL in
// state and sync_state; NULL never counts as a synchronous standby.
constexpr const char* kReplicationSql =
    "SELECT coalesce(application_name, ''), coalesce(state, ''),"
    "       coalesce(sync_state, '')"
    "  FROM pg_stat_replication ORDER BY application_name";

constexpr const char* kLeadershipSql =
    "SELECT current_epoch, coalesce(holder_id, ''),"
    "       coalesce(to_char(acquired_at AT TIME ZONE 'UTC',"
    "                        'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '')"
    "  FROM leadership_state WHERE id = 1";

Millis ToMillis(Duration duration) {
  return std::chrono::duration_cast<Millis>(duration);
}

int CountSyncStandbys(const std::vector<ReplicationRow>& rows) {
  int count = 0;
  for (const ReplicationRow& row : rows) {
    if (row.state == "streaming" &&
        (row.sync_state == "sync" || row.sync_state == "quorum")) {
      ++count;
    }
  }
  return count;
}

}  // namespace

ReplicationMonitor::ReplicationMonitor(ReplicationMonitorConfig config,
                                       HaState& state)
    : config_(std::move(config)),
      state_(state),
      session_(config_.conn,
               "cp-ha:" + state.identity().holder_id + ":monitor") {}

ReplicationMonitor::~ReplicationMonitor() { Stop(); }

void ReplicationMonitor::Start() {
  thread_ = std::thread([this] { Run(); });
}

void ReplicationMonitor::Stop() {
  stop_requested_.store(true);
  wakeup_.Signal();
  if (thread_.joinable()) thread_.join();
}

void ReplicationMonitor::Run() {
  while (!stop_requested_.load()) {
    TimePoint started = SteadyClock::now();
    const bool was_connected = session_.connected();
    Status checked = EnsureConnected();
    if (checked.ok()) checked = CheckOnce(started);
    // A session that was ended under us (pg_terminate_backend, a pooler
    // restart) gets one fresh try at once, so readiness does not blink.
    if (!checked.ok() && was_connected && !session_.connected()) {
      started = SteadyClock::now();
      checked = EnsureConnected();
      if (checked.ok()) checked = CheckOnce(started);
    }
    if (!checked.ok()) RecordFailure(checked);

    bool woken = false;
    PgSession::WaitOnFd(started + config_.interval, wakeup_.fd(), &woken);
  }
  session_.Close();
}

Status ReplicationMonitor::EnsureConnected() {
  if (session_.connected()) return Status();

  Status connected = session_.Connect(ToMillis(config_.connect_timeout));
  if (!connected.ok()) {
    state_.metrics().monitor_connect_failures.Increment();
    return connected;
  }
  Status scoped = session_.Exec("SET search_path = " + config_.schema,
                                ToMillis(config_.db_timeout));
  if (!scoped.ok()) return scoped;
  Log(LogLevel::kInfo, kComponent, "monitor session open",
      {{"server", session_.server()}});
  return Status();
}

Status ReplicationMonitor::CheckOnce(TimePoint started) {
  const Millis timeout = ToMillis(config_.db_timeout);

  StatusOr<PgResult> server = session_.Query(kServerSql, {}, timeout);
  if (!server.ok()) return server.status();
  StatusOr<PgResult> replication = session_.Query(kReplicationSql, {}, timeout);
  if (!replication.ok()) return replication.status();
  StatusOr<PgResult> leadership = session_.Query(kLeadershipSql, {}, timeout);
  if (!leadership.ok() && leadership.status().sqlstate() != kUndefinedTable) {
    return leadership.status();
  }

  std::vector<ReplicationRow> rows;
  for (int row = 0; row < replication->rows(); ++row) {
    rows.push_back({replication->Text(row, 0), replication->Text(row, 1),
                    replication->Text(row, 2)});
  }
  DurableLeadership durable;
  if (leadership.ok() && leadership->rows() == 1) {
    durable = {true, leadership->Int(0, 0), leadership->Text(0, 1),
               leadership->Text(0, 2)};
    state_.ObserveEpoch(durable.current_epoch);
  }

  if (!last_logged_error_.empty()) {
    Log(LogLevel::kInfo, kComponent, "database reachable again",
        {{"server", session_.server()}});
    last_logged_error_.clear();
  }
  state_.UpdateMonitor([&](MonitorFacts& facts) {
    facts.ever_succeeded = true;
    facts.last_success = started;
    facts.last_error.clear();
    facts.in_recovery = server->Bool(0, 0);
    facts.privileged = server->Bool(0, 1);
    facts.server = session_.server();
    facts.sync_replica_count = CountSyncStandbys(rows);
    facts.replication = std::move(rows);
    facts.leadership = std::move(durable);
  });
  return Status();
}

void ReplicationMonitor::RecordFailure(const Status& status) {
  if (status.message() != last_logged_error_) {
    Log(LogLevel::kWarn, kComponent, "database check failed",
        {{"error", status.ToString()}});
    last_logged_error_ = status.message();
  }
  state_.UpdateMonitor(
      [&](MonitorFacts& facts) { facts.last_error = status.ToString(); });
}

}  // namespace cpha
