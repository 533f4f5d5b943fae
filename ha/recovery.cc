#include "ha/recovery.h"

#include <time.h>

#include <algorithm>
#include <utility>

#include "ha/log.h"

namespace cpha {
namespace {

constexpr const char* kComponent = "recovery";
constexpr auto kIdleWait = std::chrono::hours(1);
constexpr int kPassRetries = 3;
constexpr int64_t kPurgeBatch = 1000;
constexpr int kPurgeBatchesPerRound = 10;
constexpr int64_t kMaxDeferredStagesPerPass = 1000;
constexpr const char* kDeferredOutcome = "deferred_insufficient_history";

constexpr const char* kTablesPresentSql =
    "SELECT to_regclass('promotion_decisions') IS NOT NULL"
    "   AND to_regclass('evidence_snapshots') IS NOT NULL"
    "   AND to_regclass('stage_status') IS NOT NULL"
    "   AND to_regclass('rollout_events') IS NOT NULL"
    "   AND to_regclass('outbox') IS NOT NULL";

// resigned_at becomes the acquired_at of the next epoch: the latest moment
// the unclosed epoch's authority can have lasted (now() when no later row
// exists, which only a hand-edited table can produce).
constexpr const char* kReconcileSql =
    "WITH open AS ("
    "  SELECT e.epoch,"
    "         (SELECT n.acquired_at FROM leader_epochs n"
    "           WHERE n.epoch > e.epoch ORDER BY n.epoch LIMIT 1) AS ended"
    "    FROM leader_epochs e"
    "   WHERE e.epoch < $1 AND e.resigned_at IS NULL)"
    " UPDATE leader_epochs l"
    "    SET resigned_at = coalesce(open.ended, now()),"
    "        notes = concat_ws('; ', l.notes, $2::text)"
    "   FROM open"
    "  WHERE l.epoch = open.epoch AND l.resigned_at IS NULL"
    " RETURNING l.epoch";

constexpr const char* kScanSql =
    "SELECT count(*), count(*) FILTER (WHERE epoch IS NULL)"
    "  FROM rollout_events WHERE occurred_at >= now() - $1::interval";

// Active stages without enough history: no fenced (non-NULL epoch) event
// inside the horizon, and no deferred decision written by this epoch yet.
constexpr const char* kStagesSql =
    "SELECT ss.plan_id, ss.stage_id FROM stage_status ss"
    " WHERE ss.phase NOT IN ('promoted', 'halted', 'rollback')"
    "   AND NOT EXISTS (SELECT 1 FROM rollout_events re"
    "                    WHERE re.plan_id = ss.plan_id"
    "                      AND re.stage_id = ss.stage_id"
    "                      AND re.epoch IS NOT NULL"
    "                      AND re.occurred_at >= now() - $1::interval)"
    "   AND NOT EXISTS (SELECT 1 FROM promotion_decisions pd"
    "                    WHERE pd.rollout_plan_id = ss.plan_id"
    "                      AND pd.stage_id = ss.stage_id"
    "                      AND pd.promotion_origin = $2"
    "                      AND pd.epoch = $3)"
    " ORDER BY ss.plan_id, ss.stage_id LIMIT $4";

constexpr const char* kInsertDeferredSql =
    "INSERT INTO promotion_decisions"
    " (rollout_plan_id, stage_id, epoch, outcome, promotion_origin, reason)"
    " VALUES ($1, $2, $3, $4, $4, $5)";

constexpr const char* kPurgeSql =
    "WITH purged AS ("
    "  DELETE FROM outbox WHERE id IN ("
    "    SELECT id FROM outbox"
    "     WHERE dispatched_at IS NOT NULL"
    "       AND dispatched_at < now() - $1::interval"
    "     ORDER BY id LIMIT $2)"
    "  RETURNING 1)"
    " SELECT count(*) FROM purged";

int64_t WholeMillis(Duration duration) {
  return std::chrono::duration_cast<Millis>(duration).count();
}

// A PostgreSQL interval literal.
std::string Interval(Duration duration) {
  return std::to_string(WholeMillis(duration)) + " milliseconds";
}

std::string HorizonText(Duration duration) {
  return std::to_string(WholeMillis(duration) / 1000) + "s";
}

// Wall-clock time, RFC 3339 UTC, for the text of a recorded gap.
std::string NowRfc3339() {
  const time_t now =
      std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

bool Reconnectable(const Status& status) {
  return status.kind() == ErrorKind::kConnection ||
         status.kind() == ErrorKind::kTimeout;
}

}  // namespace

RecoveryRunner::RecoveryRunner(RecoveryConfig config, HaState& state)
    : config_(std::move(config)),
      state_(state),
      metrics_(state.metrics()),
      fence_(state.metrics(), config_.fence_mode),
      session_(config_.conn,
               "cp-ha:" + state.identity().holder_id + ":recovery") {}

RecoveryRunner::~RecoveryRunner() { Stop(); }

void RecoveryRunner::Start() {
  thread_ = std::thread([this] { Run(); });
}

void RecoveryRunner::Trigger(int64_t epoch) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_epoch_ = epoch;
  }
  wakeup_.Signal();
}

void RecoveryRunner::Stop() {
  stop_requested_.store(true);
  wakeup_.Signal();
  if (thread_.joinable()) thread_.join();
}

void RecoveryRunner::Run() {
  while (!stop_requested_.load()) {
    const int64_t epoch = TakePending();
    if (epoch != 0) {
      leading_epoch_ = epoch;
      RunPassWithRetries(epoch);
      next_purge_ = SteadyClock::now() + config_.purge_interval;
      continue;
    }

    if (leading_epoch_ != 0 && SteadyClock::now() >= next_purge_) {
      PurgeOutboxIfLeader(leading_epoch_);
      next_purge_ = SteadyClock::now() + config_.purge_interval;
    }
    WaitUntil(leading_epoch_ != 0 ? next_purge_
                                  : SteadyClock::now() + kIdleWait);
  }
  session_.Close();
}

// A pass is idempotent, so one that lost its session is run again.
void RecoveryRunner::RunPassWithRetries(int64_t epoch) {
  for (int attempt = 0; !stop_requested_.load(); ++attempt) {
    Status pass = RunPass(epoch);
    if (pass.ok() || !Reconnectable(pass) || attempt >= kPassRetries) return;
    WaitUntil(SteadyClock::now() + config_.initial_backoff * (1 << attempt));
  }
}

int64_t RecoveryRunner::TakePending() {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::exchange(pending_epoch_, 0);
}

// Sleeps until `until`, a Trigger or Stop; a Trigger that arrives while the
// thread works keeps the eventfd readable, so it is never lost.
void RecoveryRunner::WaitUntil(TimePoint until) {
  if (stop_requested_.load()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (pending_epoch_ != 0) return;
  }
  bool woken = false;
  PgSession::WaitOnFd(until, wakeup_.fd(), &woken);
  if (woken) wakeup_.Drain();
}

Status RecoveryRunner::EnsureConnected() {
  if (session_.connected()) return Status();

  // TODO(#3): count failed connects in cp_backend_connect_failures_total
  // once HaMetrics declares a session="recovery" label value.
  Status connected = session_.Connect(
      std::chrono::duration_cast<Millis>(config_.connect_timeout));
  if (!connected.ok()) return connected;

  // Server-side bounds below the client's timeout: a locked table answers
  // 55P03 and the session stays usable for the retry.
  const int64_t db_ms = WholeMillis(config_.db_timeout);
  const std::string settings[] = {
      "SET search_path = " + config_.schema,
      "SET lock_timeout = " + std::to_string(std::max<int64_t>(1, db_ms / 2)),
      "SET statement_timeout = " +
          std::to_string(std::max<int64_t>(1, db_ms * 3 / 4)),
  };
  for (const std::string& setting : settings) {
    Status applied = session_.Exec(setting, DbTimeout());
    if (!applied.ok()) {
      session_.Close();
      return applied;
    }
  }
  return Status();
}

Status RecoveryRunner::RunPass(int64_t epoch) {
  if (!StillLeads(epoch)) return Status();
  Log(LogLevel::kInfo, kComponent, "recovery pass started", {{"epoch", epoch}});

  bool applicable = false;
  Status ran = RunSteps(epoch, &applicable);
  if (!ran.ok()) {
    RecordPassFailure(epoch, ran);
    return ran;
  }

  state_.UpdateAudit([&](AuditFacts& facts) {
    facts.recovery_ran = true;
    facts.applicable = applicable;
  });
  Log(LogLevel::kInfo, kComponent, "recovery pass done",
      {{"epoch", epoch}, {"applicable", applicable}});
  return Status();
}

Status RecoveryRunner::RunSteps(int64_t epoch, bool* applicable) {
  Status step = EnsureConnected();
  if (step.ok()) step = ReconcileCloseouts(epoch);
  if (!step.ok()) return step;

  // Without the control plane's tables the rest is not applicable.
  StatusOr<bool> present = TablesPresent();
  if (!present.ok()) return present.status();
  *applicable = present.value();
  if (!*applicable) return Status();

  StatusOr<std::vector<Stage>> stages = ScanHorizon(epoch);
  if (!stages.ok()) return stages.status();
  return RecordDeferredDecisions(epoch, stages.value());
}

void RecoveryRunner::RecordPassFailure(int64_t epoch, const Status& status) {
  if (status.kind() == ErrorKind::kStaleEpoch) {
    Log(LogLevel::kInfo, kComponent,
        "recovery pass ended: another node leads now",
        {{"epoch", epoch}, {"error", status.ToString()}});
    return;
  }
  Log(LogLevel::kWarn, kComponent, "recovery pass failed",
      {{"epoch", epoch}, {"error", status.ToString()}});
  state_.UpdateAudit(
      [&](AuditFacts& facts) { facts.last_error = status.ToString(); });
}

StatusOr<bool> RecoveryRunner::TablesPresent() {
  StatusOr<PgResult> present =
      session_.Query(kTablesPresentSql, {}, DbTimeout());
  if (!present.ok()) return present.status();
  return present->Bool(0, 0);
}

Status RecoveryRunner::ReconcileCloseouts(int64_t epoch) {
  const std::string note =
      "resigned_at reconciled by the recovery pass of epoch " +
      std::to_string(epoch) +
      ": the holder never closed this epoch; set to the acquired_at of the "
      "next epoch, the latest its authority can have lasted";
  int64_t reconciled = 0;

  Status fenced = fence_.Run(
      session_, epoch, DbTimeout(), [&](PgSession& session) -> Status {
        StatusOr<PgResult> rows = session.Query(
            kReconcileSql, {std::to_string(epoch), note}, DbTimeout());
        if (!rows.ok()) return rows.status();
        reconciled = rows->rows();
        return Status();
      });
  if (!fenced.ok()) return fenced;

  // Counted only once the back-fill committed.
  if (reconciled > 0) {
    metrics_.closeouts_reconciled.Increment(static_cast<double>(reconciled));
    Log(LogLevel::kWarn, kComponent, "reconciled unclosed epochs",
        {{"epoch", epoch}, {"reconciled", reconciled}});
  }
  return Status();
}

StatusOr<std::vector<RecoveryRunner::Stage>> RecoveryRunner::ScanHorizon(
    int64_t epoch) {
  const TimePoint started = SteadyClock::now();
  const std::string horizon = Interval(config_.replay_horizon);

  StatusOr<PgResult> events = session_.Query(kScanSql, {horizon}, DbTimeout());
  if (!events.ok()) return events.status();
  StatusOr<PgResult> rows =
      session_.Query(kStagesSql,
                     {horizon, kDeferredOutcome, std::to_string(epoch),
                      std::to_string(kMaxDeferredStagesPerPass)},
                     DbTimeout());
  if (!rows.ok()) return rows.status();

  // The scan is timed and counted only when it completed.
  metrics_.recovery_scan_seconds.Observe(
      std::chrono::duration<double>(SteadyClock::now() - started).count());
  const int64_t replayed = events->Int(0, 0);
  const int64_t legacy = events->Int(0, 1);
  metrics_.events_replayed.Increment(static_cast<double>(replayed));
  state_.UpdateAudit(
      [&](AuditFacts& facts) { facts.legacy_events_in_horizon = legacy; });

  std::vector<Stage> stages;
  for (int row = 0; row < rows->rows(); ++row) {
    stages.push_back({rows->Text(row, 0), rows->Text(row, 1)});
  }
  Log(LogLevel::kInfo, kComponent, "replay horizon scanned",
      {{"epoch", epoch},
       {"events", replayed},
       {"legacy_events", legacy},
       {"stages_without_history", static_cast<int64_t>(stages.size())}});
  return stages;
}

Status RecoveryRunner::RecordDeferredDecisions(
    int64_t epoch, const std::vector<Stage>& stages) {
  if (stages.empty()) return Status();
  WaitForAuditBaseline();

  // TODO(#3): a persistent failure (INSERT revoked) costs every stage its
  // full retries, so a pass over many stages runs long before the next
  // purge; after the first spent stage, single attempts would do.
  for (const Stage& stage : stages) {
    if (stop_requested_.load()) break;
    if (WriteDeferredDecision(epoch, stage) == WriteOutcome::kStale) {
      return Status::Error(
          ErrorKind::kStaleEpoch,
          "epoch " + std::to_string(epoch) + " is no longer the durable epoch");
    }
  }
  return Status();
}

// Writes one deferred decision with bounded retries; when they are spent the
// stage becomes a recorded gap.
RecoveryRunner::WriteOutcome RecoveryRunner::WriteDeferredDecision(
    int64_t epoch, const Stage& stage) {
  Duration backoff = config_.initial_backoff;
  Status written;
  for (int attempt = 0;; ++attempt) {
    written = InsertDeferredDecision(epoch, stage);
    if (written.ok()) return WriteOutcome::kWritten;
    if (written.kind() == ErrorKind::kStaleEpoch) return WriteOutcome::kStale;
    if (attempt >= config_.deferred_write_retries || stop_requested_.load()) {
      break;
    }

    metrics_.deferred_write_retried.Increment();
    Log(LogLevel::kWarn, kComponent, "deferred decision write failed, retrying",
        {{"epoch", epoch},
         {"plan_id", stage.plan_id},
         {"stage_id", stage.stage_id},
         {"attempt", attempt + 1},
         {"error", written.ToString()}});
    WaitUntil(SteadyClock::now() + backoff);
    backoff = std::min(backoff * 2, config_.max_backoff);
  }

  const std::string gap =
      "stage " + stage.stage_id + " deferred write failed at " + NowRfc3339();
  metrics_.deferred_write_failed.Increment();
  state_.UpdateAudit(
      [&](AuditFacts& facts) { facts.recorded_gaps.push_back(gap); });
  Log(LogLevel::kWarn, kComponent, "deferred decision not persisted",
      {{"epoch", epoch},
       {"plan_id", stage.plan_id},
       {"stage_id", stage.stage_id},
       {"gap", gap},
       {"error", written.ToString()}});
  return WriteOutcome::kGap;
}

Status RecoveryRunner::InsertDeferredDecision(int64_t epoch,
                                              const Stage& stage) {
  Status connected = EnsureConnected();
  if (!connected.ok()) return connected;

  const std::string reason =
      "recovery pass of epoch " + std::to_string(epoch) +
      ": no rollout_events with an epoch for this stage in the last " +
      HorizonText(config_.replay_horizon) +
      " (replay horizon); promotion deferred until it has history";
  return fence_.Run(session_, epoch, DbTimeout(), [&](PgSession& session) {
    return session.Exec(kInsertDeferredSql, DbTimeout(),
                        {stage.plan_id, stage.stage_id, std::to_string(epoch),
                         kDeferredOutcome, reason});
  });
}

void RecoveryRunner::WaitForAuditBaseline() {
  if (!config_.audit_baseline_ready) return;
  const TimePoint deadline = SteadyClock::now() + config_.baseline_wait;
  while (!config_.audit_baseline_ready() && !stop_requested_.load() &&
         SteadyClock::now() < deadline) {
    bool woken = false;
    PgSession::WaitOnFd(SteadyClock::now() + std::chrono::milliseconds(20), -1,
                        &woken);
  }
}

void RecoveryRunner::PurgeOutboxIfLeader(int64_t epoch) {
  if (!StillLeads(epoch)) {
    leading_epoch_ = 0;  // purging resumes with the next Trigger
    return;
  }
  if (!EnsureConnected().ok()) return;  // tried again next round
  StatusOr<bool> present = TablesPresent();
  if (!present.ok() || !present.value()) return;

  for (int batch = 0; batch < kPurgeBatchesPerRound; ++batch) {
    StatusOr<int64_t> purged = PurgeBatch(epoch);
    if (!purged.ok()) {
      if (purged.status().message() != last_logged_error_) {
        Log(LogLevel::kWarn, kComponent, "outbox purge failed",
            {{"epoch", epoch}, {"error", purged.status().ToString()}});
        last_logged_error_ = purged.status().message();
      }
      if (purged.status().kind() == ErrorKind::kStaleEpoch) leading_epoch_ = 0;
      return;
    }
    last_logged_error_.clear();
    if (purged.value() > 0) {
      metrics_.outbox_purged.Increment(static_cast<double>(purged.value()));
      Log(LogLevel::kInfo, kComponent, "purged dispatched outbox rows",
          {{"epoch", epoch}, {"rows", purged.value()}});
    }
    if (purged.value() < kPurgeBatch) return;
  }
}

StatusOr<int64_t> RecoveryRunner::PurgeBatch(int64_t epoch) {
  int64_t purged = 0;
  Status fenced = fence_.Run(
      session_, epoch, DbTimeout(), [&](PgSession& session) -> Status {
        StatusOr<PgResult> count = session.Query(
            kPurgeSql,
            {Interval(config_.outbox_retention), std::to_string(kPurgeBatch)},
            DbTimeout());
        if (!count.ok()) return count.status();
        purged = count->Int(0, 0);
        return Status();
      });
  if (!fenced.ok()) return fenced;
  return purged;
}

bool RecoveryRunner::StillLeads(int64_t epoch) {
  HaSnapshot snapshot = state_.Refresh(SteadyClock::now());
  return snapshot.elector.role == ElectorRole::kLeader &&
         snapshot.elector.epoch == epoch;
}

Millis RecoveryRunner::DbTimeout() const {
  return std::chrono::duration_cast<Millis>(config_.db_timeout);
}

}  // namespace cpha
