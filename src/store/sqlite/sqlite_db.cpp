#include "store/sqlite/sqlite_db.hpp"

#include <sqlite3.h>

#include <utility>

#include "store/common/rows.hpp"

namespace vigil::store::sqlite {

Error SqliteError(int rc, sqlite3* db, std::string_view what) {
  ErrorCode code = ErrorCode::kInternal;
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
    case SQLITE_NOMEM:
    case SQLITE_READONLY:
      code = ErrorCode::kUnavailable;
      break;
    case SQLITE_CONSTRAINT:
      code = ErrorCode::kConflict;
      break;
    default:
      break;
  }
  // SQLite's own text names tables, columns and files: it is the cause, for the log. The client
  // is told what to do next.
  std::string cause(what);
  cause += ": ";
  // sqlite3_errmsg describes the connection's most recent failure, which is `rc` when the caller
  // reports it at once; otherwise fall back to the generic text for the code.
  if (db != nullptr && sqlite3_extended_errcode(db) == rc) {
    cause += sqlite3_errmsg(db);
  } else {
    cause += sqlite3_errstr(rc);
  }
  return common::DatabaseError(code, std::move(cause));
}

// --- Statement ---

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      db_(other.db_),
      next_param_(other.next_param_),
      bind_rc_(other.bind_rc_),
      last_rc_(other.last_rc_) {}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  // sqlite3_reset repeats the last step's error code; it was already reported by Step().
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Statement& Statement::Bind(int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, next_param_++, value);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Statement& Statement::Bind(std::string_view text) {
  // A zero-length view may have a null data(); SQLite would bind that as NULL, not ''.
  const char* data = text.empty() ? "" : text.data();
  int rc =
      sqlite3_bind_text64(stmt_, next_param_++, data, text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Statement& Statement::BindNull() {
  int rc = sqlite3_bind_null(stmt_, next_param_++);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Result<bool> Statement::Step() {
  if (bind_rc_ != SQLITE_OK) {
    last_rc_ = bind_rc_;
    return tl::unexpected(SqliteError(bind_rc_, db_, "binding a parameter"));
  }
  last_rc_ = sqlite3_step(stmt_);
  if (last_rc_ == SQLITE_ROW) return true;
  if (last_rc_ == SQLITE_DONE) return false;
  return tl::unexpected(SqliteError(last_rc_, db_, "database error"));
}

Result<void> Statement::Run() {
  for (;;) {
    auto row = Step();
    if (!row) return tl::unexpected(std::move(row.error()));
    if (!*row) return {};
  }
}

int64_t Statement::ColumnInt64(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string_view Statement::ColumnText(int column) const {
  // Ask for the text before its length: the conversion to text may change the byte count.
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  int size = sqlite3_column_bytes(stmt_, column);
  return std::string_view(reinterpret_cast<const char*>(text), static_cast<size_t>(size));
}

bool Statement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

// --- Connection ---

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, int flags,
                                                     int busy_timeout_ms) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Error error = SqliteError(rc, db, "cannot open database " + path);
    sqlite3_close_v2(db);  // a handle is usually allocated even when the open fails
    return tl::unexpected(std::move(error));
  }
  // From here on the Connection owns db and closes it on every path.
  std::unique_ptr<Connection> connection(new Connection(db));
  sqlite3_extended_result_codes(db, 1);
  rc = sqlite3_busy_timeout(db, busy_timeout_ms);
  if (rc != SQLITE_OK) return tl::unexpected(SqliteError(rc, db, "setting the busy timeout"));
  return connection;
}

Connection::~Connection() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Result<Statement> Connection::Prepare(std::string_view sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return tl::unexpected(SqliteError(rc, db_, "preparing a statement"));
    it = statements_.emplace(std::string(sql), stmt).first;
  }
  return Statement(it->second, db_);
}

Result<void> Connection::Exec(const char* sql) {
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return tl::unexpected(SqliteError(rc, db_, "database error"));
  return {};
}

bool Connection::InAutocommit() const { return sqlite3_get_autocommit(db_) != 0; }

int64_t Connection::Changes() const { return sqlite3_changes64(db_); }

}  // namespace vigil::store::sqlite
