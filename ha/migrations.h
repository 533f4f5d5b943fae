// Applies the embedded schema migrations (schema/*.sql) that the database
// does not have yet, in one transaction under a transaction-level advisory
// lock, so sidecars that start together apply each migration exactly once.
//
// Thread-safety: uses the caller's session; call from that session's thread.

#ifndef CPHA_HA_MIGRATIONS_H_
#define CPHA_HA_MIGRATIONS_H_

#include <string>

#include "ha/pg_session.h"
#include "ha/status.h"

namespace cpha {

// `schema` must be a plain lower-case identifier (checked by the options).
// The control plane's tables are created only when `create_app_schema`.
// Returns the error of the first statement that failed; the transaction is
// then rolled back and nothing is applied.
Status RunMigrations(PgSession& session, const std::string& schema,
                     bool create_app_schema, Millis timeout);

// The newest migration version compiled into this binary.
int LatestMigrationVersion();

}  // namespace cpha

#endif  // CPHA_HA_MIGRATIONS_H_
