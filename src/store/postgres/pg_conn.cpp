#include "store/postgres/pg_conn.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include "store/common/rows.hpp"

namespace vigil::store::postgres {
namespace {

// libpq's messages end with a newline; a log line should not.
std::string Trimmed(const char* text) {
  std::string out = text == nullptr ? "" : text;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

bool IsUnavailable(std::string_view sqlstate) {
  return sqlstate.starts_with("08") || sqlstate.starts_with("53") || sqlstate.starts_with("57P") ||
         sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03" || sqlstate == "57014" ||
         sqlstate == "25006";
}

Error NulRefused() {
  return Error(ErrorCode::kInvalidArgument,
               "text with a NUL character (\\u0000) cannot be stored in this database");
}

}  // namespace

Error PgError(const pg_result* result, pg_conn* conn, std::string_view what) {
  const char* field = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string_view sqlstate = field ? field : "";
  const bool lost = conn == nullptr || PQstatus(conn) != CONNECTION_OK;
  ErrorCode code = ErrorCode::kInternal;
  // No SQLSTATE: libpq failed on its side (the connection broke, or could not be made).
  if (lost || sqlstate.empty() || IsUnavailable(sqlstate)) {
    code = ErrorCode::kUnavailable;
  } else if (sqlstate.starts_with("23")) {
    code = ErrorCode::kConflict;
  }
  std::string cause(what);
  cause += ": ";
  const char* text = result ? PQresultErrorMessage(result) : nullptr;
  cause += Trimmed(text != nullptr && *text != '\0' ? text : PQerrorMessage(conn));
  if (!sqlstate.empty()) cause += " (SQLSTATE " + std::string(sqlstate) + ")";
  return common::DatabaseError(code, std::move(cause));
}

// --- Rows ---

Rows::Rows(pg_result* result) : result_(result) {}
Rows::~Rows() = default;
void Rows::Clear::operator()(pg_result* result) const { PQclear(result); }

int Rows::size() const { return result_ ? PQntuples(result_.get()) : 0; }

int64_t Rows::affected() const {
  const char* n = result_ ? PQcmdTuples(result_.get()) : "";
  return *n == '\0' ? 0 : std::stoll(n);
}

std::string_view Rows::Row::ColumnText(int column) const {
  return std::string_view(PQgetvalue(result_, row_, column),
                          static_cast<size_t>(PQgetlength(result_, row_, column)));
}

int64_t Rows::Row::ColumnInt64(int column) const {
  // Integers come as decimal text (the text result format); they were written by us.
  return std::strtoll(PQgetvalue(result_, row_, column), nullptr, 10);
}

bool Rows::Row::ColumnIsNull(int column) const { return PQgetisnull(result_, row_, column) != 0; }

// --- Params ---

Params& Params::Bind(std::string_view text) {
  has_nul_ = has_nul_ || text.find('\0') != std::string_view::npos;
  values_.emplace_back(text);
  null_.push_back(false);
  return *this;
}

Params& Params::Bind(int64_t value) { return Bind(std::to_string(value)); }

Params& Params::BindNull() {
  values_.emplace_back();
  null_.push_back(true);
  return *this;
}

std::vector<const char*> Params::Values() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (size_t i = 0; i < values_.size(); ++i) out.push_back(null_[i] ? nullptr : values_[i].data());
  return out;
}

std::vector<int> Params::Lengths() const {
  std::vector<int> out;
  out.reserve(values_.size());
  for (const std::string& v : values_) out.push_back(static_cast<int>(v.size()));
  return out;
}

// --- Connection ---

Result<pg_conn*> Connection::Connect(const ConnectOptions& options) {
  // Keywords before "dbname" are defaults that the URI's own parameters override (libpq expands
  // dbname in place). A server that does not answer must not hang a read or the writer: connect
  // within 5 s, notice a silent peer by keepalives, and give up on unacknowledged data after 15 s.
  const char* const keys[] = {"connect_timeout",     "keepalives",       "keepalives_idle",
                              "keepalives_interval", "keepalives_count", "tcp_user_timeout",
                              "application_name",    "dbname",           nullptr};
  const char* const values[] = {"5",    "1", "10", "5", "3", "15000", "vigil", options.uri.c_str(),
                                nullptr};
  pg_conn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn == nullptr) return Fail(PgError(nullptr, nullptr, "cannot connect to the database"));
  if (PQstatus(conn) != CONNECTION_OK) {
    Error error = PgError(nullptr, conn, "cannot connect to the database");
    PQfinish(conn);
    return Fail(std::move(error));
  }
  // Durable commits whatever the server's or the role's default says; readers cannot write.
  std::string setup = options.read_only
                          ? "SET synchronous_commit = on; SET default_transaction_read_only = on"
                          : "SET synchronous_commit = on";
  // Timeouts where the session has none of its own (the URL's options, the role's settings win).
  for (auto [name, ms] : {std::pair{"lock_timeout", options.lock_timeout_ms},
                          std::pair{"statement_timeout", options.statement_timeout_ms}}) {
    if (ms <= 0) continue;
    setup += std::string("; SELECT set_config('") + name + "', '" + std::to_string(ms) +
             "', false) WHERE current_setting('" + name + "') = '0'";
  }
  PGresult* set = PQexec(conn, setup.c_str());
  if (PQresultStatus(set) != PGRES_COMMAND_OK && PQresultStatus(set) != PGRES_TUPLES_OK) {
    Error error = PgError(set, conn, "setting up the database session");
    PQclear(set);
    PQfinish(conn);
    return Fail(std::move(error));
  }
  PQclear(set);
  return conn;
}

Result<std::unique_ptr<Connection>> Connection::Open(ConnectOptions options) {
  auto conn = Connect(options);
  if (!conn) return Fail(std::move(conn.error()));
  return std::unique_ptr<Connection>(new Connection(std::move(options), *conn));
}

Connection::~Connection() { PQfinish(conn_); }

bool Connection::broken() const { return poisoned_ || PQstatus(conn_) != CONNECTION_OK; }

Result<bool> Connection::Reconnect() {
  if (!broken()) return false;
  auto conn = Connect(options_);
  if (!conn) return Fail(std::move(conn.error()));
  PQfinish(conn_);
  conn_ = *conn;
  poisoned_ = false;
  statements_.clear();  // prepared statements die with their session
  return true;
}

Connection::TransactionState Connection::transaction_state() const {
  switch (PQtransactionStatus(conn_)) {
    case PQTRANS_IDLE:
      return TransactionState::kIdle;
    case PQTRANS_INTRANS:
    case PQTRANS_ACTIVE:
      return TransactionState::kInTransaction;
    case PQTRANS_INERROR:
      return TransactionState::kFailed;
    case PQTRANS_UNKNOWN:
      return TransactionState::kUnknown;
  }
  return TransactionState::kUnknown;
}

Result<Rows> Connection::Check(pg_result* result, std::string_view what, Failure* failure) {
  Rows rows(result);  // owns it from here on
  const ExecStatusType status = PQresultStatus(result);
  if (result != nullptr && (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)) return rows;
  if (failure != nullptr) {
    const char* sqlstate = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    const char* constraint = result ? PQresultErrorField(result, PG_DIAG_CONSTRAINT_NAME) : nullptr;
    failure->sqlstate = sqlstate ? sqlstate : "";
    failure->constraint = constraint ? constraint : "";
  }
  return Fail(PgError(result, conn_, what));
}

Result<std::string> Connection::Prepared(std::string_view sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return it->second;
  std::string name = "vigil_" + std::to_string(statements_.size() + 1);
  std::string text(sql);
  auto prepared = Check(PQprepare(conn_, name.c_str(), text.c_str(), 0, nullptr),
                        "preparing a statement", nullptr);
  if (!prepared) return Fail(std::move(prepared.error()));
  statements_.emplace(std::move(text), name);
  return name;
}

Result<Rows> Connection::Run(std::string_view sql, const Params& params, Failure* failure) {
  if (params.has_nul()) return Fail(NulRefused());
  auto name = Prepared(sql);
  if (!name) return Fail(std::move(name.error()));
  std::vector<const char*> values = params.Values();
  std::vector<int> lengths = params.Lengths();
  return Check(PQexecPrepared(conn_, name->c_str(), params.size(), values.data(), lengths.data(),
                              nullptr, 0),
               "database error", failure);
}

Result<Rows> Connection::Exec(const char* sql, Failure* failure) {
  return Check(PQexec(conn_, sql), "database error", failure);
}

Result<std::vector<Notification>> Connection::WaitForNotifications(
    std::chrono::milliseconds timeout) {
  std::vector<Notification> out;
  // Reads what the socket holds, then takes every notification libpq parsed from it.
  auto consume = [this, &out]() -> Result<void> {
    if (PQconsumeInput(conn_) != 1 || broken()) {
      return Fail(PgError(nullptr, conn_, "listening for notifications"));
    }
    while (PGnotify* note = PQnotifies(conn_)) {
      out.push_back({note->relname, note->extra});
      PQfreemem(note);
    }
    return {};
  };
  if (auto read = consume(); !read) return Fail(std::move(read.error()));
  if (!out.empty() || timeout.count() <= 0) return out;
  pollfd fd{.fd = PQsocket(conn_), .events = POLLIN, .revents = 0};
  const int ready = poll(&fd, 1, static_cast<int>(timeout.count()));
  if (ready < 0 && errno != EINTR) {
    return Fail(
        common::DatabaseError(ErrorCode::kUnavailable,
                              std::string("waiting for notifications: ") + std::strerror(errno)));
  }
  if (ready > 0) {
    if (auto read = consume(); !read) return Fail(std::move(read.error()));
  }
  return out;
}

Result<void> Connection::RunPipelined(std::string_view sql, std::span<const Params> params,
                                      size_t chunk, size_t* failed_index, Failure* failure) {
  for (size_t i = 0; i < params.size(); ++i) {
    if (params[i].has_nul()) {
      *failed_index = i;
      return Fail(NulRefused());
    }
  }
  auto name = Prepared(sql);  // outside pipeline mode, where PQprepare may wait for its answer
  if (!name) return Fail(std::move(name.error()));
  chunk = std::max<size_t>(chunk, 1);
  for (size_t start = 0; start < params.size(); start += chunk) {
    const size_t end = std::min(params.size(), start + chunk);
    if (PQenterPipelineMode(conn_) != 1) {
      return Fail(PgError(nullptr, conn_, "entering pipeline mode"));
    }
    // Each statement's results end with a null from PQgetResult; after the first failure the
    // server skips the rest (PGRES_PIPELINE_ABORTED) up to the sync.
    size_t sent = start;
    for (; sent < end; ++sent) {
      std::vector<const char*> values = params[sent].Values();
      std::vector<int> lengths = params[sent].Lengths();
      if (PQsendQueryPrepared(conn_, name->c_str(), params[sent].size(), values.data(),
                              lengths.data(), nullptr, 0) != 1) {
        break;
      }
    }
    std::optional<Error> error;
    if (sent < end) {
      error = PgError(nullptr, conn_, "sending statements in a pipeline");
      *failed_index = sent;
    }
    if (PQpipelineSync(conn_) != 1) {
      // Without a sync the server keeps what it has to say: reading could wait forever. The
      // connection is in no state to reuse.
      poisoned_ = true;
      if (!error) error = PgError(nullptr, conn_, "sending statements in a pipeline");
      *failed_index = std::min(*failed_index, sent);
      return Fail(std::move(*error));
    }
    // Drain: one result and a null per statement sent, then the sync's result. After the first
    // failure the server skips the rest (PGRES_PIPELINE_ABORTED) up to the sync. A lost connection
    // ends it early.
    bool synced = false;
    size_t index = start;
    for (size_t nulls = 0; !synced;) {
      PGresult* result = PQgetResult(conn_);
      if (result == nullptr) {
        if (broken() || ++nulls > (sent - start) + 1) break;
        ++index;
        continue;
      }
      const ExecStatusType status = PQresultStatus(result);
      if (status == PGRES_PIPELINE_SYNC) {
        PQclear(result);
        synced = true;
      } else if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK &&
                 status != PGRES_PIPELINE_ABORTED && !error) {
        auto checked = Check(result, "database error", failure);  // takes the result
        error = std::move(checked.error());
        *failed_index = index;
      } else {
        PQclear(result);
      }
    }
    if (!synced) {
      poisoned_ = true;
      if (!error) {
        error = PgError(nullptr, conn_, "reading a pipeline's results");
        *failed_index = index;
      }
      return Fail(std::move(*error));
    }
    if (PQexitPipelineMode(conn_) != 1) {
      poisoned_ = true;
      if (!error) {
        error = PgError(nullptr, conn_, "leaving pipeline mode");
        *failed_index = start;
      }
    }
    if (error) return Fail(std::move(*error));
  }
  return {};
}

}  // namespace vigil::store::postgres
