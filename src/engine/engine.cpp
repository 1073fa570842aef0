#include "engine/engine.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <limits>
#include <optional>
#include <random>

#include "base/json_util.hpp"

namespace vigil::engine {

namespace json = boost::json;

namespace {

// Random ids for investigations and runs: a prefix and 96 bits of hex.
std::string NewId(const char* prefix) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[48];
  uint64_t a = rng(), b = rng();
  int n =
      std::snprintf(buf, sizeof buf, "%s%016llx%08llx", prefix, static_cast<unsigned long long>(a),
                    static_cast<unsigned long long>(b >> 32));
  return std::string(buf, static_cast<size_t>(n));
}

Error NotFound() { return Error(ErrorCode::kNotFound, "investigation not found"); }

// A command made against a version the investigation is no longer at: re-read and decide again.
Error StaleVersion(int64_t current, int64_t submitted) {
  Error error(ErrorCode::kStaleVersion, "the investigation is at version " +
                                            std::to_string(current) + ", not " +
                                            std::to_string(submitted) + "; read it again");
  error.extra["current_version"] = current;
  error.extra["submitted_version"] = submitted;
  return error;
}

// The snapshot of a command's outcome, for the calls that answer with the snapshot alone.
Done<CommandOutcome> SnapshotOf(Done<SnapshotPtr> done) {
  return [done = std::move(done)](Result<CommandOutcome> r) {
    if (!r) return done(Fail(r.error()));
    done(std::move(r->snapshot));
  };
}

store::InvestigationRow RowOf(const Snapshot& s) {
  const core::Investigation& inv = s.investigation();
  store::InvestigationRow row;
  row.id = inv.id;
  row.owner = inv.owner;
  row.name = inv.name;
  row.state = inv.state;
  row.run_id = inv.run_id;
  row.version = inv.version;
  row.last_event_id = inv.last_event_id;
  row.created_at_ms = inv.created_at_ms;
  row.updated_at_ms = inv.updated_at_ms;
  row.completion_percent = inv.run.completion_percent;
  row.snapshot_json = s.progress_json();
  return row;
}

}  // namespace

struct Engine::Job {
  std::string investigation_id;  // empty for a create
  std::function<Result<void>(WriteContext&)> run;
  // Called after the group commits (or fails) with the investigation's newest snapshot.
  std::function<void(Result<SnapshotPtr>)> finish;
};

// What one job sees while it runs: a working copy of one investigation, the events it appends,
// and the transaction. Nothing it does is visible to anyone until the group commits.
class Engine::WriteContext {
 public:
  using Staged = std::unordered_map<std::string, SnapshotPtr>;

  WriteContext(Engine& engine, store::WriteTransaction& txn, const Staged& staged)
      : engine_(engine), txn_(txn), staged_(staged) {}

  // Works on an existing investigation the principal may see.
  Result<void> Open(const core::Principal& principal, const std::string& id) {
    SnapshotPtr base;
    if (auto it = staged_.find(id); it != staged_.end()) {
      base = it->second;
    } else if (SnapshotPtr cached = engine_.Cached(id)) {
      base = cached;
    } else {
      auto loaded = engine_.LoadBlocking(id);
      if (!loaded) return Fail(loaded.error());
      base = *loaded;
    }
    if (!principal.MaySee(base->owner())) return Fail(NotFound());
    base_ = base;
    return {};
  }

  // The group's transaction, for a job that writes something else than an investigation.
  store::WriteTransaction& transaction() { return txn_; }

  // The investigation as this job finds it: after the jobs before it in the group. Null for a
  // new investigation (and for a job that opened none).
  const SnapshotPtr& base() const { return base_; }

  // The id of a stored event of this investigation with this idempotency key, if any.
  Result<std::optional<core::EventId>> FindStoredKey(const std::string& key) {
    return txn_.FindByKey(base_->id(), key);
  }

  // What the job decided: the investigation after it, and the events to append.
  void Take(core::Investigation after, std::vector<core::Event> events) {
    work_ = std::move(after);
    events_ = std::move(events);
  }

  // Writes what the job appended; builds the snapshot it leads to.
  Result<void> Persist() {
    if (events_.empty()) {
      snapshot_ = base_;
      return {};
    }
    snapshot_ = std::make_shared<const Snapshot>(std::move(work_));
    store::InvestigationRow row = RowOf(*snapshot_);
    // Conditional on the version this job started from: a stale base fails instead of writing.
    auto written =
        !base_ ? txn_.InsertInvestigation(row) : txn_.UpdateInvestigation(row, base_->version());
    if (!written) {
      // The copy in memory was behind the store: drop it; the job runs again on the stored one.
      if (written.error().code == ErrorCode::kStaleVersion) {
        engine_.Forget(snapshot_->id());
        stale_base_ = true;
      }
      return written;
    }
    return txn_.AppendEvents(events_);
  }

  const SnapshotPtr& snapshot() const { return snapshot_; }
  std::vector<core::Event>& events() { return events_; }
  // Whether Persist found the store ahead of the copy the job worked on (and dropped the copy).
  bool found_stale_base() const { return stale_base_; }

 private:
  Engine& engine_;
  store::WriteTransaction& txn_;
  const Staged& staged_;
  core::Investigation work_;
  SnapshotPtr base_;
  SnapshotPtr snapshot_;
  std::vector<core::Event> events_;
  bool stale_base_ = false;
};

Engine::Engine(store::Store& store, const Clock& clock, EngineOptions options)
    : store_(store),
      clock_(clock),
      options_(options),
      hot_({.hot_max = options.hot_max,
            .recent_events = options.recent_events,
            .recent_bytes = options.recent_bytes}) {}

Engine::~Engine() { Stop(); }

void Engine::AddCommitListener(CommitListener listener) {
  listeners_.push_back(std::move(listener));
}

void Engine::Start() {
  readers_.Start(options_.read_threads);
  writer_ = std::thread([this] { WriterLoop(); });
}

void Engine::Stop() {
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  readers_.Stop();
}

void Engine::Submit(std::string investigation_id, std::function<Result<void>(WriteContext&)> run,
                    std::function<void(Result<SnapshotPtr>)> finish) {
  {
    std::lock_guard lock(queue_mu_);
    if (!stopping_) {
      queue_.push_back(Job{std::move(investigation_id), std::move(run), std::move(finish)});
      queue_cv_.notify_one();
      return;
    }
  }
  finish(Fail(ErrorCode::kUnavailable, "vigil is shutting down"));
}

void Engine::SubmitWrite(std::function<Result<void>(store::WriteTransaction&)> write,
                         std::function<void(Result<void>)> done) {
  // No investigation to lock: it writes other rows.
  Submit(
      "", [write = std::move(write)](WriteContext& ctx) { return write(ctx.transaction()); },
      [done = std::move(done)](Result<SnapshotPtr> r) {
        if (!r) return done(Fail(r.error()));
        done({});
      });
}

void Engine::SubmitFor(const std::string& investigation_id,
                       std::function<Result<void>(WriteContext&)> run,
                       std::function<void(Result<SnapshotPtr>)> finish) {
  if (Cached(investigation_id)) {
    return Submit(investigation_id, std::move(run), std::move(finish));
  }
  // Cold: fold its log on the read pool first, so that the writer, which every investigation's
  // writes wait for, does not. (If it is dropped again before the job runs, the job loads it.)
  readers_.Post(
      [this, investigation_id, run = std::move(run), finish = std::move(finish)]() mutable {
        (void)LoadBlocking(investigation_id);  // a failure is found again, and answered, by the job
        Submit(std::move(investigation_id), std::move(run), std::move(finish));
      });
}

void Engine::WriterLoop() {
  for (;;) {
    std::vector<Job> jobs;
    std::unordered_map<std::string, int64_t> behind;
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty() || !behind_.empty(); });
      // Stopping: the jobs are answered, but catching up with other nodes is no one's wait.
      if (stopping_) behind_.clear();
      if (queue_.empty() && behind_.empty()) return;  // stopping, and every job is done
      behind.swap(behind_);
      while (!queue_.empty() && jobs.size() < options_.max_group) {
        jobs.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    // Other nodes' commits first: they were committed before anything this group will commit.
    if (!behind.empty()) IngestCaughtUp(std::move(behind));
    if (!jobs.empty()) RunGroup(jobs);
  }
}

void Engine::CatchUp(std::vector<store::InvestigationHead> heads) {
  {
    std::lock_guard lock(queue_mu_);
    if (stopping_) return;
    for (store::InvestigationHead& head : heads) {
      // Only what is in memory can be behind; the rest is read whole when next used.
      SnapshotPtr cached = Cached(head.id);
      if (!cached || cached->version() >= head.version) continue;
      auto [it, added] = behind_.try_emplace(std::move(head.id), head.version);
      if (!added) it->second = std::max(it->second, head.version);
    }
    if (behind_.empty()) return;
  }
  queue_cv_.notify_one();
}

std::vector<store::InvestigationHead> Engine::HotHeads() const { return hot_.Heads(); }

Result<Engine::Committed> Engine::ReadAhead(const SnapshotPtr& base) {
  store::EventQuery query;
  query.investigation_id = base->id();
  query.after = base->investigation().last_event_id;
  query.limit = std::numeric_limits<size_t>::max();
  auto events = store_.ReadEvents(query);
  if (!events) return Fail(events.error());
  if (events->empty()) return Committed{base, {}};
  core::Investigation inv = base->investigation();
  for (const core::Event& e : *events) core::Apply(inv, e);
  if (inv.version != base->version() + static_cast<int64_t>(events->size())) {
    return Fail(InternalError("the stored log of " + base->id() + " does not follow version " +
                              std::to_string(base->version())));
  }
  return Committed{std::make_shared<const Snapshot>(std::move(inv)), std::move(*events)};
}

void Engine::IngestCaughtUp(std::unordered_map<std::string, int64_t> heads) {
  std::vector<Committed> caught_up;
  size_t event_count = 0;
  for (const auto& [id, version] : heads) {
    SnapshotPtr cached = Cached(id);
    if (!cached || cached->version() >= version) continue;  // caught up meanwhile
    auto read = ReadAhead(cached);
    if (!read) {
      // The store cannot be read now (an outage): the copy is kept, behind but whole, so that
      // reads and streams of it go on; the bridge's head check brings it level once the store
      // answers. Any other failure: the copy is dropped, and the next reader folds it again.
      if (read.error().code != ErrorCode::kUnavailable) Forget(id);
      continue;
    }
    event_count += read->events.size();
    if (!read->events.empty()) caught_up.push_back(std::move(*read));
  }
  if (caught_up.empty()) return;
  {
    std::lock_guard lock(stats_mu_);
    stats_.caught_up += event_count;
  }
  ObserveCatchUp(caught_up);
  PublishCommitted(caught_up);
}

Result<void> Engine::LockGroup(store::WriteTransaction& txn, const std::vector<Job>& jobs,
                               WriteContext::Staged& staged, std::vector<Committed>& caught_up) {
  std::vector<std::string> ids;
  for (const Job& job : jobs) {
    if (!job.investigation_id.empty()) ids.push_back(job.investigation_id);
  }
  if (ids.empty()) return {};
  auto heads = txn.LockInvestigations(ids);
  if (!heads) return Fail(heads.error());
  for (const store::InvestigationHead& head : *heads) {
    SnapshotPtr cached = Cached(head.id);
    if (!cached || cached->version() == head.version) continue;
    // Another node wrote since this copy was made. Whatever it committed is visible now that
    // its lock is ours: fold it in, so the job decides on the head it holds, never on the copy.
    // (A copy ahead of the store, or one that cannot be brought level, is dropped: the job folds
    // the investigation from the store, WriteContext::Open.)
    auto read = cached->version() < head.version
                    ? ReadAhead(cached)
                    : Result<Committed>(Fail(InternalError("ahead of the store")));
    // The store cannot be read now (an outage): the group fails, and the copy is kept for the
    // readers and streams of it, as a catch-up keeps it (IngestCaughtUp).
    if (!read && read.error().code == ErrorCode::kUnavailable) return Fail(read.error());
    if (!read || read->snapshot->version() != head.version) {
      Forget(head.id);
      continue;
    }
    staged[head.id] = read->snapshot;
    caught_up.push_back(std::move(*read));
  }
  return {};
}

void Engine::RunGroup(std::vector<Job>& jobs) {
  const int64_t begun_ns = clock_.MonotonicNs();
  auto txn = store_.BeginWrite();
  if (!txn) {
    NoteWrite(&txn.error());
    for (Job& job : jobs) job.finish(Fail(txn.error()));
    return;
  }
  WriteContext::Staged staged;
  // Other nodes' commits to the group's investigations that this engine had not seen, then the
  // group's own, in commit order.
  std::vector<Committed> published;
  if (auto locked = LockGroup(**txn, jobs, staged, published); !locked) {
    return FailGroup(jobs, locked.error());
  }
  const size_t own_from = published.size();
  size_t caught_up_events = 0;
  for (const Committed& c : published) caught_up_events += c.events.size();
  // Each job's own outcome: the snapshot its events led to (the snapshot it started from when it
  // appended nothing), or its error. Jobs of one investigation in one group each keep their own
  // snapshot, so that each is installed and published with exactly its events.
  std::vector<Result<SnapshotPtr>> outcomes;
  size_t event_count = 0;
  for (Job& job : jobs) {
    // A job whose copy in memory turns out to be behind the store (another writer on the same
    // database) is not an error of the client's: its copy is dropped, and it runs once more on
    // the investigation as stored.
    Result<void> ran;
    std::optional<WriteContext> ctx;
    for (int attempt = 0; attempt < 2; ++attempt) {
      ctx.emplace(*this, **txn, staged);
      if (auto saved = (*txn)->Savepoint(); !saved) return FailGroup(jobs, saved.error());
      try {
        ran = job.run(*ctx);
        if (ran) ran = ctx->Persist();
      } catch (const std::exception& ex) {
        ran = Fail(InternalError(std::string("write failed: ") + ex.what()));
      }
      // A savepoint that cannot be released or rolled back leaves the transaction in a state
      // nobody can vouch for: the whole group fails and rolls back.
      auto closed = ran ? (*txn)->ReleaseSavepoint() : (*txn)->RollbackToSavepoint();
      if (!closed) return FailGroup(jobs, closed.error());
      if (ran || !ctx->found_stale_base()) break;
    }
    if (!ran) {
      outcomes.push_back(Fail(ran.error()));
      continue;
    }
    outcomes.push_back(ctx->snapshot());
    if (!ctx->events().empty()) {
      staged[ctx->snapshot()->id()] = ctx->snapshot();
      event_count += ctx->events().size();
      published.push_back({ctx->snapshot(), std::move(ctx->events())});
    }
  }

  // Every other node hears of the new heads when, and only if, the group commits: one hint per
  // investigation, at its last version.
  std::unordered_map<std::string, int64_t> heads;
  for (size_t i = own_from; i < published.size(); ++i) {
    heads[published[i].snapshot->id()] = published[i].snapshot->version();
  }
  std::vector<store::InvestigationHead> announced;
  announced.reserve(heads.size());
  for (auto& [id, version] : heads) announced.push_back({id, version});
  if (auto told = (*txn)->AnnounceHeads(announced); !told) return FailGroup(jobs, told.error());
  if (auto committed = (*txn)->Commit(); !committed) return FailGroup(jobs, committed.error());
  NoteWrite(nullptr);
  commit_latency_.Observe(clock_.MonotonicNs() - begun_ns);
  ObserveCatchUp(std::span<const Committed>(published.data(), own_from));
  {
    std::lock_guard lock(stats_mu_);
    ++stats_.commits;
    stats_.jobs += jobs.size();
    stats_.events += event_count;
    stats_.caught_up += caught_up_events;
  }
  PublishCommitted(published);
  for (size_t i = 0; i < jobs.size(); ++i) jobs[i].finish(std::move(outcomes[i]));
}

void Engine::PublishCommitted(std::span<Committed> commits) {
  // In commit order, each commit's events join the investigation's recent log before the
  // snapshot they lead to is installed: whoever sees a snapshot finds its events in memory.
  const int64_t committed_ns = clock_.MonotonicNs();
  std::vector<std::vector<SharedEventPtr>> shared(commits.size());
  for (size_t i = 0; i < commits.size(); ++i) {
    shared[i].reserve(commits[i].events.size());
    for (const core::Event& e : commits[i].events) {
      shared[i].push_back(std::make_shared<const SharedEvent>(e, committed_ns));
    }
    InstallCommitted(commits[i].snapshot, commits[i].events, shared[i]);
  }
  for (size_t i = 0; i < commits.size(); ++i) {
    for (const CommitListener& listener : listeners_) {
      listener(commits[i].snapshot, commits[i].events, shared[i]);
    }
  }
}

void Engine::FailGroup(std::vector<Job>& jobs, const Error& error) {
  NoteWrite(&error);
  for (Job& job : jobs) job.finish(Fail(error));
}

void Engine::ObserveCatchUp(std::span<const Committed> commits) {
  const int64_t now_ms = clock_.NowMs();
  for (const Committed& c : commits) {
    for (const core::Event& e : c.events) catch_up_lag_.Observe((now_ms - e.id.ts_ms) * 1'000'000);
  }
}

void Engine::NoteWrite(const Error* error) {
  if (error != nullptr && error->code != ErrorCode::kUnavailable) return;
  std::lock_guard lock(health_mu_);
  last_write_ns_ = std::max<int64_t>(clock_.MonotonicNs(), 1);
  if (error == nullptr) {
    last_write_error_.reset();
  } else {
    last_write_error_ = *error;
  }
}

void Engine::CheckWritable(std::chrono::milliseconds fresh, Done<void> done) {
  {
    std::lock_guard lock(health_mu_);
    const int64_t age_ns = clock_.MonotonicNs() - last_write_ns_;
    if (last_write_ns_ != 0 && age_ns <= std::chrono::nanoseconds(fresh).count()) {
      if (last_write_error_) return done(Fail(*last_write_error_));
      return done({});
    }
  }
  // Nothing recent to go by: begin and commit an empty transaction, as a group would.
  SubmitWrite([](store::WriteTransaction&) -> Result<void> { return {}; }, std::move(done));
}

void Engine::InstallCommitted(const SnapshotPtr& snapshot, std::span<const core::Event> events,
                              std::span<const SharedEventPtr> shared) {
  hot_.InstallCommitted(snapshot, events, shared);
}

void Engine::Forget(const std::string& id) { hot_.Forget(id); }

SnapshotPtr Engine::Cached(const std::string& id) const { return hot_.Find(id); }

SnapshotPtr Engine::CachedFor(const core::Principal& principal, const std::string& id) const {
  SnapshotPtr s = Cached(id);
  return s && principal.MaySee(s->owner()) ? s : nullptr;
}

std::shared_ptr<const RecentLog> Engine::Recent(const std::string& id) const {
  return hot_.Recent(id);
}

Result<SnapshotPtr> Engine::LoadBlocking(const std::string& id) {
  const uint64_t generation = hot_.Generation();
  store::EventQuery query;
  query.investigation_id = id;
  query.limit = std::numeric_limits<size_t>::max();
  auto events = store_.ReadEvents(query);
  if (!events) return Fail(events.error());
  if (events->empty() || events->front().type != core::EventType::kInvestigationCreated) {
    return Fail(NotFound());
  }
  core::Investigation inv;
  for (const core::Event& e : *events) core::Apply(inv, e);
  {
    std::lock_guard lock(stats_mu_);
    ++stats_.loads;
  }
  return hot_.InstallLoaded(std::make_shared<const Snapshot>(std::move(inv)), *events, generation);
}

void Engine::Execute(const core::Principal& principal, std::string investigation_id,
                     core::Command command, std::optional<int64_t> expected_version,
                     Done<CommandOutcome> done) {
  auto outcome = std::make_shared<CommandOutcome>();
  auto run = [this, principal, id = investigation_id, command = std::move(command),
              expected_version, outcome](WriteContext& ctx) -> Result<void> {
    core::DecideInput input;
    input.actor = principal.subject;
    input.now_ms = clock_.NowMs();
    input.mint_id = [](const char* prefix) { return NewId(prefix); };
    core::Investigation base;
    if (!id.empty()) {
      if (auto opened = ctx.Open(principal, id); !opened) return opened;
      const core::Investigation& current = ctx.base()->investigation();
      if (expected_version && current.version != *expected_version) {
        return Fail(StaleVersion(current.version, *expected_version));
      }
      base = current;
      input.stored_key = [&ctx](const std::string& key) { return ctx.FindStoredKey(key); };
    }
    auto decision = core::Decide(std::move(base), command, input);
    if (!decision) return Fail(decision.error());
    outcome->items = std::move(decision->items);
    ctx.Take(std::move(decision->after), std::move(decision->events));
    return {};
  };
  auto finish = [outcome, done = std::move(done)](Result<SnapshotPtr> r) {
    if (!r) return done(Fail(r.error()));
    outcome->snapshot = *r;
    done(std::move(*outcome));
  };
  if (investigation_id.empty()) return Submit("", std::move(run), std::move(finish));
  SubmitFor(investigation_id, std::move(run), std::move(finish));
}

void Engine::Create(const core::Principal& principal, json::object create_data,
                    Done<SnapshotPtr> done) {
  Execute(principal, "", core::CreateCommand{std::move(create_data)}, std::nullopt,
          SnapshotOf(std::move(done)));
}

void Engine::Report(const core::Principal& principal, std::string investigation_id,
                    std::vector<core::EventInput> inputs, Done<ReportOutcome> done) {
  Execute(principal, std::move(investigation_id), core::ReportCommand{std::move(inputs)},
          std::nullopt, std::move(done));
}

void Engine::Transition(const core::Principal& principal, std::string investigation_id,
                        core::TransitionInput transition, Done<SnapshotPtr> done) {
  Execute(principal, std::move(investigation_id), core::TransitionCommand{std::move(transition)},
          std::nullopt, SnapshotOf(std::move(done)));
}

void Engine::Get(const core::Principal& principal, const std::string& id, Done<SnapshotPtr> done) {
  auto answer = [principal, done](Result<SnapshotPtr> r) {
    if (r && !principal.MaySee((*r)->owner())) return done(Fail(NotFound()));
    done(std::move(r));
  };
  if (SnapshotPtr cached = Cached(id)) return answer(cached);
  readers_.Post([this, id, answer] { answer(LoadBlocking(id)); });
}

void Engine::ReadLog(const core::Principal& principal, LogQuery query, Done<EventPage> done) {
  auto read = [this](LogQuery query, Done<EventPage> done) {
    if (auto log = Recent(query.investigation_id)) {
      EventPage page;
      if (auto entries = log->Read(query.after, query.limit, query.types, &page.more)) {
        page.events = std::move(*entries);  // shared with the log: frames formatted once
        return done(std::move(page));
      }
    }
    readers_.Post([this, query = std::move(query), done = std::move(done)] {
      // One more than asked tells whether more follow.
      auto events = store_.ReadEvents(
          {query.investigation_id, query.after, query.limit + 1, query.types, /*raw_data=*/true});
      if (!events) return done(Fail(events.error()));
      EventPage page;
      page.more = events->size() > query.limit;
      if (page.more) events->resize(query.limit);
      page.events.reserve(events->size());
      for (core::Event& e : *events) {
        page.events.push_back(std::make_shared<const SharedEvent>(std::move(e.investigation_id),
                                                                  e.id, e.type, std::move(e.wire)));
      }
      done(std::move(page));
    });
  };
  if (SnapshotPtr cached = Cached(query.investigation_id)) {
    if (!principal.MaySee(cached->owner())) return done(Fail(NotFound()));
    return read(std::move(query), std::move(done));
  }
  std::string id = query.investigation_id;
  Get(principal, id,
      [read, query = std::move(query), done = std::move(done)](Result<SnapshotPtr> r) mutable {
        if (!r) return done(Fail(r.error()));
        read(std::move(query), std::move(done));
      });
}

void Engine::HasEvent(const core::Principal& principal, const std::string& investigation_id,
                      core::EventId event_id, Done<bool> done) {
  // The first event after the position just before the id is the event itself, if there is one.
  ReadLog(principal, {investigation_id, core::EventIdBefore(event_id), 1, {}},
          [event_id, done = std::move(done)](Result<EventPage> page) {
            if (!page) return done(Fail(page.error()));
            done(!page->events.empty() && page->events.front()->id() == event_id);
          });
}

void Engine::PostRead(std::function<void()> task) { readers_.Post(std::move(task)); }

void Engine::ReadEvents(store::EventQuery query, Done<std::vector<core::Event>> done) {
  readers_.Post(
      [this, query = std::move(query), done = std::move(done)] { done(store_.ReadEvents(query)); });
}

void Engine::List(store::InvestigationQuery query,
                  Done<std::vector<store::InvestigationRow>> done) {
  readers_.Post([this, query = std::move(query), done = std::move(done)] {
    done(store_.ListInvestigations(query));
  });
}

Engine::Stats Engine::stats() const {
  Stats stats;
  {
    std::lock_guard lock(stats_mu_);
    stats = stats_;
  }
  const HotCache::Counts hot = hot_.counts();
  stats.hot = hot.hot;
  stats.recent_log_bytes = hot.recent_log_bytes;
  stats.evictions = hot.evictions;
  return stats;
}

}  // namespace vigil::engine
