// Store: where investigations and their event logs are kept. One interface, an implementation per
// backend (sqlite/: the embedded default; postgres/: PostgreSQL, for scale-out), opened from its
// location by store/open.hpp, and one contract test suite that every implementation passes
// (tests/store/store_contract_test.cpp; the PostgreSQL rows against a real server).
//
// Threading: reads may be called from any thread, concurrently with each other and with the
// writer. Writes happen only inside a WriteTransaction, and at most one WriteTransaction exists at
// a time: the engine's single writer thread owns it (group commit), so implementations need not
// serialize writers themselves. Every call may block its thread on the database (a disk, a
// network round trip): call them from the engine's writer and read threads, never an I/O thread.
//
// Nothing here is specific to one database: savepoints, keyset pagination and a unique key per
// (investigation, idempotency key) exist in both.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "core/cursor.hpp"
#include "core/event.hpp"
#include "core/lifecycle.hpp"

namespace vigil::store {

// An investigation's row: the fields lists and filters need, plus its progress snapshot as of
// `version` (the public JSON of /progress). The log is the truth; this row is a projection of it
// written in the same transaction as the events that produced it.
struct InvestigationRow {
  std::string id;
  std::string owner;
  std::string name;
  core::State state = core::State::kCreated;
  std::string run_id;
  int64_t version = 0;
  core::EventId last_event_id;  // zero when the log is empty
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  int completion_percent = 0;
  std::string snapshot_json;
};

// Where an investigation's log ends, as stored: the number of events in it. What writers lock,
// announce to other nodes after a commit, and what a node compares its copy in memory against.
struct InvestigationHead {
  std::string id;
  int64_t version = 0;

  friend bool operator==(const InvestigationHead&, const InvestigationHead&) = default;
};

// A browser session, or a one-time sign-in code (http/sessions.hpp, api/auth.cpp): a random id
// standing for a bearer token until it expires. In the store, so that every node on one database
// knows every cookie and a restart signs nobody out.
enum class SessionKind { kSession, kLoginCode };
struct SessionRow {
  std::string id;
  std::string token;
  int64_t expires_at_s = 0;

  friend bool operator==(const SessionRow&, const SessionRow&) = default;
};

struct EventQuery {
  std::string investigation_id;
  core::EventId after;                 // exclusive; zero reads from the start
  size_t limit = 100;                  // at most this many
  std::vector<core::EventType> types;  // empty: every type
  // Only each event's id, type, investigation and stored wire form (Event::wire), nothing parsed:
  // for readers that copy events through (feeds, streams). Otherwise every field is set.
  bool raw_data = false;
};

struct InvestigationQuery {
  std::optional<std::string> owner;  // nullopt: every owner's
  std::vector<core::State> states;   // empty: every state
  // Newest first, by (created_at_ms DESC, id DESC); when set, start strictly after this position.
  std::optional<std::pair<int64_t, std::string>> after;
  size_t limit = 50;
};

// A write transaction. Destroying one that was not committed rolls it back.
class WriteTransaction {
 public:
  virtual ~WriteTransaction() = default;

  // Locks the rows of the investigations named in `ids` until the transaction ends, one after
  // the other in ascending byte order of their ids whatever the order given (duplicates count
  // once), so that writers locking overlapping sets on one database never deadlock; returns the
  // stored head of each that exists, in that order. Every writer locks an investigation before it
  // updates it or appends to it, so the heads returned stay the heads until this transaction
  // writes or ends, and whatever committed before the lock was granted is visible to reads that
  // start after it. Before any Savepoint: a lock outlives a rollback to a savepoint.
  // A backend with a single writer (SQLite) only reads the rows.
  virtual Result<std::vector<InvestigationHead>> LockInvestigations(
      std::span<const std::string> ids) = 0;
  // Tells the other nodes on the database (Store::ListenForHeads) that these investigations are
  // at these heads once this transaction commits: delivered only if it does, and only to other
  // stores than this one. Nothing for a backend with a single writer.
  virtual Result<void> AnnounceHeads(std::span<const InvestigationHead> heads) = 0;

  // One level of savepoint, so that one job of a group commit can fail alone.
  virtual Result<void> Savepoint() = 0;
  virtual Result<void> ReleaseSavepoint() = 0;
  virtual Result<void> RollbackToSavepoint() = 0;

  // kConflict when an investigation with this id exists.
  virtual Result<void> InsertInvestigation(const InvestigationRow& row) = 0;
  // kNotFound when there is no such investigation.
  // With `expected_version`, only when the stored row is at that version: kStaleVersion
  // otherwise, so that a write built on a stale read can never overwrite newer state.
  virtual Result<void> UpdateInvestigation(const InvestigationRow& row,
                                           std::optional<int64_t> expected_version) = 0;
  // Appends in order, storing each event's wire form (core::WireText). kConflict when an
  // (investigation, id) or (investigation, key) pair exists.
  // On failure none of `events` is appended.
  virtual Result<void> AppendEvents(std::span<const core::Event> events) = 0;
  // The id of the event appended earlier with this idempotency key, if any (also one appended
  // earlier in this transaction).
  virtual Result<std::optional<core::EventId>> FindByKey(const std::string& investigation_id,
                                                         const std::string& key) = 0;
  // Stores a session or a sign-in code; kConflict when the id is taken. Rows of either kind that
  // expired at or before `now_s` are deleted with it: they can never be used again.
  virtual Result<void> InsertSession(SessionKind kind, const SessionRow& row, int64_t now_s) = 0;
  // Deletes the session or code `id` of `kind` and returns it as it was; nullopt when there was
  // none. Of two transactions taking the same one, only the first to commit gets it (a code is
  // redeemed once, whichever node is asked).
  virtual Result<std::optional<SessionRow>> TakeSession(SessionKind kind,
                                                        const std::string& id) = 0;

  // Durable when it returns success: survives a crash of the process.
  virtual Result<void> Commit() = 0;
};

// What a migration did: the schema version before and after (equal when there was nothing to do).
struct MigrationReport {
  int from_version = 0;
  int to_version = 0;
};

// Heads announced by other nodes' commits on the same database (WriteTransaction::AnnounceHeads).
// Hints, not data: the events are read from the store. Not thread-safe: one thread waits on it.
class HeadListener {
 public:
  virtual ~HeadListener() = default;

  struct Batch {
    std::vector<InvestigationHead> heads;  // in the order announced; an id may repeat
    // The listener (re)connected during this wait: announcements made while it was not
    // listening are lost, so every head the caller cares about must be read again.
    bool resync = false;
  };
  // Waits at most `timeout` for announcements, and returns those that arrived (none when the
  // time ran out). The first call connects. kUnavailable when the connection is lost or cannot
  // be made; the next call connects again (and says resync).
  virtual Result<Batch> Wait(std::chrono::milliseconds timeout) = 0;
};

// How the read pool is doing: reads that found every connection lent and waited, and how long.
struct PoolStats {
  uint64_t waits = 0;
  uint64_t wait_ns = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  virtual PoolStats pool_stats() const { return {}; }

  // kUnavailable when the database cannot be written now (the caller may retry).
  virtual Result<std::unique_ptr<WriteTransaction>> BeginWrite() = 0;

  virtual Result<std::optional<InvestigationRow>> GetInvestigation(const std::string& id) = 0;
  virtual Result<std::vector<InvestigationRow>> ListInvestigations(
      const InvestigationQuery& query) = 0;
  // Events after `query.after`, ascending by id.
  virtual Result<std::vector<core::Event>> ReadEvents(const EventQuery& query) = 0;
  // The session or code `id` of `kind`, expired or not; nullopt when there is none.
  virtual Result<std::optional<SessionRow>> GetSession(SessionKind kind, const std::string& id) = 0;
  // The stored heads of the investigations named in `ids` that exist, ascending by id.
  virtual Result<std::vector<InvestigationHead>> ReadHeads(std::span<const std::string> ids) = 0;
  // A listener for the heads other nodes announce, on a connection of its own; null when the
  // backend has a single writer (SQLite), so nobody else commits.
  virtual std::unique_ptr<HeadListener> ListenForHeads() { return nullptr; }
};

}  // namespace vigil::store
