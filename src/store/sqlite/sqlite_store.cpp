#include "store/sqlite/sqlite_store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "base/json_text.hpp"
#include "store/common/pool.hpp"
#include "store/common/rows.hpp"
#include "store/sqlite/migrations.hpp"
#include "store/sqlite/sqlite_db.hpp"

namespace vigil::store {
namespace {

using common::Distinct;
using sqlite::Connection;
using sqlite::SqliteError;
using sqlite::Statement;

template <typename T>
tl::unexpected<Error> Forward(Result<T>& failed) {
  return tl::unexpected<Error>(std::move(failed.error()));
}

// Prepares (or takes from the cache) and runs a statement that returns no rows.
Result<void> Run(Connection& db, const char* sql) {
  auto stmt = db.Prepare(sql);
  if (!stmt) return Forward(stmt);
  return stmt->Run();
}

// SQLite's LIMIT is a signed 64-bit integer, and a negative one means "no limit".
int64_t SqlLimit(size_t limit) {
  constexpr size_t kMax = static_cast<size_t>(std::numeric_limits<int64_t>::max());
  return limit > kMax ? -1 : static_cast<int64_t>(limit);
}

// "?, ?, ?" for an IN list of n values.
std::string Placeholders(size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += i == 0 ? "?" : ", ?";
  return out;
}

// --- Heads ---

constexpr const char kInvestigationVersion[] = "SELECT version FROM investigations WHERE id = ?";

// The heads of the investigations in `ids` that exist, ascending by id: one indexed lookup each,
// in-process.
Result<std::vector<InvestigationHead>> ReadHeadsOn(Connection& db,
                                                   std::span<const std::string> ids) {
  std::vector<InvestigationHead> heads;
  for (std::string& id : Distinct(std::vector<std::string>(ids.begin(), ids.end()))) {
    auto stmt = db.Prepare(kInvestigationVersion);
    if (!stmt) return Forward(stmt);
    stmt->Bind(id);
    auto found = stmt->Step();
    if (!found) return Forward(found);
    if (*found) heads.push_back({std::move(id), stmt->ColumnInt64(0)});
  }
  return heads;
}

// --- Write transaction ---

constexpr const char kBeginWrite[] = "BEGIN IMMEDIATE";
constexpr const char kCommit[] = "COMMIT";
constexpr const char kRollback[] = "ROLLBACK";
// The caller's one savepoint level, and AppendEvents' own (nested inside it when both are open).
constexpr const char kSavepoint[] = "SAVEPOINT job";
constexpr const char kReleaseSavepoint[] = "RELEASE job";
constexpr const char kRollbackToSavepoint[] = "ROLLBACK TO job";
constexpr const char kAppendSavepoint[] = "SAVEPOINT append";
constexpr const char kAppendRelease[] = "RELEASE append";
constexpr const char kAppendRollback[] = "ROLLBACK TO append";

// A transaction on the store's writer connection, begun with BEGIN IMMEDIATE so that it holds the
// database's write lock from the start (a busy database fails BeginWrite, not a later statement).
// It borrows the connection: `writer_in_use` is the store's flag saying so, cleared when the
// transaction is destroyed. Not thread-safe; it must not outlive its store.
class SqliteWriteTransaction final : public WriteTransaction {
 public:
  SqliteWriteTransaction(Connection* db, std::atomic<bool>* writer_in_use)
      : db_(db), writer_in_use_(writer_in_use) {}

  SqliteWriteTransaction(const SqliteWriteTransaction&) = delete;
  SqliteWriteTransaction& operator=(const SqliteWriteTransaction&) = delete;

  ~SqliteWriteTransaction() override {
    if (!db_->InAutocommit()) (void)Run(*db_, kRollback);
    writer_in_use_->store(false, std::memory_order_release);
  }

  Result<void> Savepoint() override {
    if (auto usable = CheckUsable(); !usable) return usable;
    if (in_savepoint_) return Fail(ErrorCode::kInternal, "a savepoint is already open");
    if (auto done = Run(*db_, kSavepoint); !done) return done;
    in_savepoint_ = true;
    return {};
  }

  Result<void> ReleaseSavepoint() override {
    if (auto usable = CheckUsable(); !usable) return usable;
    if (!in_savepoint_) return Fail(ErrorCode::kInternal, "no savepoint is open");
    if (auto done = Run(*db_, kReleaseSavepoint); !done) return done;
    in_savepoint_ = false;
    return {};
  }

  Result<void> RollbackToSavepoint() override {
    if (auto usable = CheckUsable(); !usable) return usable;
    if (!in_savepoint_) return Fail(ErrorCode::kInternal, "no savepoint is open");
    // ROLLBACK TO leaves the savepoint open; release it too, so that there is one level only and
    // the next job's Savepoint() starts clean.
    if (auto done = Run(*db_, kRollbackToSavepoint); !done) return done;
    if (auto done = Run(*db_, kReleaseSavepoint); !done) return done;
    in_savepoint_ = false;
    return {};
  }

  static constexpr const char kInsertInvestigation[] =
      "INSERT INTO investigations (owner, name, state, run_id, version, last_ts, last_seq,"
      " created_at_ms, updated_at_ms, completion_percent, snapshot, id)"
      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

  Result<void> InsertInvestigation(const InvestigationRow& row) override {
    if (auto usable = CheckUsable(); !usable) return usable;
    auto stmt = db_->Prepare(kInsertInvestigation);
    if (!stmt) return Forward(stmt);
    common::BindInvestigationFields(*stmt, row);
    stmt->Bind(row.id);
    auto done = stmt->Run();
    if (!done && (stmt->last_rc() & 0xff) == SQLITE_CONSTRAINT) {
      return Fail(common::InvestigationExists(row.id));
    }
    return done;
  }

  static constexpr const char kUpdateInvestigation[] =
      "UPDATE investigations SET owner = ?, name = ?, state = ?, run_id = ?, version = ?,"
      " last_ts = ?, last_seq = ?, created_at_ms = ?, updated_at_ms = ?,"
      " completion_percent = ?, snapshot = ?"
      " WHERE id = ? AND (? IS NULL OR version = ?)";

  Result<void> UpdateInvestigation(const InvestigationRow& row,
                                   std::optional<int64_t> expected_version) override {
    if (auto usable = CheckUsable(); !usable) return usable;
    auto stmt = db_->Prepare(kUpdateInvestigation);
    if (!stmt) return Forward(stmt);
    common::BindInvestigationFields(*stmt, row);
    stmt->Bind(row.id);
    if (expected_version) {
      stmt->Bind(*expected_version).Bind(*expected_version);
    } else {
      stmt->BindNull().BindNull();
    }
    if (auto done = stmt->Run(); !done) return done;
    if (db_->Changes() > 0) return {};
    // Nothing changed: tell a missing investigation from one at another version.
    auto read = db_->Prepare(kInvestigationVersion);
    if (!read) return Forward(read);
    read->Bind(row.id);
    auto found = read->Step();
    if (!found) return Forward(found);
    std::optional<int64_t> stored;
    if (*found) stored = read->ColumnInt64(0);
    return Fail(common::UpdateRefused(row.id, stored, expected_version));
  }

  // One writer per database (BEGIN IMMEDIATE holds its write lock): nobody else can move a row
  // on, so reading the heads is locking them.
  Result<std::vector<InvestigationHead>> LockInvestigations(
      std::span<const std::string> ids) override {
    if (auto usable = CheckUsable(); !usable) return tl::unexpected(usable.error());
    return ReadHeadsOn(*db_, ids);
  }

  // No other node to tell.
  Result<void> AnnounceHeads(std::span<const InvestigationHead>) override { return CheckUsable(); }

  Result<void> AppendEvents(std::span<const core::Event> events) override {
    if (auto usable = CheckUsable(); !usable) return usable;
    if (events.size() <= 1) return AppendEachOf(events);
    // All or nothing: a failure part way must not leave the first events behind.
    if (auto done = Run(*db_, kAppendSavepoint); !done) return done;
    auto appended = AppendEachOf(events);
    if (!appended) {
      // If SQLite already rolled the whole transaction back, CheckUsable reports it next time.
      if (!db_->InAutocommit()) {
        (void)Run(*db_, kAppendRollback);
        (void)Run(*db_, kAppendRelease);
      }
      return appended;
    }
    return Run(*db_, kAppendRelease);
  }

  static constexpr const char kFindByKey[] =
      "SELECT ts_ms, seq FROM events WHERE investigation_id = ? AND idem_key = ?";

  Result<std::optional<core::EventId>> FindByKey(const std::string& investigation_id,
                                                 const std::string& key) override {
    if (auto usable = CheckUsable(); !usable) return tl::unexpected(usable.error());
    if (key.empty()) return std::optional<core::EventId>();  // no key: nothing to match
    auto stmt = db_->Prepare(kFindByKey);
    if (!stmt) return Forward(stmt);
    stmt->Bind(investigation_id).Bind(key);
    auto row = stmt->Step();
    if (!row) return Forward(row);
    if (!*row) return std::optional<core::EventId>();
    return core::EventId{stmt->ColumnInt64(0), static_cast<int32_t>(stmt->ColumnInt64(1))};
  }

  static constexpr const char kDeleteExpiredSessions[] =
      "DELETE FROM vigil_sessions WHERE expires_at_s <= ?";
  static constexpr const char kInsertSession[] =
      "INSERT INTO vigil_sessions (id, kind, token, expires_at_s) VALUES (?, ?, ?, ?)"
      " ON CONFLICT (id) DO NOTHING";
  static constexpr const char kTakeSession[] =
      "DELETE FROM vigil_sessions WHERE id = ? AND kind = ? RETURNING token, expires_at_s";

  Result<void> InsertSession(SessionKind kind, const SessionRow& row, int64_t now_s) override {
    if (auto usable = CheckUsable(); !usable) return usable;
    auto expired = db_->Prepare(kDeleteExpiredSessions);
    if (!expired) return Forward(expired);
    expired->Bind(now_s);
    if (auto done = expired->Run(); !done) return done;
    auto stmt = db_->Prepare(kInsertSession);
    if (!stmt) return Forward(stmt);
    stmt->Bind(row.id).Bind(common::SessionKindName(kind)).Bind(row.token).Bind(row.expires_at_s);
    if (auto done = stmt->Run(); !done) return done;
    if (db_->Changes() == 0) return Fail(common::SessionExists());
    return {};
  }

  Result<std::optional<SessionRow>> TakeSession(SessionKind kind, const std::string& id) override {
    if (auto usable = CheckUsable(); !usable) return tl::unexpected(usable.error());
    auto stmt = db_->Prepare(kTakeSession);
    if (!stmt) return Forward(stmt);
    stmt->Bind(id).Bind(common::SessionKindName(kind));
    auto row = stmt->Step();
    if (!row) return Forward(row);
    if (!*row) return std::optional<SessionRow>();
    SessionRow taken = common::ReadSession(*stmt, id);
    // RETURNING yields its rows before the delete is complete: finish the statement.
    while (true) {
      auto more = stmt->Step();
      if (!more) return Forward(more);
      if (!*more) break;
    }
    return std::optional<SessionRow>(std::move(taken));
  }

  Result<void> Commit() override {
    if (auto usable = CheckUsable(); !usable) return usable;
    finished_ = true;
    auto done = Run(*db_, kCommit);
    // A failed COMMIT may leave the transaction open; end it, so the outcome is known: nothing.
    if (!done && !db_->InAutocommit()) (void)Run(*db_, kRollback);
    return done;
  }

 private:
  static constexpr const char kInsertEvent[] =
      "INSERT INTO events (investigation_id, ts_ms, seq, run_id, event_type, actor, item,"
      " idem_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

  Result<void> AppendEachOf(std::span<const core::Event> events) {
    for (const core::Event& event : events) {
      auto stmt = db_->Prepare(kInsertEvent);
      if (!stmt) return Forward(stmt);
      common::BindEventFields(*stmt, event);
      auto done = stmt->Run();
      if (!done) return Fail(DescribeAppendFailure(event, stmt->last_rc(), done.error()));
    }
    return {};
  }

  // Says which rule of the events table an append broke, in the caller's terms.
  static Error DescribeAppendFailure(const core::Event& event, int rc, Error error) {
    using common::AppendRule;
    switch (rc) {
      case SQLITE_CONSTRAINT_PRIMARYKEY:
        return common::AppendRefused(AppendRule::kIdExists, event);
      case SQLITE_CONSTRAINT_UNIQUE:
        return common::AppendRefused(AppendRule::kKeyExists, event);
      case SQLITE_CONSTRAINT_TRIGGER:
        return common::AppendRefused(AppendRule::kIdNotAfterLast, event);
      case SQLITE_CONSTRAINT_FOREIGNKEY:
        return common::AppendRefused(AppendRule::kNoInvestigation, event);
      default:
        return error;
    }
  }

  // Whether statements may still run: not after Commit(), and not after SQLite rolled the
  // transaction back by itself (it does after SQLITE_FULL, IOERR, NOMEM and some BUSY errors).
  // Running on would silently autocommit each statement.
  Result<void> CheckUsable() {
    if (finished_) return Fail(ErrorCode::kInternal, "the write transaction has already ended");
    if (db_->InAutocommit()) {
      finished_ = true;
      return Fail(ErrorCode::kUnavailable,
                  "the database rolled the write transaction back after an error; start again");
    }
    return {};
  }

  Connection* const db_;
  std::atomic<bool>* const writer_in_use_;
  bool finished_ = false;      // Commit() was called
  bool in_savepoint_ = false;  // between Savepoint() and its Release/RollbackTo
};

// --- Store ---

// The SQLite Store. One writer connection, lent to at most one SqliteWriteTransaction at a time,
// and a fixed pool of read-only connections lent to one read each.
//
// Thread-safety: reads may run on any threads at once; each takes a connection from the pool
// (waiting while all are lent) and runs one SELECT, which SQLite runs in one implicit read
// transaction, so each result is one consistent snapshot. BeginWrite and the transaction it
// returns are the writer thread's alone. The store must outlive its transactions, and no call may
// be in flight when it is destroyed.
class SqliteStore final : public Store {
 public:
  SqliteStore(std::unique_ptr<Connection> writer, std::vector<std::unique_ptr<Connection>> readers)
      : writer_(std::move(writer)), readers_(std::move(readers)) {}

  Result<std::unique_ptr<WriteTransaction>> BeginWrite() override {
    if (writer_in_use_.exchange(true, std::memory_order_acquire)) {
      return Fail(ErrorCode::kInternal, "a write transaction is already open");
    }
    // A transaction left open by a failed ROLLBACK would make BEGIN fail forever; end it.
    if (!writer_->InAutocommit()) (void)Run(*writer_, kRollback);
    if (auto begun = Run(*writer_, kBeginWrite); !begun) {
      writer_in_use_.store(false, std::memory_order_release);
      return Forward(begun);
    }
    return std::make_unique<SqliteWriteTransaction>(writer_.get(), &writer_in_use_);
  }

  static constexpr const char kSelectInvestigation[] =
      "SELECT id, owner, name, state, run_id, version, last_ts, last_seq, created_at_ms,"
      " updated_at_ms, completion_percent, snapshot"
      " FROM investigations WHERE id = ?";

  static constexpr const char kSelectSession[] =
      "SELECT token, expires_at_s FROM vigil_sessions WHERE id = ? AND kind = ?";

  PoolStats pool_stats() const override {
    auto [waits, wait_ns] = readers_.waits();
    return {waits, wait_ns};
  }

  Result<std::optional<SessionRow>> GetSession(SessionKind kind, const std::string& id) override {
    auto reader = readers_.Borrow();
    auto stmt = reader->Prepare(kSelectSession);
    if (!stmt) return Forward(stmt);
    stmt->Bind(id).Bind(common::SessionKindName(kind));
    auto row = stmt->Step();
    if (!row) return Forward(row);
    if (!*row) return std::optional<SessionRow>();
    return std::optional<SessionRow>(common::ReadSession(*stmt, id));
  }

  Result<std::optional<InvestigationRow>> GetInvestigation(const std::string& id) override {
    auto reader = readers_.Borrow();
    auto stmt = reader->Prepare(kSelectInvestigation);
    if (!stmt) return Forward(stmt);
    stmt->Bind(id);
    auto row = stmt->Step();
    if (!row) return Forward(row);
    if (!*row) return std::optional<InvestigationRow>();
    auto investigation = common::ReadInvestigation(*stmt);
    if (!investigation) return Forward(investigation);
    return std::optional<InvestigationRow>(std::move(*investigation));
  }

  // The statement is built from these pieces; see Distinct() for why its variety stays small.
  static constexpr const char kListInvestigations[] =
      "SELECT id, owner, name, state, run_id, version, last_ts, last_seq, created_at_ms,"
      " updated_at_ms, completion_percent, snapshot"
      " FROM investigations";
  static constexpr const char kListByOwner[] = "owner = ?";
  static constexpr const char kListInStates[] = "state IN (";  // + placeholders + ")"
  static constexpr const char kListAfter[] = "(created_at_ms, id) < (?, ?)";
  static constexpr const char kListOrder[] = " ORDER BY created_at_ms DESC, id DESC LIMIT ?";

  Result<std::vector<InvestigationRow>> ListInvestigations(
      const InvestigationQuery& query) override {
    std::vector<core::State> states = Distinct(query.states);
    std::string sql = kListInvestigations;
    const char* joiner = " WHERE ";
    auto where = [&sql, &joiner](std::string_view condition) {
      sql.append(joiner).append(condition);
      joiner = " AND ";
    };
    if (query.owner) where(kListByOwner);
    if (!states.empty()) where(std::string(kListInStates) + Placeholders(states.size()) + ")");
    if (query.after) where(kListAfter);
    sql += kListOrder;

    auto reader = readers_.Borrow();
    auto stmt = reader->Prepare(sql);
    if (!stmt) return Forward(stmt);
    if (query.owner) stmt->Bind(*query.owner);
    for (core::State state : states) stmt->Bind(core::StateName(state));
    if (query.after) stmt->Bind(query.after->first).Bind(query.after->second);
    stmt->Bind(SqlLimit(query.limit));

    std::vector<InvestigationRow> rows;
    for (;;) {
      auto row = stmt->Step();
      if (!row) return Forward(row);
      if (!*row) break;
      auto investigation = common::ReadInvestigation(*stmt);
      if (!investigation) return Forward(investigation);
      rows.push_back(std::move(*investigation));
    }
    return rows;
  }

  // Built like the list above. The primary key (investigation_id, ts_ms, seq) serves the range and
  // the order; a type filter is applied while scanning it.
  static constexpr const char kReadEvents[] =
      "SELECT ts_ms, seq, event_type, item, run_id, actor, idem_key"
      " FROM events WHERE investigation_id = ? AND (ts_ms, seq) > (?, ?)";
  // A raw read copies events through: their ids and stored wire forms are all it needs.
  static constexpr const char kReadEventsRaw[] =
      "SELECT ts_ms, seq, event_type, item FROM events WHERE investigation_id = ? AND "
      "(ts_ms, seq) > (?, ?)";
  static constexpr const char kReadEventsOfTypes[] = " AND event_type IN (";  // + placeholders
  static constexpr const char kReadEventsOrder[] = " ORDER BY ts_ms, seq LIMIT ?";

  Result<std::vector<core::Event>> ReadEvents(const EventQuery& query) override {
    std::vector<core::EventType> types = Distinct(query.types);
    std::string sql = query.raw_data ? kReadEventsRaw : kReadEvents;
    if (!types.empty()) sql.append(kReadEventsOfTypes).append(Placeholders(types.size())) += ")";
    sql += kReadEventsOrder;

    auto reader = readers_.Borrow();
    auto stmt = reader->Prepare(sql);
    if (!stmt) return Forward(stmt);
    stmt->Bind(query.investigation_id).Bind(query.after.ts_ms).Bind(int64_t{query.after.seq});
    for (core::EventType type : types) stmt->Bind(core::EventTypeName(type));
    stmt->Bind(SqlLimit(query.limit));

    std::vector<core::Event> events;
    events.reserve(std::min<size_t>(query.limit, 1024));
    for (;;) {
      auto row = stmt->Step();
      if (!row) return Forward(row);
      if (!*row) break;
      auto event = common::ReadEvent(*stmt, query.investigation_id, query.raw_data);
      if (!event) return Forward(event);
      events.push_back(std::move(*event));
    }
    return events;
  }

  Result<std::vector<InvestigationHead>> ReadHeads(std::span<const std::string> ids) override {
    auto reader = readers_.Borrow();
    return ReadHeadsOn(*reader, ids);
  }

 private:
  // Declared first so that it is closed last: the last connection to close checkpoints the WAL
  // into the database file and removes it, and only the writer may write the file.
  const std::unique_ptr<Connection> writer_;
  // Whether a SqliteWriteTransaction holds writer_. Set by BeginWrite, cleared by the
  // transaction's destructor.
  std::atomic<bool> writer_in_use_{false};

  // In each read the statement is declared after the lease, so that it is reset before its
  // connection goes back to the pool.
  common::ConnectionPool<Connection> readers_;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options) {
  const std::string& path = options.path;
  const std::string migrate = "run 'vigil migrate --db " + path + "'";
  if (sqlite3_threadsafe() == 0) {
    return Fail(ErrorCode::kInternal, "libsqlite3 was built without thread support");
  }
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (ec) return Fail(ErrorCode::kUnavailable, "database " + path + ": " + ec.message());
    return Fail(ErrorCode::kUnavailable,
                "database " + path + " does not exist: " + migrate + " to create it");
  }

  // Without SQLITE_OPEN_CREATE, and nothing below writes before the schema is known to be ours at
  // the version this build needs: serving never creates or alters a schema, `vigil migrate` does.
  auto writer = Connection::Open(path, SQLITE_OPEN_READWRITE, options.busy_timeout_ms);
  if (!writer) return Forward(writer);
  auto state = sqlite::ReadSchemaState(**writer);
  if (!state) return Forward(state);
  if (!*state || (!(*state)->IsVigil() && !(*state)->IsEmpty())) {
    return Fail(ErrorCode::kUnavailable,
                path + " is not a vigil database: check --db, or " + migrate + " on a new file");
  }
  const int64_t version = (*state)->user_version;
  const int needed = SqliteSchemaVersion();
  if (version != needed) {
    std::string message = "database " + path + " is at schema version " + std::to_string(version) +
                          ", this build needs " + std::to_string(needed) + ": ";
    message += version < needed ? migrate : "use a newer vigil";
    return Fail(ErrorCode::kUnavailable, std::move(message));
  }

  if (auto wal = sqlite::UseWriteAheadLog(**writer, path); !wal) return Forward(wal);
  if (auto set = (*writer)->Exec("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON"); !set) {
    return Forward(set);
  }

  // Opened after the writer has put the file in WAL mode and created its shared-memory index,
  // which read-only connections cannot create themselves.
  std::vector<std::unique_ptr<Connection>> readers;
  for (int i = 0; i < std::max(1, options.read_connections); ++i) {
    auto reader = Connection::Open(path, SQLITE_OPEN_READONLY, options.busy_timeout_ms);
    if (!reader) return Forward(reader);
    readers.push_back(std::move(*reader));
  }
  return std::make_unique<SqliteStore>(std::move(*writer), std::move(readers));
}

}  // namespace vigil::store
