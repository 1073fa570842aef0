#include "live/hub.hpp"

#include <algorithm>

namespace vigil::live {

void Subscriber::Take(Taken& into) {
  into.events.clear();
  auto lock = Lock();
  into.events.swap(queue_);
  into.snapshot = std::move(snapshot_);
  snapshot_.reset();
  into.overflowed = overflowed_;
  armed_ = true;
}

bool Subscriber::Push(std::span<const SharedEventPtr> events, const engine::SnapshotPtr& snapshot) {
  bool wake = false;
  bool overflowed = false;
  {
    auto lock = Lock();
    if (overflowed_) return false;
    // Cut only a subscriber that already had a full queue waiting: one large commit does not
    // cut a reader that keeps up.
    if (queue_.size() >= max_queue_) {
      overflowed_ = overflowed = true;
      queue_.clear();
      queue_.shrink_to_fit();
      snapshot_.reset();
    } else {
      try {
        queue_.insert(queue_.end(), events.begin(), events.end());
        snapshot_ = snapshot;
      } catch (const std::bad_alloc&) {
        // Cut rather than skip: the follower ends and its client resumes from the log.
        overflowed_ = overflowed = true;
        queue_.clear();
        snapshot_.reset();
      }
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
             std::span<const SharedEventPtr> events) { Publish(snapshot, events); });
}

SubscriberPtr Hub::Subscribe(const std::string& investigation_id, std::function<void()> wake,
                             Executor* executor) {
  auto subscriber =
      std::make_shared<Subscriber>(investigation_id, options_.max_queue, std::move(wake), executor);
  std::lock_guard lock(mu_);
  Topic& topic = topics_[investigation_id];
  std::vector<SubscriberPtr>* list = &topic.unbound;
  if (executor) {
    std::unique_ptr<Local>& local = topic.locals[executor];
    if (!local) local = std::make_unique<Local>();
    list = &local->subscribers;
  }
  subscriber->index_ = list->size();
  list->push_back(subscriber);
  ++topic.count;
  ++subscribers_;
  return subscriber;
}

// Removes list[i] by moving the last one into its place: O(1) however many follow.
void Hub::SwapRemove(std::vector<SubscriberPtr>& list, size_t i) {
  if (i + 1 != list.size()) {
    list[i] = std::move(list.back());
    list[i]->index_ = i;
  }
  list.pop_back();
}

void Hub::Unsubscribe(const SubscriberPtr& subscriber) {
  if (!subscriber) return;
  std::lock_guard lock(mu_);
  auto it = topics_.find(subscriber->investigation_id());
  if (it == topics_.end()) return;
  Topic& topic = it->second;
  const size_t i = subscriber->index_;
  if (Executor* executor = subscriber->executor()) {
    auto local = topic.locals.find(executor);
    if (local == topic.locals.end()) return;
    auto& list = local->second->subscribers;
    if (i >= list.size() || list[i] != subscriber) return;  // already gone
    if (local->second->in_pass) {
      // A pass is walking the list: leave a gap (closed by Tidy) and keep the subscriber alive
      // until it is over, so that nothing moves or dies under it.
      local->second->retired.push_back(std::move(list[i]));
    } else {
      SwapRemove(list, i);
      // Kept while a task is posted for it: every task posted for an executor finds its Local.
      if (list.empty() && !local->second->posted) topic.locals.erase(local);
    }
  } else {
    auto& list = topic.unbound;
    if (i >= list.size() || list[i] != subscriber) return;  // already gone
    SwapRemove(list, i);
  }
  --topic.count;
  --subscribers_;
  if (topic.count == 0 && topic.locals.empty()) topics_.erase(it);
}

void Hub::Publish(const engine::SnapshotPtr& snapshot, std::span<const SharedEventPtr> events) {
  std::vector<SubscriberPtr> unbound;
  std::vector<Executor*> to_post;
  {
    std::lock_guard lock(mu_);
    auto it = topics_.find(snapshot->id());
    if (it == topics_.end()) return;
    Topic& topic = it->second;
    unbound = topic.unbound;
    if (!topic.locals.empty()) {
      auto commit = std::make_shared<const Commit>(
          Commit{snapshot, std::vector<SharedEventPtr>(events.begin(), events.end())});
      for (auto& [executor, local] : topic.locals) {
        local->inbox.push_back(commit);
        if (!local->posted) {
          local->posted = true;
          to_post.push_back(executor);
        }
      }
    }
  }
  published_.fetch_add(events.size(), std::memory_order_relaxed);
  for (Executor* executor : to_post) {
    PostDeliver(executor, snapshot->id());
  }
  uint64_t cut = 0;
  for (const SubscriberPtr& s : unbound) cut += s->Push(events, snapshot);
  Count(events.size(), unbound.size(), cut);
}

void Hub::Deliver(Executor* executor, const std::string& investigation_id) {
  // Subscribers per task: ~1 ms of sends, after which the thread's other handlers get a turn.
  constexpr size_t kChunk = 128;
  Topic* topic = nullptr;
  Local* local = nullptr;
  {
    std::lock_guard lock(mu_);
    auto it = topics_.find(investigation_id);
    if (it == topics_.end()) return;
    auto l = it->second.locals.find(executor);
    if (l == it->second.locals.end()) return;
    topic = &it->second;  // stays: it is not erased while `local` is in it
    local = l->second.get();
    if (!local->in_pass) {
      if (local->inbox.empty()) {  // defensive: a task only runs with commits waiting or a pass on
        local->posted = false;
        Tidy(investigation_id, *topic, executor, *local);
        return;
      }
      local->events.clear();
      for (const auto& commit : local->inbox) {
        local->events.insert(local->events.end(), commit->events.begin(), commit->events.end());
      }
      local->snapshot = local->inbox.back()->snapshot;
      local->inbox.clear();
      local->next = 0;
      // Who joins during the pass is not part of it: its snapshot or replay has these commits.
      local->end = local->subscribers.size();
      local->in_pass = true;
    }
  }
  // No lock from here: the list is this thread's. A push may wake a stream that writes, ends and
  // unsubscribes (a gap, closed by Tidy after the pass), or subscribes another (appended).
  uint64_t cut = 0;
  size_t pushed = 0;
  const size_t stop = std::min(local->end, local->next + kChunk);
  for (size_t i = local->next; i < stop; ++i) {
    Subscriber* s = local->subscribers[i].get();
    if (!s) continue;
    try {
      cut += s->Push(local->events, local->snapshot);  // an idle stream writes at once
    } catch (...) {
      local->next = i + 1;  // the pass goes on without it; the I/O thread logs what it was
      PostDeliver(executor, investigation_id);
      throw;
    }
    ++pushed;
  }
  local->next = stop;
  Count(local->events.size(), pushed, cut);
  if (local->next < local->end) return PostDeliver(executor, investigation_id);

  std::vector<SubscriberPtr> released;  // released after the lock
  bool again = false;
  {
    std::lock_guard lock(mu_);
    local->in_pass = false;
    local->events.clear();
    local->snapshot.reset();
    again = !local->inbox.empty();
    local->posted = again;
    released = Tidy(investigation_id, *topic, executor, *local);  // may remove `local`
  }
  if (again) PostDeliver(executor, investigation_id);
}

void Hub::PostDeliver(Executor* executor, const std::string& investigation_id) {
  // The task hands its Local back if it is destroyed without running (the executor shut down
  // and dropped it, or its thread stopped first): nothing is left waiting for a task that never
  // comes, and no Local is left behind for an executor that is gone.
  struct Task {
    Task(Hub* h, Executor* e, std::string i) : hub(h), executor(e), id(std::move(i)) {}
    Task(const Task&) = delete;
    Task& operator=(const Task&) = delete;
    ~Task() {
      if (!ran) hub->Abandon(executor, id);
    }
    Hub* const hub;
    Executor* const executor;
    const std::string id;
    bool ran = false;
  };
  auto task = std::make_shared<Task>(this, executor, investigation_id);
  executor->Post([task] {
    task->ran = true;
    task->hub->Deliver(task->executor, task->id);
  });
}

void Hub::Abandon(Executor* executor, const std::string& investigation_id) {
  std::vector<SubscriberPtr> released;  // released after the lock
  std::lock_guard lock(mu_);
  auto it = topics_.find(investigation_id);
  if (it == topics_.end()) return;
  auto l = it->second.locals.find(executor);
  if (l == it->second.locals.end()) return;
  Local& local = *l->second;
  local.in_pass = false;
  local.events.clear();
  local.snapshot.reset();
  local.inbox.clear();
  local.posted = false;
  released = Tidy(investigation_id, it->second, executor, local);
}

std::vector<SubscriberPtr> Hub::Tidy(const std::string& investigation_id, Topic& topic,
                                     Executor* executor, Local& local) {
  std::vector<SubscriberPtr> released;
  if (!local.retired.empty()) {
    auto& list = local.subscribers;
    list.erase(std::remove(list.begin(), list.end(), nullptr), list.end());
    for (size_t i = 0; i < list.size(); ++i) list[i]->index_ = i;
    released.swap(local.retired);
  }
  if (local.subscribers.empty() && !local.posted) {
    topic.locals.erase(executor);  // destroys `local`
    if (topic.count == 0 && topic.locals.empty()) topics_.erase(investigation_id);
  }
  return released;
}

void Hub::Count(size_t events, size_t subscribers, uint64_t cut) {
  if (cut) {
    overflowed_.fetch_add(cut, std::memory_order_relaxed);
    metrics_.slow_cut.fetch_add(cut, std::memory_order_relaxed);
  }
  pushed_.fetch_add(events * subscribers, std::memory_order_relaxed);
}

Hub::Stats Hub::stats() const {
  Stats s;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, topic] : topics_) s.topics += topic.count > 0;
    s.subscribers = subscribers_;
  }
  s.published = published_.load(std::memory_order_relaxed);
  s.pushed = pushed_.load(std::memory_order_relaxed);
  s.overflowed = overflowed_.load(std::memory_order_relaxed);
  return s;
}

uint64_t Hub::MaxSubscribersPerInvestigation() const {
  uint64_t most = 0;
  std::lock_guard lock(mu_);
  for (const auto& [id, topic] : topics_) most = std::max<uint64_t>(most, topic.count);
  return most;
}

}  // namespace vigil::live
