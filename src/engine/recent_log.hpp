// RecentLog: the newest events of one investigation, in memory, as SharedEvents (their stored
// wire forms, and their stream frames once formatted).
//
// Pages of /events that start inside it (and, later, stream replays) are served from here without
// touching the store. It is bounded by event count and bytes: the oldest entries are dropped
// first, and it remembers the newest id it dropped, so it can tell whether it can answer a page
// whole or the reader must go to the store.
//
// The engine's writer appends after each commit, before the new snapshot is installed, so a
// reader that saw a snapshot at version v finds at least the events up to v here.
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/cursor.hpp"
#include "core/event.hpp"
#include "engine/shared_event.hpp"

namespace vigil::engine {

class RecentLog {
 public:
  using Entry = SharedEventPtr;

  RecentLog(size_t max_events, size_t max_bytes) : max_events_(max_events), max_bytes_(max_bytes) {}

  // Appends events in id order; an event not after the last one appended is skipped.
  void Append(std::span<const SharedEventPtr> events);
  void Append(std::span<const core::Event> events);

  // The events after `after` (exclusive), of `types` (all when empty), at most `limit`; sets
  // `*more` when further matching events exist here. nullopt when events after `after` may have
  // been dropped, so that only the store can answer.
  std::optional<std::vector<Entry>> Read(core::EventId after, size_t limit,
                                         std::span<const core::EventType> types, bool* more) const;

  size_t size() const;
  size_t bytes() const;

 private:
  const size_t max_events_;
  const size_t max_bytes_;
  mutable std::mutex mu_;
  std::deque<Entry> entries_;    // Guarded by mu_; ascending ids
  size_t bytes_ = 0;             // Guarded by mu_
  core::EventId last_dropped_;   // Guarded by mu_; zero while nothing was dropped
  core::EventId last_appended_;  // Guarded by mu_
};

}  // namespace vigil::engine
