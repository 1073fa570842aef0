// The PostgreSQL schema's history, private to store/postgres. The public entry points
// (MigratePostgres, PostgresSchemaVersion) are declared in postgres_store.hpp.
//
// A database's schema version is the highest version in its vigil_schema_migrations table (one
// row per migration applied, with when). A database without that table was never migrated by
// vigil; if it has tables by the names vigil uses, it is another program's, and neither
// `vigil migrate` nor `vigil serve` touches it.
#pragma once

#include <cstdint>
#include <span>

#include "base/result.hpp"
#include "store/postgres/pg_conn.hpp"

namespace vigil::store::postgres {

struct Migration {
  int version;      // the schema version after applying `sql`; the list counts up from 1 by 1
  const char* sql;  // opens with a comment stating the invariants of the tables it touches
};

// Every migration, oldest first. The last one's version is PostgresSchemaVersion().
std::span<const Migration> Migrations();

// What a database says about itself.
struct SchemaState {
  int64_t version = 0;            // 0 when never migrated
  bool has_vigil_tables = false;  // an investigations or events table exists

  // Tables by vigil's names, but not put there by `vigil migrate`.
  bool IsForeign() const { return version == 0 && has_vigil_tables; }
};

Result<SchemaState> ReadSchemaState(Connection& db);

// Applies `migration` in its own transaction unless it is applied already, under an advisory lock
// that makes concurrent `vigil migrate`s take turns; the version is read again under it.
Result<void> Apply(Connection& db, const Migration& migration);

}  // namespace vigil::store::postgres
