// The HA admin API (DESIGN.md section 8, runbook section 5): the operator
// views GET /v1/ha/status and GET /v1/ha/quorum, and POST /v1/ha/failover,
// a graceful resignation of the leader; backups: POST /v1/ha/backups
// (create, 201), GET /v1/ha/backups (the inventory, no token: read-only
// like the status) and POST /v1/ha/backups/restore (only in maintenance
// mode and with "confirm": true).
//
// Mutating endpoints require "Authorization: Bearer <token>" with the token
// read from --admin-token-file; with no token configured they are refused
// (403). The token is compared in constant time and never logged or echoed.
//
// Thread-safety: handlers run on CivetWeb's threads; they read HaState and
// ask the elector to act, both thread-safe.

#ifndef CPHA_EXPORTER_ADMIN_ROUTES_H_
#define CPHA_EXPORTER_ADMIN_ROUTES_H_

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/http_server.h"
#include "ha/backup.h"
#include "ha/elector.h"
#include "ha/ha_state.h"

namespace cpha {

struct AdminConfig {
  // The bearer token; nullopt when no --admin-token-file was given.
  std::optional<std::string> token;
  // How long POST /v1/ha/failover waits for the resignation to finish.
  std::chrono::milliseconds failover_timeout{5000};
};

// `state` and `elector` must outlive the server.
std::vector<Route> AdminRoutes(HaState& state, Elector& elector,
                               AdminConfig config);

// The backup endpoints. `state` and `backups` must outlive the server. A
// backup or restore occupies one HTTP worker thread while its child process
// runs (bounded by the service's tool timeout); the others keep answering.
std::vector<Route> BackupRoutes(HaState& state, BackupService& backups,
                                AdminConfig config);

// The mutating routes, by the body each expects.
enum class AdminBodyKind {
  kFailover,       // POST /v1/ha/failover
  kBackupCreate,   // POST /v1/ha/backups
  kBackupRestore,  // POST /v1/ha/backups/restore
};

// A mutating request's body, checked.
struct AdminBody {
  std::string operator_name;
  std::string reason;
  std::string backup_id;   // the backup routes only
  std::string output_dir;  // backup create only; empty when not given
};

// Parses a mutating request's JSON body as the route of `kind` expects it:
// "operator" and "reason" (1 to 200 bytes, no control characters); for the
// backup routes "backup_id" (see IsSafeBackupId); for create an optional
// string "output_dir"; for restore "confirm": true. Fails with
// kInvalidArgument and the message of the 400 answer, which never repeats
// the body. Never throws.
StatusOr<AdminBody> ParseAdminBody(std::string_view body, AdminBodyKind kind);

// One backup_inventory row as the API shows it.
nlohmann::json BackupJson(const BackupRecord& record);

// The operator view of GET /v1/ha/status (also used by the CLI's tests).
nlohmann::json HaStatusJson(const HaSnapshot& snapshot);

// The replication view of GET /v1/ha/quorum.
nlohmann::json HaQuorumJson(const HaSnapshot& snapshot);

}  // namespace cpha

#endif  // CPHA_EXPORTER_ADMIN_ROUTES_H_
