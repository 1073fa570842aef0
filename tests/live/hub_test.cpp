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

std::vector<SharedEventPtr> Events(const std::string& id, int from, int n) {
  std::vector<SharedEventPtr> out;
  for (int i = from; i < from + n; ++i) {
    out.push_back(std::make_shared<const SharedEvent>(id, core::EventId{1000, i},
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
  EXPECT_EQ(hub.MaxSubscribersPerInvestigation(), 2u) << "inv's two";
  hub.Unsubscribe(a);
  hub.Unsubscribe(a);  // idempotent
  EXPECT_EQ(hub.stats().subscribers, 2u);
  hub.Publish(SnapshotOf("inv", 1), Events("inv", 1, 1));
  EXPECT_EQ(b->Take().events.size(), 1u) << "the swap on removal keeps the others subscribed";
  hub.Unsubscribe(b);
  hub.Unsubscribe(c);
  EXPECT_EQ(hub.stats().topics, 0u);
  EXPECT_EQ(hub.stats().subscribers, 0u);
  EXPECT_EQ(hub.MaxSubscribersPerInvestigation(), 0u);
}

// An executor whose tasks run when the test says, on the test's thread.
class ManualExecutor : public Executor {
 public:
  void Post(std::function<void()> task) override { tasks_.push_back(std::move(task)); }
  size_t pending() const { return tasks_.size(); }
  // Runs the first task waiting.
  void RunOne() {
    std::function<void()> task = std::move(tasks_.front());
    tasks_.erase(tasks_.begin());
    task();
  }
  // Destroys the tasks waiting without running them, as an executor that shut down does.
  void DropAll() { tasks_.clear(); }
  // Runs tasks until none is left, those they post included.
  void RunAll() {
    while (!tasks_.empty()) RunOne();
  }

 private:
  std::vector<std::function<void()>> tasks_;
};

TEST(HubTest, BoundSubscribersGetTheirCommitsThroughOnePostPerExecutor) {
  Hub hub;
  ManualExecutor one, two;
  int woken = 0;
  std::vector<SubscriberPtr> subs;
  for (int i = 0; i < 3; ++i)
    subs.push_back(hub.Subscribe(
        "inv", [&] { ++woken; }, &one));
  for (int i = 0; i < 2; ++i)
    subs.push_back(hub.Subscribe(
        "inv", [&] { ++woken; }, &two));
  SubscriberPtr unbound = hub.Subscribe("inv", [&] { ++woken; });
  hub.Publish(SnapshotOf("inv", 1), Events("inv", 1, 2));
  hub.Publish(SnapshotOf("inv", 2), Events("inv", 3, 1));
  EXPECT_EQ(one.pending(), 1u)
      << "one post, whatever the number of subscribers; the second commit joins the first";
  EXPECT_EQ(two.pending(), 1u);
  EXPECT_EQ(woken, 1) << "only the unbound one, on the publishing thread";
  for (const SubscriberPtr& s : subs) EXPECT_TRUE(s->Take().events.empty());
  one.RunAll();
  two.RunAll();
  EXPECT_EQ(woken, 1 + 5) << "each bound subscriber woken once, on its executor";
  for (const SubscriberPtr& s : subs) {
    Subscriber::Taken taken = s->Take();
    ASSERT_EQ(taken.events.size(), 3u);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(taken.events[i]->id(), (core::EventId{1000, i + 1}));
    EXPECT_EQ(taken.snapshot->version(), 2);
  }
  EXPECT_EQ(unbound->Take().events.size(), 3u);
  EXPECT_EQ(hub.stats().pushed, 3u * 6);
}

TEST(HubTest, SubscribersMayLeaveAndJoinWhileACommitIsDelivered) {
  Hub hub;
  ManualExecutor thread;
  std::vector<SubscriberPtr> subs(6);
  std::vector<int> woken(6, 0);
  SubscriberPtr late;
  for (int i = 0; i < 6; ++i) {
    subs[i] = hub.Subscribe(
        "inv",
        [&, i] {
          ++woken[i];
          if (i == 1) {
            // Leaves, and takes two others with it: one already served, one not yet.
            hub.Unsubscribe(subs[0]);
            hub.Unsubscribe(subs[4]);
            hub.Unsubscribe(subs[1]);
            hub.Unsubscribe(subs[1]);  // idempotent here too
            late = hub.Subscribe(
                "inv", [] {}, &thread);
          }
        },
        &thread);
  }
  hub.Publish(SnapshotOf("inv", 1), Events("inv", 1, 1));
  thread.RunAll();
  EXPECT_EQ(woken, (std::vector<int>{1, 1, 1, 1, 0, 1}))
      << "everyone still subscribed when the delivery reached them got it";
  EXPECT_EQ(hub.stats().subscribers, 4u);
  hub.Publish(SnapshotOf("inv", 2), Events("inv", 2, 1));
  thread.RunAll();
  for (int i : {2, 3, 5}) {
    Subscriber::Taken taken = subs[i]->Take();
    ASSERT_EQ(taken.events.size(), 2u) << i;
    EXPECT_EQ(taken.events[1]->id(), (core::EventId{1000, 2}));
  }
  EXPECT_EQ(late->Take().events.size(), 1u) << "the one who joined gets the next commit";
  for (int i : {2, 3, 5}) hub.Unsubscribe(subs[i]);
  hub.Unsubscribe(late);
  EXPECT_EQ(hub.stats().topics, 0u);
  EXPECT_EQ(hub.stats().subscribers, 0u);
}

TEST(HubTest, TheLastToLeaveDuringADeliveryRemovesTheTopicAfterIt) {
  Hub hub;
  ManualExecutor thread;
  SubscriberPtr only;
  only = hub.Subscribe(
      "inv", [&] { hub.Unsubscribe(only); }, &thread);
  hub.Publish(SnapshotOf("inv", 1), Events("inv", 1, 1));
  hub.Publish(SnapshotOf("inv", 2), Events("inv", 2, 1));
  thread.RunAll();  // the second delivery finds no one
  EXPECT_EQ(hub.stats().topics, 0u);
  EXPECT_EQ(hub.MaxSubscribersPerInvestigation(), 0u);
  hub.Publish(SnapshotOf("inv", 3), Events("inv", 3, 1));
  EXPECT_EQ(thread.pending(), 0u) << "nothing is posted for a topic that is gone";
}

TEST(HubTest, APassGoesAChunkAtATimeAndCommitsDuringItFollowInTheNext) {
  Hub hub;
  ManualExecutor thread;
  constexpr int kSubscribers = 300;  // more than one chunk
  std::vector<SubscriberPtr> subs;
  for (int i = 0; i < kSubscribers; ++i)
    subs.push_back(hub.Subscribe(
        "inv", [] {}, &thread));
  hub.Publish(SnapshotOf("inv", 1), Events("inv", 1, 1));
  thread.RunOne();
  EXPECT_EQ(thread.pending(), 1u) << "the rest of the pass is a task of its own";
  EXPECT_EQ(subs.front()->Take().events.size(), 1u);
  EXPECT_TRUE(subs.back()->Take().events.empty()) << "not reached by the first chunk";
  hub.Publish(SnapshotOf("inv", 2), Events("inv", 2, 1));
  hub.Publish(SnapshotOf("inv", 3), Events("inv", 3, 1));
  EXPECT_EQ(thread.pending(), 1u) << "commits during a pass post nothing: they wait for the next";
  hub.Unsubscribe(subs[kSubscribers - 1]);  // a gap in the pass
  thread.RunAll();
  EXPECT_EQ(subs.front()->Take().events.size(), 2u) << "the next pass took both commits";
  for (int i = 1; i < kSubscribers - 1; ++i) {
    Subscriber::Taken taken = subs[i]->Take();
    ASSERT_EQ(taken.events.size(), 3u) << i;
    for (int k = 0; k < 3; ++k) EXPECT_EQ(taken.events[k]->id(), (core::EventId{1000, k + 1}));
    EXPECT_EQ(taken.snapshot->version(), 3);
  }
  EXPECT_EQ(hub.stats().subscribers, static_cast<uint64_t>(kSubscribers - 1));
  for (int i = 0; i < kSubscribers - 1; ++i) hub.Unsubscribe(subs[i]);
  EXPECT_EQ(hub.stats().topics, 0u);
}

TEST(HubTest, ATaskDroppedWithoutRunningLeavesNothingWaitingForIt) {
  Hub hub;
  ManualExecutor thread;
  SubscriberPtr s = hub.Subscribe(
      "inv", [] {}, &thread);
  hub.Publish(SnapshotOf("inv", 1), Events("inv", 1, 1));
  ASSERT_EQ(thread.pending(), 1u);
  thread.DropAll();
  hub.Publish(SnapshotOf("inv", 2), Events("inv", 2, 1));
  EXPECT_EQ(thread.pending(), 1u) << "the next commit posts a task of its own";
  thread.RunAll();
  Subscriber::Taken taken = s->Take();
  ASSERT_EQ(taken.events.size(), 1u);
  EXPECT_EQ(taken.events[0]->id(), (core::EventId{1000, 2}));
  hub.Unsubscribe(s);
  hub.Publish(SnapshotOf("inv", 3), Events("inv", 3, 1));
  thread.DropAll();
  EXPECT_EQ(hub.stats().topics, 0u);
  EXPECT_EQ(hub.MaxSubscribersPerInvestigation(), 0u);
}

TEST(HubTest, TakeIntoTheSameBufferReusesIt) {
  Hub hub;
  SubscriberPtr s = hub.Subscribe("inv", [] {});
  Subscriber::Taken taken;
  hub.Publish(SnapshotOf("inv", 1), Events("inv", 1, 8));
  s->Take(taken);
  ASSERT_EQ(taken.events.size(), 8u);
  const SharedEventPtr* first = taken.events.data();
  hub.Publish(SnapshotOf("inv", 2), Events("inv", 9, 1));
  s->Take(taken);
  hub.Publish(SnapshotOf("inv", 3), Events("inv", 10, 1));
  s->Take(taken);
  ASSERT_EQ(taken.events.size(), 1u);
  EXPECT_EQ(taken.events[0]->id(), (core::EventId{1000, 10}));
  EXPECT_EQ(taken.events.data(), first) << "the two buffers take turns: no allocation";
}

TEST(HubTest, WhatATransportMakesOfAnEventIsMadeOnceAndShared) {
  SharedEventPtr e = Events("inv", 7, 1)[0];
  int made = 0;
  auto make = [&made](const SharedEvent& event) {
    ++made;
    return "frame of " + event.wire();
  };
  const auto& first = e->Memo(0, make);
  EXPECT_EQ(*first, "frame of {\"n\":7}");
  EXPECT_EQ(e->Memo(0, make).get(), first.get());
  EXPECT_EQ(made, 1) << "formatted once, for every subscriber";
  EXPECT_EQ(*e->Memo(1, [](const SharedEvent&) { return std::string("other"); }), "other")
      << "each slot is its own";
}

}  // namespace
}  // namespace vigil::live
