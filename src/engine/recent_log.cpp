#include "engine/recent_log.hpp"

#include <algorithm>

namespace vigil::engine {

void RecentLog::Append(std::span<const SharedEventPtr> events) {
  std::lock_guard lock(mu_);
  for (const SharedEventPtr& e : events) {
    if (!(last_appended_ < e->id())) continue;  // held already (or dropped): never twice
    last_appended_ = e->id();
    bytes_ += e->wire().size();
    entries_.push_back(e);
    while (!entries_.empty() && (entries_.size() > max_events_ || bytes_ > max_bytes_)) {
      bytes_ -= entries_.front()->wire().size();
      last_dropped_ = entries_.front()->id();
      entries_.pop_front();
    }
  }
}

void RecentLog::Append(std::span<const core::Event> events) {
  std::vector<SharedEventPtr> shared;
  shared.reserve(events.size());
  for (const core::Event& e : events) shared.push_back(std::make_shared<const SharedEvent>(e));
  Append(shared);
}

std::optional<std::vector<RecentLog::Entry>> RecentLog::Read(core::EventId after, size_t limit,
                                                             std::span<const core::EventType> types,
                                                             bool* more) const {
  std::lock_guard lock(mu_);
  // Dropped events newer than `after` would be missing from the answer.
  if (after < last_dropped_) return std::nullopt;
  auto it = std::upper_bound(entries_.begin(), entries_.end(), after,
                             [](const core::EventId& id, const Entry& e) { return id < e->id(); });
  std::vector<Entry> out;
  out.reserve(std::min<size_t>(limit, static_cast<size_t>(entries_.end() - it)));
  *more = false;
  for (; it != entries_.end(); ++it) {
    if (!types.empty() && std::find(types.begin(), types.end(), (*it)->type()) == types.end()) {
      continue;
    }
    if (out.size() == limit) {
      *more = true;
      break;
    }
    out.push_back(*it);
  }
  return out;
}

size_t RecentLog::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

size_t RecentLog::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

}  // namespace vigil::engine
