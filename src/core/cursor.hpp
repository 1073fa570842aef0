// EventId: the one cursor of vigil, "{timestamp_ms}_{sequence:06d}" (e.g. 1730668800000_000127).
//
// The same id is an event's identity, the /events `since` cursor, the SSE `id:` field and the
// WebSocket resume point. Ids are assigned at append under the investigation's write lock and are
// strictly increasing per investigation, even when the wall clock steps back:
//   ts = max(now_ms, last.ts); seq = ts == last.ts ? last.seq + 1 : 0
// and when seq would pass 999999 the id moves to the next millisecond.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::core {

struct EventId {
  int64_t ts_ms = 0;
  int32_t seq = 0;

  friend auto operator<=>(const EventId&, const EventId&) = default;
  bool IsZero() const { return ts_ms == 0 && seq == 0; }
};

inline constexpr int32_t kMaxSequence = 999'999;

// "1730668800000_000127". The timestamp is written without padding, the sequence with six digits.
std::string FormatEventId(EventId id);

// Accepts exactly the format FormatEventId writes: digits without a leading zero, one '_', six
// digits; no sign, no spaces; the timestamp at most 15 digits. Anything else is nullopt.
std::optional<EventId> ParseEventId(std::string_view text);

// The id to assign to the next event, given the previous one (zero for an empty log) and now.
EventId NextEventId(EventId last, int64_t now_ms);

}  // namespace vigil::core
