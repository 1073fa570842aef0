#include "store/postgres/migrations.hpp"

#include <string>

namespace vigil::store::postgres {
namespace {

// The same tables as the SQLite schema (store/sqlite/migrations.cpp), with the same rules.
constexpr const char kSchema1[] = R"sql(
-- Schema 1: investigations and their event logs.
--
-- events is the log, the source of truth:
--   * Append-only: a row is never updated or deleted (events_append_only* refuse it).
--   * Ids (ts_ms, seq) are strictly increasing per investigation in append order: a row whose id is
--     not after every id already in its investigation's log is refused (events_ids_increase, and
--     the primary key for an equal id). So primary-key order is append order, and a reader paging
--     with (ts_ms, seq) > cursor never skips an event appended after it read.
--   * At most one event per (investigation, idempotency key). idem_key is NULL when the producer
--     gave none, never ''.
--   * Every event belongs to an existing investigation.
--   * item is the event's wire form (core::WriteEvent: event_id, investigation_id, run_id,
--     event_type, actor, timestamp, data) as text, written once at append: feeds and streams copy
--     it out byte for byte (text, not jsonb, which would reorder its keys); a fold reads its "data".
-- investigations is a projection of the log, one row per investigation, rewritten in the same
-- transaction as the events that change it: last_ts/last_seq is the id of its log's last event
-- (0/0 while empty), state a core::StateName, snapshot the /progress JSON as of `version`.
-- Lists page newest first by (created_at_ms DESC, id DESC), for everyone or for one owner; the two
-- indexes serve exactly those orders.
-- Ids, owners and keys compare byte by byte (COLLATE "C"), as in SQLite, so a page boundary means
-- the same in both and does not depend on the database's locale.
CREATE TABLE investigations (
  id                 TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  owner              TEXT COLLATE "C" NOT NULL,
  name               TEXT    NOT NULL,
  state              TEXT    NOT NULL,
  run_id             TEXT    NOT NULL,
  version            BIGINT  NOT NULL,
  last_ts            BIGINT  NOT NULL,
  last_seq           INTEGER NOT NULL,
  created_at_ms      BIGINT  NOT NULL,
  updated_at_ms      BIGINT  NOT NULL,
  completion_percent INTEGER NOT NULL,
  snapshot           TEXT    NOT NULL
);
CREATE INDEX investigations_newest ON investigations (created_at_ms DESC, id DESC);
CREATE INDEX investigations_by_owner_newest
  ON investigations (owner, created_at_ms DESC, id DESC);

CREATE TABLE events (
  investigation_id TEXT COLLATE "C" NOT NULL REFERENCES investigations (id),
  ts_ms            BIGINT  NOT NULL,
  seq              INTEGER NOT NULL CHECK (seq BETWEEN 0 AND 999999),
  run_id           TEXT    NOT NULL,
  event_type       TEXT    NOT NULL,
  actor            TEXT    NOT NULL,
  item             TEXT    NOT NULL,
  idem_key         TEXT COLLATE "C" CHECK (idem_key <> ''),
  PRIMARY KEY (investigation_id, ts_ms, seq)
);
CREATE UNIQUE INDEX events_by_key
  ON events (investigation_id, idem_key) WHERE idem_key IS NOT NULL;

CREATE FUNCTION vigil_events_ids_increase() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM events
             WHERE investigation_id = NEW.investigation_id
               AND (ts_ms, seq) > (NEW.ts_ms, NEW.seq)) THEN
    RAISE EXCEPTION 'event id is not after the last event id of its investigation'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'events_ids_increase';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER events_ids_increase BEFORE INSERT ON events
  FOR EACH ROW EXECUTE FUNCTION vigil_events_ids_increase();

CREATE FUNCTION vigil_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'events are append-only' USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION vigil_events_append_only();
CREATE TRIGGER events_append_only_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION vigil_events_append_only();
)sql";

constexpr const char kSchema2[] = R"sql(
-- Schema 2: browser sessions and one-time sign-in codes (store.hpp SessionRow), shared by every
-- node on the database and kept across restarts.
--   * id is random (64 hex digits) and unique across both kinds; kind is 'session' or
--     'login_code'; token is the bearer token the row stands for until expires_at_s.
--   * A code is redeemed by deleting it (DELETE ... RETURNING), so it is redeemed once.
--   * Expired rows are deleted by the next insert; vigil_sessions_by_expiry finds them.
CREATE TABLE vigil_sessions (
  id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  kind         TEXT   NOT NULL,
  token        TEXT   NOT NULL,
  expires_at_s BIGINT NOT NULL
);
CREATE INDEX vigil_sessions_by_expiry ON vigil_sessions (expires_at_s);
)sql";

constexpr Migration kMigrations[] = {
    {1, kSchema1},
    {2, kSchema2},
};

// "VIGL" in ASCII: the key of the advisory lock that migrations take.
constexpr const char kLockMigrations[] =
    "SELECT pg_advisory_xact_lock(1447642956);"
    " CREATE TABLE IF NOT EXISTS vigil_schema_migrations ("
    "   version    INTEGER     NOT NULL PRIMARY KEY,"
    "   applied_at TIMESTAMPTZ NOT NULL DEFAULT now())";
constexpr const char kHasTables[] =
    "SELECT to_regclass('vigil_schema_migrations') IS NOT NULL,"
    "       to_regclass('investigations') IS NOT NULL OR to_regclass('events') IS NOT NULL";
constexpr const char kSchemaVersion[] =
    "SELECT coalesce(max(version), 0) FROM vigil_schema_migrations";
constexpr const char kRecordMigration[] =
    "INSERT INTO vigil_schema_migrations (version) VALUES ($1)";

Result<int64_t> ReadVersion(Connection& db) {
  auto rows = db.Run(kSchemaVersion);
  if (!rows) return Fail(std::move(rows.error()));
  return rows->size() == 1 ? rows->operator[](0).ColumnInt64(0) : 0;
}

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

Result<SchemaState> ReadSchemaState(Connection& db) {
  auto rows = db.Run(kHasTables);
  if (!rows) return Fail(std::move(rows.error()));
  SchemaState state;
  const Rows::Row row = (*rows)[0];
  state.has_vigil_tables = row.ColumnText(1) == "t";
  if (row.ColumnText(0) == "t") {
    auto version = ReadVersion(db);
    if (!version) return Fail(std::move(version.error()));
    state.version = *version;
  }
  return state;
}

Result<void> Apply(Connection& db, const Migration& migration) {
  auto fail = [&db, &migration](Error error) -> Result<void> {
    if (!db.broken()) (void)db.Exec("ROLLBACK");
    error.message =
        "migration to schema version " + std::to_string(migration.version) + ": " + error.message;
    return Fail(std::move(error));
  };
  if (auto begun = db.Exec("BEGIN"); !begun) return fail(std::move(begun.error()));
  if (auto locked = db.Exec(kLockMigrations); !locked) return fail(std::move(locked.error()));
  auto version = ReadVersion(db);
  if (!version) return fail(std::move(version.error()));
  if (*version < migration.version) {
    if (auto done = db.Exec(migration.sql); !done) return fail(std::move(done.error()));
    auto recorded = db.Run(kRecordMigration, Params().Bind(int64_t{migration.version}));
    if (!recorded) return fail(std::move(recorded.error()));
  }
  if (auto done = db.Exec("COMMIT"); !done) return fail(std::move(done.error()));
  return {};
}

}  // namespace vigil::store::postgres
