// Backups of the connected database (issue #4, runbook section 5): pg_dump
// in custom format into a directory, recorded in backup_inventory and
// ha_operations; restore of a recorded backup (pg_restore --clean
// --if-exists turned into a script that psql runs in one transaction with
// a statement that sets the durable epoch above every epoch known before,
// docs/decisions.md).
//
// pg_dump, pg_restore and psql run as child processes with a timeout; the
// password is never on their command line nor in an environment variable:
// it goes into a passfile (mode 0600, in a private temporary directory that
// is removed afterwards) named by PGPASSFILE in the child's environment.
//
// BackupService runs one backup or restore at a time; a second request
// while one runs is refused (kFailedPrecondition). Each call opens its own
// short database session.
//
// Thread-safety: all public methods may be called from any thread.

#ifndef CPHA_HA_BACKUP_H_
#define CPHA_HA_BACKUP_H_

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "ha/conn_params.h"
#include "ha/ha_state.h"
#include "ha/status.h"

namespace cpha {

struct BackupConfig {
  ConnParams conn;
  std::string schema = "public";
  // Where pg_dump and pg_restore live; empty: looked up in PATH.
  std::string pg_bin_dir;
  // The output directory when a request names none; empty: required.
  std::string default_dir;
  Duration tool_timeout = std::chrono::minutes(10);
  Duration db_timeout = std::chrono::seconds(2);
  Duration connect_timeout = std::chrono::seconds(3);
};

// One row of backup_inventory.
struct BackupRecord {
  std::string id;
  std::string created_at;  // RFC 3339 UTC
  std::string operator_name;
  std::string reason;
  std::string file;
  int64_t size_bytes = 0;
  int64_t epoch = 0;
  std::string checksum;  // "sha256:<hex>"
};

struct BackupRequest {
  std::string operator_name;
  std::string reason;
  std::string backup_id;
  std::string output_dir;  // empty: BackupConfig::default_dir
};

struct RestoreRequest {
  std::string operator_name;
  std::string reason;
  std::string backup_id;
};

struct RestoreResult {
  BackupRecord backup;
  int64_t epoch_before = 0;  // the highest epoch known before the restore
  int64_t epoch_after = 0;   // the durable epoch set by the restore
};

// True for 1 to 100 characters of [A-Za-z0-9._-] that are not "." or "..".
bool IsSafeBackupId(std::string_view id);

// Empty when `dir` is an absolute path without NUL bytes or "..";
// otherwise why not.
std::string OutputDirProblem(std::string_view dir);

// "sha256:<64 hex digits>" of the file's content.
StatusOr<std::string> FileSha256(const std::string& path);

class BackupService {
 public:
  // `state` must outlive the service.
  BackupService(BackupConfig config, HaState& state);

  BackupService(const BackupService&) = delete;
  BackupService& operator=(const BackupService&) = delete;

  // Dumps the database into <dir>/<backup_id>.dump and records it. Errors:
  // kInvalidArgument (bad id or directory), kFailedPrecondition (the id is
  // taken or the file exists, or another operation runs), kTimeout,
  // kQuery/kConnection (pg_dump or the database failed). Nothing is
  // recorded and no file is left behind on failure.
  StatusOr<BackupRecord> Create(const BackupRequest& request);

  // The inventory, newest first. Errors: kConnection, kTimeout, kQuery.
  StatusOr<std::vector<BackupRecord>> List();

  // Restores a recorded backup and raises the durable epoch in the same
  // transaction (see the file comment).
  // The caller checks maintenance mode and confirmation. Errors:
  // kInvalidArgument (bad id); kFailedPrecondition with the message
  // kUnknownBackupId for an id missing from the inventory, or another text
  // when the file changed since the backup or another operation runs;
  // kTimeout, kQuery or kConnection when a tool or the database fail (the
  // database is then unchanged: the restore is one transaction).
  StatusOr<RestoreResult> Restore(const RestoreRequest& request);

 private:
  // Constant after construction.
  const BackupConfig config_;
  HaState& state_;

  // Held for the duration of one backup or restore.
  std::mutex operation_mutex_;
};

// The message of the kFailedPrecondition that Restore returns for an id
// missing from the inventory.
inline constexpr std::string_view kUnknownBackupId = "unknown backup id";

}  // namespace cpha

#endif  // CPHA_HA_BACKUP_H_
