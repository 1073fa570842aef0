// HotCache: the investigations kept in memory — each one's newest snapshot and its recent
// events (RecentLog), installed together — bounded in count, the least recently used dropped.
//
// The store has everything, so a dropped investigation is folded again when next used; two rules
// keep that safe, and they are this class's whole reason to exist:
//   * a commit to an investigation not in memory (dropped since its job began) leaves it cold,
//     unless the commit creates it: a tail made of one commit would claim a history it lacks;
//   * a load installs what it read only if nothing was dropped since it began reading (the
//     eviction generation), since what was dropped may have been newer than what it read.
//
// Thread-safety: every method may be called from any thread. Snapshots and logs that leave the
// cache are destroyed after its lock is released.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/event.hpp"
#include "engine/recent_log.hpp"
#include "engine/shared_event.hpp"
#include "engine/snapshot.hpp"
#include "store/store.hpp"

namespace vigil::engine {

using SnapshotPtr = std::shared_ptr<const Snapshot>;

struct HotCacheOptions {
  size_t hot_max = 10'000;        // investigations kept; past it the least recently used tenth go
  size_t recent_events = 10'000;  // events of each kept in memory,
  size_t recent_bytes = 4 << 20;  // and at most this many bytes of them
};

class HotCache {
 public:
  explicit HotCache(HotCacheOptions options) : options_(options) {}

  // The snapshot in memory, or nullptr. Never blocks on I/O: the path of every poll.
  SnapshotPtr Find(const std::string& id) const;
  // The recent events of an investigation in memory, or nullptr. Holds at least the events up to
  // any snapshot a caller has seen.
  std::shared_ptr<const RecentLog> Recent(const std::string& id) const;

  // Taken before a load reads the store; given back to InstallLoaded.
  uint64_t Generation() const;
  // After a commit: appends `events` to the investigation's recent log, then installs `snapshot`
  // (or leaves the investigation cold, as above).
  void InstallCommitted(const SnapshotPtr& snapshot, std::span<const core::Event> events,
                        std::span<const SharedEventPtr> shared);
  // After a load that folded `log` (the whole log), begun at `generation`: installs both unless a
  // newer version is in memory, or something was dropped meanwhile; returns the snapshot to
  // answer with.
  SnapshotPtr InstallLoaded(SnapshotPtr snapshot, std::span<const core::Event> log,
                            uint64_t generation);
  // The id and version of every investigation in memory.
  std::vector<store::InvestigationHead> Heads() const;
  // Drops an investigation (found stale); it is folded again when next used.
  void Forget(const std::string& id);

  struct Counts {
    uint64_t hot = 0;               // investigations in memory now
    uint64_t recent_log_bytes = 0;  // bytes of their recent events
    uint64_t evictions = 0;         // investigations dropped for room, in all
  };
  Counts counts() const;

 private:
  struct Hot {
    SnapshotPtr snapshot;
    std::shared_ptr<RecentLog> log;
    mutable std::atomic<uint64_t> last_used{0};  // a UseTick, for eviction; about a ms coarse

    Hot() = default;
    Hot(SnapshotPtr s, std::shared_ptr<RecentLog> l) : snapshot(std::move(s)), log(std::move(l)) {}
    Hot(Hot&& other) noexcept
        : snapshot(std::move(other.snapshot)),
          log(std::move(other.log)),
          last_used(other.last_used.load()) {}
  };
  // Requires mu_ held exclusively. When more than hot_max investigations are in memory, moves the
  // least recently used tenth into `evicted` (for the caller to destroy after unlocking). `keep`
  // (the investigation just used) is never dropped.
  void EvictLocked(std::vector<Hot>& evicted, const std::string& keep);
  // Nanoseconds of a monotonic clock, for last_used.
  static uint64_t UseTick();

  const HotCacheOptions options_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, Hot> cache_;  // Guarded by mu_
  uint64_t generation_ = 0;                     // Guarded by mu_; bumped by each drop
  uint64_t evictions_ = 0;                      // Guarded by mu_
};

}  // namespace vigil::engine
