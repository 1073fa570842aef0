// The follower over a real engine and SQLite store, with the clock in the test's hands and no
// transport: the test drives it as a connection does (Poll; when it has nothing, wait for its wake)
// and checks the items it hands out — the promise of live/follower.hpp, no gap and no duplicate
// between the snapshot or the replay and what goes live. Also: resume ids against a log older
// than the cursor expiry.
#include "live/follower.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <mutex>
#include <ostream>
#include <thread>

#include "core/input.hpp"
#include "engine/await.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "support/result_matchers.hpp"

// Found by argument-dependent lookup, so that gtest prints ids as they are written.
namespace vigil::core {
inline void PrintTo(const EventId& id, std::ostream* os) { *os << FormatEventId(id); }
}  // namespace vigil::core

namespace vigil::live {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using Kind = FollowItem::Kind;
using vigil::test::IsOk;

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kLongAgo = 1'700'000'000'000;  // 2023-11-14

core::Principal Alice() {
  core::Principal p;
  p.subject = "alice";
  p.can_read = p.can_write = true;
  return p;
}

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kSnapshot:
      return "snapshot";
    case Kind::kEvent:
      return "event";
    case Kind::kCaughtUp:
      return "caught_up";
    case Kind::kProgress:
      return "progress";
    case Kind::kReset:
      return "reset";
    case Kind::kEnd:
      return "end";
    case Kind::kCut:
      return "cut";
    case Kind::kError:
      return "error";
  }
  return "?";
}

// "snapshot event×3 caught_up progress": the kinds in order, runs of events counted, so that a
// failed expectation shows the whole sequence.
std::string Shape(const std::vector<FollowItem>& items) {
  std::string out;
  for (size_t i = 0; i < items.size();) {
    size_t j = i;
    while (j < items.size() && items[j].kind == items[i].kind) ++j;
    if (!out.empty()) out += ' ';
    out += KindName(items[i].kind);
    if (items[i].kind == Kind::kEvent && j - i > 1) {
      out += "×" + std::to_string(j - i);
    } else {
      j = i + 1;
    }
    i = j;
  }
  return out;
}

std::vector<core::EventId> EventIds(const std::vector<FollowItem>& items) {
  std::vector<core::EventId> out;
  for (const FollowItem& item : items) {
    if (item.kind == Kind::kEvent) out.push_back(item.event->id());
  }
  return out;
}

const FollowItem* Find(const std::vector<FollowItem>& items, Kind kind) {
  for (const FollowItem& item : items) {
    if (item.kind == kind) return &item;
  }
  return nullptr;
}

bool StrictlyIncreasing(const std::vector<core::EventId>& ids) {
  return std::adjacent_find(ids.begin(), ids.end(),
                            [](core::EventId a, core::EventId b) { return !(a < b); }) == ids.end();
}

// Events only, read a few at a time: the replay's pages are small enough to interleave with
// commits.
FollowOptions Quiet(size_t replay_page = 3) {
  FollowOptions o;
  o.progress = false;
  o.replay_page = replay_page;
  return o;
}

// One follower, driven on the test's thread as a connection's coroutine drives it.
class Driven {
 public:
  Driven(engine::Engine& engine, Hub& hub, const Clock& clock, std::string id,
         std::optional<std::string> after, FollowOptions options, std::string run_id = "")
      : wake_(std::make_shared<Wake>()) {
    // The wake state is shared with the wake callback, which a read-pool thread may still be
    // running when this is destroyed.
    follower_ =
        std::make_shared<Follower>(engine, hub, clock, Alice(), std::move(id), std::move(run_id),
                                   std::move(after), options, [wake = wake_] {
                                     std::lock_guard lock(wake->mu);
                                     wake->woken = true;
                                     wake->cv.notify_all();
                                   });
    follower_->Start();
  }
  ~Driven() { follower_->Stop(); }

  // Polls, waiting for the follower's wake (or the time its Poll asks to be called again) when
  // it has nothing ready, until `enough(items)` holds after a Poll; false if it does not within
  // 20 s or the follower ends first. `enough` may act (commit) between polls.
  bool Until(const std::function<bool(const std::vector<FollowItem>&)>& enough) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    for (;;) {
      {
        std::lock_guard lock(wake_->mu);
        wake_->woken = false;
      }
      SteadyTime next = follower_->Poll(std::chrono::steady_clock::now(), items);
      if (enough(items)) return true;
      if (follower_->done()) return false;
      if (follower_->has_more()) continue;
      std::unique_lock lock(wake_->mu);
      wake_->cv.wait_until(lock, std::min(deadline, next), [&] { return wake_->woken; });
      if (!wake_->woken && std::chrono::steady_clock::now() >= deadline) return false;
    }
  }
  // Until an item of `kind` is handed out.
  bool UntilKind(Kind kind) {
    return Until(
        [kind](const std::vector<FollowItem>& items) { return Find(items, kind) != nullptr; });
  }
  // Until the event `id` is handed out.
  bool UntilEvent(core::EventId id) {
    return Until([id](const std::vector<FollowItem>& items) {
      std::vector<core::EventId> ids = EventIds(items);
      return std::find(ids.begin(), ids.end(), id) != ids.end();
    });
  }
  // One Poll at `now`, without waiting: what is ready.
  SteadyTime PollAt(SteadyTime now) { return follower_->Poll(now, items); }

  Follower& follower() { return *follower_; }

  std::vector<FollowItem> items;

 private:
  struct Wake {
    std::mutex mu;
    std::condition_variable cv;
    bool woken = false;
  };
  std::shared_ptr<Wake> wake_;
  std::shared_ptr<Follower> follower_;
};

class FollowerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vigil-follower-XXXXXX";
    dir_ = mkdtemp(tmpl);
    ASSERT_TRUE(IsOk(store::MigrateSqlite(dir_ + "/vigil.db")));
    auto s = store::OpenSqliteStore({.path = dir_ + "/vigil.db"});
    ASSERT_TRUE(IsOk(s));
    store_ = std::move(*s);
    hub_ = std::make_unique<Hub>(hub_options_);
    engine::EngineOptions options;
    options.recent_events = 4;  // a replay from an old position reads the store
    engine_ = std::make_unique<engine::Engine>(*store_, clock_, options);
    hub_->Attach(*engine_);
    engine_->Start();
  }
  void TearDown() override {
    engine_.reset();
    hub_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A new investigation, created at the clock's time; returns its id.
  std::string Create(const std::string& name = "case") {
    auto data = core::ParseCreateRequest(json::value(json::object{{"name", name}}), {});
    EXPECT_TRUE(IsOk(data));
    auto created = engine::Await<engine::SnapshotPtr>(
        [&](auto done) { engine_->Create(Alice(), *data, done); });
    EXPECT_TRUE(IsOk(created));
    return created ? (*created)->id() : "";
  }

  // Appends `n` risk_updated events to `id`, one commit each; returns their ids. Each is
  // published to the hub before this returns (the engine tells its listeners first).
  std::vector<core::EventId> Append(const std::string& id, int n) {
    std::vector<core::EventId> ids;
    for (int i = 0; i < n; ++i) {
      std::vector<core::EventId> one = AppendBatch(id, 1);
      ids.insert(ids.end(), one.begin(), one.end());
    }
    return ids;
  }
  // Appends `n` risk_updated events to `id` in one commit; returns their ids.
  std::vector<core::EventId> AppendBatch(const std::string& id, int n) {
    std::vector<core::EventInput> batch;
    for (int i = 0; i < n; ++i) {
      core::EventInput risk;
      risk.type = core::EventType::kRiskUpdated;
      risk.data = {{"overall", 0.5}};
      batch.push_back(std::move(risk));
    }
    auto r = engine::Await<engine::ReportOutcome>(
        [&](auto done) { engine_->Report(Alice(), id, std::move(batch), done); });
    EXPECT_TRUE(IsOk(r));
    std::vector<core::EventId> ids;
    if (r) {
      for (const auto& item : r->items) ids.push_back(item.event_id);
    }
    return ids;
  }

  Result<engine::SnapshotPtr> Move(const std::string& id, core::State to) {
    return engine::Await<engine::SnapshotPtr>([&](auto done) {
      engine_->Transition(Alice(), id, {to, "test"}, done);
    });
  }

  // The whole log of `id`, as the store has it.
  std::vector<core::EventId> LogIds(const std::string& id) {
    auto events = engine::Await<std::vector<core::Event>>([&](auto done) {
      engine_->ReadEvents(store::EventQuery{id, {}, 1'000'000, {}, true}, done);
    });
    EXPECT_TRUE(IsOk(events));
    std::vector<core::EventId> ids;
    if (events) {
      for (const core::Event& e : *events) ids.push_back(e.id);
    }
    return ids;
  }

  engine::SnapshotPtr Now(const std::string& id) {
    auto s =
        engine::Await<engine::SnapshotPtr>([&](auto done) { engine_->Get(Alice(), id, done); });
    EXPECT_TRUE(IsOk(s));
    return s ? *s : nullptr;
  }

  std::unique_ptr<Driven> Follow(const std::string& id, std::optional<std::string> after,
                                 FollowOptions options = Quiet(), std::string run_id = "") {
    return std::make_unique<Driven>(*engine_, *hub_, clock_, id, std::move(after), options,
                                    std::move(run_id));
  }

  // An investigation with `n` events after its creation, all written at kLongAgo; returns the
  // ids of its whole log.
  std::vector<core::EventId> OldLog(std::string* id, int n) {
    clock_.Set(kLongAgo);
    *id = Create("old case");
    std::vector<core::EventId> ids = LogIds(*id);
    for (int i = 0; i < n; ++i) {
      std::vector<core::EventId> one = Append(*id, 1);
      ids.insert(ids.end(), one.begin(), one.end());
      clock_.Advance(1);
    }
    // Forty days later, with a 30-day expiry.
    clock_.Set(kLongAgo + 40 * kDayMs);
    return ids;
  }

  // Follows `id` from `after` until `until` is handed out (or a reset or an error); returns the
  // items.
  std::vector<FollowItem> FollowUntil(const std::string& id, std::string after, Kind until) {
    std::unique_ptr<Driven> d = Follow(id, std::move(after), FollowOptions{});
    bool got = d->Until([until](const std::vector<FollowItem>& items) {
      return Find(items, until) || Find(items, Kind::kReset) || Find(items, Kind::kError);
    });
    EXPECT_TRUE(got) << "nothing more from the follower; so far: " << Shape(d->items);
    return d->items;
  }

  ManualClock clock_{kLongAgo};
  std::string dir_;
  std::unique_ptr<store::Store> store_;
  HubOptions hub_options_;  // a fixture may change it in its constructor
  std::unique_ptr<Hub> hub_;
  std::unique_ptr<engine::Engine> engine_;
};

// (a) A fresh follower starts at the snapshot, then gets every later commit once, as it comes.
TEST_F(FollowerTest, AFreshStartIsTheSnapshotThenEachLiveEventOnce) {
  std::string id = Create();
  std::vector<core::EventId> before = Append(id, 3);
  engine::SnapshotPtr at_start = Now(id);

  std::unique_ptr<Driven> d = Follow(id, std::nullopt);
  ASSERT_TRUE(d->UntilKind(Kind::kSnapshot)) << Shape(d->items);
  ASSERT_EQ(Shape(d->items), "snapshot");
  EXPECT_EQ(d->items[0].snapshot->version(), at_start->version());
  EXPECT_EQ(d->items[0].last_event_id, before.back()) << "the snapshot's head";

  std::vector<core::EventId> live = AppendBatch(id, 3);  // one commit of three
  std::vector<core::EventId> more = Append(id, 2);       // and two of one
  live.insert(live.end(), more.begin(), more.end());
  ASSERT_TRUE(d->UntilEvent(live.back())) << Shape(d->items);
  d->PollAt(std::chrono::steady_clock::now());  // anything left would show as a duplicate

  EXPECT_EQ(Shape(d->items), "snapshot event×5");
  EXPECT_EQ(EventIds(d->items), live);
  for (const FollowItem& item : d->items) {
    if (item.kind != Kind::kEvent) continue;
    EXPECT_TRUE(item.live) << "from the hub, not a replay";
    EXPECT_EQ(item.last_event_id, item.event->id());
  }
  EXPECT_FALSE(d->follower().replayed());
}

// (b) Resuming after an event in the middle of the log: exactly the events after it, read from
// the store or from memory, then caught_up, a progress at once, then live.
TEST_F(FollowerTest, AResumeIsTheEventsAfterTheIdThenCaughtUpThenLive) {
  std::string id = Create();
  Append(id, 10);
  // Six back: the recent log (4 events) does not reach, so the store; two back: memory; none
  // back: nothing to replay.
  for (size_t back : {size_t{6}, size_t{2}, size_t{0}}) {
    SCOPED_TRACE("resuming " + std::to_string(back) + " events back");
    const std::vector<core::EventId> log = LogIds(id);
    const size_t from = log.size() - 1 - back;
    FollowOptions options;
    options.replay_page = 2;
    options.progress_interval = 1h;  // only the progress that follows caught_up
    std::unique_ptr<Driven> d = Follow(id, core::FormatEventId(log[from]), options);
    ASSERT_TRUE(d->UntilKind(Kind::kProgress)) << Shape(d->items);
    EXPECT_EQ(Shape(d->items), (back > 1    ? "event×" + std::to_string(back) + " "
                                : back == 1 ? std::string("event ")
                                            : std::string()) +
                                   "caught_up progress");
    EXPECT_EQ(EventIds(d->items), std::vector<core::EventId>(log.begin() + from + 1, log.end()));
    EXPECT_TRUE(d->follower().replayed());
    EXPECT_EQ(Find(d->items, Kind::kCaughtUp)->last_event_id, log.back());
    const FollowItem* progress = Find(d->items, Kind::kProgress);
    EXPECT_EQ(progress->snapshot->version(), static_cast<int64_t>(log.size()));
    EXPECT_EQ(progress->snapshot->investigation().last_event_id, log.back());
    for (const FollowItem& item : d->items) {
      if (item.kind == Kind::kEvent) {
        EXPECT_FALSE(item.live) << "replayed";
      }
    }

    const size_t seen = d->items.size();
    std::vector<core::EventId> live = Append(id, 1);
    ASSERT_TRUE(d->UntilEvent(live[0])) << Shape(d->items);
    d->PollAt(std::chrono::steady_clock::now());
    ASSERT_EQ(d->items.size(), seen + 1) << Shape(d->items);
    EXPECT_TRUE(d->items.back().live);
  }
}

// (c) Commits that land while the follower pages through the store, one after each page it
// hands out (so some while a page is being read): every event once, in order, none missing.
TEST_F(FollowerTest, EventsAppendedDuringTheReplayAreNeitherLostNorRepeated) {
  std::string id = Create();
  Append(id, 20);

  std::unique_ptr<Driven> d = Follow(id, "0_000000", Quiet(/*replay_page=*/3));
  int appended_during_replay = 0;
  std::vector<core::EventId> appended;
  ASSERT_TRUE(d->Until([&](const std::vector<FollowItem>& items) {
    if (!Find(items, Kind::kCaughtUp)) {
      // A page was handed out (or one is being read): commit before the next.
      if (appended_during_replay < 40) {
        std::vector<core::EventId> ids =
            appended_during_replay % 3 == 2 ? AppendBatch(id, 2) : Append(id, 1);
        appended.insert(appended.end(), ids.begin(), ids.end());
        ++appended_during_replay;
      }
      return false;
    }
    std::vector<core::EventId> ids = EventIds(items);
    return !appended.empty() && !ids.empty() && ids.back() == appended.back();
  })) << Shape(d->items);
  const size_t handed_out = d->items.size();
  d->PollAt(std::chrono::steady_clock::now());
  EXPECT_EQ(d->items.size(), handed_out) << "nothing more: " << Shape(d->items);

  EXPECT_GE(appended_during_replay, 5) << "the replay should have taken several pages";
  const std::vector<core::EventId> ids = EventIds(d->items);
  EXPECT_TRUE(StrictlyIncreasing(ids));
  EXPECT_EQ(ids, LogIds(id)) << "the whole log, each event once";
}

// (c) The same with a writer on another thread that does not wait for anyone, and followers
// joining at different moments, each on a thread of its own: fresh, from the start, from the
// middle of the log.
TEST_F(FollowerTest, FollowersStartedDuringAStreamOfCommitsMissNothing) {
  std::string id = Create();
  Append(id, 10);
  const std::vector<core::EventId> first = LogIds(id);
  constexpr int kCommits = 120;  // every fourth a batch of three
  const size_t total = first.size() + kCommits / 4 * 3 + (kCommits - kCommits / 4);

  std::mutex mu;
  std::condition_variable cv;
  int committed = 0;  // Guarded by mu
  std::thread writer([&] {
    for (int i = 0; i < kCommits; ++i) {
      i % 4 == 3 ? AppendBatch(id, 3) : Append(id, 1);
      std::lock_guard lock(mu);
      ++committed;
      cv.notify_all();
    }
  });
  // Follows from `after` once `n` commits are in, until `total` events are in the log and handed
  // out (a fresh follower: the ones after its snapshot, whose version counts those before).
  auto follow = [&](std::optional<std::string> after, int n, size_t before,
                    std::vector<FollowItem>* out) {
    {
      std::unique_lock lock(mu);
      EXPECT_TRUE(cv.wait_for(lock, 20s, [&] { return committed >= n; }));
    }
    Driven d(*engine_, *hub_, clock_, id, after, Quiet(4));
    const bool fresh = !after;
    EXPECT_TRUE(d.Until([&](const std::vector<FollowItem>& items) {
      if (items.empty()) return false;
      const size_t skip = fresh && items.front().kind == Kind::kSnapshot
                              ? static_cast<size_t>(items.front().snapshot->version())
                              : before;
      return EventIds(items).size() >= total - skip;
    })) << Shape(d.items);
    d.PollAt(std::chrono::steady_clock::now());
    *out = d.items;
  };
  std::vector<FollowItem> fresh, whole, middle;
  std::thread t1(follow, std::nullopt, 5, 0, &fresh);
  std::thread t2(follow, std::string("0_000000"), 5, 0, &whole);
  std::thread t3(follow, core::FormatEventId(first[6]), 40, 7, &middle);
  writer.join();
  t1.join();
  t2.join();
  t3.join();

  const std::vector<core::EventId> log = LogIds(id);
  ASSERT_EQ(log.size(), total);
  auto after = [&](core::EventId x) {
    return std::vector<core::EventId>(std::upper_bound(log.begin(), log.end(), x), log.end());
  };
  ASSERT_FALSE(fresh.empty());
  ASSERT_EQ(fresh.front().kind, Kind::kSnapshot);
  EXPECT_EQ(EventIds(fresh), after(fresh.front().last_event_id))
      << "everything after the snapshot's head";
  for (const std::vector<FollowItem>* items : {&fresh, &whole, &middle}) {
    EXPECT_TRUE(StrictlyIncreasing(EventIds(*items))) << "no event twice, none out of order";
  }
  EXPECT_EQ(EventIds(whole), log);
  EXPECT_EQ(EventIds(middle), after(first[6]));
  EXPECT_NE(Find(whole, Kind::kCaughtUp), nullptr);
  EXPECT_NE(Find(middle, Kind::kCaughtUp), nullptr);
}

// (d) A resume id that names no event of this investigation starts again from a snapshot: the
// reset item, then live.
TEST_F(FollowerTest, AResumeIdThatIsNoEventOfThisLogIsResetToTheSnapshot) {
  std::string other = Create("another case");
  std::vector<core::EventId> others = Append(other, 3);
  clock_.Advance(1000);  // so that no id of one log is an id of the other
  std::string id = Create();
  std::vector<core::EventId> ids = Append(id, 3);
  clock_.Advance(10);  // so that there are ids between two events
  for (core::EventId e : Append(id, 3)) ids.push_back(e);

  // Each case names its resume id from the head at that moment: every case appends one more event.
  struct Case {
    std::function<std::string(core::EventId head)> after;
    std::string reason;
  };
  const std::string not_in_log = "is not in this investigation's log";
  const Case cases[] = {
      {[&](core::EventId) { return core::FormatEventId(others[1]); }, not_in_log},
      {[](core::EventId head) {
         return core::FormatEventId({head.ts_ms, head.seq + 1});
       },
       not_in_log},
      {[](core::EventId head) {
         return core::FormatEventId({head.ts_ms + kDayMs, 0});
       },
       not_in_log},
      {[&](core::EventId) {
         return core::FormatEventId({ids[2].ts_ms, ids[2].seq + 1000});
       },
       not_in_log},
      {[](core::EventId) { return std::string("banana"); }, "malformed event id 'banana'"},
      {[](core::EventId) { return std::string("00_000001"); }, "malformed event id '00_000001'"},
  };
  for (const Case& c : cases) {
    engine::SnapshotPtr now = Now(id);
    const std::string after = c.after(now->investigation().last_event_id);
    SCOPED_TRACE("resuming after " + after);
    std::unique_ptr<Driven> d = Follow(id, after);
    ASSERT_TRUE(d->UntilKind(Kind::kReset)) << Shape(d->items);
    ASSERT_EQ(Shape(d->items), "reset");
    const FollowItem& reset = d->items[0];
    EXPECT_NE(reset.reason.find(c.reason), std::string::npos) << reset.reason;
    EXPECT_EQ(reset.reason.find("expired"), std::string::npos) << "recent: " << reset.reason;
    EXPECT_EQ(reset.snapshot->version(), now->version());
    EXPECT_EQ(reset.last_event_id, now->investigation().last_event_id);

    std::vector<core::EventId> live = Append(id, 1);
    ASSERT_TRUE(d->UntilEvent(live[0])) << Shape(d->items);
    d->PollAt(std::chrono::steady_clock::now());
    EXPECT_EQ(Shape(d->items), "reset event");
  }
}

// Issue 10: the id of an event of the log is a resume point however old it is.
TEST_F(FollowerTest, ResumesAfterAnEventOlderThanTheCursorExpiry) {
  std::string id;
  std::vector<core::EventId> ids = OldLog(&id, 10);
  for (size_t from : {size_t{1}, size_t{8}, ids.size() - 1}) {  // in the store, in memory, last
    std::vector<FollowItem> items =
        FollowUntil(id, core::FormatEventId(ids[from]), Kind::kCaughtUp);
    ASSERT_FALSE(items.empty());
    EXPECT_NE(items.front().kind, Kind::kReset)
        << "resuming after " << from << ": " << items.front().reason;
    EXPECT_NE(Find(items, Kind::kCaughtUp), nullptr);
    EXPECT_EQ(EventIds(items), std::vector<core::EventId>(ids.begin() + from + 1, ids.end()))
        << "resuming after " << from;
  }
}

TEST_F(FollowerTest, AnOldIdThatIsNoEventIsResetAsExpired) {
  std::string id;
  std::vector<core::EventId> ids = OldLog(&id, 10);
  core::EventId made_up{ids[3].ts_ms, ids[3].seq + 500};  // between events, 40 days old
  for (const std::string& after : {core::FormatEventId(made_up), std::string("1000_000000")}) {
    std::vector<FollowItem> items = FollowUntil(id, after, Kind::kCaughtUp);
    ASSERT_FALSE(items.empty());
    EXPECT_EQ(items.front().kind, Kind::kReset) << after;
    EXPECT_NE(items.front().reason.find("cursor expired"), std::string::npos)
        << items.front().reason;
    EXPECT_NE(items.front().reason.find("0_000000"), std::string::npos) << items.front().reason;
    EXPECT_EQ(items.front().last_event_id, ids.back()) << "the reset starts at the snapshot";
  }
}

TEST_F(FollowerTest, ARecentIdThatIsNoEventIsResetButNotExpired) {
  std::string id;
  std::vector<core::EventId> ids = OldLog(&id, 3);
  std::vector<FollowItem> items =
      FollowUntil(id, core::FormatEventId({clock_.NowMs() - kDayMs, 0}), Kind::kCaughtUp);
  ASSERT_FALSE(items.empty());
  EXPECT_EQ(items.front().kind, Kind::kReset);
  EXPECT_EQ(items.front().reason.find("expired"), std::string::npos) << items.front().reason;
  EXPECT_NE(items.front().reason.find("not in this investigation's log"), std::string::npos)
      << items.front().reason;
}

// A hub whose queues hold four events: a follower that does not poll is cut after a few commits.
class FollowerCutTest : public FollowerTest {
 protected:
  FollowerCutTest() { hub_options_.max_queue = 4; }
};

// (e) A follower that falls behind ends with a cut that names the last event it handed out, and
// a follower resuming from there gets exactly what the first one missed.
TEST_F(FollowerCutTest, ASlowFollowerIsCutAtItsLastEventAndResumingLosesNothing) {
  std::string id = Create();
  std::unique_ptr<Driven> d = Follow(id, std::nullopt);
  ASSERT_TRUE(d->UntilKind(Kind::kSnapshot));
  std::vector<core::EventId> seen = Append(id, 2);
  ASSERT_TRUE(d->UntilEvent(seen.back())) << Shape(d->items);

  // Five commits while it does not poll: the fifth finds four waiting.
  std::vector<core::EventId> missed = Append(id, 5);
  ASSERT_TRUE(d->UntilKind(Kind::kCut)) << Shape(d->items);
  EXPECT_EQ(Shape(d->items), "snapshot event×2 cut");
  const FollowItem& cut = d->items.back();
  EXPECT_EQ(cut.reason, "slow_consumer");
  EXPECT_EQ(cut.last_event_id, seen.back()) << "the last event handed out, not the last queued";
  EXPECT_TRUE(d->follower().done());
  EXPECT_EQ(hub_->stats().overflowed, 1u);
  d->PollAt(std::chrono::steady_clock::now());
  EXPECT_EQ(Shape(d->items), "snapshot event×2 cut") << "nothing after the cut";
  EXPECT_EQ(hub_->stats().subscribers, 0u) << "it left the hub";

  std::unique_ptr<Driven> resumed = Follow(id, core::FormatEventId(cut.last_event_id));
  ASSERT_TRUE(resumed->UntilKind(Kind::kCaughtUp)) << Shape(resumed->items);
  EXPECT_EQ(Shape(resumed->items), "event×5 caught_up");
  EXPECT_EQ(EventIds(resumed->items), missed);
}

// (e) Cut while it replays: the replay goes on to the live edge, and the cut comes when it would
// go live, naming the last event replayed.
TEST_F(FollowerCutTest, AFollowerCutDuringItsReplayEndsAtTheLastEventItReplayed) {
  std::string id = Create();
  Append(id, 9);
  std::unique_ptr<Driven> d = Follow(id, "0_000000", Quiet(2));
  d->PollAt(std::chrono::steady_clock::now());  // the first page is being read
  Append(id, 5);                                // its queue overflows meanwhile
  ASSERT_TRUE(d->UntilKind(Kind::kCut)) << Shape(d->items);
  const std::vector<core::EventId> log = LogIds(id);
  const std::vector<core::EventId> got = EventIds(d->items);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got, std::vector<core::EventId>(log.begin(), log.begin() + got.size()))
      << "a prefix of the log, in order";
  EXPECT_EQ(d->items.back().kind, Kind::kCut) << Shape(d->items);
  EXPECT_EQ(d->items.back().last_event_id, got.back());

  std::unique_ptr<Driven> resumed = Follow(id, core::FormatEventId(got.back()));
  ASSERT_TRUE(resumed->UntilKind(Kind::kCaughtUp)) << Shape(resumed->items);
  std::vector<core::EventId> all = got;
  for (core::EventId e : EventIds(resumed->items)) all.push_back(e);
  EXPECT_EQ(all, log) << "the two followers together: the whole log once";
}

// (f) At a terminal state: the status change, a last progress, the end, then nothing.
TEST_F(FollowerTest, ARunThatCompletesEndsTheFollowerAfterALastProgress) {
  std::string id = Create();
  FollowOptions options;
  options.progress_interval = 1h;  // no progress falls due by time in this test
  std::unique_ptr<Driven> d = Follow(id, std::nullopt, options);
  ASSERT_TRUE(d->UntilKind(Kind::kSnapshot));
  size_t changes = 0;
  for (core::State to : {core::State::kQueued, core::State::kInitializing, core::State::kRunning,
                         core::State::kCompleting}) {
    ASSERT_TRUE(IsOk(Move(id, to)));
    ++changes;
    ASSERT_TRUE(d->Until([&](const std::vector<FollowItem>& items) {
      return EventIds(items).size() == changes && items.back().kind == Kind::kProgress;
    })) << Shape(d->items);
    EXPECT_EQ(d->items.back().snapshot->state(), to) << "a status change: a progress at once";
  }
  EXPECT_EQ(Shape(d->items),
            "snapshot event progress event progress event progress event progress");
  EXPECT_FALSE(d->follower().done());

  auto completed = Move(id, core::State::kCompleted);
  ASSERT_TRUE(IsOk(completed));
  ASSERT_TRUE(d->UntilKind(Kind::kEnd)) << Shape(d->items);
  ASSERT_GE(d->items.size(), 3u);
  const size_t n = d->items.size();
  EXPECT_EQ(d->items[n - 3].kind, Kind::kEvent);
  EXPECT_EQ(d->items[n - 3].event->type(), core::EventType::kStatusChange);
  EXPECT_EQ(d->items[n - 2].kind, Kind::kProgress);
  EXPECT_EQ(d->items[n - 2].snapshot->state(), core::State::kCompleted);
  const FollowItem& end = d->items[n - 1];
  EXPECT_EQ(end.kind, Kind::kEnd);
  EXPECT_EQ(end.reason, "completed");
  EXPECT_EQ(end.snapshot->version(), (*completed)->version());
  EXPECT_EQ(end.last_event_id, (*completed)->investigation().last_event_id);
  EXPECT_TRUE(d->follower().done());
  EXPECT_EQ(hub_->stats().subscribers, 0u) << "it left the hub";
  d->PollAt(std::chrono::steady_clock::now());
  EXPECT_EQ(d->items.size(), n) << "nothing after the end";
}

// (f) Following an investigation that has ended already: a fresh follower gets the snapshot and
// the end; a resuming one the rest of the log, caught_up, a progress and the end.
TEST_F(FollowerTest, AFollowerOfAFinishedInvestigationEndsAtOnce) {
  std::string id = Create();
  std::vector<core::EventId> ids = Append(id, 2);
  ASSERT_TRUE(IsOk(Move(id, core::State::kCancelled)));
  const std::vector<core::EventId> log = LogIds(id);

  std::unique_ptr<Driven> fresh = Follow(id, std::nullopt);
  ASSERT_TRUE(fresh->UntilKind(Kind::kEnd)) << Shape(fresh->items);
  EXPECT_EQ(Shape(fresh->items), "snapshot end");
  EXPECT_EQ(fresh->items.back().reason, "cancelled");
  EXPECT_EQ(fresh->items.back().last_event_id, log.back());
  EXPECT_TRUE(fresh->follower().done());

  std::unique_ptr<Driven> resumed = Follow(id, core::FormatEventId(ids[0]), FollowOptions{});
  ASSERT_TRUE(resumed->UntilKind(Kind::kEnd)) << Shape(resumed->items);
  EXPECT_EQ(Shape(resumed->items), "event×2 caught_up progress end");
  EXPECT_EQ(EventIds(resumed->items), std::vector<core::EventId>(log.end() - 2, log.end()));
  EXPECT_EQ(resumed->items.back().reason, "cancelled");
}

// (f) A follower of one run ends when that run is no longer the current one.
TEST_F(FollowerTest, AFollowerOfARunThatIsNotCurrentEndsWithRunEnded) {
  std::string id = Create();
  std::unique_ptr<Driven> d = Follow(id, std::nullopt, Quiet(), "run_not_this_one");
  ASSERT_TRUE(d->UntilKind(Kind::kEnd)) << Shape(d->items);
  EXPECT_EQ(Shape(d->items), "snapshot end");
  EXPECT_EQ(d->items.back().reason, "run_ended");
}

// Progress is coalesced: at most one per interval while events come, at once after a status
// change; Poll says when the next one falls due.
TEST_F(FollowerTest, ProgressIsCoalescedToOnePerInterval) {
  std::string id = Create();
  FollowOptions options;
  options.progress_interval = 1h;
  std::unique_ptr<Driven> d = Follow(id, std::nullopt, options);
  ASSERT_TRUE(d->UntilKind(Kind::kSnapshot));
  const SteadyTime t0 = std::chrono::steady_clock::now();

  std::vector<core::EventId> ids = Append(id, 3);  // published before Append returns
  const SteadyTime due = d->PollAt(t0);
  EXPECT_EQ(Shape(d->items), "snapshot event×3") << "no progress before the interval";
  ASSERT_NE(due, SteadyTime::max());
  EXPECT_GT(due, t0 + 59min);

  d->PollAt(due);
  EXPECT_EQ(Shape(d->items), "snapshot event×3 progress");
  EXPECT_EQ(d->items.back().snapshot->investigation().last_event_id, ids.back());
  EXPECT_EQ(d->PollAt(due + 1s), SteadyTime::max()) << "nothing new: nothing due";

  Append(id, 1);
  EXPECT_EQ(d->PollAt(due + 2s), due + 1h) << "due an interval after the last progress";
  ASSERT_TRUE(IsOk(Move(id, core::State::kQueued)));
  d->PollAt(due + 3s);
  EXPECT_EQ(Shape(d->items), "snapshot event×3 progress event×2 progress")
      << "a status change does not wait";
  EXPECT_EQ(d->items.back().snapshot->state(), core::State::kQueued);
}

}  // namespace
}  // namespace vigil::live
