// Hub: who follows which investigation, and the hand-off of every committed event to them.
//
// The engine tells the hub of each commit on its writer thread, after the commit is durable and
// its snapshot installed (Publish), with each event as one SharedEvent (whose SSE and WebSocket
// frames are formatted at most once, on first use, and shared by every subscriber and by every
// replay from memory). Nothing here does I/O or waits for a reader.
//
// Where a commit is handed over depends on where the subscriber lives:
//   - bound to an executor (a server I/O thread, where its connection is): the hub hands the
//     commit once to each executor with subscribers of the investigation, and one task there
//     pushes it to all of them, in a tight loop with no lock per subscriber, and wakes each on
//     its own thread — where the stream can write at once. 10,000 subscribers on one thread cost
//     one post, not 10,000 cross-thread wake-ups. The pass goes a chunk of subscribers per task,
//     so that the thread's other work (new connections, requests) is not held up behind it.
//     Commits that come during a pass join the next: under a load the thread cannot take event
//     by event, each subscriber gets several events per write instead of falling behind.
//   - unbound: pushed on the publishing thread, one short lock per subscriber, and woken there.
// Either way every subscriber gets the commits in commit order: the writer publishes them in
// order, and an executor runs the tasks posted to it in order.
//
// Each subscriber has a bounded queue: a push that finds max_queue events already waiting cuts it
// (so it holds at most max_queue - 1 events plus one push: a commit, or the commits one pass took
// together). One that falls too far behind is marked overflowed and its queue dropped; its
// stream then ends with a reason and the client resumes from the last event it got (the log is
// durable, so nothing is lost). A topic with no subscriber left is removed at once — or, when a
// delivery task is posted or a pass under way for it, as soon as that is over.
//
// Thread-safety: Publish, stats and MaxSubscribersPerInvestigation from any thread. Subscribe and
// Unsubscribe of a subscriber bound to an executor on that executor's thread (or once it runs no
// more, as when the server stops); of an unbound one from any thread. Take and Push of a bound
// subscriber run on its executor's thread only, and take no lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/executor.hpp"
#include "core/cursor.hpp"
#include "core/event.hpp"
#include "engine/engine.hpp"
#include "live/metrics.hpp"

namespace vigil::live {

// An event as it is delivered live: shared with the engine's recent log, frames formatted once.
using engine::SharedEvent;
using engine::SharedEventPtr;

class Hub;

// One follower of one investigation.
class Subscriber {
 public:
  struct Taken {
    std::vector<SharedEventPtr> events;  // in id order
    engine::SnapshotPtr snapshot;        // the newest published, or null when none came
    bool overflowed = false;             // events were dropped: the follower must end
  };

  Subscriber(std::string investigation_id, size_t max_queue, std::function<void()> wake,
             Executor* executor)
      : investigation_id_(std::move(investigation_id)),
        max_queue_(max_queue),
        wake_(std::move(wake)),
        executor_(executor) {}

  const std::string& investigation_id() const { return investigation_id_; }
  Executor* executor() const { return executor_; }
  // Everything published since the last Take, into `into` (whose old contents are dropped and
  // whose buffer becomes the next queue, so a follower that takes into the same Taken each time
  // allocates nothing). Arms the wake-up: the next Push calls `wake`.
  void Take(Taken& into);
  Taken Take() {
    Taken taken;
    Take(taken);
    return taken;
  }

 private:
  friend class Hub;
  // From the hub: appends, and wakes the follower when it was armed. True when this push
  // overflowed the queue.
  bool Push(std::span<const SharedEventPtr> events, const engine::SnapshotPtr& snapshot);
  // Only an unbound subscriber is locked: a bound one is touched by its executor's thread alone.
  std::unique_lock<std::mutex> Lock() {
    return executor_ ? std::unique_lock<std::mutex>() : std::unique_lock<std::mutex>(mu_);
  }

  const std::string investigation_id_;
  const size_t max_queue_;
  const std::function<void()> wake_;
  Executor* const executor_;  // null: unbound
  std::mutex mu_;
  std::vector<SharedEventPtr> queue_;  // Guarded by Lock()
  engine::SnapshotPtr snapshot_;       // Guarded by Lock()
  bool overflowed_ = false;            // Guarded by Lock()
  bool armed_ = true;                  // Guarded by Lock()
  size_t index_ = 0;                   // position in its list; Guarded by the hub's mu_
};

using SubscriberPtr = std::shared_ptr<Subscriber>;

struct HubOptions {
  size_t max_queue = 4096;  // LIVE_QUEUE_MAX_EVENTS: events waiting per subscriber
};

class Hub {
 public:
  explicit Hub(HubOptions options = {}) : options_(options) {}
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // Registers with the engine (before engine.Start) so that every commit is published.
  void Attach(engine::Engine& engine);

  // Follows an investigation from now on. `wake` is called when something arrives after a Take:
  // on `executor`'s thread when one is given (call Subscribe there), on the publishing thread
  // otherwise; outside every hub lock either way. The executor must outlive the subscription.
  SubscriberPtr Subscribe(const std::string& investigation_id, std::function<void()> wake,
                          Executor* executor = nullptr);
  // Idempotent.
  void Unsubscribe(const SubscriberPtr& subscriber);

  // A commit: its snapshot and its events, in id order.
  void Publish(const engine::SnapshotPtr& snapshot, std::span<const SharedEventPtr> events);

  struct Stats {
    uint64_t topics = 0;       // investigations with at least one subscriber
    uint64_t subscribers = 0;  // now
    uint64_t published = 0;    // events published to at least one subscriber
    uint64_t pushed = 0;       // event deliveries queued (events × subscribers)
    uint64_t overflowed = 0;   // subscribers cut for falling behind
  };
  Stats stats() const;
  LiveMetrics& metrics() { return metrics_; }
  // The most subscribers any one investigation has now (0 without any): an aggregate, so that
  // /metrics never carries an investigation's id.
  uint64_t MaxSubscribersPerInvestigation() const;

 private:
  // The subscribers of one investigation bound to one executor. The map entry that holds it is
  // made and erased under mu_; its members are touched on the executor's thread only (where
  // Subscribe, Unsubscribe and the deliveries of its subscribers run).
  struct Commit {
    engine::SnapshotPtr snapshot;
    std::vector<SharedEventPtr> events;
  };
  struct Local {
    // On the executor's thread only (where Subscribe, Unsubscribe and the passes run):
    std::vector<SubscriberPtr> subscribers;  // null where one left during a pass
    std::vector<SubscriberPtr> retired;      // those, alive until the pass is over
    // The pass under way: pushing `events` (every commit it took, in order) and `snapshot` (the
    // newest) to subscribers[next, end), a chunk per task.
    bool in_pass = false;
    std::vector<SharedEventPtr> events;
    engine::SnapshotPtr snapshot;
    size_t next = 0, end = 0;
    // Guarded by mu_: commits published and not yet taken by a pass, and whether a task is posted
    // or a pass under way to take them. The commits that come during a pass go out together in
    // the next — one send per subscriber for all of them.
    std::vector<std::shared_ptr<const Commit>> inbox;
    bool posted = false;
  };
  struct Topic {
    std::vector<SubscriberPtr> unbound;
    std::unordered_map<Executor*, std::unique_ptr<Local>> locals;
    size_t count = 0;  // subscribers, bound and unbound
  };
  // On `executor`'s thread: the next chunk of the pass under way through the investigation's
  // subscribers there, or a new pass with the commits in the inbox.
  void Deliver(Executor* executor, const std::string& investigation_id);
  // Posts Deliver to `executor`: the task of the investigation's Local there.
  void PostDeliver(Executor* executor, const std::string& investigation_id);
  // A task that will never run: the Local's pass and inbox are dropped, and it is tidied.
  void Abandon(Executor* executor, const std::string& investigation_id);
  // Under mu_, with no pass under way in `local`: closes the gaps left by the ones that left
  // meanwhile, and removes `local` (and the topic) when nobody is left. Hands back the retired
  // subscribers, to be released outside the lock.
  std::vector<SubscriberPtr> Tidy(const std::string& investigation_id, Topic& topic,
                                  Executor* executor, Local& local);
  void Count(size_t events, size_t subscribers, uint64_t cut);
  static void SwapRemove(std::vector<SubscriberPtr>& list, size_t i);

  const HubOptions options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Topic> topics_;  // Guarded by mu_
  uint64_t subscribers_ = 0;                       // Guarded by mu_
  std::atomic<uint64_t> published_{0}, pushed_{0}, overflowed_{0};
  LiveMetrics metrics_;
};

}  // namespace vigil::live
