// The SQLite schema's history, private to store/sqlite. The public entry points (MigrateSqlite,
// SqliteSchemaVersion) are declared in sqlite_store.hpp.
//
// A database's schema version is its `PRAGMA user_version`; its `PRAGMA application_id` marks it
// as vigil's, so that neither `vigil migrate` nor `vigil serve` mistakes another program's SQLite
// file for an empty vigil database.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "base/result.hpp"
#include "store/sqlite/sqlite_db.hpp"

namespace vigil::store::sqlite {

// "VIGL" in ASCII. Written by the first migration.
inline constexpr int32_t kApplicationId = 0x5649474C;

struct Migration {
  int version;      // the user_version after applying `sql`; the list counts up from 1 by 1
  const char* sql;  // opens with a comment stating the invariants of the tables it touches
};

// Every migration, oldest first. The last one's version is SqliteSchemaVersion().
std::span<const Migration> Migrations();

// What a database says about itself, read in one statement (one read transaction).
struct SchemaState {
  int64_t application_id = 0;
  int64_t user_version = 0;
  int64_t schema_objects = 0;  // rows of sqlite_schema: tables, indexes, triggers, views

  bool IsVigil() const { return application_id == kApplicationId; }
  // A database nothing has written a schema into yet (e.g. a file that `migrate` just created).
  bool IsEmpty() const { return application_id == 0 && user_version == 0 && schema_objects == 0; }
};

// Reads the SchemaState; nullopt when the file is not an SQLite database at all (SQLITE_NOTADB),
// so that callers can say "not a vigil database" rather than pass on SQLite's words.
Result<std::optional<SchemaState>> ReadSchemaState(Connection& db);

// Puts the database in WAL mode (a property of the file, kept across connections; a no-op when it
// already is). Must run outside a transaction. kUnavailable when SQLite cannot use WAL there.
Result<void> UseWriteAheadLog(Connection& db, const std::string& path);

}  // namespace vigil::store::sqlite
