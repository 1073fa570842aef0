// Interleavings of the writer, loads and eviction that once broke the promise "whoever sees a
// snapshot finds its events in memory, once each". A store wrapper holds threads at chosen points
// so that each interleaving happens every time.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "core/input.hpp"
#include "engine/engine.hpp"
#include "engine/engine_test_util.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace vigil::engine {
namespace {
namespace json = boost::json;

using testing::Await;
using testing::Risk;
using testing::User;

// Forwards to a real store; hooks let a test hold a thread at a chosen point.
class HookedTxn : public store::WriteTransaction {
 public:
  HookedTxn(std::unique_ptr<store::WriteTransaction> inner, std::function<void()> after_commit,
            std::function<void()> before_commit = nullptr)
      : inner_(std::move(inner)),
        after_commit_(std::move(after_commit)),
        before_commit_(std::move(before_commit)) {}
  Result<void> Savepoint() override { return inner_->Savepoint(); }
  Result<void> ReleaseSavepoint() override { return inner_->ReleaseSavepoint(); }
  Result<void> RollbackToSavepoint() override { return inner_->RollbackToSavepoint(); }
  Result<void> InsertInvestigation(const store::InvestigationRow& r) override {
    return inner_->InsertInvestigation(r);
  }
  Result<void> UpdateInvestigation(const store::InvestigationRow& r,
                                   std::optional<int64_t> expected_version) override {
    return inner_->UpdateInvestigation(r, expected_version);
  }
  Result<std::vector<store::InvestigationHead>> LockInvestigations(
      std::span<const std::string> ids) override {
    return inner_->LockInvestigations(ids);
  }
  Result<void> AnnounceHeads(std::span<const store::InvestigationHead> heads) override {
    return inner_->AnnounceHeads(heads);
  }
  Result<void> AppendEvents(std::span<const core::Event> e) override {
    return inner_->AppendEvents(e);
  }
  Result<std::optional<core::EventId>> FindByKey(const std::string& i,
                                                 const std::string& k) override {
    return inner_->FindByKey(i, k);
  }
  Result<void> InsertSession(store::SessionKind kind, const store::SessionRow& row,
                             int64_t now_s) override {
    return inner_->InsertSession(kind, row, now_s);
  }
  Result<std::optional<store::SessionRow>> TakeSession(store::SessionKind kind,
                                                       const std::string& id) override {
    return inner_->TakeSession(kind, id);
  }
  Result<void> Commit() override {
    if (before_commit_) before_commit_();
    auto r = inner_->Commit();
    if (r && after_commit_) after_commit_();
    return r;
  }

 private:
  std::unique_ptr<store::WriteTransaction> inner_;
  std::function<void()> after_commit_;
  std::function<void()> before_commit_;
};

class HookedStore : public store::Store {
 public:
  explicit HookedStore(std::unique_ptr<store::Store> inner) : inner_(std::move(inner)) {}
  std::function<void()> before_begin;                         // on the writer thread
  std::function<void()> after_commit;                         // on the writer thread
  std::function<void()> before_commit;                        // on the writer thread
  std::function<void(const store::EventQuery&)> before_read;  // any thread
  std::function<void(const store::EventQuery&)> after_read;   // any thread

  Result<std::unique_ptr<store::WriteTransaction>> BeginWrite() override {
    if (before_begin) before_begin();
    auto t = inner_->BeginWrite();
    if (!t) return tl::unexpected(t.error());
    return std::unique_ptr<store::WriteTransaction>(
        std::make_unique<HookedTxn>(std::move(*t), after_commit, before_commit));
  }
  Result<std::optional<store::InvestigationRow>> GetInvestigation(const std::string& id) override {
    return inner_->GetInvestigation(id);
  }
  Result<std::vector<store::InvestigationRow>> ListInvestigations(
      const store::InvestigationQuery& q) override {
    return inner_->ListInvestigations(q);
  }
  Result<std::vector<core::Event>> ReadEvents(const store::EventQuery& q) override {
    if (before_read) before_read(q);
    auto r = inner_->ReadEvents(q);
    if (after_read) after_read(q);
    return r;
  }
  Result<std::vector<store::InvestigationHead>> ReadHeads(
      std::span<const std::string> ids) override {
    return inner_->ReadHeads(ids);
  }
  Result<std::optional<store::SessionRow>> GetSession(store::SessionKind kind,
                                                      const std::string& id) override {
    return inner_->GetSession(kind, id);
  }

 private:
  std::unique_ptr<store::Store> inner_;
};

struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  void Open() {
    {
      std::lock_guard l(mu);
      open = true;
    }
    cv.notify_all();
  }
  void Wait() {
    std::unique_lock l(mu);
    cv.wait(l, [&] { return open; });
  }
  bool WaitFor(int ms) {
    std::unique_lock l(mu);
    return cv.wait_for(l, std::chrono::milliseconds(ms), [&] { return open; });
  }
};

class RaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vigil-race-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/vigil.db";
    ASSERT_TRUE(store::MigrateSqlite(path_));
  }
  void TearDown() override {
    engine_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open(EngineOptions options = {}) {
    engine_.reset();
    store_.reset();
    auto s = store::OpenSqliteStore({.path = path_});
    ASSERT_TRUE(s);
    store_ = std::make_unique<HookedStore>(std::move(*s));
    engine_ = std::make_unique<Engine>(*store_, clock_, options);
    engine_->AddCommitListener([this](const SnapshotPtr& s, std::span<const core::Event> events,
                                      std::span<const SharedEventPtr>) {
      std::lock_guard lock(mu_);
      for (const auto& e : events)
        published_.push_back({e.id, s->version(), s->investigation().last_event_id});
    });
    engine_->Start();
  }
  std::string Create() {
    auto data = core::ParseCreateRequest(json::parse(R"({"name": "case"})"), {});
    auto created =
        Await<SnapshotPtr>([&](auto done) { engine_->Create(User("alice"), *data, done); });
    EXPECT_TRUE(created);
    return (*created)->id();
  }
  size_t StoreCount(const std::string& id) {
    store::EventQuery q;
    q.investigation_id = id;
    q.limit = 100000;
    auto events = Await<std::vector<core::Event>>([&](auto done) { engine_->ReadEvents(q, done); });
    return events->size();
  }
  // What GET /events?since=0 would serve from memory (nullopt: it would go to the store).
  std::optional<std::vector<RecentLog::Entry>> MemoryPage(const std::string& id) {
    auto log = engine_->Recent(id);
    if (!log) return std::nullopt;
    bool more = false;
    return log->Read(core::EventId{}, 100000, {}, &more);
  }

  std::string dir_, path_;
  SystemClock clock_;
  std::unique_ptr<HookedStore> store_;
  std::unique_ptr<Engine> engine_;
  std::mutex mu_;
  struct Pub {
    core::EventId event;
    int64_t snapshot_version;
    core::EventId snapshot_last;
  };
  std::vector<Pub> published_;
};

// A cold read (read pool) racing the writer's first commit to the same cold investigation:
// the reader reads the store after COMMIT and installs before InstallCommitted; the writer then
// appends the same events again to the new log.
TEST_F(RaceTest, AColdLoadRacingACommitHoldsEachEventOnce) {
  Open();
  std::string id = Create();
  Await<ReportOutcome>([&](auto d) { engine_->Report(User("alice"), id, {Risk(0.1)}, d); });
  Open();  // cold cache: a restart

  Gate reader_in_read, committed, reader_installed;
  std::atomic<int> full_reads{0};
  std::thread::id reader_thread;
  store_->before_read = [&](const store::EventQuery& q) {
    if (q.limit != std::numeric_limits<size_t>::max()) return;
    if (full_reads.fetch_add(1) == 0) {  // the read pool's load, first
      reader_thread = std::this_thread::get_id();
      reader_in_read.Open();
      committed.Wait();
    }
  };
  store_->after_commit = [&] {
    committed.Open();
    reader_installed.WaitFor(2000);
  };

  std::promise<Result<SnapshotPtr>> got;
  engine_->Get(User("alice"), id, [&](Result<SnapshotPtr> r) {
    got.set_value(r);
    reader_installed.Open();
  });
  reader_in_read.Wait();
  auto rep =
      Await<ReportOutcome>([&](auto d) { engine_->Report(User("alice"), id, {Risk(0.2)}, d); });
  ASSERT_TRUE(rep);
  got.get_future().get();

  size_t in_store = StoreCount(id);
  auto page = MemoryPage(id);
  ASSERT_TRUE(page);
  std::set<std::string> ids;
  for (auto& e : *page) ids.insert(core::FormatEventId(e->id()));
  std::printf("store has %zu events; the in-memory page has %zu entries (%zu distinct)\n", in_store,
              page->size(), ids.size());
  EXPECT_EQ(page->size(), in_store) << "duplicate events served by GET /events from memory";
}

// Eviction between a job's Open and its InstallCommitted: the investigation's Hot entry is gone,
// InstallCommitted creates a fresh RecentLog holding only this commit's events, and it claims to
// be complete (nothing dropped), so GET /events?since=0 is answered from memory without the
// history.
TEST_F(RaceTest, AnInvestigationDroppedBeforeItsCommitStaysCold) {
  EngineOptions options;
  options.hot_max = 1;
  Open(options);
  std::string a = Create();
  std::string b = Create();  // evicts a
  for (int i = 0; i < 3; ++i) {
    Await<ReportOutcome>([&](auto d) { engine_->Report(User("alice"), a, {Risk(0.1)}, d); });
  }
  // Now a is hot, b is not. Hold the writer so that the next two jobs form one group.
  Gate release, holding;
  std::atomic<int> begins{0};
  store_->before_begin = [&] {
    if (begins.fetch_add(1) == 0) {
      holding.Open();
      release.Wait();
    }
  };
  std::string c;
  std::thread first([&] { c = Create(); });
  holding.Wait();
  std::promise<void> p1, p2;
  engine_->Report(User("alice"), a, {Risk(0.5)}, [&](Result<ReportOutcome> r) {
    EXPECT_TRUE(r);
    p1.set_value();
  });
  engine_->Report(User("alice"), b, {Risk(0.6)}, [&](Result<ReportOutcome> r) {
    EXPECT_TRUE(r);
    p2.set_value();
  });
  release.Open();
  first.join();
  p1.get_future().get();
  p2.get_future().get();

  for (const std::string& a : {a, b}) {
    size_t in_store = StoreCount(a);
    auto page = MemoryPage(a);
    SnapshotPtr snap = engine_->Cached(a);
    std::printf("%s: store has %zu events; snapshot version %lld; memory page: %s %zu entries\n",
                a.c_str(), in_store, snap ? (long long)snap->version() : -1LL,
                page ? "served from memory with" : "not servable (store path)",
                page ? page->size() : 0);
    if (page) {
      EXPECT_EQ(page->size(), in_store) << "GET /events?since=0 from memory skips history";
    }
  }
}

// Two jobs for the same investigation in one group: the commit listener is told (snapshot after
// job 2, events of job 1), and InstallCommitted installs snapshot v2 before job 2's events are in
// the recent log.
TEST_F(RaceTest, TwoJobsOfOneInvestigationInAGroupArePublishedWithTheirOwnSnapshots) {
  Open();
  std::string a = Create();
  Gate release, holding;
  std::atomic<int> begins{0};
  store_->before_begin = [&] {
    if (begins.fetch_add(1) == 0) {
      holding.Open();
      release.Wait();
    }
  };
  std::thread first([&] {
    Await<ReportOutcome>([&](auto d) { engine_->Report(User("alice"), a, {Risk(0.05)}, d); });
  });
  holding.Wait();
  std::promise<Result<ReportOutcome>> p1, p2;
  engine_->Report(User("alice"), a, {Risk(0.5)}, [&](Result<ReportOutcome> r) { p1.set_value(r); });
  engine_->Report(User("alice"), a, {Risk(0.6)}, [&](Result<ReportOutcome> r) { p2.set_value(r); });
  {
    std::lock_guard lock(mu_);
    published_.clear();
  }
  release.Open();
  first.join();
  auto r1 = p1.get_future().get();
  auto r2 = p2.get_future().get();
  ASSERT_TRUE(r1 && r2);
  std::printf("job1 appended %s; its response says version %lld, last_event_id %s\n",
              core::FormatEventId(r1->items[0].event_id).c_str(),
              (long long)r1->snapshot->version(),
              core::FormatEventId(r1->snapshot->investigation().last_event_id).c_str());
  std::lock_guard lock(mu_);
  for (auto& p : published_) {
    std::printf("listener: event %s with snapshot v%lld (last %s)\n",
                core::FormatEventId(p.event).c_str(), (long long)p.snapshot_version,
                core::FormatEventId(p.snapshot_last).c_str());
  }
  bool mismatch = false;
  for (auto& p : published_) {
    if (p.snapshot_last < p.event) continue;
    if (p.event < p.snapshot_last) mismatch = true;  // snapshot is ahead of the events delivered
  }
  // Only meaningful when the two reports did land in one group after the first job.
  EXPECT_FALSE(mismatch) << "listener got a snapshot newer than the events it was given";
}

// Probabilistic: a reader that sees snapshot v and then reads the recent log must find the event
// with id == snapshot.last_event_id. Spins while groups with two jobs for one investigation commit.
TEST_F(RaceTest, NoSnapshotIsVisibleBeforeItsEvents) {
  Open();
  std::string a = Create();
  std::atomic<bool> stop{false};
  std::atomic<int> violations{0}, checks{0};
  std::thread reader([&] {
    while (!stop) {
      SnapshotPtr s = engine_->Cached(a);
      auto log = engine_->Recent(a);
      if (!s || !log) continue;
      bool more = false;
      auto page = log->Read(core::EventId{}, 1000000, {}, &more);
      if (!page) continue;
      ++checks;
      bool found = false;
      for (auto& e : *page) found = found || e->id() == s->investigation().last_event_id;
      if (!found) ++violations;
    }
  });
  for (int round = 0; round < 300 && violations == 0; ++round) {
    std::vector<std::promise<void>> ps(8);
    for (auto& p : ps) {
      engine_->Report(User("alice"), a, {Risk(0.1)},
                      [&p](Result<ReportOutcome>) { p.set_value(); });
    }
    for (auto& p : ps) p.get_future().get();
  }
  stop = true;
  reader.join();
  std::printf("checks %d, violations (snapshot v seen, its last event missing from memory) %d\n",
              checks.load(), violations.load());
  EXPECT_EQ(violations.load(), 0);
}

// With eviction, a slow cold load can install a snapshot older than one that was installed and
// then evicted meanwhile: the version check in InstallLoaded has nothing left to compare with.
TEST_F(RaceTest, ASlowLoadDoesNotInstallAStaleSnapshotAfterAnEviction) {
  EngineOptions options;
  options.hot_max = 1;
  Open(options);
  std::string a = Create();
  Await<ReportOutcome>([&](auto d) { engine_->Report(User("alice"), a, {Risk(0.1)}, d); });
  Open(options);  // cold

  Gate reader_has_read, release_reader;
  std::atomic<int> full_reads{0};
  store_->after_read = [&](const store::EventQuery& q) {
    if (q.limit != std::numeric_limits<size_t>::max()) return;
    if (full_reads.fetch_add(1) == 0) {
      reader_has_read.Open();
      release_reader.Wait();
    }
  };
  std::promise<Result<SnapshotPtr>> got;
  engine_->Get(User("alice"), a, [&](Result<SnapshotPtr> r) { got.set_value(r); });
  reader_has_read.Wait();  // the read pool holds a's log at version 2
  auto r3 =
      Await<ReportOutcome>([&](auto d) { engine_->Report(User("alice"), a, {Risk(0.3)}, d); });
  ASSERT_TRUE(r3);
  std::string v3_etag = r3->snapshot->etag();
  std::string b = Create();  // evicts a (hot_max 1)
  release_reader.Open();
  auto loaded = got.get_future().get();
  ASSERT_TRUE(loaded);
  SnapshotPtr cached = engine_->Cached(a);
  std::printf("store has %zu events; cached snapshot of a is version %lld\n", StoreCount(a),
              cached ? (long long)cached->version() : -1LL);
  auto r4 =
      Await<ReportOutcome>([&](auto d) { engine_->Report(User("alice"), a, {Risk(0.4)}, d); });
  ASSERT_TRUE(r4);
  std::printf(
      "after one more report: store has %zu events; snapshot version %lld, etag %s (v3 etag was "
      "%s)\n",
      StoreCount(a), (long long)r4->snapshot->version(), r4->snapshot->etag().c_str(),
      v3_etag.c_str());
  EXPECT_EQ(static_cast<int64_t>(StoreCount(a)), r4->snapshot->version());
}

}  // namespace
}  // namespace vigil::engine

namespace vigil::engine {
namespace {

// A write to an investigation not in memory folds its log on the read pool, not on the writer
// thread that every investigation's writes wait for.
TEST_F(RaceTest, AColdWriteIsLoadedOffTheWriterThread) {
  Open();
  std::string id = Create();
  Open();  // a new engine: nothing in memory
  std::mutex mu;
  std::thread::id writer, loader;
  store_->before_begin = [&] {
    std::lock_guard lock(mu);
    writer = std::this_thread::get_id();
  };
  store_->before_read = [&](const store::EventQuery& q) {
    std::lock_guard lock(mu);
    if (q.investigation_id == id && !q.raw_data) loader = std::this_thread::get_id();
  };
  auto r = Await<ReportOutcome>(
      [&](auto done) { engine_->Report(User("alice"), id, {Risk(0.4)}, done); });
  ASSERT_TRUE(r) << r.error().message;
  std::lock_guard lock(mu);
  EXPECT_NE(loader, std::thread::id());
  EXPECT_NE(writer, std::thread::id());
  EXPECT_NE(loader, writer);
  EXPECT_EQ(r->snapshot->version(), 2);
}

}  // namespace
}  // namespace vigil::engine

namespace vigil::engine {
namespace {

// A commit to an investigation that is not in memory, while a load of it that read the store
// before the commit is still on its way: the load must not install what it read, or every
// follower starting from that snapshot would miss the committed event for good.
TEST_F(RaceTest, ALoadThatReadBeforeACommitToAColdInvestigationDoesNotInstall) {
  EngineOptions options;
  options.hot_max = 1;
  Open(options);
  std::string a = Create();
  std::string b = Create();  // a is dropped from memory

  // The report's job runs with a in memory and is held just before its COMMIT.
  Gate at_commit, release_commit;
  std::atomic<int> commits{0};
  store_->before_commit = [&] {
    if (commits.fetch_add(1) == 0) {
      at_commit.Open();
      release_commit.Wait();
    }
  };
  std::promise<Result<ReportOutcome>> reported;
  engine_->Report(User("alice"), a, {Risk(0.7)},
                  [&](Result<ReportOutcome> r) { reported.set_value(std::move(r)); });
  ASSERT_TRUE(at_commit.WaitFor(10'000));
  // Meanwhile b is read back into memory, which drops a: the commit will find a cold.
  ASSERT_TRUE(Await<SnapshotPtr>([&](auto done) { engine_->Get(User("alice"), b, done); }));
  if (engine_->Cached(a) != nullptr) {
    release_commit.Open();
    FAIL() << "a is still in memory";
  }
  // And a reader loads a: it reads the store before the commit, and is held before installing.
  Gate reader_has_read, release_reader;
  std::atomic<bool> held{false};
  store_->after_read = [&](const store::EventQuery& q) {
    if (q.investigation_id != a || q.limit != std::numeric_limits<size_t>::max()) return;
    if (held.exchange(true)) return;
    reader_has_read.Open();
    release_reader.Wait();
  };
  std::promise<Result<SnapshotPtr>> loaded;
  engine_->Get(User("alice"), a, [&](Result<SnapshotPtr> r) { loaded.set_value(std::move(r)); });
  if (!reader_has_read.WaitFor(10'000)) {
    release_commit.Open();
    FAIL() << "the reader did not read the store";
  }

  release_commit.Open();
  auto r = reported.get_future().get();
  ASSERT_TRUE(r);
  release_reader.Open();
  ASSERT_TRUE(loaded.get_future().get());

  // What is in memory now, if anything, includes the report.
  if (SnapshotPtr cached = engine_->Cached(a)) {
    EXPECT_EQ(cached->version(), r->snapshot->version())
        << "a snapshot older than a committed event was installed";
  }
  auto now = Await<SnapshotPtr>([&](auto done) { engine_->Get(User("alice"), a, done); });
  ASSERT_TRUE(now);
  EXPECT_EQ((*now)->version(), r->snapshot->version());
}

}  // namespace
}  // namespace vigil::engine
