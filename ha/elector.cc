#include "ha/elector.h"

#include <algorithm>
#include <cmath>

#include "ha/log.h"
#include "ha/migrations.h"

namespace cpha {
namespace {

constexpr const char* kComponent = "elector";

// NULL in the first column means the session reached a standby, where an
// advisory lock proves nothing: the epoch can not be bumped there. The
// third column is the backend that holds the lock when we did not get it.
constexpr const char* kTryLockSql =
    "SELECT CASE WHEN pg_is_in_recovery() THEN NULL"
    "            ELSE pg_try_advisory_lock($1::bigint) END,"
    "       (SELECT current_epoch FROM leadership_state WHERE id = 1),"
    "       (SELECT min(pid) FROM pg_locks"
    "         WHERE locktype = 'advisory' AND granted"
    "           AND classid = $2::oid AND objid = $3::oid AND objsubid = 1"
    "           AND pid <> pg_backend_pid())";

// Polls the lock server-side every 10 ms for up to $2 ms; true once held.
constexpr const char* kWaitLockSql =
    "SELECT cp_ha_wait_for_lock($1::bigint, $2::integer)";
constexpr const char* kUnlockSql = "SELECT pg_advisory_unlock($1::bigint)";

// True when this very backend holds the election lock: a transaction-mode
// pooler would hand the lock to some other backend.
constexpr const char* kLockHeldHereSql =
    "EXISTS (SELECT 1 FROM pg_locks"
    "        WHERE locktype = 'advisory'"
    "          AND database = (SELECT oid FROM pg_database"
    "                          WHERE datname = current_database())"
    "          AND classid = $1::oid AND objid = $2::oid AND objsubid = 1"
    "          AND pid = pg_backend_pid() AND granted)";

constexpr const char* kRfc3339 =
    "to_char(acquired_at AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')";

int64_t WholeMillis(Duration duration) {
  return std::chrono::duration_cast<Millis>(duration).count();
}

int64_t WholeSecondsAtLeastOne(Duration duration) {
  return std::max<int64_t>(
      1, std::chrono::duration_cast<std::chrono::seconds>(duration).count());
}

// The lock key as the (classid, objid) pair under which pg_locks shows a
// bigint advisory lock.
std::pair<std::string, std::string> LockKeyOids(int64_t key) {
  auto bits = static_cast<uint64_t>(key);
  return {std::to_string(bits >> 32), std::to_string(bits & 0xffffffffu)};
}

// Server-side bounds so that the server frees the lock of a holder that
// went silent no earlier than S after the last query it answered: an idle
// session ends after S, and TCP keepalives (idle + count * interval) and
// tcp_user_timeout give up after S too.
Status PrepareSessionGucs(PgSession& session, const ElectorConfig& config,
                          Millis timeout) {
  const int64_t s_ms = WholeMillis(config.lock_session_timeout);
  const int64_t s_seconds = WholeSecondsAtLeastOne(config.lock_session_timeout);
  const int64_t keepalive_idle = std::max<int64_t>(1, s_seconds / 2);
  const int64_t keepalive_count =
      std::max<int64_t>(1, s_seconds - keepalive_idle);
  const int64_t statement_ms =
      WholeMillis(config.campaign_interval + config.db_timeout);

  const std::string settings[] = {
      "SET search_path = " + config.schema,
      "SET idle_session_timeout = " + std::to_string(s_ms),
      "SET tcp_keepalives_idle = " + std::to_string(keepalive_idle),
      "SET tcp_keepalives_interval = 1",
      "SET tcp_keepalives_count = " + std::to_string(keepalive_count),
      "SET tcp_user_timeout = " + std::to_string(s_ms),
      // A backend waiting for a synchronous standby at COMMIT does not see
      // that we gave up and closed the session; this makes it look, so
      // that it ends and frees the lock.
      "SET client_connection_check_interval = 500",
      "SET lock_timeout = " + std::to_string(WholeMillis(config.db_timeout)),
      "SET statement_timeout = " + std::to_string(statement_ms),
  };
  for (const std::string& setting : settings) {
    Status applied = session.Exec(setting, timeout);
    if (!applied.ok()) return applied;
  }
  return Status();
}

}  // namespace

Elector::Elector(ElectorConfig config, HaState& state)
    : config_(std::move(config)),
      state_(state),
      metrics_(state.metrics()),
      session_(config_.conn, "cp-ha:" + state.identity().holder_id + ":lock") {}

Elector::~Elector() { Stop(); }

void Elector::Start() {
  Log(LogLevel::kInfo, kComponent, "starting",
      {{"holder_id", state_.identity().holder_id},
       {"holder_instance", state_.identity().holder_instance},
       {"database", config_.conn.Redacted()},
       {"lock_key", config_.lock_key}});
  thread_ = std::thread([this] { Run(); });
}

bool Elector::RequestResign(ResignRequest request) {
  if (!leader_.load()) return false;
  {
    std::lock_guard<std::mutex> lock(resign_mutex_);
    resign_request_ = std::move(request);
  }
  wakeup_.Signal();
  return true;
}

void Elector::Stop() {
  stop_requested_.store(true);
  wakeup_.Signal();
  if (thread_.joinable()) thread_.join();
}

void Elector::Run() {
  while (!stop_requested_.load()) {
    if (!session_.connected() && !ConnectAndPrepare()) {
      SleepFor(config_.campaign_interval);
      continue;
    }

    std::optional<ResignRequest> resign;
    {
      std::lock_guard<std::mutex> lock(resign_mutex_);
      resign.swap(resign_request_);
    }
    if (resign && leader_.load()) {
      const int64_t epoch = epoch_;
      Resign("failover by " + resign->operator_name + ": " + resign->reason);
      RecordOperatorResign(*resign, epoch);
      continue;
    }

    if (leader_.load()) {
      KeepaliveCycle();
    } else if (SteadyClock::now() < hold_off_until_) {
      SleepFor(hold_off_until_ - SteadyClock::now());
    } else {
      CampaignCycle();
    }
  }

  if (leader_.load()) Resign("shutdown: the sidecar received a stop signal");
  session_.Close();
  SetRole(ElectorRole::kStopped, "shut down");
  Log(LogLevel::kInfo, kComponent, "stopped");
}

bool Elector::ConnectAndPrepare() {
  Status connected = session_.Connect(
      std::chrono::duration_cast<Millis>(config_.connect_timeout));
  if (connected.ok()) connected = PrepareSession();

  if (!connected.ok()) {
    if (connected.message() != last_connect_error_) {
      Log(LogLevel::kWarn, kComponent, "cannot open the lock session",
          {{"error", connected.ToString()},
           {"database", config_.conn.Redacted()}});
      last_connect_error_ = connected.message();
    }
    metrics_.lock_connect_failures.Increment();
    session_.Close();
    SetRole(ElectorRole::kNoSession,
            "no lock session: " + connected.ToString());
    return false;
  }

  last_connect_error_.clear();
  Log(LogLevel::kInfo, kComponent, "lock session open",
      {{"server", session_.server()}, {"backend_pid", session_.backend_pid()}});
  state_.UpdateElector(
      [&](ElectorFacts& facts) { facts.server = session_.server(); });
  SetRole(ElectorRole::kFollower, "lock session open, campaigning");
  return true;
}

Status Elector::PrepareSession() {
  Status migrated = RunMigrations(session_, config_.schema,
                                  config_.create_app_schema, DbTimeout());
  if (!migrated.ok()) return migrated;
  return PrepareSessionGucs(session_, config_, DbTimeout());
}

void Elector::CampaignCycle() {
  const TimePoint asked = SteadyClock::now();
  QueryParams params = LockKeyParams();
  for (std::optional<std::string>& oid : LockKeyOidParams()) {
    params.push_back(std::move(oid));
  }
  StatusOr<PgResult> tried = session_.Query(kTryLockSql, params, DbTimeout());
  if (!tried.ok()) {
    metrics_.campaigns_failure.Increment();
    Log(LogLevel::kWarn, kComponent, "campaign failed",
        {{"error", tried.status().ToString()}});
    SetRole(ElectorRole::kFollower,
            "campaign failed: " + tried.status().ToString());
    SleepFor(config_.campaign_interval);
    return;
  }
  metrics_.lock_wait_seconds.Observe(
      std::chrono::duration<double>(SteadyClock::now() - asked).count());

  if (tried->IsNull(0, 0)) {
    SetRole(ElectorRole::kFollower,
            "the lock session reached a standby; reconnecting");
    session_.Close();
    SleepFor(config_.campaign_interval);
    return;
  }

  const int64_t durable_epoch = tried->Int(0, 1);
  bool acquired = tried->Bool(0, 0);
  if (!acquired) {
    state_.ObserveEpoch(durable_epoch);
    // One lost campaign per holder, not per poll: the holder's backend pid
    // changes exactly when the lock changes hands (the durable epoch may
    // still be mid-bump when we look).
    const int64_t holder_pid = tried->Int(0, 2);
    if (holder_pid != lost_to_holder_pid_) {
      metrics_.campaigns_lock_held.Increment();
      lost_to_holder_pid_ = holder_pid;
    }
    SetRole(ElectorRole::kFollower,
            "the lock is held by another session (durable epoch " +
                std::to_string(durable_epoch) + ")");
    acquired = WaitForHolderToLeave();
  }
  if (!acquired) return;

  if (stop_requested_.load() || !WaitForSyncStandbys()) {
    ReleaseLock();
    return;
  }
  if (BumpEpoch() != CampaignOutcome::kWon) {
    SleepFor(config_.campaign_interval);
  }
}

// Waits server-side for the lock for up to the campaign interval; the
// server polls it every 10 ms, so a holder's exit is noticed within that.
// Not observed as lock wait: this is waiting for a holder to leave.
bool Elector::WaitForHolderToLeave() {
  const Millis wait =
      std::chrono::duration_cast<Millis>(config_.campaign_interval);
  StatusOr<PgResult> waited = session_.Query(
      kWaitLockSql,
      {std::to_string(config_.lock_key), std::to_string(wait.count())},
      wait + DbTimeout());
  if (waited.ok()) return waited->Bool(0, 0);

  SetRole(ElectorRole::kFollower,
          "waiting for the lock failed: " + waited.status().ToString());
  if (session_.connected()) SleepFor(config_.campaign_interval);
  return false;
}

// Holding the lock, waits up to the campaign interval for the server to
// have the required synchronous standbys, checking every 20 ms: after a
// Patroni failover the new primary gets its standby back only when the old
// primary rejoins, and a bump before that would block on its COMMIT.
bool Elector::WaitForSyncStandbys() {
  if (config_.min_sync_replicas <= 0) return true;
  const TimePoint deadline = SteadyClock::now() + config_.campaign_interval;
  for (;;) {
    // Without pg_read_all_stats the sync_state column reads NULL: do not
    // wait then; readiness reports the missing privilege instead.
    StatusOr<PgResult> counted = session_.Query(
        "SELECT count(*) FILTER (WHERE sync_state IN ('sync', 'quorum')),"
        "       pg_has_role('pg_read_all_stats', 'USAGE')"
        "  FROM pg_stat_replication",
        {}, DbTimeout());
    if (!counted.ok()) {
      SetRole(ElectorRole::kFollower, "counting synchronous standbys failed: " +
                                          counted.status().ToString());
      return false;
    }
    const int64_t standbys = counted->Int(0, 0);
    if (standbys >= config_.min_sync_replicas || !counted->Bool(0, 1)) {
      return true;
    }
    SetRole(ElectorRole::kFollower,
            "holding the lock until the server has its synchronous "
            "standbys (" +
                std::to_string(standbys) + " < " +
                std::to_string(config_.min_sync_replicas) + ")");
    if (SteadyClock::now() >= deadline || stop_requested_.load()) return false;
    SleepFor(std::chrono::milliseconds(20));
  }
}

Elector::CampaignOutcome Elector::BumpEpoch() {
  TimePoint commit_sent{};
  Status bumped = BumpEpochInTransaction(&commit_sent);
  if (bumped.ok()) {
    leader_.store(true);
    metrics_.campaigns_success.Increment();
    state_.UpdateElector(
        [&](ElectorFacts& facts) { facts.last_ack = commit_sent; });
    Log(LogLevel::kInfo, kComponent, "won the election",
        {{"epoch", epoch_},
         {"holder_id", state_.identity().holder_id},
         {"server", session_.server()}});
    if (config_.on_elected) config_.on_elected(epoch_);
    return CampaignOutcome::kWon;
  }

  if (session_.connected()) session_.Exec("ROLLBACK", DbTimeout());
  ReleaseLock();
  if (bumped.kind() == ErrorKind::kFailedPrecondition) {
    HoldOff(bumped.message());
    return CampaignOutcome::kLost;
  }
  metrics_.campaigns_failure.Increment();
  Log(LogLevel::kWarn, kComponent, "campaign failed after taking the lock",
      {{"error", bumped.ToString()}});
  SetRole(ElectorRole::kFollower, "campaign failed: " + bumped.ToString());
  return CampaignOutcome::kFailed;
}

Status Elector::BumpEpochInTransaction(TimePoint* commit_sent) {
  const Millis timeout = DbTimeout();
  const NodeIdentity& me = state_.identity();

  Status step = session_.Exec("BEGIN", timeout);
  if (!step.ok()) return step;
  step = session_.Exec(
      "SET LOCAL lock_timeout = " + std::to_string(timeout.count()), timeout);
  if (!step.ok()) return step;

  // The singleton's row lock, timed: this is lock pressure on the primary.
  // The table lock first: it queues new fenced writers (whose FOR SHARE
  // takes ROW SHARE on the table) behind the bump, so a stream of writers
  // carrying the old epoch can not starve it; plain reads go on.
  const TimePoint asked = SteadyClock::now();
  step =
      session_.Exec("LOCK TABLE leadership_state IN EXCLUSIVE MODE", timeout);
  if (!step.ok()) return step;
  StatusOr<PgResult> current =
      session_.Query(std::string("SELECT current_epoch, ") + kLockHeldHereSql +
                         " FROM leadership_state WHERE id = 1 FOR UPDATE",
                     LockKeyOidParams(), timeout);
  if (!current.ok()) return current.status();
  metrics_.lock_wait_seconds.Observe(
      std::chrono::duration<double>(SteadyClock::now() - asked).count());
  if (current->rows() != 1) {
    return Status::Error(ErrorKind::kQuery, "leadership_state has no row 1");
  }
  const int64_t prior_epoch = current->Int(0, 0);
  if (!current->Bool(0, 1)) {
    return Status::Error(ErrorKind::kFailedPrecondition,
                         "the advisory lock is not held by this session's "
                         "backend (is the URL going through a transaction "
                         "pooler?); refusing to lead");
  }
  if (!state_.ObserveEpoch(prior_epoch)) {
    return Status::Error(ErrorKind::kFailedPrecondition,
                         "the durable epoch " + std::to_string(prior_epoch) +
                             " is lower than one seen before; refusing to "
                             "lead");
  }

  StatusOr<PgResult> bumped =
      session_.Query(std::string("UPDATE leadership_state"
                                 "   SET current_epoch = current_epoch + 1,"
                                 "       holder_id = $1, holder_instance = $2,"
                                 "       acquired_at = now()"
                                 " WHERE id = 1 RETURNING current_epoch, ") +
                         kRfc3339,
                     {me.holder_id, me.holder_instance}, timeout);
  if (!bumped.ok()) return bumped.status();
  const int64_t epoch = bumped->Int(0, 0);
  const std::string acquired_at = bumped->Text(0, 1);

  StatusOr<PgResult> prior = session_.Query(
      "SELECT resigned_at IS NULL FROM leader_epochs WHERE epoch = $1",
      {std::to_string(prior_epoch)}, timeout);
  if (!prior.ok()) return prior.status();
  const bool prior_unclosed = prior->rows() == 1 && prior->Bool(0, 0);

  step = session_.Exec(
      "INSERT INTO leader_epochs (epoch, holder_id, holder_instance,"
      "                           acquired_at)"
      " SELECT current_epoch, holder_id, holder_instance, acquired_at"
      "   FROM leadership_state WHERE id = 1",
      timeout);
  if (!step.ok()) return step;

  // Sent time of the COMMIT: the server's idle clock for this session can
  // only start after it, which is what the step-down deadline relies on.
  *commit_sent = SteadyClock::now();
  step = session_.Exec("COMMIT", timeout);
  if (!step.ok()) return step;

  epoch_ = epoch;
  last_keepalive_sent_ = *commit_sent;
  state_.ObserveEpoch(epoch);
  if (prior_unclosed) {
    metrics_.closeouts_missed.Increment();
    Log(LogLevel::kWarn, kComponent, "prior epoch was never closed",
        {{"prior_epoch", prior_epoch}});
  }
  state_.UpdateElector([&](ElectorFacts& facts) {
    facts.role = ElectorRole::kLeader;
    facts.lock_held = true;
    facts.epoch = epoch;
    facts.acquired_at = acquired_at;
    facts.detail.clear();
  });
  return Status();
}

void Elector::KeepaliveCycle() {
  bool woken = false;
  state_.SetLockSocket(session_.socket(), LockSocketUse::kIdle);
  Status idle = session_.WaitIdle(
      last_keepalive_sent_ + config_.keepalive_interval, wakeup_.fd(), &woken);
  if (woken || !idle.ok()) state_.SetLockSocket(-1, LockSocketUse::kIdle);
  if (woken) {
    wakeup_.Drain();
    return;  // Run() looks at stop and resign requests
  }
  if (!idle.ok()) {
    metrics_.keepalive_failures.Increment();
    LoseLeadership("the server closed the lock session: " + idle.ToString());
    return;
  }

  const TimePoint sent = SteadyClock::now();
  state_.SetLockSocket(session_.socket(), LockSocketUse::kQuerying);
  std::optional<std::string> failure = Keepalive(sent);
  state_.SetLockSocket(-1, LockSocketUse::kIdle);
  if (failure) {
    metrics_.keepalive_failures.Increment();
    LoseLeadership(*failure);
    return;
  }
  last_keepalive_sent_ = sent;
  state_.UpdateElector([&](ElectorFacts& facts) { facts.last_ack = sent; });
}

// Confirms on the lock session that the lock is held by this backend, that
// the server is a primary, and that the durable epoch and holder are ours.
// Returns why not, or nullopt when all hold.
std::optional<std::string> Elector::Keepalive(TimePoint sent) {
  Duration left =
      StepDownDeadline(last_keepalive_sent_, state_.policy()) - sent;
  Millis timeout =
      std::min(DbTimeout(), std::chrono::duration_cast<Millis>(left));
  if (timeout.count() <= 0) {
    return "the step-down deadline passed before a keepalive could be sent";
  }

  StatusOr<PgResult> row = session_.Query(
      std::string("SELECT ") + kLockHeldHereSql +
          ", current_epoch, holder_id, holder_instance, pg_is_in_recovery()"
          " FROM leadership_state WHERE id = 1",
      LockKeyOidParams(), timeout);
  if (!row.ok()) return "keepalive failed: " + row.status().ToString();
  if (row->rows() != 1) return "leadership_state has no row 1";

  const int64_t durable_epoch = row->Int(0, 1);
  if (!state_.ObserveEpoch(durable_epoch)) {
    return "the durable epoch went backwards to " +
           std::to_string(durable_epoch);
  }
  if (!row->Bool(0, 0)) return "the advisory lock is no longer held";
  if (row->Bool(0, 4)) return "the server is in recovery (demoted)";
  if (durable_epoch != epoch_ ||
      row->Text(0, 2) != state_.identity().holder_id ||
      row->Text(0, 3) != state_.identity().holder_instance) {
    return "the durable epoch " + std::to_string(durable_epoch) +
           " now belongs to " + row->Text(0, 2);
  }
  return std::nullopt;
}

void Elector::LoseLeadership(const std::string& reason) {
  leader_.store(false);
  Log(LogLevel::kWarn, kComponent, "lost leadership",
      {{"epoch", epoch_}, {"reason", reason}});
  // Closing the session frees the lock server-side if it is still ours.
  session_.Close();
  epoch_ = 0;
  state_.UpdateElector([&](ElectorFacts& facts) {
    facts.role = ElectorRole::kNoSession;
    facts.lock_held = false;
    facts.epoch = 0;
    facts.acquired_at.clear();
    facts.detail = reason;
  });
}

void Elector::Resign(const std::string& notes) {
  // Stop claiming first: from here on no probe sees this node write-ready,
  // so the next leader can never overlap with it.
  leader_.store(false);
  const int64_t epoch = epoch_;
  state_.UpdateElector([&](ElectorFacts& facts) {
    facts.role = ElectorRole::kHoldingOff;
    facts.epoch = 0;
    facts.acquired_at.clear();
    facts.detail = "resigned epoch " + std::to_string(epoch) + ": " + notes;
  });

  Status closed = session_.Exec(
      "UPDATE leader_epochs SET resigned_at = now(), notes = $3"
      " WHERE epoch = $1 AND holder_instance = $2 AND resigned_at IS NULL",
      DbTimeout(),
      {std::to_string(epoch), state_.identity().holder_instance, notes});
  ReleaseLock();
  epoch_ = 0;
  hold_off_until_ = SteadyClock::now() + config_.resign_holdoff;
  state_.UpdateElector([](ElectorFacts& facts) { facts.lock_held = false; });
  Log(closed.ok() ? LogLevel::kInfo : LogLevel::kWarn, kComponent, "resigned",
      {{"epoch", epoch},
       {"notes", notes},
       {"closeout", closed.ok() ? "written" : closed.ToString()}});
}

void Elector::RecordOperatorResign(const ResignRequest& request,
                                   int64_t epoch) {
  if (!session_.connected()) return;
  Status recorded = session_.Exec(
      "INSERT INTO ha_operations (operation, operator, reason, epoch,"
      "                           holder_id, result)"
      " VALUES ('failover', $1, $2, $3, $4, 'resigned')",
      DbTimeout(),
      {request.operator_name, request.reason, std::to_string(epoch),
       state_.identity().holder_id});
  if (!recorded.ok()) {
    Log(LogLevel::kWarn, kComponent, "could not record the failover",
        {{"error", recorded.ToString()}});
  }
}

void Elector::HoldOff(const std::string& why) {
  Log(LogLevel::kError, kComponent, "refusing to lead", {{"reason", why}});
  hold_off_until_ = SteadyClock::now() + config_.resign_holdoff;
  SetRole(ElectorRole::kHoldingOff, why);
}

void Elector::ReleaseLock() {
  if (!session_.connected()) return;
  StatusOr<PgResult> released =
      session_.Query(kUnlockSql, LockKeyParams(), DbTimeout());
  if (!released.ok()) session_.Close();  // the server frees it with the session
}

void Elector::SleepFor(Duration duration) {
  if (stop_requested_.load()) return;
  bool woken = false;
  TimePoint until = SteadyClock::now() + duration;
  if (session_.connected()) {
    Status idle = session_.WaitIdle(until, wakeup_.fd(), &woken);
    if (!idle.ok()) SetRole(ElectorRole::kNoSession, idle.ToString());
  } else {
    PgSession::WaitOnFd(until, wakeup_.fd(), &woken);
  }
  if (woken) wakeup_.Drain();
}

void Elector::SetRole(ElectorRole role, const std::string& detail) {
  state_.UpdateElector([&](ElectorFacts& facts) {
    facts.role = role;
    facts.detail = detail;
    if (role != ElectorRole::kLeader) {
      facts.lock_held = false;
      facts.epoch = 0;
    }
  });
}

QueryParams Elector::LockKeyParams() const {
  return {std::to_string(config_.lock_key)};
}

QueryParams Elector::LockKeyOidParams() const {
  auto [classid, objid] = LockKeyOids(config_.lock_key);
  return {classid, objid};
}

Millis Elector::DbTimeout() const {
  return std::chrono::duration_cast<Millis>(config_.db_timeout);
}

}  // namespace cpha
