// The engine against a real SQLite store in a temporary directory.
#include "engine/engine.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include "core/input.hpp"
#include "engine/engine_test_util.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "support/result_matchers.hpp"

namespace vigil::engine {
namespace {

namespace json = boost::json;

using testing::Await;
using testing::Risk;
using testing::User;

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vigil-engine-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/vigil.db";
    ASSERT_TRUE(store::MigrateSqlite(path_));
    Open();
  }
  void TearDown() override {
    Close();
    std::filesystem::remove_all(dir_);
  }
  void Open(EngineOptions options = {}) {
    auto s = store::OpenSqliteStore({.path = path_});
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
    engine_ = std::make_unique<Engine>(*store_, clock_, options);
    engine_->AddCommitListener([this](const SnapshotPtr& s, std::span<const core::Event> events,
                                      std::span<const SharedEventPtr>) {
      std::lock_guard lock(mu_);
      for (const auto& e : events) published_.push_back({s->id(), e.id, s->version()});
    });
    engine_->Start();
  }
  void Close() {
    engine_.reset();
    store_.reset();
  }

  std::string Create(const core::Principal& who) {
    auto data = core::ParseCreateRequest(json::parse(R"({"name": "case"})"), {});
    EXPECT_TRUE(data);
    auto created = Await<SnapshotPtr>([&](auto done) { engine_->Create(who, *data, done); });
    EXPECT_TRUE(created) << created.error().message;
    return (*created)->id();
  }

  // alice's investigation with 30 reports after its creation (31 events), and its whole log.
  void CreateWithThirtyReports(std::string& id, std::vector<core::Event>& log) {
    id = Create(User("alice"));
    for (int i = 0; i < 30; ++i) {
      ASSERT_TRUE(Await<ReportOutcome>(
          [&](auto done) { engine_->Report(User("alice"), id, {Risk(0.5)}, done); }));
    }
    auto all = Await<std::vector<core::Event>>([&](auto done) {
      engine_->ReadEvents({id, {}, 100, {}}, done);
    });
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 31u);
    log = std::move(*all);
  }

  struct Published {
    std::string investigation;
    core::EventId id;
    int64_t version;
  };

  SystemClock clock_;
  std::string dir_, path_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Engine> engine_;
  std::mutex mu_;
  std::vector<Published> published_;
};

TEST_F(EngineTest, ConcurrentReportsAreAllAppendedWithIncreasingIds) {
  std::string id = Create(User("alice"));
  constexpr int kThreads = 8, kReports = 50;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kReports; ++i) {
        auto r = Await<ReportOutcome>([&](auto done) {
          engine_->Report(User("alice"), id, {Risk(0.1), Risk(0.2)}, done);
        });
        if (r && r->items.size() == 2) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kReports);
  SnapshotPtr s = engine_->Cached(id);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->version(), 1 + 2 * kThreads * kReports);
  // Fewer commits than jobs: concurrent reports were grouped.
  EXPECT_LT(engine_->stats().commits, engine_->stats().jobs);

  auto events = Await<std::vector<core::Event>>([&](auto done) {
    engine_->ReadEvents({id, {}, 100000, {}}, done);
  });
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), static_cast<size_t>(s->version()));
  for (size_t i = 1; i < events->size(); ++i) EXPECT_LT((*events)[i - 1].id, (*events)[i].id);

  // Published after commit, in log order, each exactly once.
  std::lock_guard lock(mu_);
  ASSERT_EQ(published_.size(), events->size());
  for (size_t i = 0; i < published_.size(); ++i) EXPECT_EQ(published_[i].id, (*events)[i].id);
}

// Execute against an expected version: the check and the write are one step on the writer, so
// of writers that read the same version, exactly one wins, and the others are told where it is.
TEST_F(EngineTest, AnExpectedVersionIsCheckedWhereTheWriteHappens) {
  std::string id = Create(User("alice"));
  const int64_t v = engine_->Cached(id)->version();
  constexpr int kWriters = 8;
  std::vector<std::thread> threads;
  std::atomic<int> won{0}, stale{0};
  for (int t = 0; t < kWriters; ++t) {
    threads.emplace_back([&, t] {
      auto r = Await<CommandOutcome>([&](auto done) {
        engine_->Execute(User("alice"), id, core::ReportCommand{{Risk(0.1 * (t + 1))}}, v, done);
      });
      if (r) {
        ++won;
      } else if (r.error().code == ErrorCode::kStaleVersion) {
        ++stale;
        EXPECT_EQ(r.error().extra.at("submitted_version").as_int64(), v);
        EXPECT_EQ(r.error().extra.at("current_version").as_int64(), v + 1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(stale.load(), kWriters - 1);
  EXPECT_EQ(engine_->Cached(id)->version(), v + 1);
  // Without an expected version, the same command goes through.
  auto free = Await<CommandOutcome>([&](auto done) {
    engine_->Execute(User("alice"), id, core::ReportCommand{{Risk(0.5)}}, std::nullopt, done);
  });
  ASSERT_TRUE(free) << free.error().message;
  EXPECT_EQ(free->snapshot->version(), v + 2);
  // Someone else gets not-found, whatever the version.
  auto other = Await<CommandOutcome>([&](auto done) {
    engine_->Execute(User("bob"), id, core::ReportCommand{{Risk(0.5)}}, v + 2, done);
  });
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, ErrorCode::kNotFound);
}

TEST_F(EngineTest, AFailingJobDoesNotTakeItsGroupWithIt) {
  std::string id = Create(User("alice"));
  for (core::State s : {core::State::kQueued, core::State::kInitializing}) {
    ASSERT_TRUE(Await<SnapshotPtr>([&](auto done) {
      engine_->Transition(User("alice"), id, {s, "test"}, done);
    }));
  }
  core::EventInput bad;
  bad.type = core::EventType::kToolStarted;
  bad.data = {{"tool_execution_id", "missing"}};
  std::vector<std::future<bool>> results;
  for (int i = 0; i < 20; ++i) {
    results.push_back(std::async(std::launch::async, [&, i] {
      auto r = Await<ReportOutcome>([&](auto done) {
        engine_->Report(User("alice"), id,
                        i % 2 ? std::vector<core::EventInput>{Risk(0.3), bad}
                              : std::vector<core::EventInput>{Risk(0.3)},
                        done);
      });
      if (i % 2) {
        EXPECT_FALSE(r);
        EXPECT_EQ(r.error().code, ErrorCode::kConflict);
        EXPECT_EQ(r.error().field, "events[1].data.tool_execution_id");
      }
      return r.has_value();
    }));
  }
  int ok = 0;
  for (auto& f : results) ok += f.get();
  EXPECT_EQ(ok, 10);
  EXPECT_EQ(engine_->Cached(id)->version(), 13);  // created, 2 transitions, 10 good reports
}

TEST_F(EngineTest, OthersSeeNotFoundAndCannotWrite) {
  std::string id = Create(User("alice"));
  auto read = Await<SnapshotPtr>([&](auto done) { engine_->Get(User("bob"), id, done); });
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code, ErrorCode::kNotFound);
  auto write =
      Await<ReportOutcome>([&](auto done) { engine_->Report(User("bob"), id, {Risk(0.5)}, done); });
  ASSERT_FALSE(write);
  EXPECT_EQ(write.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(engine_->Cached(id)->version(), 1);
}

TEST_F(EngineTest, ASnapshotRebuiltFromTheLogIsIdentical) {
  std::string id = Create(User("alice"));
  auto moved = Await<SnapshotPtr>([&](auto done) {
    engine_->Transition(User("alice"), id, {core::State::kQueued, "go"}, done);
  });
  ASSERT_TRUE(moved);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(Await<ReportOutcome>([&](auto done) {
      engine_->Report(User("alice"), id, {Risk(i / 20.0, "k" + std::to_string(i))}, done);
    }));
  }
  std::string before = engine_->Cached(id)->progress_json();
  Close();
  Open();
  EXPECT_EQ(engine_->Cached(id), nullptr);
  auto loaded = Await<SnapshotPtr>([&](auto done) { engine_->Get(User("alice"), id, done); });
  ASSERT_TRUE(loaded);
  EXPECT_EQ((*loaded)->progress_json(), before);
  EXPECT_EQ(engine_->stats().loads, 1u);
  // Keys are remembered across restarts.
  auto again = Await<ReportOutcome>(
      [&](auto done) { engine_->Report(User("alice"), id, {Risk(0.9, "k3")}, done); });
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->items[0].duplicate);
  EXPECT_EQ((*loaded)->version(), engine_->Cached(id)->version());
}

TEST_F(EngineTest, RetryStartsANewRun) {
  std::string id = Create(User("alice"));
  std::string first_run = engine_->Cached(id)->investigation().run_id;
  for (core::State s : {core::State::kFailed, core::State::kRetrying}) {
    ASSERT_TRUE(Await<SnapshotPtr>([&](auto done) {
      engine_->Transition(User("alice"), id, {s, "test"}, done);
    }));
  }
  SnapshotPtr s = engine_->Cached(id);
  EXPECT_NE(s->investigation().run_id, first_run);
  EXPECT_EQ(s->state(), core::State::kRetrying);
}

}  // namespace
}  // namespace vigil::engine

namespace vigil::engine {
namespace {

// A log longer than the in-memory tail, loaded cold: pages from the start come from the store,
// pages inside the tail from memory, and together they are the whole log.
TEST_F(EngineTest, ALoadedTailKnowsWhatItDoesNotHold) {
  std::string id;
  std::vector<core::Event> all;
  ASSERT_NO_FATAL_FAILURE(CreateWithThirtyReports(id, all));
  Close();
  EngineOptions options;
  options.recent_events = 10;
  Open(options);
  ASSERT_TRUE(Await<SnapshotPtr>([&](auto done) { engine_->Get(User("alice"), id, done); }));
  auto log = engine_->Recent(id);
  ASSERT_TRUE(log);
  EXPECT_EQ(log->size(), 10u);
  bool more = false;
  EXPECT_FALSE(log->Read({}, 100, {}, &more).has_value());  // the start is only in the store
  auto tail = log->Read(all[20].id, 100, {}, &more);
  ASSERT_TRUE(tail.has_value());
  ASSERT_EQ(tail->size(), 10u);
  for (size_t i = 0; i < 10; ++i) {
    EXPECT_EQ((*tail)[i]->id(), all[21 + i].id);
    EXPECT_EQ((*tail)[i]->wire(), all[21 + i].wire);
  }
}

// What /events asks of an old cursor: is it an event of this log? Answered from memory when the
// recent events reach back far enough, from the store otherwise, with the same answers.
TEST_F(EngineTest, HasEventTellsEventsOfTheLogFromOtherPositions) {
  std::string id;
  std::vector<core::Event> all;
  ASSERT_NO_FATAL_FAILURE(CreateWithThirtyReports(id, all));
  auto has = [&](core::EventId event) {
    auto r = Await<bool>([&](auto done) { engine_->HasEvent(User("alice"), id, event, done); });
    EXPECT_TRUE(r) << r.error().message;
    return r.value_or(false);
  };
  auto check_all = [&](const char* where) {
    for (const core::Event& e : all)
      EXPECT_TRUE(has(e.id)) << where << " " << core::FormatEventId(e.id);
    const core::EventId first = all.front().id, last = all.back().id;
    EXPECT_FALSE(has(core::EventIdBefore(first))) << where;
    EXPECT_FALSE(has({first.ts_ms - 86'400'000, 0})) << where;
    EXPECT_FALSE(has({last.ts_ms, last.seq + 1})) << where;
    EXPECT_FALSE(has({last.ts_ms + 1, 0})) << where;
    EXPECT_FALSE(has({1, 0})) << where;
  };
  check_all("in memory");
  // Again with only the newest 10 events in memory: the older ones are looked up in the store.
  Close();
  EngineOptions options;
  options.recent_events = 10;
  Open(options);
  ASSERT_TRUE(Await<SnapshotPtr>([&](auto done) { engine_->Get(User("alice"), id, done); }));
  check_all("mostly in the store");
}

// The one reader of "events after X": pages of 7 cover the whole log in order, whether a page
// comes from memory or from the store, with the type filter and `more` alike; an investigation
// the principal may not see is not found, hot or cold.
TEST_F(EngineTest, ReadLogPagesTheLogFromMemoryAndStoreAlike) {
  std::string id;
  std::vector<core::Event> all;
  ASSERT_NO_FATAL_FAILURE(CreateWithThirtyReports(id, all));
  auto read_all = [&](std::vector<core::EventType> types) {
    std::vector<SharedEventPtr> got;
    core::EventId after;
    for (int pages = 0; pages < 20; ++pages) {
      auto page = Await<EventPage>([&](auto done) {
        engine_->ReadLog(User("alice"), {id, after, 7, types}, done);
      });
      EXPECT_TRUE(page) << page.error().message;
      if (!page) break;
      got.insert(got.end(), page->events.begin(), page->events.end());
      if (!page->events.empty()) after = page->events.back()->id();
      if (!page->more) break;
      EXPECT_EQ(page->events.size(), 7u) << "a page short of the limit says there is no more";
    }
    return got;
  };
  auto check = [&](const char* where) {
    std::vector<SharedEventPtr> got = read_all({});
    ASSERT_EQ(got.size(), all.size()) << where;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i]->id(), all[i].id) << where;
      EXPECT_EQ(got[i]->wire(), all[i].wire) << where;
    }
    std::vector<SharedEventPtr> risks = read_all({core::EventType::kRiskUpdated});
    EXPECT_EQ(risks.size(), 30u) << where;
    for (const auto& e : risks) EXPECT_EQ(e->type(), core::EventType::kRiskUpdated) << where;
    auto other = Await<EventPage>([&](auto done) {
      engine_->ReadLog(User("mallory"), {id, {}, 7, {}}, done);
    });
    EXPECT_TRUE(vigil::test::FailsWith(other, ErrorCode::kNotFound)) << where;
  };
  check("in memory");
  Close();
  EngineOptions options;
  options.recent_events = 10;
  Open(options);
  auto cold = Await<EventPage>([&](auto done) {
    engine_->ReadLog(User("mallory"), {id, {}, 7, {}}, done);
  });
  EXPECT_TRUE(vigil::test::FailsWith(cold, ErrorCode::kNotFound)) << "not in memory";
  check("cold, then mostly in the store");
}

}  // namespace
}  // namespace vigil::engine

namespace vigil::engine {
namespace {

TEST_F(EngineTest, TheLeastRecentlyUsedInvestigationsLeaveMemoryAndComeBackIntact) {
  Close();
  EngineOptions options;
  options.hot_max = 2;
  Open(options);
  std::string a = Create(User("alice"));
  std::string progress_a = engine_->Cached(a)->progress_json();
  std::string b = Create(User("alice"));
  ASSERT_NE(engine_->Cached(b), nullptr);  // b is now the most recently used
  std::string c = Create(User("alice"));
  EXPECT_EQ(engine_->Cached(a), nullptr);  // a was the least recently used
  EXPECT_NE(engine_->Cached(c), nullptr);
  EXPECT_GE(engine_->stats().evictions, 1u);
  auto again = Await<SnapshotPtr>([&](auto done) { engine_->Get(User("alice"), a, done); });
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)->progress_json(), progress_a);
  // And it can be written to after coming back.
  EXPECT_TRUE(Await<ReportOutcome>(
      [&](auto done) { engine_->Report(User("alice"), a, {Risk(0.3)}, done); }));
}

}  // namespace
}  // namespace vigil::engine

namespace vigil::engine {
namespace {

// Another writer on the same database (another node, later) moved an investigation on: this
// engine's copy is stale. Its next write is not applied over the newer state: the copy is dropped
// and the job runs again on the investigation as stored, so the client sees no error. A command
// made against the version the stale copy had is refused all the same: it is not current.
TEST_F(EngineTest, AWriteFromAStaleCopyRunsAgainOnTheStoredOne) {
  std::string id = Create(User("alice"));
  ASSERT_NE(engine_->Cached(id), nullptr);  // this engine holds version 1
  {
    auto other_store = store::OpenSqliteStore({.path = path_});
    ASSERT_TRUE(other_store);
    Engine other(**other_store, clock_);
    other.Start();
    ASSERT_TRUE(Await<ReportOutcome>(
        [&](auto done) { other.Report(User("alice"), id, {Risk(0.2)}, done); }));
  }  // the store now holds version 2
  auto retried = Await<ReportOutcome>(
      [&](auto done) { engine_->Report(User("alice"), id, {Risk(0.3)}, done); });
  ASSERT_TRUE(retried) << retried.error().message;
  EXPECT_EQ(retried->snapshot->version(), 3);
  {
    // What the other writer committed was published here too, before this engine's own event.
    std::lock_guard lock(mu_);
    ASSERT_EQ(published_.size(), 3u);
    EXPECT_EQ(published_[1].version, 2);
    EXPECT_EQ(published_[2].version, 3);
  }
  auto events = Await<std::vector<core::Event>>([&](auto done) {
    engine_->ReadEvents({id, {}, 100, {}}, done);
  });
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[1].data.at("overall").as_double(), 0.2);
  EXPECT_EQ((*events)[2].data.at("overall").as_double(), 0.3);
  for (size_t i = 1; i < events->size(); ++i) EXPECT_LT((*events)[i - 1].id, (*events)[i].id);

  {
    auto other_store = store::OpenSqliteStore({.path = path_});
    ASSERT_TRUE(other_store);
    Engine other(**other_store, clock_);
    other.Start();
    ASSERT_TRUE(Await<ReportOutcome>(
        [&](auto done) { other.Report(User("alice"), id, {Risk(0.4)}, done); }));
  }  // the store holds version 4; this engine's copy says 3
  auto expected = Await<CommandOutcome>([&](auto done) {
    engine_->Execute(User("alice"), id, core::ReportCommand{{Risk(0.5)}}, 3, done);
  });
  ASSERT_FALSE(expected);
  EXPECT_EQ(expected.error().code, ErrorCode::kStaleVersion);
  EXPECT_EQ(expected.error().extra.at("current_version").as_int64(), 4);
}

// The writer takes jobs for other aggregates than an investigation's log: what such a job
// writes is durable with its group and answered with its value; one that fails is rolled back
// alone, and the investigation writes beside it go on.
TEST_F(EngineTest, AWriteOfAnotherAggregateCommitsWithItsGroupAndFailsAlone) {
  std::string id = Create(User("alice"));
  auto row_named = [](std::string name) {
    store::InvestigationRow row;
    row.id = name;
    row.owner = "tools";
    row.name = name;
    row.version = 1;
    row.snapshot_json = "{}";
    return row;
  };
  std::vector<std::future<Result<std::string>>> writes;
  std::vector<std::future<Result<ReportOutcome>>> reports;
  for (int i = 0; i < 20; ++i) {
    auto promise = std::make_shared<std::promise<Result<std::string>>>();
    writes.push_back(promise->get_future());
    engine_->Write<std::string>(
        [i, row_named](store::WriteTransaction& txn) -> Result<std::string> {
          const std::string name = "other_" + std::to_string(i);
          if (auto r = txn.InsertInvestigation(row_named(name)); !r) return Fail(r.error());
          // Every other one fails after it wrote: what it wrote must not stay.
          if (i % 2) return Fail(ErrorCode::kConflict, "refused after writing");
          return name;
        },
        [promise](Result<std::string> r) { promise->set_value(std::move(r)); });
    auto reported = std::make_shared<std::promise<Result<ReportOutcome>>>();
    reports.push_back(reported->get_future());
    engine_->Report(User("alice"), id, {Risk(0.5)},
                    [reported](Result<ReportOutcome> r) { reported->set_value(std::move(r)); });
  }
  for (int i = 0; i < 20; ++i) {
    Result<std::string> r = writes[i].get();
    const std::string name = "other_" + std::to_string(i);
    auto stored = store_->GetInvestigation(name);
    ASSERT_TRUE(stored);
    if (i % 2) {
      EXPECT_TRUE(vigil::test::FailsWith(r, ErrorCode::kConflict));
      EXPECT_FALSE(stored->has_value()) << name << " was rolled back with its job alone";
    } else {
      ASSERT_TRUE(r) << r.error().message;
      EXPECT_EQ(*r, name) << "the job's value reaches its caller";
      EXPECT_TRUE(stored->has_value()) << name << " is durable";
    }
    EXPECT_TRUE(vigil::test::IsOk(reports[i].get())) << "the investigation's writes go on";
  }
  EXPECT_EQ(engine_->Cached(id)->version(), 21);
  EXPECT_TRUE(vigil::test::IsOk(Await<void>([&](auto done) {
    engine_->Write<void>([](store::WriteTransaction&) -> Result<void> { return {}; }, done);
  }))) << "a job with no value";
}

}  // namespace
}  // namespace vigil::engine

namespace vigil::engine {
namespace {

// Another node committed to an investigation this engine holds in memory: told of the head it
// reached, the engine reads what it lacks and publishes it as if it had committed it, in order;
// a head it is not behind, or an investigation it does not hold, changes nothing.
TEST_F(EngineTest, CatchUpFeedsAnotherWritersEventsThroughThePublishPath) {
  std::string id = Create(User("alice"));
  std::string cold;
  {
    auto other_store = store::OpenSqliteStore({.path = path_});
    ASSERT_TRUE(other_store);
    Engine other(**other_store, clock_);
    other.Start();
    for (double risk : {0.2, 0.3, 0.4}) {
      ASSERT_TRUE(Await<ReportOutcome>(
          [&](auto done) { other.Report(User("alice"), id, {Risk(risk)}, done); }));
    }
    auto data = core::ParseCreateRequest(json::parse(R"({"name": "elsewhere"})"), {});
    ASSERT_TRUE(data);
    auto made = Await<SnapshotPtr>([&](auto done) { other.Create(User("alice"), *data, done); });
    ASSERT_TRUE(made);
    cold = (*made)->id();
  }
  ASSERT_EQ(engine_->Cached(id)->version(), 1);
  engine_->CatchUp({{id, 3}, {cold, 1}, {"inv-unknown", 9}});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (engine_->Cached(id)->version() < 4 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  // Everything stored after the copy, not only up to the hinted head.
  ASSERT_EQ(engine_->Cached(id)->version(), 4);
  EXPECT_EQ(engine_->Cached(cold), nullptr);
  {
    std::lock_guard lock(mu_);
    // The three events read together are published together, with the snapshot they lead to.
    ASSERT_EQ(published_.size(), 4u);
    for (size_t i = 1; i < published_.size(); ++i) {
      EXPECT_EQ(published_[i].version, 4);
      EXPECT_LT(published_[i - 1].id, published_[i].id);
    }
  }
  auto recent = engine_->Recent(id);
  ASSERT_NE(recent, nullptr);
  bool more = false;
  auto tail = recent->Read({}, 100, {}, &more);
  ASSERT_TRUE(tail.has_value());
  EXPECT_EQ(tail->size(), 4u);
  EXPECT_EQ(engine_->stats().caught_up, 3u);
  // Not behind: nothing more is published.
  engine_->CatchUp({{id, 4}, {id, 2}});
  auto heads = engine_->HotHeads();
  ASSERT_EQ(heads.size(), 1u);
  EXPECT_EQ(heads[0], (store::InvestigationHead{id, 4}));
  ASSERT_TRUE(Await<ReportOutcome>(
      [&](auto done) { engine_->Report(User("alice"), id, {Risk(0.5)}, done); }));
  std::lock_guard lock(mu_);
  EXPECT_EQ(published_.size(), 5u);
}

}  // namespace
}  // namespace vigil::engine

namespace vigil::engine {
namespace {

// A store whose writes can be made to fail as an unreachable database's do (kUnavailable).
class SwitchableStore final : public store::Store {
 public:
  explicit SwitchableStore(store::Store& inner) : inner_(inner) {}
  std::atomic<bool> down{false};
  std::atomic<bool> reads_down{false};
  std::atomic<int> begun{0};

  Result<std::unique_ptr<store::WriteTransaction>> BeginWrite() override {
    ++begun;
    if (down) return Fail(ErrorCode::kUnavailable, "the database cannot be reached");
    return inner_.BeginWrite();
  }
  Result<std::optional<store::InvestigationRow>> GetInvestigation(const std::string& id) override {
    return inner_.GetInvestigation(id);
  }
  Result<std::vector<store::InvestigationRow>> ListInvestigations(
      const store::InvestigationQuery& query) override {
    return inner_.ListInvestigations(query);
  }
  Result<std::vector<core::Event>> ReadEvents(const store::EventQuery& query) override {
    if (reads_down) return Fail(ErrorCode::kUnavailable, "the database cannot be reached");
    return inner_.ReadEvents(query);
  }
  Result<std::vector<store::InvestigationHead>> ReadHeads(
      std::span<const std::string> ids) override {
    return inner_.ReadHeads(ids);
  }
  Result<std::optional<store::SessionRow>> GetSession(store::SessionKind kind,
                                                      const std::string& id) override {
    return inner_.GetSession(kind, id);
  }

 private:
  store::Store& inner_;
};

// Whether the node can write: a fresh outcome of the writer's answers from memory, an old one is
// checked by an empty transaction, and a failed write is reported until one succeeds.
TEST_F(EngineTest, CheckWritableAnswersFromTheLastWriteOrChecksTheStore) {
  Close();
  auto opened = store::OpenSqliteStore({.path = path_});
  ASSERT_TRUE(opened);
  auto inner = std::move(*opened);
  SwitchableStore store(*inner);
  ManualClock clock(1'000'000);
  Engine engine(store, clock);
  engine.Start();
  auto writable = [&](std::chrono::milliseconds fresh) {
    return Await<void>([&](auto done) { engine.CheckWritable(fresh, done); });
  };

  // Nothing written yet: an empty transaction answers.
  EXPECT_TRUE(vigil::test::IsOk(writable(std::chrono::milliseconds(1000))));
  EXPECT_EQ(store.begun.load(), 1);
  // Fresh: from memory, the store is not asked.
  EXPECT_TRUE(vigil::test::IsOk(writable(std::chrono::milliseconds(1000))));
  EXPECT_EQ(store.begun.load(), 1);

  // The database goes away: a write fails, and so does every check while that is fresh.
  store.down = true;
  auto data = core::ParseCreateRequest(json::parse(R"({"name": "case"})"), {});
  ASSERT_TRUE(data);
  auto created = Await<SnapshotPtr>([&](auto done) { engine.Create(User("alice"), *data, done); });
  EXPECT_TRUE(vigil::test::FailsWith(created, ErrorCode::kUnavailable));
  const int after_failure = store.begun.load();
  EXPECT_TRUE(
      vigil::test::FailsWith(writable(std::chrono::milliseconds(1000)), ErrorCode::kUnavailable));
  EXPECT_EQ(store.begun.load(), after_failure) << "a fresh failure answers from memory";

  // Back: once the failure is old, the check asks the store again and finds it writable.
  store.down = false;
  clock.Advance(1001);
  EXPECT_TRUE(vigil::test::IsOk(writable(std::chrono::milliseconds(1000))));
  EXPECT_EQ(store.begun.load(), after_failure + 1);
  engine.Stop();
}

// Told that another node committed while the store cannot be read (an outage), the engine keeps
// its copy, behind but whole, so that reads and streams of it go on; once the store answers, the
// next catch-up brings it level.
TEST_F(EngineTest, ACatchUpDuringAnOutageKeepsTheCopyInMemory) {
  Close();
  auto opened = store::OpenSqliteStore({.path = path_});
  ASSERT_TRUE(opened);
  auto inner = std::move(*opened);
  SwitchableStore store(*inner);
  SystemClock clock;
  Engine engine(store, clock);
  engine.Start();
  auto data = core::ParseCreateRequest(json::parse(R"({"name": "case"})"), {});
  ASSERT_TRUE(data);
  auto created = Await<SnapshotPtr>([&](auto done) { engine.Create(User("alice"), *data, done); });
  ASSERT_TRUE(created);
  const std::string id = (*created)->id();
  // Another node's report, written to the store behind this engine's back.
  {
    auto other = store::OpenSqliteStore({.path = path_});
    ASSERT_TRUE(other);
    Engine writer(**other, clock);
    writer.Start();
    ASSERT_TRUE(Await<ReportOutcome>(
        [&](auto done) { writer.Report(User("alice"), id, {Risk(0.5)}, done); }));
    writer.Stop();
  }
  // The writer handles catch-ups before the next group: a no-op write waits for it.
  auto caught_up = [&] {
    engine.CatchUp({{id, 2}});
    ASSERT_TRUE(vigil::test::IsOk(Await<void>([&](auto done) {
      engine.Write<void>([](store::WriteTransaction&) -> Result<void> { return {}; }, done);
    })));
  };
  store.reads_down = true;
  caught_up();
  ASSERT_NE(engine.Cached(id), nullptr) << "kept through the outage";
  EXPECT_EQ(engine.Cached(id)->version(), 1);
  store.reads_down = false;
  caught_up();
  ASSERT_NE(engine.Cached(id), nullptr);
  EXPECT_EQ(engine.Cached(id)->version(), 2) << "brought level once the store answers";
  engine.Stop();
}

}  // namespace
}  // namespace vigil::engine
