// Hub: who follows which investigation, and the hand-off of every committed event to them.
//
// The engine tells the hub of each commit on its writer thread, after the commit is durable and
// its snapshot installed (Publish), with each event as one SharedEvent (whose SSE and WebSocket
// frames are formatted at most once, on first use, and shared by every subscriber and by every
// replay from memory). The hub copies the topic's subscriber list under the hub's lock, and pushes
// to each subscriber outside it: one short lock per subscriber, then a wake-up call when the
// subscriber was waiting. Nothing here does I/O or waits for a reader.
//
// Each subscriber has a bounded queue: a commit that finds max_queue events already waiting cuts it
// (so it holds at most max_queue - 1 events plus one whole commit).
// One that falls too far behind is marked overflowed and its
// queue dropped; its stream then ends with a reason and the client resumes from the last event it
// got (the log is durable, so nothing is lost). A topic with no subscriber left is removed at once.
//
// Thread-safety: every method may be called from any thread.
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

#include "core/cursor.hpp"
#include "core/event.hpp"
#include "engine/engine.hpp"
#include "live/metrics.hpp"

namespace vigil::live {

// An event as it is delivered live: shared with the engine's recent log, frames formatted once.
using LiveEvent = engine::SharedEvent;
using LiveEventPtr = engine::SharedEventPtr;
using engine::MonotonicNs;

class Hub;

// One follower of one investigation.
class Subscriber {
 public:
  struct Taken {
    std::vector<LiveEventPtr> events;  // in id order
    engine::SnapshotPtr snapshot;      // the newest published, or null when none came
    bool overflowed = false;           // events were dropped: the follower must end
  };

  Subscriber(std::string investigation_id, size_t max_queue, std::function<void()> wake)
      : investigation_id_(std::move(investigation_id)),
        max_queue_(max_queue),
        wake_(std::move(wake)) {}

  const std::string& investigation_id() const { return investigation_id_; }
  // Everything published since the last Take. Arms the wake-up: the next Push calls `wake`.
  Taken Take();

 private:
  friend class Hub;
  // From the hub: appends, and wakes the follower when it was armed. True when this push
  // overflowed the queue.
  bool Push(std::span<const LiveEventPtr> events, const engine::SnapshotPtr& snapshot);

  const std::string investigation_id_;
  const size_t max_queue_;
  const std::function<void()> wake_;
  std::mutex mu_;
  std::vector<LiveEventPtr> queue_;  // Guarded by mu_
  engine::SnapshotPtr snapshot_;     // Guarded by mu_
  bool overflowed_ = false;          // Guarded by mu_
  bool armed_ = true;                // Guarded by mu_
  size_t index_ = 0;                 // position in its topic; Guarded by the hub's mu_
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

  // Follows an investigation from now on. `wake` is called (from the publishing thread, outside
  // every hub lock) when something arrives after a Take.
  SubscriberPtr Subscribe(const std::string& investigation_id, std::function<void()> wake);
  // Idempotent.
  void Unsubscribe(const SubscriberPtr& subscriber);

  // A commit: its snapshot and its events, in id order.
  void Publish(const engine::SnapshotPtr& snapshot, std::span<const LiveEventPtr> events);

  struct Stats {
    uint64_t topics = 0;       // investigations with at least one subscriber
    uint64_t subscribers = 0;  // now
    uint64_t published = 0;    // events published to at least one subscriber
    uint64_t pushed = 0;       // event deliveries queued (events × subscribers)
    uint64_t overflowed = 0;   // subscribers cut for falling behind
  };
  Stats stats() const;
  LiveMetrics& metrics() { return metrics_; }
  // Subscribers per investigation, for the ones that have any.
  std::vector<std::pair<std::string, uint64_t>> SubscribersByInvestigation() const;

 private:
  const HubOptions options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::vector<SubscriberPtr>> topics_;  // Guarded by mu_
  uint64_t subscribers_ = 0;                                            // Guarded by mu_
  std::atomic<uint64_t> published_{0}, pushed_{0}, overflowed_{0};
  LiveMetrics metrics_;
};

}  // namespace vigil::live
