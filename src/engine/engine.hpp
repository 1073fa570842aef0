// Engine: the hot state of every investigation, and the only path by which anything is written.
//
// Writes (create, report, transition) are jobs queued to one writer thread. The writer takes every
// job that is waiting (up to a limit), runs them in one store transaction, each inside its own
// savepoint so one job can fail alone, commits once (group commit: one fsync for many requests),
// and only then installs the new snapshots, answers the callers and tells the commit listeners
// (the live hub). So an event is visible to readers and subscribers only after it is durable, and
// event ids are assigned under the writer's exclusive hold of the investigation: strictly
// increasing per investigation.
//
// Reads are served from immutable Snapshots held in memory. An investigation not in memory is
// loaded by folding its log from the store on the read pool, never on the caller's thread.
//
// Callbacks (`Done`) run on the writer thread or a read-pool thread, or on the calling thread
// when the answer is already in memory; they must not block.
//
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <atomic>
#include <boost/json/object.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "base/clock.hpp"
#include "base/histogram.hpp"
#include "base/result.hpp"
#include "core/decide.hpp"
#include "core/event.hpp"
#include "core/input.hpp"
#include "core/investigation.hpp"
#include "core/principal.hpp"
#include "engine/hot_cache.hpp"
#include "engine/recent_log.hpp"
#include "engine/shared_event.hpp"
#include "engine/snapshot.hpp"
#include "engine/work_queue.hpp"
#include "store/store.hpp"

namespace vigil::engine {

template <typename T>
using Done = std::function<void(Result<T>)>;

struct EngineOptions {
  size_t max_group = 256;         // jobs per group commit
  int read_threads = 2;           // threads that load from the store
  size_t recent_events = 10'000;  // events of each hot investigation kept in memory,
  size_t recent_bytes = 4 << 20;  // and at most this many bytes of them
  size_t hot_max = 10'000;        // investigations kept in memory; the least recently used go
};

// What a command did: for a report, one item per reported event (its id, or the id of the earlier
// event with its key); and the investigation after it.
struct CommandOutcome {
  using Item = core::Decision::Item;
  std::vector<Item> items;
  SnapshotPtr snapshot;
};
using ReportOutcome = CommandOutcome;

// Told of every commit, on the writer thread, after the snapshot is installed: the snapshot, the
// events, and the same events as the recent log shares them (frames formatted once for all).
using CommitListener =
    std::function<void(const SnapshotPtr& snapshot, std::span<const core::Event> events,
                       std::span<const SharedEventPtr> shared)>;

// What Engine::ReadLog reads: a page of one investigation's log.
struct LogQuery {
  std::string investigation_id;
  core::EventId after;  // exclusive; zero reads from the start
  size_t limit = 100;
  std::vector<core::EventType> types;  // empty: every type
};

struct EventPage {
  std::vector<SharedEventPtr> events;  // ascending ids
  bool more = false;                   // further matching events follow the last one
};

class Engine {
 public:
  Engine(store::Store& store, const Clock& clock, EngineOptions options = {});
  ~Engine();  // finishes the queued jobs, then stops
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Must be called before Start.
  void AddCommitListener(CommitListener listener);
  void Start();
  void Stop();

  // Runs `command` (core/decide.hpp) as `principal` on the investigation `investigation_id`, or
  // on a new one when it is empty (a create): the one path of every write. kNotFound when the
  // principal may not see it; the errors of core::Decide otherwise. With `expected_version`, the
  // command runs only if the investigation is at that version when the writer takes it (the check
  // and the write are one step); otherwise kStaleVersion, with `current_version` and
  // `submitted_version` in the error's extra members.
  void Execute(const core::Principal& principal, std::string investigation_id,
               core::Command command, std::optional<int64_t> expected_version,
               Done<CommandOutcome> done);

  // Execute, for each kind of command, without an expected version.
  // Creates an investigation owned by `principal` from a validated create request
  // (core::ParseCreateRequest).
  void Create(const core::Principal& principal, boost::json::object create_data,
              Done<SnapshotPtr> done);
  // Appends a validated batch: all or nothing. kNotFound when the principal may not see it;
  // kConflict (with the index in the field) when an event is illegal in the current state.
  void Report(const core::Principal& principal, std::string investigation_id,
              std::vector<core::EventInput> events, Done<ReportOutcome> done);
  // Moves the lifecycle. kConflict naming the current state and the allowed targets.
  void Transition(const core::Principal& principal, std::string investigation_id,
                  core::TransitionInput transition, Done<SnapshotPtr> done);

  // A write of anything but an investigation's log (templates, audit entries, ...): `write` runs
  // on the writer thread inside a group's transaction, in a savepoint of its own, so that it is
  // durable with the group and fails alone (what it wrote is rolled back; the group goes on).
  // `done` gets its result once the group has committed, or the error.
  template <typename T>
  void Write(std::function<Result<T>(store::WriteTransaction&)> write, Done<T> done) {
    if constexpr (std::is_void_v<T>) {
      SubmitWrite(std::move(write), std::move(done));
    } else {
      auto value = std::make_shared<std::optional<T>>();
      SubmitWrite(
          [write = std::move(write), value](store::WriteTransaction& txn) -> Result<void> {
            auto r = write(txn);
            if (!r) return Fail(r.error());
            value->emplace(std::move(*r));
            return {};
          },
          [value, done = std::move(done)](Result<void> r) {
            if (!r) return done(Fail(r.error()));
            done(std::move(**value));
          });
    }
  }

  // A read of anything but an investigation's log (sessions, ...): `read` runs on the read pool,
  // and `done` gets its result there.
  template <typename T>
  void Read(std::function<Result<T>(store::Store&)> read, Done<T> done) {
    PostRead([this, read = std::move(read), done = std::move(done)] { done(read(store_)); });
  }

  // The snapshot if it is in memory; nullptr otherwise. Never blocks on I/O.
  SnapshotPtr Cached(const std::string& investigation_id) const;
  // The snapshot if it is in memory and `principal` may see it; nullptr otherwise (then Get
  // gives the answer). Never blocks on I/O; builds no callback: the path of every poll.
  SnapshotPtr CachedFor(const core::Principal& principal,
                        const std::string& investigation_id) const;
  // The newest events of an investigation in memory (with its snapshot); nullptr when it is not
  // hot. Holds at least the events up to any snapshot a caller has seen.
  std::shared_ptr<const RecentLog> Recent(const std::string& investigation_id) const;
  // The snapshot, from memory or loaded on the read pool. kNotFound when the principal may not
  // see it (the same answer as for an id that does not exist).
  void Get(const core::Principal& principal, const std::string& investigation_id,
           Done<SnapshotPtr> done);
  // The one reader of "the events after X" for clients (/events pages, stream replays): the
  // events of `query.investigation_id` after `query.after` (exclusive), of `query.types` (all
  // when empty), at most `query.limit`, ascending. From the investigation's recent events in
  // memory when they reach back that far (then `done` runs on the calling thread), from the
  // store on the read pool otherwise. kNotFound when the principal may not see it.
  void ReadLog(const core::Principal& principal, LogQuery query, Done<EventPage> done);
  // Whether `event_id` is the id of an event in the log of `investigation_id` (ReadLog's rules).
  void HasEvent(const core::Principal& principal, const std::string& investigation_id,
                core::EventId event_id, Done<bool> done);
  // Every field of stored events, as the store reads them, on the read pool: for tools and
  // tests. Clients read through ReadLog.
  void ReadEvents(store::EventQuery query, Done<std::vector<core::Event>> done);

  // Several nodes on one database. Another node committed to these investigations, reaching these
  // heads: those held in memory behind them are brought level on the writer thread, before its
  // next group — the events this engine lacks read from the store in one query each, and fed
  // through the path of its own commits (recent log, snapshot, commit listeners). Ids not in
  // memory, or not behind, cost nothing.
  void CatchUp(std::vector<store::InvestigationHead> heads);
  // The investigations in memory and their versions, for a periodic comparison with the store.
  std::vector<store::InvestigationHead> HotHeads() const;
  void List(store::InvestigationQuery query, Done<std::vector<store::InvestigationRow>> done);

  // Whether this node can write to the store now (/readyz). Answered at once from the outcome of
  // the writer's last transaction when that is at most `fresh` old — no store call, so a busy
  // node, or one whose store just failed, answers from memory; otherwise an empty write
  // transaction (begin, commit) is queued like any job and its outcome answers. The error is the
  // store's: kUnavailable when the database cannot be reached or written.
  void CheckWritable(std::chrono::milliseconds fresh, Done<void> done);

  // Counters for /metrics and tests.
  struct Stats {
    uint64_t commits = 0;
    uint64_t jobs = 0;
    uint64_t events = 0;
    uint64_t loads = 0;
    uint64_t evictions = 0;
    uint64_t hot = 0;               // investigations in memory now
    uint64_t recent_log_bytes = 0;  // bytes of their recent events
    uint64_t caught_up = 0;         // events committed by other nodes, fed in by catch-ups
  };
  Stats stats() const;
  // From a group's BEGIN to its COMMIT returning, for groups that committed.
  const LatencyHistogram& commit_latency() const { return commit_latency_; }
  // Other nodes' events as this node caught up with them: from the time in the event's id (when
  // the writing node decided it, just before its commit) to their publication here. Across nodes
  // it includes the difference between their clocks.
  const LatencyHistogram& catch_up_lag() const { return catch_up_lag_; }
  // The store's read pool.
  store::PoolStats pool_stats() const { return store_.pool_stats(); }

 private:
  struct Job;
  class WriteContext;

  // `investigation_id`: the investigation the job writes, locked before it runs; empty for a
  // create.
  void Submit(std::string investigation_id, std::function<Result<void>(WriteContext&)> run,
              std::function<void(Result<SnapshotPtr>)> finish);
  // Submit for a job on an existing investigation: loads it on the read pool first when it is
  // not in memory.
  void SubmitFor(const std::string& investigation_id,
                 std::function<Result<void>(WriteContext&)> run,
                 std::function<void(Result<SnapshotPtr>)> finish);
  // Submit for a job that writes no investigation (Write).
  void SubmitWrite(std::function<Result<void>(store::WriteTransaction&)> write,
                   std::function<void(Result<void>)> done);
  void PostRead(std::function<void()> task);
  void WriterLoop();
  void RunGroup(std::vector<Job>& jobs);
  // Answers every job of a group with `error` (its transaction is rolled back by its owner).
  void FailGroup(std::vector<Job>& jobs, const Error& error);
  Result<SnapshotPtr> LoadBlocking(const std::string& investigation_id);
  // Records the outcome of a transaction of the writer's (CheckWritable): success at a commit,
  // an error when the store could not be written (kUnavailable; others are a job's own).
  void NoteWrite(const Error* error);
  // Drops an investigation from memory (found stale); it is folded again when next used.
  void Forget(const std::string& investigation_id);
  // A change committed to the store: the investigation after it, and its events.
  struct Committed {
    SnapshotPtr snapshot;
    std::vector<core::Event> events;
  };
  // Locks the investigations the group's jobs write (store::WriteTransaction::LockInvestigations)
  // and stages, for each held in memory behind its locked head, the investigation caught up with
  // the store, whose events go into `caught_up` to be published before the group's own.
  Result<void> LockGroup(store::WriteTransaction& txn, const std::vector<Job>& jobs,
                         std::unordered_map<std::string, SnapshotPtr>& staged,
                         std::vector<Committed>& caught_up);
  // `base` with the events stored after its last one folded in: the investigation as the store
  // has it now, and those events. kUnavailable-style errors from the store; kInternal when what
  // was read does not follow `base`.
  Result<Committed> ReadAhead(const SnapshotPtr& base);
  // On the writer thread: brings the investigations of `heads` held in memory behind them level
  // with the store (CatchUp).
  void IngestCaughtUp(std::unordered_map<std::string, int64_t> heads);
  // The one path of a committed change into memory and out to the listeners, in commit order:
  // each commit's events and snapshot installed, then the commit listeners told. Runs on the
  // writer thread.
  void PublishCommitted(std::span<Committed> commits);
  // Observes the catch-up lag of events other nodes committed (catch_up_lag).
  void ObserveCatchUp(std::span<const Committed> commits);
  // After a commit: appends `events` to the investigation's recent log, then installs `snapshot`.
  void InstallCommitted(const SnapshotPtr& snapshot, std::span<const core::Event> events,
                        std::span<const SharedEventPtr> shared);

  store::Store& store_;
  const Clock& clock_;
  const EngineOptions options_;
  std::vector<CommitListener> listeners_;  // fixed after Start

  HotCache hot_;  // the investigations in memory

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Job> queue_;  // Guarded by queue_mu_
  // Heads other nodes reached (CatchUp), the highest version per id. Guarded by queue_mu_.
  std::unordered_map<std::string, int64_t> behind_;
  bool stopping_ = false;  // Guarded by queue_mu_
  std::thread writer_;

  WorkQueue readers_;

  mutable std::mutex stats_mu_;
  Stats stats_;  // Guarded by stats_mu_
  LatencyHistogram commit_latency_;
  LatencyHistogram catch_up_lag_;

  // The outcome of the writer's last transaction: when (monotonic ns; 0 before the first), and
  // its error when it failed.
  mutable std::mutex health_mu_;
  int64_t last_write_ns_ = 0;              // Guarded by health_mu_
  std::optional<Error> last_write_error_;  // Guarded by health_mu_
};

}  // namespace vigil::engine
