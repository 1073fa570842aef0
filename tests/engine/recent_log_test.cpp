#include "engine/recent_log.hpp"

#include <gtest/gtest.h>

namespace vigil::engine {
namespace {

core::Event Ev(int64_t ts, int seq, core::EventType type = core::EventType::kRiskUpdated) {
  core::Event e;
  e.id = {ts, seq};
  e.type = type;
  e.wire = "{\"n\":" + std::to_string(ts * 10 + seq) + "}";
  return e;
}

std::vector<core::EventId> Ids(const std::vector<RecentLog::Entry>& entries) {
  std::vector<core::EventId> ids;
  for (const auto& e : entries) ids.push_back(e->id());
  return ids;
}

TEST(RecentLogTest, ReadsAfterACursorWithLimitAndMore) {
  RecentLog log(100, 1 << 20);
  std::vector<core::Event> events = {Ev(1, 0), Ev(1, 1), Ev(2, 0), Ev(3, 0)};
  log.Append(events);
  bool more = false;
  auto page = log.Read({1, 0}, 2, {}, &more);
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(Ids(*page), (std::vector<core::EventId>{{1, 1}, {2, 0}}));
  EXPECT_TRUE(more);
  page = log.Read({2, 0}, 2, {}, &more);
  EXPECT_EQ(Ids(*page), (std::vector<core::EventId>{{3, 0}}));
  EXPECT_FALSE(more);
  EXPECT_EQ((*page)[0]->wire(), "{\"n\":30}");
  page = log.Read({3, 0}, 2, {}, &more);
  EXPECT_TRUE(page->empty());
}

TEST(RecentLogTest, FiltersByType) {
  RecentLog log(100, 1 << 20);
  std::vector<core::Event> events = {Ev(1, 0, core::EventType::kToolQueued), Ev(2, 0),
                                     Ev(3, 0, core::EventType::kToolQueued)};
  log.Append(events);
  bool more = false;
  core::EventType types[] = {core::EventType::kToolQueued};
  auto page = log.Read({}, 1, types, &more);
  EXPECT_EQ(Ids(*page), (std::vector<core::EventId>{{1, 0}}));
  EXPECT_TRUE(more);
}

TEST(RecentLogTest, DropsTheOldestAndRefusesPagesThatReachIntoThem) {
  RecentLog log(3, 1 << 20);
  std::vector<core::Event> events = {Ev(1, 0), Ev(2, 0), Ev(3, 0), Ev(4, 0), Ev(5, 0)};
  log.Append(events);
  EXPECT_EQ(log.size(), 3u);
  bool more = false;
  EXPECT_FALSE(log.Read({}, 10, {}, &more).has_value());      // 1 and 2 are gone
  EXPECT_FALSE(log.Read({1, 0}, 10, {}, &more).has_value());  // 2 is gone
  auto page = log.Read({2, 0}, 10, {}, &more);                // everything after 2 is here
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(Ids(*page), (std::vector<core::EventId>{{3, 0}, {4, 0}, {5, 0}}));
}

TEST(RecentLogTest, IsBoundedInBytes) {
  RecentLog log(1000, 20);  // each wire form here is 8 or 9 bytes
  std::vector<core::Event> events = {Ev(1, 0), Ev(2, 0), Ev(3, 0), Ev(4, 0)};
  log.Append(events);
  EXPECT_LE(log.bytes(), 20u);
  EXPECT_EQ(log.size(), 2u);
}

}  // namespace
}  // namespace vigil::engine
