// The follower over a real engine and SQLite store, with the clock in the test's hands: resume
// ids against a log older than the cursor expiry.
#include "live/follower.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "core/input.hpp"
#include "engine/await.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace vigil::live {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kLongAgo = 1'700'000'000'000;  // 2023-11-14

core::Principal Alice() {
  core::Principal p;
  p.subject = "alice";
  p.can_read = p.can_write = true;
  return p;
}

class FollowerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vigil-follower-XXXXXX";
    dir_ = mkdtemp(tmpl);
    ASSERT_TRUE(store::MigrateSqlite(dir_ + "/vigil.db"));
    auto s = store::OpenSqliteStore({.path = dir_ + "/vigil.db"});
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
    engine::EngineOptions options;
    options.recent_events = 4;  // a replay from an old position reads the store
    engine_ = std::make_unique<engine::Engine>(*store_, clock_, options);
    hub_.Attach(*engine_);
    engine_->Start();
  }
  void TearDown() override {
    engine_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // An investigation with `n` events after its creation, all written at kLongAgo; returns the
  // ids of its whole log.
  std::vector<core::EventId> OldLog(std::string* id, int n) {
    clock_.Set(kLongAgo);
    auto data = core::ParseCreateRequest(json::parse(R"({"name": "old case"})"), {});
    EXPECT_TRUE(data);
    auto created = engine::Await<engine::SnapshotPtr>(
        [&](auto done) { engine_->Create(Alice(), *data, done); });
    EXPECT_TRUE(created) << created.error().message;
    *id = (*created)->id();
    std::vector<core::EventId> ids{(*created)->investigation().last_event_id};
    for (int i = 0; i < n; ++i) {
      core::EventInput risk;
      risk.type = core::EventType::kRiskUpdated;
      risk.data = {{"overall", 0.5}};
      auto r = engine::Await<engine::ReportOutcome>(
          [&](auto done) { engine_->Report(Alice(), *id, {risk}, done); });
      EXPECT_TRUE(r) << r.error().message;
      ids.push_back(r->items[0].event_id);
      clock_.Advance(1);
    }
    // Forty days later, with a 30-day expiry.
    clock_.Set(kLongAgo + 40 * kDayMs);
    return ids;
  }

  // Follows `id` from `after` until `until` is handed out (or `deadline`); returns the items.
  std::vector<FollowItem> Follow(const std::string& id, std::string after, FollowItem::Kind until) {
    // Shared with the wake, which a read-pool thread may still be running when this returns.
    struct Wake {
      std::mutex mu;
      std::condition_variable cv;
      bool woken = false;
    };
    auto wake = std::make_shared<Wake>();
    auto follower = std::make_shared<Follower>(*engine_, hub_, clock_, Alice(), id, "",
                                               std::move(after), FollowOptions{}, [wake] {
                                                 std::lock_guard lock(wake->mu);
                                                 wake->woken = true;
                                                 wake->cv.notify_all();
                                               });
    follower->Start();
    std::vector<FollowItem> items;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
      size_t seen = items.size();
      follower->Poll(std::chrono::steady_clock::now(), items);
      for (size_t i = seen; i < items.size(); ++i) {
        if (items[i].kind == until || items[i].kind == FollowItem::Kind::kReset ||
            items[i].kind == FollowItem::Kind::kError) {
          follower->Stop();
          return items;
        }
      }
      if (follower->has_more()) continue;
      std::unique_lock lock(wake->mu);
      if (!wake->cv.wait_until(lock, deadline, [&] { return wake->woken; })) break;
      wake->woken = false;
    }
    ADD_FAILURE() << "nothing more from the follower within 10 s";
    follower->Stop();
    return items;
  }

  static std::vector<core::EventId> EventIds(const std::vector<FollowItem>& items) {
    std::vector<core::EventId> out;
    for (const FollowItem& item : items) {
      if (item.kind == FollowItem::Kind::kEvent) out.push_back(item.event->id());
    }
    return out;
  }

  core::ManualClock clock_{kLongAgo};
  std::string dir_;
  std::unique_ptr<store::Store> store_;
  Hub hub_;
  std::unique_ptr<engine::Engine> engine_;
};

// Issue 10: the id of an event of the log is a resume point however old it is.
TEST_F(FollowerTest, ResumesAfterAnEventOlderThanTheCursorExpiry) {
  std::string id;
  std::vector<core::EventId> ids = OldLog(&id, 10);
  for (size_t from : {size_t{1}, size_t{8}, ids.size() - 1}) {  // in the store, in memory, last
    std::vector<FollowItem> items =
        Follow(id, core::FormatEventId(ids[from]), FollowItem::Kind::kCaughtUp);
    ASSERT_FALSE(items.empty());
    EXPECT_NE(items.front().kind, FollowItem::Kind::kReset)
        << "resuming after " << from << ": " << items.front().reason;
    EXPECT_TRUE(std::any_of(items.begin(), items.end(), [](const FollowItem& item) {
      return item.kind == FollowItem::Kind::kCaughtUp;
    }));
    EXPECT_EQ(EventIds(items), std::vector<core::EventId>(ids.begin() + from + 1, ids.end()))
        << "resuming after " << from;
  }
}

TEST_F(FollowerTest, AnOldIdThatIsNoEventIsResetAsExpired) {
  std::string id;
  std::vector<core::EventId> ids = OldLog(&id, 10);
  core::EventId made_up{ids[3].ts_ms, ids[3].seq + 500};  // between events, 40 days old
  for (const std::string after : {core::FormatEventId(made_up), std::string("1000_000000")}) {
    std::vector<FollowItem> items = Follow(id, after, FollowItem::Kind::kCaughtUp);
    ASSERT_FALSE(items.empty());
    EXPECT_EQ(items.front().kind, FollowItem::Kind::kReset) << after;
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
      Follow(id, core::FormatEventId({clock_.NowMs() - kDayMs, 0}), FollowItem::Kind::kCaughtUp);
  ASSERT_FALSE(items.empty());
  EXPECT_EQ(items.front().kind, FollowItem::Kind::kReset);
  EXPECT_EQ(items.front().reason.find("expired"), std::string::npos) << items.front().reason;
  EXPECT_NE(items.front().reason.find("not in this investigation's log"), std::string::npos)
      << items.front().reason;
}

}  // namespace
}  // namespace vigil::live
