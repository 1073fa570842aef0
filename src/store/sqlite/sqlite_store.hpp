// The embedded default Store: one SQLite file in WAL mode.
//
// Durability: every commit is fsynced (synchronous=FULL), so an acknowledged write survives a
// crash of the process (kill -9) and, where the disk honours fsync, a power loss.
// Concurrency: one writer connection (used only by the engine's writer thread) and a small pool of
// read-only connections; WAL lets readers run while the writer commits.
// Schema: versioned migrations (sqlite/migrations.cpp), applied only by `vigil migrate`.
// OpenSqliteStore refuses a database whose schema version differs from the one this build expects.
//
// Thread-safety: as store.hpp says. A read waits for a free read connection when all are in use.
// A WriteTransaction borrows the writer connection; BeginWrite fails with kInternal while another
// exists. The store must outlive its transactions.
#pragma once

#include <memory>
#include <string>

#include "store/store.hpp"

namespace vigil::store {

struct SqliteOptions {
  std::string path;
  int read_connections = 4;
  int busy_timeout_ms = 5000;
};

// The schema version this build reads and writes.
int SqliteSchemaVersion();

// Opens an existing, migrated database. kUnavailable with a message that says what to run when the
// file is missing, not a vigil database, or at another schema version.
Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options);

// Creates the file (and its directory) if needed and applies every migration it lacks, each in its
// own transaction. kConflict when the database is newer than this build; kInvalidArgument when the
// file is not a vigil database (not SQLite, or another program's), which is left untouched.
Result<MigrationReport> MigrateSqlite(const std::string& path);

}  // namespace vigil::store
