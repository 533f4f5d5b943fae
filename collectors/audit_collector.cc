#include "collectors/audit_collector.h"

#include "ha/log.h"

namespace cpha {
namespace {

constexpr const char* kComponent = "audit_collector";
constexpr const char* kUndefinedFunction = "42883";
constexpr int64_t kRowsPerRead = 10000;

constexpr const char* kTablesPresentSql =
    "SELECT to_regclass('promotion_decisions') IS NOT NULL"
    "   AND to_regclass('evidence_snapshots') IS NOT NULL"
    "   AND to_regclass('stage_status') IS NOT NULL"
    "   AND to_regclass('rollout_events') IS NOT NULL"
    "   AND to_regclass('outbox') IS NOT NULL";

constexpr const char* kFenceRejectionsSql =
    "SELECT cp_ha_fence_rejections_total()";

constexpr const char* kLegacySql =
    "SELECT count(*) FROM rollout_events"
    " WHERE epoch IS NULL AND occurred_at >= now() - $1::interval";

constexpr const char* kDecisionBaselineSql =
    "SELECT coalesce(max(decision_id), 0) FROM promotion_decisions";

// A promoted decision must name an evidence snapshot that exists.
constexpr const char* kDecisionsSql =
    "SELECT pd.decision_id, pd.outcome,"
    "       pd.evidence_snapshot_id IS NULL"
    "       OR NOT EXISTS (SELECT 1 FROM evidence_snapshots es"
    "                       WHERE es.snapshot_id = pd.evidence_snapshot_id)"
    "  FROM promotion_decisions pd"
    " WHERE pd.decision_id > $1"
    " ORDER BY pd.decision_id LIMIT $2";

constexpr const char* kDispatchBaselineSql =
    "SELECT dispatched_at::text, id FROM outbox"
    " WHERE dispatched_at IS NOT NULL"
    " ORDER BY dispatched_at DESC, id DESC LIMIT 1";

constexpr const char* kDispatchesSql =
    "SELECT dispatched_at::text, id,"
    "       extract(epoch FROM dispatched_at - created_at)::float8"
    "  FROM outbox"
    " WHERE dispatched_at IS NOT NULL"
    "   AND (dispatched_at, id) > ($1::timestamptz, $2::bigint)"
    " ORDER BY dispatched_at, id LIMIT $3";

Millis ToMillis(Duration duration) {
  return std::chrono::duration_cast<Millis>(duration);
}

std::string Interval(Duration duration) {
  return std::to_string(ToMillis(duration).count()) + " milliseconds";
}

}  // namespace

AuditCollector::AuditCollector(AuditCollectorConfig config, HaState& state)
    : config_(std::move(config)),
      state_(state),
      metrics_(state.metrics()),
      session_(config_.conn, "cp-ha:" + state.identity().holder_id + ":audit") {
}

AuditCollector::~AuditCollector() { Stop(); }

void AuditCollector::Start() {
  thread_ = std::thread([this] { Run(); });
}

void AuditCollector::Stop() {
  stop_requested_.store(true);
  wakeup_.Signal();
  if (thread_.joinable()) thread_.join();
}

void AuditCollector::Run() {
  while (!stop_requested_.load()) {
    const TimePoint started = SteadyClock::now();
    Status collected = EnsureConnected();
    if (collected.ok()) collected = CollectOnce(started);
    if (!collected.ok()) RecordFailure(collected);

    bool woken = false;
    PgSession::WaitOnFd(started + config_.interval, wakeup_.fd(), &woken);
  }
  session_.Close();
}

Status AuditCollector::EnsureConnected() {
  if (session_.connected()) return Status();

  // TODO(#3): count failed connects in cp_backend_connect_failures_total
  // once HaMetrics declares a session="audit" label value.
  Status connected = session_.Connect(ToMillis(config_.connect_timeout));
  if (!connected.ok()) return connected;

  // UTC, so that the dispatch cursor's text round-trips exactly.
  for (const std::string& setting : {"SET search_path = " + config_.schema,
                                     std::string("SET TimeZone = 'UTC'")}) {
    Status applied = session_.Exec(setting, DbTimeout());
    if (!applied.ok()) {
      session_.Close();
      return applied;
    }
  }
  return Status();
}

Status AuditCollector::CollectOnce(TimePoint started) {
  Status step = ReadFenceRejections();
  if (!step.ok()) return step;
  StatusOr<bool> present = TablesPresent();
  if (!present.ok()) return present.status();

  int64_t legacy = 0;
  if (present.value()) {
    StatusOr<int64_t> counted = ReadLegacyEvents();
    if (!counted.ok()) return counted.status();
    legacy = counted.value();
    step = ReadDecisions();
    if (step.ok()) step = ReadDispatches();
    if (!step.ok()) return step;
  }
  baseline_taken_.store(true);

  if (!last_logged_error_.empty()) {
    Log(LogLevel::kInfo, kComponent, "audit reads succeed again");
    last_logged_error_.clear();
  }
  if (last_applicable_ != present.value()) {
    Log(LogLevel::kInfo, kComponent,
        present.value() ? "control-plane tables found: applicable"
                        : "control-plane tables absent: not applicable");
    last_applicable_ = present.value();
  }
  state_.UpdateAudit([&](AuditFacts& facts) {
    facts.applicable = present.value();
    facts.ever_succeeded = true;
    facts.last_success = started;
    facts.last_error.clear();
    facts.legacy_events_in_horizon = legacy;
  });
  return Status();
}

StatusOr<bool> AuditCollector::TablesPresent() {
  StatusOr<PgResult> present =
      session_.Query(kTablesPresentSql, {}, DbTimeout());
  if (!present.ok()) return present.status();
  return present->Bool(0, 0);
}

Status AuditCollector::ReadFenceRejections() {
  StatusOr<PgResult> total =
      session_.Query(kFenceRejectionsSql, {}, DbTimeout());
  if (!total.ok()) {
    // Not migrated yet: the elector installs the function.
    if (total.status().sqlstate() == kUndefinedFunction) return Status();
    return total.status();
  }

  const int64_t value = total->Int(0, 0);
  const int64_t base = fence_rejections_seen_.value_or(0);
  if (value > base) {
    metrics_.epoch_mismatches_cluster.Increment(
        static_cast<double>(value - base));
  }
  fence_rejections_seen_ = value;
  return Status();
}

StatusOr<int64_t> AuditCollector::ReadLegacyEvents() {
  StatusOr<PgResult> legacy = session_.Query(
      kLegacySql, {Interval(config_.replay_horizon)}, DbTimeout());
  if (!legacy.ok()) return legacy.status();
  return legacy->Int(0, 0);
}

Status AuditCollector::ReadDecisions() {
  if (!highest_decision_id_) {
    StatusOr<PgResult> baseline =
        session_.Query(kDecisionBaselineSql, {}, DbTimeout());
    if (!baseline.ok()) return baseline.status();
    highest_decision_id_ = baseline->Int(0, 0);
    return Status();
  }

  // TODO(#3): a row whose decision_id was allocated before a higher one
  // but committed after this read is never counted; a bigserial gives no
  // commit order. Closing this needs a commit-ordered cursor (xmin or a
  // trigger-maintained sequence).
  StatusOr<PgResult> rows = session_.Query(
      kDecisionsSql,
      {std::to_string(*highest_decision_id_), std::to_string(kRowsPerRead)},
      DbTimeout());
  if (!rows.ok()) return rows.status();
  for (int row = 0; row < rows->rows(); ++row) {
    CountDecision(rows->Text(row, 1), rows->Bool(row, 2));
    highest_decision_id_ = rows->Int(row, 0);
  }
  return Status();
}

void AuditCollector::CountDecision(const std::string& outcome,
                                   bool missing_evidence) {
  if (outcome == "promoted") {
    metrics_.decisions_promoted.Increment();
    if (missing_evidence) metrics_.evidence_write_failures.Increment();
  } else if (outcome == "blocked") {
    metrics_.decisions_blocked.Increment();
  } else if (outcome == "rollback_triggered") {
    metrics_.decisions_rollback_triggered.Increment();
  } else if (outcome == "deferred_insufficient_history") {
    metrics_.decisions_deferred.Increment();
  } else {
    Log(LogLevel::kDebug, kComponent, "decision with an unknown outcome",
        {{"outcome", outcome}});
  }
}

Status AuditCollector::ReadDispatches() {
  if (!dispatch_cursor_) {
    StatusOr<PgResult> baseline =
        session_.Query(kDispatchBaselineSql, {}, DbTimeout());
    if (!baseline.ok()) return baseline.status();
    dispatch_cursor_ = baseline->rows() == 1
                           ? Cursor{baseline->Text(0, 0), baseline->Int(0, 1)}
                           : Cursor{"-infinity", 0};
    return Status();
  }

  // TODO(#3): like decisions, a dispatch committed after a later-stamped
  // one was read is missed (dispatched_at is the dispatcher's transaction
  // start, not its commit time).
  StatusOr<PgResult> rows = session_.Query(
      kDispatchesSql,
      {dispatch_cursor_->dispatched_at, std::to_string(dispatch_cursor_->id),
       std::to_string(kRowsPerRead)},
      DbTimeout());
  if (!rows.ok()) return rows.status();
  for (int row = 0; row < rows->rows(); ++row) {
    const double lag = std::strtod(rows->Text(row, 2).c_str(), nullptr);
    metrics_.outbox_dispatch_lag_seconds.Observe(lag < 0 ? 0 : lag);
    dispatch_cursor_ = Cursor{rows->Text(row, 0), rows->Int(row, 1)};
  }
  return Status();
}

void AuditCollector::RecordFailure(const Status& status) {
  if (status.message() != last_logged_error_) {
    Log(LogLevel::kWarn, kComponent, "audit read failed",
        {{"error", status.ToString()}});
    last_logged_error_ = status.message();
  }
  state_.UpdateAudit(
      [&](AuditFacts& facts) { facts.last_error = status.ToString(); });
}

Millis AuditCollector::DbTimeout() const {
  return ToMillis(config_.db_timeout);
}

}  // namespace cpha
