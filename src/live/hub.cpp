#include "live/hub.hpp"

namespace vigil::live {

Subscriber::Taken Subscriber::Take() {
  Taken taken;
  std::lock_guard lock(mu_);
  taken.events.swap(queue_);
  taken.snapshot = std::move(snapshot_);
  snapshot_.reset();
  taken.overflowed = overflowed_;
  armed_ = true;
  return taken;
}

bool Subscriber::Push(std::span<const LiveEventPtr> events, const engine::SnapshotPtr& snapshot) {
  bool wake = false;
  bool overflowed = false;
  {
    std::lock_guard lock(mu_);
    if (overflowed_) return false;
    // Cut only a subscriber that already had a full queue waiting: one large commit does not
    // cut a reader that keeps up.
    if (queue_.size() >= max_queue_) {
      overflowed_ = overflowed = true;
      queue_.clear();
      queue_.shrink_to_fit();
      snapshot_.reset();
    } else {
      queue_.insert(queue_.end(), events.begin(), events.end());
      snapshot_ = snapshot;
    }
    wake = armed_;
    armed_ = false;
  }
  if (wake && wake_) wake_();
  return overflowed;
}

void Hub::Attach(engine::Engine& engine) {
  engine.AddCommitListener(
      [this](const engine::SnapshotPtr& snapshot, std::span<const core::Event>,
             std::span<const LiveEventPtr> events) { Publish(snapshot, events); });
}

SubscriberPtr Hub::Subscribe(const std::string& investigation_id, std::function<void()> wake) {
  auto subscriber =
      std::make_shared<Subscriber>(investigation_id, options_.max_queue, std::move(wake));
  std::lock_guard lock(mu_);
  auto& subscribers = topics_[investigation_id];
  subscriber->index_ = subscribers.size();
  subscribers.push_back(subscriber);
  ++subscribers_;
  return subscriber;
}

void Hub::Unsubscribe(const SubscriberPtr& subscriber) {
  if (!subscriber) return;
  std::lock_guard lock(mu_);
  auto topic = topics_.find(subscriber->investigation_id());
  if (topic == topics_.end()) return;
  auto& subscribers = topic->second;
  size_t i = subscriber->index_;
  if (i >= subscribers.size() || subscribers[i] != subscriber) return;  // already gone
  // Swap with the last, so that removal is O(1) however many follow the investigation.
  if (i + 1 != subscribers.size()) {
    subscribers[i] = std::move(subscribers.back());
    subscribers[i]->index_ = i;
  }
  subscribers.pop_back();
  --subscribers_;
  if (subscribers.empty()) topics_.erase(topic);
}

void Hub::Publish(const engine::SnapshotPtr& snapshot, std::span<const LiveEventPtr> live) {
  std::vector<SubscriberPtr> subscribers;
  {
    std::lock_guard lock(mu_);
    auto topic = topics_.find(snapshot->id());
    if (topic == topics_.end()) return;
    subscribers = topic->second;
  }
  uint64_t cut = 0;
  for (const SubscriberPtr& s : subscribers) cut += s->Push(live, snapshot);
  if (cut) {
    overflowed_.fetch_add(cut, std::memory_order_relaxed);
    metrics_.slow_cut.fetch_add(cut, std::memory_order_relaxed);
  }
  published_.fetch_add(live.size(), std::memory_order_relaxed);
  pushed_.fetch_add(live.size() * subscribers.size(), std::memory_order_relaxed);
}

Hub::Stats Hub::stats() const {
  Stats s;
  {
    std::lock_guard lock(mu_);
    s.topics = topics_.size();
    s.subscribers = subscribers_;
  }
  s.published = published_.load(std::memory_order_relaxed);
  s.pushed = pushed_.load(std::memory_order_relaxed);
  s.overflowed = overflowed_.load(std::memory_order_relaxed);
  return s;
}

std::vector<std::pair<std::string, uint64_t>> Hub::SubscribersByInvestigation() const {
  std::vector<std::pair<std::string, uint64_t>> out;
  std::lock_guard lock(mu_);
  out.reserve(topics_.size());
  for (const auto& [id, subscribers] : topics_) out.emplace_back(id, subscribers.size());
  return out;
}

}  // namespace vigil::live
