// A thin RAII layer over the SQLite C API, private to store/sqlite: a Connection owns one sqlite3*
// and the prepared statements it has cached; a Statement is a short lease of one of them.
//
// Threading: a Connection is not thread-safe. It is used by one thread at a time (the store hands
// each one out to a single user), which is why connections are opened with SQLITE_OPEN_NOMUTEX.
//
// Errors: every failure is returned as a vigil::Error, never thrown. The code says what the caller
// should do next (see SqliteError below); the message says that to the client, and the cause
// carries sqlite3_errmsg for the log.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace vigil::store::sqlite {

// The vigil Error for SQLite result code `rc` (extended or primary):
//   SQLITE_BUSY, LOCKED, IOERR, FULL, CANTOPEN, PROTOCOL, NOMEM, READONLY -> kUnavailable (retry)
//   SQLITE_CONSTRAINT                                                    -> kConflict
//   anything else                                                        -> kInternal
// The message is one fixed sentence per code; the cause is `what` and SQLite's own text (`db`'s
// sqlite3_errmsg when given and current, else the text for `rc`).
Error SqliteError(int rc, sqlite3* db, std::string_view what);

class Connection;

// A prepared statement leased from its Connection's cache. Destroying the lease resets the
// statement and clears its bindings, which also ends the implicit read transaction a SELECT holds,
// so a lease should live no longer than the query it runs. At most one lease of a given SQL text
// exists per connection at a time.
class Statement {
 public:
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  // Each Bind binds the next parameter, starting with the first. A failed bind is reported by the
  // next Step(). Text is copied (SQLITE_TRANSIENT), so temporaries are fine.
  Statement& Bind(int64_t value);
  Statement& Bind(std::string_view text);
  Statement& BindNull();

  // Advances: true when a row is ready to read, false when the statement is done.
  Result<bool> Step();
  // Steps to the end, discarding rows; for statements that return none.
  Result<void> Run();

  // The extended result code of the last Step() (SQLITE_OK before the first).
  int last_rc() const { return last_rc_; }

  // Columns of the current row, counted from 0. Text views are valid until the next Step().
  int64_t ColumnInt64(int column) const;
  std::string_view ColumnText(int column) const;
  bool ColumnIsNull(int column) const;

 private:
  friend class Connection;
  Statement(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}

  sqlite3_stmt* stmt_;  // owned by the Connection's cache; null once moved from
  sqlite3* db_;
  int next_param_ = 1;
  int bind_rc_ = 0;  // the first failed bind's code, SQLITE_OK (0) while none failed
  int last_rc_ = 0;
};

class Connection {
 public:
  // Opens `path` with `flags` (SQLITE_OPEN_READONLY or SQLITE_OPEN_READWRITE, optionally
  // SQLITE_OPEN_CREATE; SQLITE_OPEN_NOMUTEX is added), turns on extended result codes and sets the
  // busy timeout.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, int flags,
                                                  int busy_timeout_ms);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  // Finalizes every cached statement, then closes the database. No lease may outlive it.
  ~Connection();

  // The statement for `sql`, prepared on first use and cached for the life of the connection.
  // The cache is keyed by the SQL text, so callers that build SQL must keep the set of distinct
  // texts small (e.g. vary only the number of placeholders, never inline values).
  Result<Statement> Prepare(std::string_view sql);

  // Runs one or more statements that return no rows we need (DDL, BEGIN, PRAGMA writes); not
  // cached. Use for one-off SQL such as migrations.
  Result<void> Exec(const char* sql);

  // Whether the connection is in autocommit mode, i.e. no transaction is open. SQLite may roll a
  // transaction back by itself after some errors (SQLITE_FULL, IOERR, NOMEM, BUSY).
  bool InAutocommit() const;
  // Rows changed by the most recent INSERT, UPDATE or DELETE.
  int64_t Changes() const;

  sqlite3* raw() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}

  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*, StringHash, std::equal_to<>> statements_;
};

}  // namespace vigil::store::sqlite
