#include "store/postgres/postgres_store.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string_view>
#include <utility>
#include <vector>

#include "store/common/pool.hpp"
#include "store/common/rows.hpp"
#include "store/postgres/migrations.hpp"
#include "store/postgres/pg_conn.hpp"

namespace vigil::store {
namespace {

using common::AppendRule;
using common::Distinct;
using postgres::Connection;
using postgres::Failure;
using postgres::Params;
using postgres::Rows;

template <typename T>
tl::unexpected<Error> Forward(Result<T>& failed) {
  return tl::unexpected<Error>(std::move(failed.error()));
}

// PostgreSQL's LIMIT is a bigint.
int64_t SqlLimit(size_t limit) {
  constexpr size_t kMax = static_cast<size_t>(std::numeric_limits<int64_t>::max());
  return static_cast<int64_t>(std::min(limit, kMax));
}

// A text[] literal of names that need no quoting (state and event type names: [a-z_]).
template <typename Enum, typename NameOf>
std::string ArrayOf(const std::vector<Enum>& values, NameOf name_of) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += name_of(values[i]);
  }
  return out + "}";
}

// A text[] literal of any strings: each element quoted, backslashes and quotes escaped.
std::string QuotedArrayOf(std::span<const std::string> values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

// --- Heads, and the hints that announce them ---

// The rows come back in the order of the primary key's collation, "C": byte order, the order in
// which FOR UPDATE takes their locks one after the other.
constexpr const char kReadHeads[] =
    "SELECT id, version FROM investigations WHERE id = ANY($1::text[]) ORDER BY id";
constexpr const char kLockHeads[] =
    "SELECT id, version FROM investigations WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE";

Result<std::vector<InvestigationHead>> ReadHeadsOn(Connection& db, const char* sql,
                                                   std::span<const std::string> ids) {
  std::vector<InvestigationHead> heads;
  if (ids.empty()) return heads;
  std::vector<std::string> sorted = Distinct(std::vector<std::string>(ids.begin(), ids.end()));
  auto rows = db.Run(sql, Params().Bind(QuotedArrayOf(sorted)));
  if (!rows) return Forward(rows);
  heads.reserve(static_cast<size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i) {
    heads.push_back({std::string((*rows)[i].ColumnText(0)), (*rows)[i].ColumnInt64(1)});
  }
  return heads;
}

// Hints go out on one channel, as "<store token>\n<id>:<version>\n<id>:<version>...", packed
// into as few notifications as fit under kMaxHintBytes (the server's limit is 8000 bytes); the
// token lets a store's listener skip its own store's hints without parsing them.
constexpr const char kHintChannel[] = "vigil_heads";
constexpr const char kListen[] = "LISTEN vigil_heads";
constexpr const char kNotify[] = "SELECT pg_notify($1, $2)";
constexpr size_t kMaxHintBytes = 7000;

std::vector<std::string> HintPayloads(const std::string& token,
                                      std::span<const InvestigationHead> heads) {
  std::vector<std::string> payloads;
  for (const InvestigationHead& head : heads) {
    // Generated ids never hold a newline; one that did could not be framed, and is left to the
    // listeners' periodic head check.
    if (head.id.find('\n') != std::string::npos) continue;
    std::string line = head.id + ':' + std::to_string(head.version);
    if (line.size() + token.size() + 2 > kMaxHintBytes) continue;
    if (payloads.empty() || payloads.back().size() + 1 + line.size() > kMaxHintBytes) {
      payloads.push_back(token);
    }
    payloads.back().append(1, '\n').append(line);
  }
  return payloads;
}

// Appends the heads of a hint to `heads`, unless it came from the store with `own_token`.
void ParseHint(std::string_view payload, std::string_view own_token,
               std::vector<InvestigationHead>& heads) {
  size_t end = payload.find('\n');
  if (payload.substr(0, end) == own_token) return;
  while (end != std::string_view::npos) {
    const size_t start = end + 1;
    end = payload.find('\n', start);
    std::string_view line =
        payload.substr(start, end == std::string_view::npos ? end : end - start);
    const size_t colon = line.rfind(':');
    if (colon == std::string_view::npos) continue;
    int64_t version = 0;
    std::string_view digits = line.substr(colon + 1);
    if (digits.empty() || digits.size() > 18 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    for (char c : digits) version = version * 10 + (c - '0');
    heads.push_back({std::string(line.substr(0, colon)), version});
  }
}

// A random token naming one store (one vigil node) in its hints.
std::string NewStoreToken() {
  std::random_device rd;
  std::uniform_int_distribution<uint64_t> dist;
  uint64_t a = dist(rd), b = dist(rd);
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(a),
                static_cast<unsigned long long>(b));
  return buf;
}

// LISTENs on a connection of its own, opened on the first Wait and again after it is lost.
class PostgresHeadListener final : public HeadListener {
 public:
  PostgresHeadListener(std::string uri, std::string own_token)
      : uri_(std::move(uri)), own_token_(std::move(own_token)) {}

  Result<Batch> Wait(std::chrono::milliseconds timeout) override {
    Batch batch;
    if (!db_ || db_->broken()) {
      if (!db_) {
        auto opened = Connection::Open({.uri = uri_});
        if (!opened) return Forward(opened);
        db_ = std::move(*opened);
      } else if (auto reopened = db_->Reconnect(); !reopened) {
        return Forward(reopened);
      }
      if (auto listening = db_->Exec(kListen); !listening) return Forward(listening);
      // What was announced while nobody listened is lost: the caller reads every head again now,
      // so it does not wait for more first.
      batch.resync = true;
      timeout = std::chrono::milliseconds(0);
    }
    auto notes = db_->WaitForNotifications(timeout);
    if (!notes) return Forward(notes);
    for (const postgres::Notification& note : *notes) {
      if (note.channel == kHintChannel) ParseHint(note.payload, own_token_, batch.heads);
    }
    return batch;
  }

 private:
  const std::string uri_;
  const std::string own_token_;
  std::unique_ptr<Connection> db_;
};

// --- Write transaction ---

// The caller's one savepoint level, and AppendEvents' own (nested inside it when both are open).
constexpr const char kBegin[] = "BEGIN";
constexpr const char kCommit[] = "COMMIT";
constexpr const char kRollback[] = "ROLLBACK";
constexpr const char kSavepoint[] = "SAVEPOINT job";
constexpr const char kReleaseSavepoint[] = "RELEASE job";
// ROLLBACK TO leaves the savepoint open; release it too, so that there is one level only and the
// next job's Savepoint() starts clean.
constexpr const char kRollbackToSavepoint[] = "ROLLBACK TO job; RELEASE job";
constexpr const char kAppendSavepoint[] = "SAVEPOINT append";
constexpr const char kAppendRelease[] = "RELEASE append";
constexpr const char kAppendRollback[] = "ROLLBACK TO append; RELEASE append";

// Statements sent in one pipeline when appending; a bound on what libpq and the server buffer.
constexpr size_t kAppendChunk = 64;

// A transaction on the store's writer connection. In PostgreSQL a failed statement spoils the
// whole transaction, where SQLite spoils only the statement; so the writes that may be refused
// for a reason the caller handles are written not to fail: an insert of an existing
// investigation does nothing (ON CONFLICT) and says so, and an append runs inside a savepoint of
// its own that it rolls back to. A statement that fails for any other reason leaves the
// transaction usable only to roll back to the caller's savepoint (the engine's job fails alone)
// or to end.
// It borrows the connection: `writer_in_use` is the store's flag saying so, cleared when the
// transaction is destroyed. Not thread-safe; it must not outlive its store.
class PostgresWriteTransaction final : public WriteTransaction {
 public:
  PostgresWriteTransaction(Connection* db, std::atomic<bool>* writer_in_use,
                           const std::string* token)
      : db_(db), writer_in_use_(writer_in_use), token_(token) {}

  PostgresWriteTransaction(const PostgresWriteTransaction&) = delete;
  PostgresWriteTransaction& operator=(const PostgresWriteTransaction&) = delete;

  ~PostgresWriteTransaction() override {
    // A lost connection needs nothing: the server rolls back what it had.
    if (!db_->broken() && db_->transaction_state() != Connection::TransactionState::kIdle) {
      (void)db_->Exec(kRollback);
    }
    writer_in_use_->store(false, std::memory_order_release);
  }

  Result<void> Savepoint() override {
    if (auto usable = CheckUsable(); !usable) return usable;
    if (in_savepoint_) return Fail(ErrorCode::kInternal, "a savepoint is already open");
    if (auto done = db_->Exec(kSavepoint); !done) return Forward(done);
    in_savepoint_ = true;
    return {};
  }

  Result<void> ReleaseSavepoint() override {
    if (auto usable = CheckUsable(); !usable) return usable;
    if (!in_savepoint_) return Fail(ErrorCode::kInternal, "no savepoint is open");
    if (auto done = db_->Exec(kReleaseSavepoint); !done) return Forward(done);
    in_savepoint_ = false;
    return {};
  }

  Result<void> RollbackToSavepoint() override {
    // Allowed after a failed statement: that is what it is for.
    if (auto usable = CheckUsable(/*after_failure=*/true); !usable) return usable;
    if (!in_savepoint_) return Fail(ErrorCode::kInternal, "no savepoint is open");
    if (auto done = db_->Exec(kRollbackToSavepoint); !done) return Forward(done);
    in_savepoint_ = false;
    return {};
  }

  static constexpr const char kInsertInvestigation[] =
      "INSERT INTO investigations (owner, name, state, run_id, version, last_ts, last_seq,"
      " created_at_ms, updated_at_ms, completion_percent, snapshot, id)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
      " ON CONFLICT (id) DO NOTHING";

  Result<void> InsertInvestigation(const InvestigationRow& row) override {
    if (auto usable = CheckUsable(); !usable) return usable;
    Params params;
    common::BindInvestigationFields(params, row);
    params.Bind(row.id);
    auto done = db_->Run(kInsertInvestigation, params);
    if (!done) return Forward(done);
    if (done->affected() == 0) return Fail(common::InvestigationExists(row.id));
    return {};
  }

  // Row locks taken in byte order of the ids (kLockHeads), so that two nodes whose groups touch
  // the same investigations wait for each other instead of deadlocking. In READ COMMITTED, FOR
  // UPDATE returns each row as the writer it waited for committed it.
  Result<std::vector<InvestigationHead>> LockInvestigations(
      std::span<const std::string> ids) override {
    if (auto usable = CheckUsable(); !usable) return tl::unexpected(usable.error());
    return ReadHeadsOn(*db_, kLockHeads, ids);
  }

  // Queued by the server and delivered at COMMIT, to listeners only, in commit order.
  Result<void> AnnounceHeads(std::span<const InvestigationHead> heads) override {
    if (auto usable = CheckUsable(); !usable) return usable;
    for (const std::string& payload : HintPayloads(*token_, heads)) {
      if (auto done = db_->Run(kNotify, Params().Bind(kHintChannel).Bind(payload)); !done) {
        return Forward(done);
      }
    }
    return {};
  }

  // The version condition refuses a write built on a copy behind the store: a guard, since every
  // writer locks the row (LockInvestigations) and writes on the head it locked.
  static constexpr const char kUpdateInvestigation[] =
      "UPDATE investigations SET owner = $1, name = $2, state = $3, run_id = $4, version = $5,"
      " last_ts = $6, last_seq = $7, created_at_ms = $8, updated_at_ms = $9,"
      " completion_percent = $10, snapshot = $11"
      " WHERE id = $12 AND ($13::bigint IS NULL OR version = $13::bigint)";
  static constexpr const char kInvestigationVersion[] =
      "SELECT version FROM investigations WHERE id = $1";

  Result<void> UpdateInvestigation(const InvestigationRow& row,
                                   std::optional<int64_t> expected_version) override {
    if (auto usable = CheckUsable(); !usable) return usable;
    Params params;
    common::BindInvestigationFields(params, row);
    params.Bind(row.id);
    if (expected_version) {
      params.Bind(*expected_version);
    } else {
      params.BindNull();
    }
    auto done = db_->Run(kUpdateInvestigation, params);
    if (!done) return Forward(done);
    if (done->affected() > 0) return {};
    // Nothing changed: tell a missing investigation from one at another version.
    auto read = db_->Run(kInvestigationVersion, Params().Bind(row.id));
    if (!read) return Forward(read);
    std::optional<int64_t> stored;
    if (read->size() > 0) stored = (*read)[0].ColumnInt64(0);
    return Fail(common::UpdateRefused(row.id, stored, expected_version));
  }

  static constexpr const char kInsertEvent[] =
      "INSERT INTO events (investigation_id, ts_ms, seq, run_id, event_type, actor, item,"
      " idem_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

  // One round trip for the savepoint, one per kAppendChunk events (pipelined), one to release.
  Result<void> AppendEvents(std::span<const core::Event> events) override {
    if (auto usable = CheckUsable(); !usable) return usable;
    if (events.empty()) return {};
    std::vector<Params> rows;
    rows.reserve(events.size());
    for (const core::Event& event : events) {
      common::BindEventFields(rows.emplace_back(), event);
    }
    // All or nothing, and a refused event must not spoil the transaction.
    if (auto done = db_->Exec(kAppendSavepoint); !done) return Forward(done);
    size_t failed = 0;
    Failure failure;
    auto appended = db_->RunPipelined(kInsertEvent, rows, kAppendChunk, &failed, &failure);
    if (!appended) {
      if (!db_->broken()) (void)db_->Exec(kAppendRollback);
      return Fail(DescribeAppendFailure(events[std::min(failed, events.size() - 1)], failure,
                                        std::move(appended.error())));
    }
    auto released = db_->Exec(kAppendRelease);
    if (!released) return Forward(released);
    return {};
  }

  static constexpr const char kFindByKey[] =
      "SELECT ts_ms, seq FROM events WHERE investigation_id = $1 AND idem_key = $2";

  Result<std::optional<core::EventId>> FindByKey(const std::string& investigation_id,
                                                 const std::string& key) override {
    if (auto usable = CheckUsable(); !usable) return tl::unexpected(usable.error());
    if (key.empty()) return std::optional<core::EventId>();  // no key: nothing to match
    auto rows = db_->Run(kFindByKey, Params().Bind(investigation_id).Bind(key));
    if (!rows) return Forward(rows);
    if (rows->size() == 0) return std::optional<core::EventId>();
    return core::EventId{(*rows)[0].ColumnInt64(0),
                         static_cast<int32_t>((*rows)[0].ColumnInt64(1))};
  }

  static constexpr const char kDeleteExpiredSessions[] =
      "DELETE FROM vigil_sessions WHERE expires_at_s <= $1";
  static constexpr const char kInsertSession[] =
      "INSERT INTO vigil_sessions (id, kind, token, expires_at_s) VALUES ($1, $2, $3, $4)"
      " ON CONFLICT (id) DO NOTHING";
  static constexpr const char kTakeSession[] =
      "DELETE FROM vigil_sessions WHERE id = $1 AND kind = $2 RETURNING token, expires_at_s";

  Result<void> InsertSession(SessionKind kind, const SessionRow& row, int64_t now_s) override {
    if (auto usable = CheckUsable(); !usable) return usable;
    if (auto done = db_->Run(kDeleteExpiredSessions, Params().Bind(now_s)); !done) {
      return Forward(done);
    }
    auto done = db_->Run(kInsertSession, Params()
                                             .Bind(row.id)
                                             .Bind(common::SessionKindName(kind))
                                             .Bind(row.token)
                                             .Bind(row.expires_at_s));
    if (!done) return Forward(done);
    if (done->affected() == 0) return Fail(common::SessionExists());
    return {};
  }

  // The row lock of the DELETE makes a second taker wait, and then find nothing.
  Result<std::optional<SessionRow>> TakeSession(SessionKind kind, const std::string& id) override {
    if (auto usable = CheckUsable(); !usable) return tl::unexpected(usable.error());
    auto rows = db_->Run(kTakeSession, Params().Bind(id).Bind(common::SessionKindName(kind)));
    if (!rows) return Forward(rows);
    if (rows->size() == 0) return std::optional<SessionRow>();
    return std::optional<SessionRow>(common::ReadSession((*rows)[0], id));
  }

  Result<void> Commit() override {
    if (auto usable = CheckUsable(); !usable) return usable;
    finished_ = true;
    auto done = db_->Exec(kCommit);
    if (!done && db_->broken()) {
      done.error().cause += " (the connection was lost during COMMIT: it may have committed)";
    }
    if (!done) return Forward(done);
    return {};
  }

 private:
  // Says which rule of the events table an append broke, in the caller's terms.
  static Error DescribeAppendFailure(const core::Event& event, const Failure& failure,
                                     Error error) {
    if (failure.sqlstate == "23505" && failure.constraint == "events_pkey") {
      return common::AppendRefused(AppendRule::kIdExists, event);
    }
    if (failure.sqlstate == "23505" && failure.constraint == "events_by_key") {
      return common::AppendRefused(AppendRule::kKeyExists, event);
    }
    if (failure.sqlstate == "23514" && failure.constraint == "events_ids_increase") {
      return common::AppendRefused(AppendRule::kIdNotAfterLast, event);
    }
    if (failure.sqlstate == "23503")
      return common::AppendRefused(AppendRule::kNoInvestigation, event);
    return error;
  }

  // Whether statements may still run: not after Commit(), not once the connection is lost, and,
  // after a statement failed, only to roll back to the savepoint (`after_failure`). Running on
  // after the transaction ended would silently autocommit each statement.
  Result<void> CheckUsable(bool after_failure = false) {
    if (finished_) return Fail(ErrorCode::kInternal, "the write transaction has already ended");
    switch (db_->transaction_state()) {
      case Connection::TransactionState::kInTransaction:
        return {};
      case Connection::TransactionState::kFailed:
        if (after_failure && in_savepoint_) return {};
        return Fail(common::DatabaseError(
            ErrorCode::kUnavailable,
            "a statement failed earlier in the write transaction; it can only roll back"));
      case Connection::TransactionState::kIdle:
      case Connection::TransactionState::kUnknown:
        break;
    }
    finished_ = true;
    return Fail(common::DatabaseError(
        ErrorCode::kUnavailable,
        db_->broken() ? "the connection to the database was lost during the write transaction"
                      : "the write transaction ended on the server"));
  }

  Connection* const db_;
  std::atomic<bool>* const writer_in_use_;
  const std::string* const token_;  // the store's, in its hints
  bool finished_ = false;           // Commit() was called, or the transaction is known to be over
  bool in_savepoint_ = false;       // between Savepoint() and its Release/RollbackTo
};

// --- Store ---

// The PostgreSQL Store. One writer connection, lent to at most one PostgresWriteTransaction at a
// time, and a fixed pool of read-only connections lent to one read each. Each read is one
// statement, which PostgreSQL runs on one snapshot, so each result is one committed state.
class PostgresStore final : public Store {
 public:
  PostgresStore(std::string uri, std::unique_ptr<Connection> writer,
                std::vector<std::unique_ptr<Connection>> readers)
      : uri_(std::move(uri)),
        token_(NewStoreToken()),
        writer_(std::move(writer)),
        readers_(std::move(readers)) {}

  Result<std::unique_ptr<WriteTransaction>> BeginWrite() override {
    if (writer_in_use_.exchange(true, std::memory_order_acquire)) {
      return Fail(ErrorCode::kInternal, "a write transaction is already open");
    }
    auto begun = Retrying(*writer_, [](Connection& db) -> Result<void> {
      // A transaction left open by a failed ROLLBACK would make BEGIN warn and nest nothing.
      if (db.transaction_state() != Connection::TransactionState::kIdle) {
        (void)db.Exec(kRollback);
      }
      auto done = db.Exec(kBegin);
      if (!done) return Forward(done);
      return {};
    });
    if (!begun) {
      writer_in_use_.store(false, std::memory_order_release);
      return Forward(begun);
    }
    return std::make_unique<PostgresWriteTransaction>(writer_.get(), &writer_in_use_, &token_);
  }

  static constexpr const char kSelectSession[] =
      "SELECT token, expires_at_s FROM vigil_sessions WHERE id = $1 AND kind = $2";

  PoolStats pool_stats() const override {
    auto [waits, wait_ns] = readers_.waits();
    return {waits, wait_ns};
  }

  Result<std::optional<SessionRow>> GetSession(SessionKind kind, const std::string& id) override {
    auto reader = readers_.Borrow();
    auto rows = Retrying(*reader, [&](Connection& db) {
      return db.Run(kSelectSession, Params().Bind(id).Bind(common::SessionKindName(kind)));
    });
    if (!rows) return Forward(rows);
    if (rows->size() == 0) return std::optional<SessionRow>();
    return std::optional<SessionRow>(common::ReadSession((*rows)[0], id));
  }

  static constexpr const char kSelectInvestigation[] =
      "SELECT id, owner, name, state, run_id, version, last_ts, last_seq, created_at_ms,"
      " updated_at_ms, completion_percent, snapshot"
      " FROM investigations WHERE id = $1";

  Result<std::optional<InvestigationRow>> GetInvestigation(const std::string& id) override {
    auto reader = readers_.Borrow();
    auto rows = Retrying(
        *reader, [&id](Connection& db) { return db.Run(kSelectInvestigation, Params().Bind(id)); });
    if (!rows) return Forward(rows);
    if (rows->size() == 0) return std::optional<InvestigationRow>();
    auto investigation = common::ReadInvestigation((*rows)[0]);
    if (!investigation) return Forward(investigation);
    return std::optional<InvestigationRow>(std::move(*investigation));
  }

  // The statement is built from these pieces: at most eight shapes, each prepared once per
  // connection. A state filter is one text[] parameter, whatever its length.
  static constexpr const char kListInvestigations[] =
      "SELECT id, owner, name, state, run_id, version, last_ts, last_seq, created_at_ms,"
      " updated_at_ms, completion_percent, snapshot"
      " FROM investigations";
  static constexpr const char kListByOwner[] = "owner = $";
  static constexpr const char kListInStates[] = "state = ANY($";          // + n + "::text[])"
  static constexpr const char kListAfter[] = "(created_at_ms, id) < ($";  // + n + ", $" + n+1 + ")"
  static constexpr const char kListOrder[] = " ORDER BY created_at_ms DESC, id DESC LIMIT $";

  Result<std::vector<InvestigationRow>> ListInvestigations(
      const InvestigationQuery& query) override {
    std::vector<core::State> states = Distinct(query.states);
    std::string sql = kListInvestigations;
    Params params;
    const char* joiner = " WHERE ";
    auto where = [&sql, &joiner](std::string_view condition) {
      sql.append(joiner).append(condition);
      joiner = " AND ";
    };
    auto next = [&params] { return std::to_string(params.size() + 1); };
    if (query.owner) {
      where(kListByOwner + next());
      params.Bind(*query.owner);
    }
    if (!states.empty()) {
      where(kListInStates + next() + "::text[])");
      params.Bind(ArrayOf(states, core::StateName));
    }
    if (query.after) {
      where(kListAfter + next() + "::bigint, $" + std::to_string(params.size() + 2) + ")");
      params.Bind(query.after->first).Bind(query.after->second);
    }
    sql += kListOrder + next();
    params.Bind(SqlLimit(query.limit));

    auto reader = readers_.Borrow();
    auto rows = Retrying(*reader, [&](Connection& db) { return db.Run(sql, params); });
    if (!rows) return Forward(rows);
    std::vector<InvestigationRow> out;
    out.reserve(rows->size());
    for (int i = 0; i < rows->size(); ++i) {
      auto investigation = common::ReadInvestigation((*rows)[i]);
      if (!investigation) return Forward(investigation);
      out.push_back(std::move(*investigation));
    }
    return out;
  }

  // The primary key (investigation_id, ts_ms, seq) serves the range and the order; a type filter
  // is applied while scanning it.
  static constexpr const char kReadEvents[] =
      "SELECT ts_ms, seq, event_type, item, run_id, actor, idem_key"
      " FROM events WHERE investigation_id = $1 AND (ts_ms, seq) > ($2::bigint, $3::integer)";
  // A raw read copies events through: their ids and stored wire forms are all it needs.
  static constexpr const char kReadEventsRaw[] =
      "SELECT ts_ms, seq, event_type, item"
      " FROM events WHERE investigation_id = $1 AND (ts_ms, seq) > ($2::bigint, $3::integer)";
  static constexpr const char kReadEventsOfTypes[] = " AND event_type = ANY($4::text[])";
  static constexpr const char kReadEventsOrder[] = " ORDER BY ts_ms, seq LIMIT $";

  Result<std::vector<core::Event>> ReadEvents(const EventQuery& query) override {
    std::vector<core::EventType> types = Distinct(query.types);
    std::string sql = query.raw_data ? kReadEventsRaw : kReadEvents;
    Params params;
    params.Bind(query.investigation_id).Bind(query.after.ts_ms).Bind(int64_t{query.after.seq});
    if (!types.empty()) {
      sql += kReadEventsOfTypes;
      params.Bind(ArrayOf(types, core::EventTypeName));
    }
    sql += kReadEventsOrder + std::to_string(params.size() + 1);
    params.Bind(SqlLimit(query.limit));

    auto reader = readers_.Borrow();
    auto rows = Retrying(*reader, [&](Connection& db) { return db.Run(sql, params); });
    if (!rows) return Forward(rows);
    std::vector<core::Event> events;
    events.reserve(static_cast<size_t>(rows->size()));
    for (int i = 0; i < rows->size(); ++i) {
      auto event = common::ReadEvent((*rows)[i], query.investigation_id, query.raw_data);
      if (!event) return Forward(event);
      events.push_back(std::move(*event));
    }
    return events;
  }

  Result<std::vector<InvestigationHead>> ReadHeads(std::span<const std::string> ids) override {
    auto reader = readers_.Borrow();
    return Retrying(*reader, [&](Connection& db) { return ReadHeadsOn(db, kReadHeads, ids); });
  }

  std::unique_ptr<HeadListener> ListenForHeads() override {
    return std::make_unique<PostgresHeadListener>(uri_, token_);
  }

 private:
  // Runs `call` on `db`, opening the connection again first when an earlier call lost it. When
  // `call` fails because a connection that had been sitting idle turns out to be lost (the server
  // restarted, or ended the session), nothing of it reached the server: it runs once more on a
  // new connection. A connection made for this call is not retried: the server is down.
  template <typename Call>
  static auto Retrying(Connection& db, Call call) -> decltype(call(db)) {
    for (int attempt = 0;; ++attempt) {
      auto reconnected = db.Reconnect();
      if (!reconnected) return Forward(reconnected);
      auto result = call(db);
      if (result || attempt > 0 || *reconnected || !db.broken()) return result;
    }
  }

  const std::string uri_;    // for the listeners' connections
  const std::string token_;  // names this store in its hints, so its own listeners skip them
  const std::unique_ptr<Connection> writer_;
  // Whether a PostgresWriteTransaction holds writer_. Set by BeginWrite, cleared by the
  // transaction's destructor.
  std::atomic<bool> writer_in_use_{false};
  common::ConnectionPool<Connection> readers_;
};

// The URL is not repeated: it may hold a password.
constexpr char kMigrateHint[] = "run 'vigil migrate' with the same --db";

}  // namespace

int PostgresSchemaVersion() {
  auto migrations = postgres::Migrations();
  return migrations.back().version;
}

Result<void> CheckPostgresUri(const std::string& uri) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(uri.c_str(), &error);
  if (options == nullptr) {
    std::string why = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    while (!why.empty() && why.back() == '\n') why.pop_back();
    return Fail(ErrorCode::kInvalidArgument,
                "--db / VIGIL_DB is not a PostgreSQL URL libpq accepts: " + why, "db");
  }
  std::string port;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) == "port" && o->val != nullptr) port = o->val;
  }
  PQconninfoFree(options);
  // One port, or one per host (host1:port1,host2:port2), each a number from 1 to 65535.
  for (size_t start = 0; start <= port.size();) {
    size_t end = std::min(port.find(',', start), port.size());
    std::string_view one = std::string_view(port).substr(start, end - start);
    const bool number =
        !one.empty() && one.size() <= 5 &&
        std::all_of(one.begin(), one.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!port.empty() &&
        (!number || std::stoi(std::string(one)) == 0 || std::stoi(std::string(one)) > 65535)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "--db / VIGIL_DB: the PostgreSQL URL's port '" + std::string(one) +
                      "' is not a port number",
                  "db");
    }
    start = end + 1;
  }
  return {};
}

namespace {

// A connection to the database at `uri`, and what its schema says, for Open and Migrate alike.
// `foreign` is the error for a database with tables by vigil's names that vigil did not make.
struct Inspected {
  std::unique_ptr<Connection> db;
  postgres::SchemaState state;
};
Result<Inspected> ConnectAndInspect(const postgres::ConnectOptions& options, Error foreign) {
  if (auto checked = CheckPostgresUri(options.uri); !checked) return Forward(checked);
  auto db = Connection::Open(options);
  if (!db) return Forward(db);
  auto state = postgres::ReadSchemaState(**db);
  if (!state) return Forward(state);
  if (state->IsForeign()) return Fail(std::move(foreign));
  return Inspected{std::move(*db), *state};
}

}  // namespace

Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresOptions& options) {
  // The connection inspected becomes the writer's.
  auto inspected = ConnectAndInspect(
      {.uri = options.uri,
       .lock_timeout_ms = options.lock_timeout_ms,
       .statement_timeout_ms = options.statement_timeout_ms},
      Error(ErrorCode::kUnavailable,
            "the PostgreSQL database has tables named like vigil's that vigil did not "
            "make: check --db, or give vigil a database of its own"));
  if (!inspected) return Forward(inspected);
  const int64_t version = inspected->state.version;
  const int needed = PostgresSchemaVersion();
  if (version != needed) {
    std::string message = "the PostgreSQL database is at schema version " +
                          std::to_string(version) + ", this build needs " + std::to_string(needed) +
                          ": ";
    message += version < needed ? kMigrateHint : "use a newer vigil";
    return Fail(ErrorCode::kUnavailable, std::move(message));
  }
  std::vector<std::unique_ptr<Connection>> readers;
  for (int i = 0; i < std::max(1, options.read_connections); ++i) {
    auto reader = Connection::Open({.uri = options.uri, .read_only = true});
    if (!reader) return Forward(reader);
    readers.push_back(std::move(*reader));
  }
  return std::make_unique<PostgresStore>(options.uri, std::move(inspected->db), std::move(readers));
}

Result<MigrationReport> MigratePostgres(const std::string& uri) {
  auto inspected = ConnectAndInspect(
      {.uri = uri},
      Error(ErrorCode::kInvalidArgument,
            "the PostgreSQL database has tables named like vigil's (investigations, events) "
            "that vigil did not make; refusing to migrate it"));
  if (!inspected) return Forward(inspected);
  Connection& db = *inspected->db;
  const int target = PostgresSchemaVersion();
  MigrationReport report;
  report.from_version = static_cast<int>(inspected->state.version);
  if (report.from_version > target) {
    return Fail(ErrorCode::kConflict, "the PostgreSQL database is at schema version " +
                                          std::to_string(report.from_version) +
                                          ", newer than this build's " + std::to_string(target) +
                                          ": use a newer vigil");
  }
  for (const postgres::Migration& migration : postgres::Migrations()) {
    if (migration.version <= report.from_version) continue;
    if (auto applied = postgres::Apply(db, migration); !applied) return Forward(applied);
  }
  report.to_version = target;
  return report;
}

}  // namespace vigil::store
