// The sidecar's SQL migrations, embedded from schema/*.sql at build time.

#ifndef CPHA_SCHEMA_MIGRATIONS_LIST_H_
#define CPHA_SCHEMA_MIGRATIONS_LIST_H_

#include <vector>

namespace cpha {

struct Migration {
  int version;       // applied in this order, each once
  const char* name;  // the file it came from
  bool app_schema;   // a control-plane table: only with --create-app-schema
  const char* sql;   // a script of statements, run in one transaction
};

// Every migration, ordered by version.
const std::vector<Migration>& Migrations();

}  // namespace cpha

#endif  // CPHA_SCHEMA_MIGRATIONS_LIST_H_
