// The PostgreSQL Store, for several vigil nodes on one database (the scale-out backend).
//
// Durability: every session runs with synchronous_commit on, so a commit that returns success is
// in the server's write-ahead log on disk (and on synchronous standbys, where the server has
// them): it survives a crash of vigil and of the database server.
// Connections: one writer connection, used only by the engine's writer thread (one
// WriteTransaction at a time), and a fixed pool of read-only connections (`read_connections`),
// each lent to one read. Every call blocks its thread on libpq; none runs on an I/O thread.
// A lost connection fails the call in progress with kUnavailable and is opened again by the next
// call that needs it; a read or a BEGIN that finds its idle connection lost is retried once on a
// new one, since nothing of it reached the server. A write transaction whose connection is lost
// is over: its calls fail with kUnavailable and nothing of it is committed, except that a COMMIT
// whose answer is lost may have committed (the engine's callers retry with idempotency keys).
// Schema: versioned migrations (postgres/migrations.cpp), applied only by `vigil migrate`.
// OpenPostgresStore refuses a database whose schema version differs from the one this build
// expects.
//
// Thread-safety: as store.hpp says. A read waits for a free read connection when all are in use.
// BeginWrite fails with kInternal while another WriteTransaction exists. The store must outlive
// its transactions.
#pragma once

#include <memory>
#include <string>

#include "store/store.hpp"

namespace vigil::store {

struct PostgresOptions {
  std::string uri;  // a libpq URI: postgresql://[user[:password]@][host][:port][/dbname][?...]
  int read_connections = 4;
  // The writer session's lock_timeout and statement_timeout, unless the URL (options=-c ...) or
  // the role sets its own: a group that waits this long for another node's lock, or a statement
  // that runs this long, fails with kUnavailable (503, retry) instead of holding every write.
  int lock_timeout_ms = 5000;
  int statement_timeout_ms = 10000;
};

// The schema version this build reads and writes.
int PostgresSchemaVersion();

// kInvalidArgument (field "db") when libpq cannot parse `uri` or its port is not a number.
// Connects to nothing.
Result<void> CheckPostgresUri(const std::string& uri);

// Connects to an existing, migrated database. kUnavailable when the server cannot be reached (the
// cause has libpq's words), and with a message that says what to run when the database is not
// vigil's, not migrated, or at another schema version.
Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresOptions& options);

// Applies every migration the database lacks, each in its own transaction. The database itself
// must exist (CREATE DATABASE is the administrator's). kConflict when the database is newer than
// this build; kInvalidArgument when it has tables by vigil's names that vigil did not make, which
// are left untouched.
Result<MigrationReport> MigratePostgres(const std::string& uri);

}  // namespace vigil::store
