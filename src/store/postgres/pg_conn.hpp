// A thin RAII layer over libpq, private to store/postgres: a Connection owns one PGconn, knows how
// to open it again when it is lost, and prepares each statement it runs once; Rows owns one
// PGresult.
//
// Threading: a Connection is not thread-safe. The store hands each one to a single user at a time.
//
// Errors: every failure is returned as a vigil::Error, never thrown. The code says what the caller
// should do next (see PgError below); the message says that to the client, and the cause carries
// libpq's or the server's text for the log.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.hpp"

struct pg_conn;
struct pg_result;

namespace vigil::store::postgres {

// What a failed statement's result says about its cause, for callers that tell constraints apart.
struct Failure {
  std::string sqlstate;    // e.g. "23505"; empty when the server sent none (a lost connection)
  std::string constraint;  // the constraint the server names, if any
};

// The vigil Error for a failed `result` (null when libpq had none to give) on `conn`:
//   the connection is lost or cannot be made, SQLSTATE class 08 (connection), 53 (resources),
//   57P0x (the server is shutting down or starting), 40001/40P01 (serialization, deadlock),
//   55P03 (lock not available: lock_timeout), 57014 (canceled: statement_timeout),
//   25006 (a read-only server)                                          -> kUnavailable (retry)
//   class 23 (integrity constraint)                                     -> kConflict
//   anything else                                                       -> kInternal
// The message is one fixed sentence per code; the cause is `what` and the server's or libpq's
// own text.
Error PgError(const pg_result* result, pg_conn* conn, std::string_view what);

// The rows of one statement's result.
class Rows {
 public:
  explicit Rows(pg_result* result);
  Rows(Rows&&) noexcept = default;
  Rows& operator=(Rows&&) noexcept = default;
  ~Rows();

  int size() const;
  // Rows changed by an INSERT, UPDATE or DELETE.
  int64_t affected() const;

  // One row, with the accessors store/common/rows.hpp reads through. Text views live as long as
  // the Rows.
  class Row {
   public:
    Row(const pg_result* result, int row) : result_(result), row_(row) {}
    std::string_view ColumnText(int column) const;
    int64_t ColumnInt64(int column) const;
    bool ColumnIsNull(int column) const;

   private:
    const pg_result* result_;
    int row_;
  };
  Row operator[](int row) const { return Row(result_.get(), row); }

 private:
  struct Clear {
    void operator()(pg_result* result) const;
  };
  std::unique_ptr<pg_result, Clear> result_;
};

// The text parameters of one statement, in order ($1, $2, ...). PostgreSQL's text cannot hold a
// NUL character, and libpq would cut a text parameter at the first one; a statement with such a
// parameter is refused before it is sent (kInvalidArgument), never stored cut short.
class Params {
 public:
  Params& Bind(std::string_view text);
  Params& Bind(int64_t value);
  Params& BindNull();

  // For libpq: pointers into this object, valid while it lives unchanged.
  std::vector<const char*> Values() const;
  std::vector<int> Lengths() const;
  int size() const { return static_cast<int>(values_.size()); }
  bool has_nul() const { return has_nul_; }

 private:
  bool has_nul_ = false;
  std::vector<std::string> values_;
  std::vector<bool> null_;
};

// A notification (NOTIFY, pg_notify) received on a connection that LISTENs.
struct Notification {
  std::string channel;
  std::string payload;
};

// Where and how long to wait: how a Connection (re)connects.
struct ConnectOptions {
  std::string uri;         // a libpq URI (postgresql://...) or connection string
  bool read_only = false;  // the session refuses writes (default_transaction_read_only)
  // The writer's: a statement that waits longer than this for a lock (another node's group), or
  // runs longer than this at all, is cancelled by the server (55P03, 57014: kUnavailable), so a
  // write never hangs. 0: the server's setting. Applied only where the session's setting is 0
  // (the server's default), so a URL's `options=-c lock_timeout=...`, or a role's setting, wins.
  int lock_timeout_ms = 0;
  int statement_timeout_ms = 0;
};

class Connection {
 public:
  // Connects. kUnavailable when the server cannot be reached or refuses the connection (libpq's
  // message in the cause). The URI's own settings win over vigil's defaults: connect_timeout 5 s,
  // TCP keepalives, tcp_user_timeout 15 s. Every session runs with synchronous_commit on.
  static Result<std::unique_ptr<Connection>> Open(ConnectOptions options);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Opens the connection again when it was lost (a failed call before found it broken), dropping
  // what was prepared on the old one. Says whether it did.
  Result<bool> Reconnect();
  bool broken() const;

  // Runs `sql` (prepared on this connection the first time it is run, and named after the
  // order of preparation) with `params`. The cache is keyed by the SQL text, so callers that build
  // SQL must keep the set of distinct texts small (vary only the shape, never inline values).
  Result<Rows> Run(std::string_view sql, const Params& params = {}, Failure* failure = nullptr);
  // Runs one or more statements that take no parameters (BEGIN, SAVEPOINT, DDL) as a simple
  // query; not prepared.
  Result<Rows> Exec(const char* sql, Failure* failure = nullptr);

  // Runs `sql` once for each of `params`, in order, in libpq's pipeline mode: one round trip for
  // every `chunk` statements rather than one each. Stops at the first failure, which it returns
  // with `failed_index` set to the index of the statement that failed (the ones after it are not
  // run). Meant for use inside a transaction: what ran before a failure is left for the caller to
  // roll back.
  Result<void> RunPipelined(std::string_view sql, std::span<const Params> params, size_t chunk,
                            size_t* failed_index, Failure* failure);

  // The notifications that have arrived, waiting at most `timeout` for the first when none has.
  // For a connection that LISTENs and runs nothing else. kUnavailable when the connection is lost.
  Result<std::vector<Notification>> WaitForNotifications(std::chrono::milliseconds timeout);

  enum class TransactionState { kIdle, kInTransaction, kFailed, kUnknown };
  // kFailed: a statement failed and the transaction can only be rolled back (to a savepoint).
  // kUnknown: the connection is lost.
  TransactionState transaction_state() const;

 private:
  Connection(ConnectOptions options, pg_conn* conn) : options_(std::move(options)), conn_(conn) {}
  static Result<pg_conn*> Connect(const ConnectOptions& options);
  // The name of the prepared statement for `sql`, preparing it now if needed.
  Result<std::string> Prepared(std::string_view sql);
  Result<Rows> Check(pg_result* result, std::string_view what, Failure* failure);

  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };

  const ConnectOptions options_;
  pg_conn* conn_;
  bool poisoned_ = false;  // left in a state no call can recover from: Reconnect replaces it
  std::unordered_map<std::string, std::string, StringHash, std::equal_to<>> statements_;
};

}  // namespace vigil::store::postgres
