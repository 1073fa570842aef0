#include "engine/hot_cache.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>

namespace vigil::engine {

uint64_t HotCache::UseTick() {
  return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

SnapshotPtr HotCache::Find(const std::string& id) const {
  std::shared_lock lock(mu_);
  auto it = cache_.find(id);
  if (it == cache_.end()) return nullptr;
  // Written at most once a millisecond: pollers of one investigation do not all write its
  // cache line on every request.
  uint64_t now = UseTick();
  if (now - it->second.last_used.load(std::memory_order_relaxed) > 1'000'000) {
    it->second.last_used.store(now, std::memory_order_relaxed);
  }
  return it->second.snapshot;
}

std::shared_ptr<const RecentLog> HotCache::Recent(const std::string& id) const {
  std::shared_lock lock(mu_);
  auto it = cache_.find(id);
  return it == cache_.end() ? nullptr : it->second.log;
}

uint64_t HotCache::Generation() const {
  std::shared_lock lock(mu_);
  return generation_;
}

void HotCache::EvictLocked(std::vector<Hot>& evicted, const std::string& keep) {
  if (cache_.size() <= options_.hot_max) return;
  std::vector<std::pair<uint64_t, const std::string*>> ages;
  ages.reserve(cache_.size());
  for (const auto& [id, hot] : cache_) {
    if (id != keep) ages.emplace_back(hot.last_used.load(), &id);
  }
  if (ages.empty()) return;
  size_t drop = std::min(ages.size(), cache_.size() - options_.hot_max + options_.hot_max / 10);
  std::nth_element(ages.begin(), ages.begin() + static_cast<std::ptrdiff_t>(drop - 1), ages.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> victims;
  for (size_t i = 0; i < drop; ++i) victims.push_back(*ages[i].second);
  for (const std::string& id : victims) {
    auto it = cache_.find(id);
    evicted.push_back(Hot{std::move(it->second.snapshot), std::move(it->second.log)});
    cache_.erase(it);
  }
  ++generation_;
  evictions_ += victims.size();
}

void HotCache::InstallCommitted(const SnapshotPtr& snapshot, std::span<const core::Event> events,
                                std::span<const SharedEventPtr> shared) {
  std::vector<Hot> evicted;  // destroyed after the lock is released
  {
    std::unique_lock lock(mu_);
    auto it = cache_.find(snapshot->id());
    if (it == cache_.end()) {
      // Not in memory: either new, or dropped since the job opened it. A dropped one stays cold
      // (the next reader folds it from the store); a tail made of this commit alone would claim
      // a history it does not hold.
      if (events.empty() || events.front().type != core::EventType::kInvestigationCreated) {
        // A load that read the store before this commit must not install what it read: count
        // this as a drop, which such a load checks before installing.
        ++generation_;
        return;
      }
      it = cache_.try_emplace(snapshot->id()).first;
      it->second.log = std::make_shared<RecentLog>(options_.recent_events, options_.recent_bytes);
    }
    Hot& hot = it->second;
    // A load that read the store after this commit already holds these events.
    if (hot.snapshot && hot.snapshot->version() >= snapshot->version()) return;
    hot.log->Append(shared);
    hot.snapshot = snapshot;
    hot.last_used.store(UseTick(), std::memory_order_relaxed);
    EvictLocked(evicted, snapshot->id());
  }
}

SnapshotPtr HotCache::InstallLoaded(SnapshotPtr snapshot, std::span<const core::Event> log,
                                    uint64_t generation) {
  std::vector<Hot> evicted;  // destroyed after the lock is released
  std::unique_lock lock(mu_);
  auto it = cache_.find(snapshot->id());
  if (it == cache_.end() && generation != generation_) {
    // Something was dropped while this load read the store: it may have been this investigation
    // at a newer version than the one read. Answer with what was read; do not install it.
    return snapshot;
  }
  if (it == cache_.end()) it = cache_.try_emplace(snapshot->id()).first;
  Hot& hot = it->second;
  hot.last_used.store(UseTick(), std::memory_order_relaxed);
  if (hot.snapshot && hot.snapshot->version() >= snapshot->version()) return hot.snapshot;
  hot.log = std::make_shared<RecentLog>(options_.recent_events, options_.recent_bytes);
  hot.log->Append(log);  // keeps the newest within its bounds, and knows what it dropped
  hot.snapshot = std::move(snapshot);
  SnapshotPtr installed = hot.snapshot;
  EvictLocked(evicted, installed->id());  // may drop others, never the one just used
  return installed;
}

std::vector<store::InvestigationHead> HotCache::Heads() const {
  std::shared_lock lock(mu_);
  std::vector<store::InvestigationHead> heads;
  heads.reserve(cache_.size());
  for (const auto& [id, hot] : cache_) {
    if (hot.snapshot) heads.push_back({id, hot.snapshot->version()});
  }
  return heads;
}

void HotCache::Forget(const std::string& id) {
  std::optional<Hot> dropped;  // destroyed after the lock is released
  std::unique_lock lock(mu_);
  auto it = cache_.find(id);
  if (it == cache_.end()) return;
  dropped.emplace(std::move(it->second));
  cache_.erase(it);
  ++generation_;
}

HotCache::Counts HotCache::counts() const {
  std::shared_lock lock(mu_);
  Counts c;
  c.hot = cache_.size();
  c.evictions = evictions_;
  for (const auto& [id, hot] : cache_) {
    if (hot.log) c.recent_log_bytes += hot.log->bytes();
  }
  return c;
}

}  // namespace vigil::engine
