// The hub on its own: subscriptions per investigation, bounded queues, wake-ups, clean topics.
#include "live/hub.hpp"

#include <gtest/gtest.h>

#include <atomic>

#include "core/investigation.hpp"

namespace vigil::live {
namespace {

engine::SnapshotPtr SnapshotOf(const std::string& id, int64_t version) {
  core::Investigation inv;
  inv.id = id;
  inv.owner = "alice";
  inv.version = version;
  return std::make_shared<const engine::Snapshot>(std::move(inv));
}

std::vector<LiveEventPtr> Events(const std::string& id, int from, int n) {
  std::vector<LiveEventPtr> out;
  for (int i = from; i < from + n; ++i) {
    out.push_back(std::make_shared<const LiveEvent>(id, core::EventId{1000, i},
                                                    core::EventType::kErrorLogged,
                                                    "{\"n\":" + std::to_string(i) + "}", 1));
  }
  return out;
}

TEST(HubTest, DeliversToTheSubscribersOfTheInvestigationOnly) {
  Hub hub;
  std::atomic<int> woken_a{0}, woken_b{0};
  SubscriberPtr a = hub.Subscribe("inv_a", [&] { ++woken_a; });
  SubscriberPtr b = hub.Subscribe("inv_b", [&] { ++woken_b; });
  hub.Publish(SnapshotOf("inv_a", 3), Events("inv_a", 1, 2));
  EXPECT_EQ(woken_a, 1);
  EXPECT_EQ(woken_b, 0);
  Subscriber::Taken taken = a->Take();
  ASSERT_EQ(taken.events.size(), 2u);
  EXPECT_EQ(taken.events[1]->id(), (core::EventId{1000, 2}));
  EXPECT_EQ(taken.snapshot->version(), 3);
  EXPECT_FALSE(taken.overflowed);
  EXPECT_TRUE(b->Take().events.empty());
}

TEST(HubTest, WakesOncePerTakeNotOncePerPublish) {
  Hub hub;
  std::atomic<int> woken{0};
  SubscriberPtr s = hub.Subscribe("inv", [&] { ++woken; });
  hub.Publish(SnapshotOf("inv", 1), Events("inv", 1, 1));
  hub.Publish(SnapshotOf("inv", 2), Events("inv", 2, 1));
  EXPECT_EQ(woken, 1) << "the subscriber was woken and has not taken yet";
  Subscriber::Taken taken = s->Take();
  EXPECT_EQ(taken.events.size(), 2u);
  EXPECT_EQ(taken.snapshot->version(), 2) << "only the newest snapshot is kept";
  hub.Publish(SnapshotOf("inv", 3), Events("inv", 3, 1));
  EXPECT_EQ(woken, 2);
}

TEST(HubTest, ASubscriberThatFallsBehindIsCutAndCounted) {
  Hub hub(HubOptions{.max_queue = 4});
  SubscriberPtr slow = hub.Subscribe("inv", [] {});
  SubscriberPtr fast = hub.Subscribe("inv", [] {});
  // One commit larger than the queue does not cut anyone: the queue was not full before it.
  hub.Publish(SnapshotOf("inv", 6), Events("inv", 1, 6));
  EXPECT_FALSE(fast->Take().overflowed);
  hub.Publish(SnapshotOf("inv", 7), Events("inv", 7, 1));
  EXPECT_FALSE(fast->Take().overflowed);
  Subscriber::Taken taken = slow->Take();
  EXPECT_TRUE(taken.overflowed);
  EXPECT_TRUE(taken.events.empty()) << "an overflowed queue is dropped, not kept";
  EXPECT_EQ(hub.stats().overflowed, 1u);
  EXPECT_EQ(hub.metrics().slow_cut.load(), 1u);
  hub.Publish(SnapshotOf("inv", 8), Events("inv", 8, 1));
  EXPECT_EQ(hub.stats().overflowed, 1u) << "counted once";
  EXPECT_EQ(fast->Take().events.size(), 1u);
}

TEST(HubTest, EmptyTopicsAreRemovedAtOnce) {
  Hub hub;
  SubscriberPtr a = hub.Subscribe("inv", [] {});
  SubscriberPtr b = hub.Subscribe("inv", [] {});
  SubscriberPtr c = hub.Subscribe("other", [] {});
  EXPECT_EQ(hub.stats().topics, 2u);
  EXPECT_EQ(hub.stats().subscribers, 3u);
  hub.Unsubscribe(a);
  hub.Unsubscribe(a);  // idempotent
  EXPECT_EQ(hub.stats().subscribers, 2u);
  hub.Publish(SnapshotOf("inv", 1), Events("inv", 1, 1));
  EXPECT_EQ(b->Take().events.size(), 1u) << "the swap on removal keeps the others subscribed";
  hub.Unsubscribe(b);
  hub.Unsubscribe(c);
  EXPECT_EQ(hub.stats().topics, 0u);
  EXPECT_EQ(hub.stats().subscribers, 0u);
  EXPECT_TRUE(hub.SubscribersByInvestigation().empty());
}

TEST(HubTest, FramesAreFormattedOnceAndShared) {
  LiveEventPtr e = Events("inv", 7, 1)[0];
  const auto& sse = e->SseFrame();
  EXPECT_EQ(*sse, "id: 1000_000007\nevent: error_logged\ndata: {\"n\":7}\n\n");
  EXPECT_EQ(e->SseFrame().get(), sse.get());
  EXPECT_EQ(*e->WsFrame(),
            "{\"type\":\"event\",\"investigation_id\":\"inv\",\"id\":\"1000_000007\","
            "\"data\":{\"n\":7}}");
}

}  // namespace
}  // namespace vigil::live
