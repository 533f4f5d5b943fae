#include "exporter/admin_routes.h"

#include <thread>

#include "exporter/views.h"
#include "ha/log.h"

namespace cpha {
namespace {

using nlohmann::json;

constexpr size_t kMaxFieldLength = 200;

Status BadBody(const std::string& message) {
  return Status::Error(ErrorKind::kInvalidArgument, message);
}

HttpResponse JsonAnswer(int status, const json& body) {
  HttpResponse response;
  response.status = status;
  response.body = body.dump();
  return response;
}

// Compares without an early exit, so that timing tells nothing about how
// much of a guessed token was right.
bool SameSecret(const std::string& given, const std::string& expected) {
  unsigned char difference = given.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < given.size(); ++i) {
    difference |= static_cast<unsigned char>(
        given[i] ^ expected[i % std::max<size_t>(1, expected.size())]);
  }
  return difference == 0;
}

// nullopt when the request may mutate; otherwise the refusal to send.
std::optional<HttpResponse> Refusal(const HttpRequest& request,
                                    const AdminConfig& config) {
  if (!config.token) {
    return JsonError(403,
                     "admin API disabled: the sidecar runs without "
                     "--admin-token-file");
  }
  const std::string prefix = "Bearer ";
  if (request.authorization.rfind(prefix, 0) != 0) {
    return JsonError(401, "missing bearer token");
  }
  if (!SameSecret(request.authorization.substr(prefix.size()), *config.token)) {
    return JsonError(401, "wrong bearer token");
  }
  return std::nullopt;
}

// A required, printable string field of at most kMaxFieldLength bytes.
StatusOr<std::string> TextField(const json& body, const char* name) {
  auto field = body.find(name);
  if (field == body.end() || !field->is_string() ||
      field->get<std::string>().empty()) {
    return BadBody(std::string("missing \"") + name + "\"");
  }
  std::string value = field->get<std::string>();
  if (value.size() > kMaxFieldLength) {
    return BadBody(std::string("\"") + name + "\" is longer than " +
                   std::to_string(kMaxFieldLength) + " bytes");
  }
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20) {
      return BadBody(std::string("\"") + name + "\" has control characters");
    }
  }
  return value;
}

// "backup_id", checked against IsSafeBackupId.
StatusOr<std::string> BackupIdField(const json& body) {
  auto field = body.find("backup_id");
  if (field == body.end() || !field->is_string()) {
    return BadBody("missing \"backup_id\"");
  }
  std::string id = field->get<std::string>();
  if (!IsSafeBackupId(id)) {
    return BadBody(
        "\"backup_id\" must be 1 to 100 characters of [A-Za-z0-9._-] "
        "without \"..\"");
  }
  return id;
}

// The fields only the backup routes have.
Status ReadBackupFields(const json& body, AdminBodyKind kind,
                        AdminBody& parsed) {
  StatusOr<std::string> id = BackupIdField(body);
  if (!id.ok()) return id.status();
  parsed.backup_id = id.value();

  if (kind == AdminBodyKind::kBackupCreate) {
    auto dir = body.find("output_dir");
    if (dir == body.end()) return Status();
    if (!dir->is_string()) return BadBody("\"output_dir\" must be a string");
    parsed.output_dir = dir->get<std::string>();
    return Status();
  }
  auto confirm = body.find("confirm");
  if (confirm == body.end() || *confirm != true) {
    return BadBody(
        "a restore replaces the database: send \"confirm\": "
        "true");
  }
  return Status();
}

// Waits until the elector no longer holds the lock, or the timeout.
bool WaitForResignation(HaState& state, std::chrono::milliseconds timeout) {
  const TimePoint until = SteadyClock::now() + timeout;
  while (SteadyClock::now() < until) {
    HaSnapshot snapshot = state.Refresh(SteadyClock::now());
    if (!snapshot.elector.lock_held) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

HttpResponse Failover(const HttpRequest& request, HaState& state,
                      Elector& elector, const AdminConfig& config) {
  if (std::optional<HttpResponse> refused = Refusal(request, config)) {
    return *refused;
  }

  StatusOr<AdminBody> body =
      ParseAdminBody(request.body, AdminBodyKind::kFailover);
  if (!body.ok()) return JsonError(400, body.status().message());
  const std::string& operator_name = body->operator_name;
  const std::string& reason = body->reason;

  HaSnapshot before = state.Refresh(SteadyClock::now());
  const int64_t epoch = before.elector.epoch;
  if (!elector.RequestResign({operator_name, reason})) {
    json answer = {{"error", "this node is not the leader"},
                   {"leader", LeaderJson(before)}};
    return JsonAnswer(409, answer);
  }

  Log(LogLevel::kInfo, "admin", "failover requested",
      {{"operator", operator_name}, {"reason", reason}, {"epoch", epoch}});
  if (!WaitForResignation(state, config.failover_timeout)) {
    return JsonError(504, "the resignation did not finish in time");
  }
  return JsonAnswer(200, {{"result", "resigned"},
                          {"resigned_epoch", epoch},
                          {"holder_id", before.identity.holder_id},
                          {"operator", operator_name},
                          {"reason", reason}});
}

// The answer for a failed backup or restore.
HttpResponse ServiceError(const Status& status) {
  switch (status.kind()) {
    case ErrorKind::kInvalidArgument:
      return JsonError(400, status.message());
    case ErrorKind::kFailedPrecondition:
      return JsonError(status.message() == kUnknownBackupId ? 404 : 409,
                       status.message());
    case ErrorKind::kTimeout:
      return JsonError(504, status.message());
    case ErrorKind::kConnection:
      return JsonError(503, "database unreachable: " + status.message());
    case ErrorKind::kQuery:
    case ErrorKind::kStaleEpoch:
      return JsonError(500, status.message());
  }
  return JsonError(500, status.message());
}

HttpResponse CreateBackup(const HttpRequest& request, BackupService& backups,
                          const AdminConfig& config) {
  if (std::optional<HttpResponse> refused = Refusal(request, config)) {
    return *refused;
  }
  StatusOr<AdminBody> body =
      ParseAdminBody(request.body, AdminBodyKind::kBackupCreate);
  if (!body.ok()) return JsonError(400, body.status().message());

  BackupRequest backup{body->operator_name, body->reason, body->backup_id,
                       body->output_dir};
  StatusOr<BackupRecord> made = backups.Create(backup);
  if (!made.ok()) return ServiceError(made.status());
  return JsonAnswer(201, BackupJson(made.value()));
}

// An admin read, not a probe: each call opens a short database session,
// bounded by the database timeout, and needs no token (the runbook's
// `ha backup list` sends none).
HttpResponse ListBackups(BackupService& backups) {
  StatusOr<std::vector<BackupRecord>> records = backups.List();
  if (!records.ok()) return ServiceError(records.status());
  json rows = json::array();
  for (const BackupRecord& record : records.value()) {
    rows.push_back(BackupJson(record));
  }
  return JsonAnswer(200, {{"backups", rows}});
}

HttpResponse RestoreBackup(const HttpRequest& request, HaState& state,
                           BackupService& backups, const AdminConfig& config) {
  if (std::optional<HttpResponse> refused = Refusal(request, config)) {
    return *refused;
  }
  StatusOr<AdminBody> body =
      ParseAdminBody(request.body, AdminBodyKind::kBackupRestore);
  if (!body.ok()) return JsonError(400, body.status().message());

  // Destructive: only in an operator-managed maintenance window.
  if (!state.Refresh(SteadyClock::now()).policy.maintenance) {
    return JsonError(409,
                     "restore refused: the sidecar does not run with "
                     "--maintenance");
  }
  RestoreRequest restore{body->operator_name, body->reason, body->backup_id};
  StatusOr<RestoreResult> done = backups.Restore(restore);
  if (!done.ok()) return ServiceError(done.status());
  return JsonAnswer(200, {{"result", "restored"},
                          {"backup", BackupJson(done->backup)},
                          {"epoch_before", done->epoch_before},
                          {"epoch_after", done->epoch_after},
                          {"operator", restore.operator_name},
                          {"reason", restore.reason}});
}

json ReplicationRows(const MonitorFacts& monitor) {
  json rows = json::array();
  for (const ReplicationRow& row : monitor.replication) {
    rows.push_back({{"application_name", row.application_name},
                    {"state", row.state},
                    {"sync_state", row.sync_state}});
  }
  return rows;
}

}  // namespace

StatusOr<AdminBody> ParseAdminBody(std::string_view text, AdminBodyKind kind) {
  json body = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return BadBody("the body must be a JSON object");
  }

  AdminBody parsed;
  StatusOr<std::string> operator_name = TextField(body, "operator");
  if (!operator_name.ok()) return operator_name.status();
  parsed.operator_name = operator_name.value();
  StatusOr<std::string> reason = TextField(body, "reason");
  if (!reason.ok()) return reason.status();
  parsed.reason = reason.value();

  switch (kind) {
    case AdminBodyKind::kFailover:
      return parsed;
    case AdminBodyKind::kBackupCreate:
    case AdminBodyKind::kBackupRestore: {
      Status backup = ReadBackupFields(body, kind, parsed);
      if (!backup.ok()) return backup;
      return parsed;
    }
  }
  return parsed;
}

json HaQuorumJson(const HaSnapshot& snapshot) {
  const MonitorFacts& monitor = snapshot.monitor;
  return {{"sync_replica_count", monitor.sync_replica_count},
          {"min_sync_replicas", snapshot.policy.min_sync_replicas},
          {"quorum_met",
           monitor.sync_replica_count >= snapshot.policy.min_sync_replicas},
          {"replication_privileged", monitor.privileged},
          {"server", monitor.server},
          {"replication", ReplicationRows(monitor)}};
}

json HaStatusJson(const HaSnapshot& snapshot) {
  const Readiness& readiness = snapshot.readiness;
  json leader = LeaderJson(snapshot);
  double deadline = 0;
  if (snapshot.elector.role == ElectorRole::kLeader) {
    deadline = std::max(
        0.0, std::chrono::duration<double>(
                 StepDownDeadline(snapshot.elector.last_ack, snapshot.policy) -
                 snapshot.taken_at)
                 .count());
  }
  return {{"holder_id", snapshot.identity.holder_id},
          {"role", ElectorRoleName(snapshot.elector.role)},
          {"current_epoch", leader["current_epoch"]},
          {"leader_holder_id", leader["holder_id"]},
          {"acquired_at", leader["acquired_at"]},
          {"session_lock_held", snapshot.elector.lock_held},
          {"read_ready", readiness.read.ready},
          {"read_ready_reason", readiness.read.reason},
          {"write_ready", readiness.write.ready},
          {"write_ready_reason", readiness.write.reason},
          {"connected_server", snapshot.monitor.server},
          {"connected_to_primary",
           readiness.read.ready && !snapshot.monitor.in_recovery},
          {"stepdown_deadline_seconds", deadline},
          {"maintenance", snapshot.policy.maintenance},
          {"audit_status", AuditJson(snapshot)["audit_status"]},
          {"quorum", HaQuorumJson(snapshot)}};
}

std::vector<Route> AdminRoutes(HaState& state, Elector& elector,
                               AdminConfig config) {
  auto snapshot = [&state] { return state.Refresh(SteadyClock::now()); };
  return {
      {"GET", "/v1/ha/status",
       [=](const HttpRequest&) {
         return JsonAnswer(200, HaStatusJson(snapshot()));
       }},
      {"GET", "/v1/ha/quorum",
       [=](const HttpRequest&) {
         return JsonAnswer(200, HaQuorumJson(snapshot()));
       }},
      {"POST", "/v1/ha/failover",
       [&state, &elector, config](const HttpRequest& request) {
         return Failover(request, state, elector, config);
       }},
  };
}

}  // namespace cpha

namespace cpha {

json BackupJson(const BackupRecord& record) {
  return {{"id", record.id},
          {"created_at", record.created_at},
          {"operator", record.operator_name},
          {"reason", record.reason},
          {"file", record.file},
          {"size_bytes", record.size_bytes},
          {"epoch", record.epoch},
          {"checksum", record.checksum}};
}

std::vector<Route> BackupRoutes(HaState& state, BackupService& backups,
                                AdminConfig config) {
  return {
      {"POST", "/v1/ha/backups",
       [&backups, config](const HttpRequest& request) {
         return CreateBackup(request, backups, config);
       }},
      {"GET", "/v1/ha/backups",
       [&backups](const HttpRequest&) { return ListBackups(backups); }},
      {"POST", "/v1/ha/backups/restore",
       [&state, &backups, config](const HttpRequest& request) {
         return RestoreBackup(request, state, backups, config);
       }},
  };
}

}  // namespace cpha
