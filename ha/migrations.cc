#include "ha/migrations.h"

#include <algorithm>
#include <set>

#include "ha/log.h"
#include "schema/migrations_list.h"

namespace cpha {
namespace {

// Serializes migrations across sidecars; distinct from the election key
// because it is taken through the two-int4 form of the lock functions.
constexpr const char* kMigrationLockSql =
    "SELECT pg_advisory_xact_lock(hashtext('cp-ha-sidecar'), "
    "hashtext('migrations'))";

StatusOr<std::set<int>> AppliedVersions(PgSession& session, Millis timeout) {
  Status created = session.Exec(
      "CREATE TABLE IF NOT EXISTS cp_ha_schema_migrations ("
      " version integer PRIMARY KEY,"
      " name text NOT NULL,"
      " applied_at timestamptz NOT NULL DEFAULT now())",
      timeout);
  if (!created.ok()) return created;

  StatusOr<PgResult> rows =
      session.Query("SELECT version FROM cp_ha_schema_migrations", {}, timeout);
  if (!rows.ok()) return rows.status();
  std::set<int> versions;
  for (int row = 0; row < rows->rows(); ++row) {
    versions.insert(static_cast<int>(rows->Int(row, 0)));
  }
  return versions;
}

Status ApplyMissing(PgSession& session, const std::set<int>& applied,
                    bool create_app_schema, Millis timeout) {
  for (const Migration& migration : Migrations()) {
    if (applied.count(migration.version) != 0) continue;
    if (migration.app_schema && !create_app_schema) continue;

    Status ran = session.ExecScript(migration.sql, timeout);
    if (!ran.ok()) return ran;
    Status recorded = session.Exec(
        "INSERT INTO cp_ha_schema_migrations (version, name) VALUES ($1, $2)",
        timeout, {std::to_string(migration.version), migration.name});
    if (!recorded.ok()) return recorded;
    Log(LogLevel::kInfo, "migrations", "applied migration",
        {{"version", migration.version}, {"name", migration.name}});
  }
  return Status();
}

Status MigrateInTransaction(PgSession& session, const std::string& schema,
                            bool create_app_schema, Millis timeout) {
  Status step = session.Exec(kMigrationLockSql, timeout);
  if (!step.ok()) return step;
  step = session.Exec("CREATE SCHEMA IF NOT EXISTS " + schema, timeout);
  if (!step.ok()) return step;
  step = session.Exec("SET LOCAL search_path = " + schema, timeout);
  if (!step.ok()) return step;
  step = session.Exec("SET LOCAL client_min_messages = warning", timeout);
  if (!step.ok()) return step;

  StatusOr<std::set<int>> applied = AppliedVersions(session, timeout);
  if (!applied.ok()) return applied.status();
  return ApplyMissing(session, applied.value(), create_app_schema, timeout);
}

}  // namespace

Status RunMigrations(PgSession& session, const std::string& schema,
                     bool create_app_schema, Millis timeout) {
  Status began = session.Exec("BEGIN", timeout);
  if (!began.ok()) return began;

  Status migrated =
      MigrateInTransaction(session, schema, create_app_schema, timeout);
  if (!migrated.ok()) {
    if (session.connected()) session.Exec("ROLLBACK", timeout);
    return migrated;
  }
  return session.Exec("COMMIT", timeout);
}

int LatestMigrationVersion() {
  int latest = 0;
  for (const Migration& migration : Migrations()) {
    if (!migration.app_schema) latest = std::max(latest, migration.version);
  }
  return latest;
}

}  // namespace cpha
