#include "store/sqlite/migrations.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <string>
#include <system_error>

#include "store/sqlite/sqlite_store.hpp"

namespace vigil::store {
namespace sqlite {
namespace {

// Keep the application id below in step with kApplicationId (0x5649474C == 1447642956).
constexpr const char kSchema1[] = R"sql(
-- Schema 1: investigations and their event logs.
--
-- events is the log, the source of truth:
--   * Append-only: a row is never updated or deleted (events_append_only_* refuse it).
--   * Ids (ts_ms, seq) are strictly increasing per investigation in append order: a row whose id is
--     not after every id already in its investigation's log is refused (events_ids_increase, and
--     the primary key for an equal id). So primary-key order is append order, and a reader paging
--     with (ts_ms, seq) > cursor never skips an event appended after it read.
--   * At most one event per (investigation, idempotency key). idem_key is NULL when the producer
--     gave none, never ''.
--   * Every event belongs to an existing investigation.
--   * item is the event's wire form (core::WriteEvent: event_id, investigation_id, run_id,
--     event_type, actor, timestamp, data), written once at append: feeds and streams copy it out
--     as it is; a fold reads its "data".
-- investigations is a projection of the log, one row per investigation, rewritten in the same
-- transaction as the events that change it: last_ts/last_seq is the id of its log's last event
-- (0/0 while empty), state a core::StateName, snapshot the /progress JSON as of `version`.
-- Lists page newest first by (created_at_ms DESC, id DESC), for everyone or for one owner; the two
-- indexes serve exactly those orders.
PRAGMA application_id = 1447642956;

CREATE TABLE investigations (
  id                 TEXT    NOT NULL PRIMARY KEY,
  owner              TEXT    NOT NULL,
  name               TEXT    NOT NULL,
  state              TEXT    NOT NULL,
  run_id             TEXT    NOT NULL,
  version            INTEGER NOT NULL,
  last_ts            INTEGER NOT NULL,
  last_seq           INTEGER NOT NULL,
  created_at_ms      INTEGER NOT NULL,
  updated_at_ms      INTEGER NOT NULL,
  completion_percent INTEGER NOT NULL,
  snapshot           TEXT    NOT NULL
);
CREATE INDEX investigations_newest ON investigations (created_at_ms DESC, id DESC);
CREATE INDEX investigations_by_owner_newest
  ON investigations (owner, created_at_ms DESC, id DESC);

CREATE TABLE events (
  investigation_id TEXT    NOT NULL REFERENCES investigations (id),
  ts_ms            INTEGER NOT NULL,
  seq              INTEGER NOT NULL CHECK (seq BETWEEN 0 AND 999999),
  run_id           TEXT    NOT NULL,
  event_type       TEXT    NOT NULL,
  actor            TEXT    NOT NULL,
  item             TEXT    NOT NULL,
  idem_key         TEXT    CHECK (idem_key <> ''),
  PRIMARY KEY (investigation_id, ts_ms, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX events_by_key
  ON events (investigation_id, idem_key) WHERE idem_key IS NOT NULL;

CREATE TRIGGER events_ids_increase BEFORE INSERT ON events
  WHEN EXISTS (SELECT 1 FROM events
               WHERE investigation_id = NEW.investigation_id
                 AND (ts_ms, seq) > (NEW.ts_ms, NEW.seq))
BEGIN
  SELECT RAISE(ABORT, 'event id is not after the last event id of its investigation');
END;
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN
  SELECT RAISE(ABORT, 'events are append-only');
END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN
  SELECT RAISE(ABORT, 'events are append-only');
END;
)sql";

constexpr const char kSchema2[] = R"sql(
-- Schema 2: browser sessions and one-time sign-in codes (store.hpp SessionRow), shared by every
-- node on the database and kept across restarts.
--   * id is random (64 hex digits) and unique across both kinds; kind is 'session' or
--     'login_code'; token is the bearer token the row stands for until expires_at_s.
--   * A code is redeemed by deleting it (DELETE ... RETURNING), so it is redeemed once.
--   * Expired rows are deleted by the next insert; vigil_sessions_by_expiry finds them.
CREATE TABLE vigil_sessions (
  id           TEXT    NOT NULL PRIMARY KEY,
  kind         TEXT    NOT NULL,
  token        TEXT    NOT NULL,
  expires_at_s INTEGER NOT NULL
);
CREATE INDEX vigil_sessions_by_expiry ON vigil_sessions (expires_at_s);
)sql";

constexpr Migration kMigrations[] = {
    {1, kSchema1},
    {2, kSchema2},
};

// How long `vigil migrate` waits for a running server's write transaction to finish.
constexpr int kMigrateBusyTimeoutMs = 5000;

// Applies `migration` in its own IMMEDIATE transaction unless another process already has. The
// version is re-read under the write lock, so two concurrent `vigil migrate`s cannot both apply it.
Result<void> Apply(Connection& db, const Migration& migration) {
  if (auto begun = db.Exec("BEGIN IMMEDIATE"); !begun) return begun;
  auto fail = [&db, &migration](Error error) -> Result<void> {
    if (!db.InAutocommit()) (void)db.Exec("ROLLBACK");
    error.message =
        "migration to schema version " + std::to_string(migration.version) + ": " + error.message;
    return tl::unexpected(std::move(error));
  };
  auto state = ReadSchemaState(db);
  if (!state) return fail(std::move(state.error()));
  if ((*state)->user_version < migration.version) {
    if (auto done = db.Exec(migration.sql); !done) return fail(std::move(done.error()));
    // PRAGMA takes no parameters; the version is a trusted integer.
    std::string set_version = "PRAGMA user_version = " + std::to_string(migration.version);
    if (auto done = db.Exec(set_version.c_str()); !done) return fail(std::move(done.error()));
  }
  if (auto done = db.Exec("COMMIT"); !done) return fail(std::move(done.error()));
  return {};
}

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

constexpr const char kReadSchemaState[] =
    "SELECT (SELECT application_id FROM pragma_application_id()),"
    "       (SELECT user_version FROM pragma_user_version()),"
    "       (SELECT count(*) FROM sqlite_schema)";

Result<std::optional<SchemaState>> ReadSchemaState(Connection& db) {
  auto stmt = db.Prepare(kReadSchemaState);
  if (!stmt && sqlite3_extended_errcode(db.raw()) == SQLITE_NOTADB) return std::nullopt;
  if (!stmt) return tl::unexpected(std::move(stmt.error()));
  auto row = stmt->Step();
  if (!row && stmt->last_rc() == SQLITE_NOTADB) return std::nullopt;
  if (!row) return tl::unexpected(std::move(row.error()));
  if (!*row)
    return tl::unexpected(Error(ErrorCode::kInternal, "reading the schema version: no row"));
  SchemaState state;
  state.application_id = stmt->ColumnInt64(0);
  state.user_version = stmt->ColumnInt64(1);
  state.schema_objects = stmt->ColumnInt64(2);
  return state;
}

constexpr const char kUseWriteAheadLog[] = "PRAGMA journal_mode = WAL";

Result<void> UseWriteAheadLog(Connection& db, const std::string& path) {
  auto stmt = db.Prepare(kUseWriteAheadLog);
  if (!stmt) return tl::unexpected(std::move(stmt.error()));
  auto row = stmt->Step();
  if (!row) return tl::unexpected(std::move(row.error()));
  // The pragma answers with the mode in force, which stays the old one when WAL is impossible
  // (e.g. a file system without shared memory).
  std::string mode(*row ? stmt->ColumnText(0) : "unknown");
  if (mode != "wal") {
    return Fail(
        ErrorCode::kUnavailable,
        "database " + path + " cannot use write-ahead logging (journal_mode is " + mode + ")");
  }
  return {};
}

}  // namespace sqlite

int SqliteSchemaVersion() {
  return sqlite::kMigrations[std::size(sqlite::kMigrations) - 1].version;
}

Result<MigrationReport> MigrateSqlite(const std::string& path) {
  using sqlite::Connection;
  // `vigil migrate --db data/vigil.db` on a fresh checkout should just work.
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (std::error_code ec;
      !parent.empty() && !std::filesystem::create_directories(parent, ec) && ec) {
    return Fail(ErrorCode::kUnavailable,
                "cannot create the directory of database " + path + ": " + ec.message());
  }
  auto db = Connection::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                             sqlite::kMigrateBusyTimeoutMs);
  if (!db) return tl::unexpected(std::move(db.error()));

  auto state = sqlite::ReadSchemaState(**db);
  if (!state) return tl::unexpected(std::move(state.error()));
  if (!*state) {
    return Fail(ErrorCode::kInvalidArgument,
                path + " is not a vigil database (not an SQLite file); refusing to migrate it");
  }
  if (!(*state)->IsVigil() && !(*state)->IsEmpty()) {
    return Fail(ErrorCode::kInvalidArgument,
                path + " is not a vigil database (another program's SQLite file); refusing to " +
                    "migrate it");
  }
  const int target = SqliteSchemaVersion();
  MigrationReport report;
  report.from_version = static_cast<int>((*state)->user_version);
  if (report.from_version > target) {
    return Fail(ErrorCode::kConflict, "database " + path + " is at schema version " +
                                          std::to_string(report.from_version) +
                                          ", newer than this build's " + std::to_string(target) +
                                          ": use a newer vigil");
  }

  if (auto wal = sqlite::UseWriteAheadLog(**db, path); !wal) return tl::unexpected(wal.error());
  if (auto done = (*db)->Exec("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON"); !done) {
    return tl::unexpected(std::move(done.error()));
  }

  for (const sqlite::Migration& migration : sqlite::Migrations()) {
    if (migration.version <= report.from_version) continue;
    if (auto applied = sqlite::Apply(**db, migration); !applied) {
      return tl::unexpected(std::move(applied.error()));
    }
  }
  report.to_version = target;
  return report;
}

}  // namespace vigil::store
