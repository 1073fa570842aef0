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

#include "base/result.hpp"

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

// The position just before `id` in the cursor order: reading after it starts at `id` itself.
// Zero for zero.
EventId EventIdBefore(EventId id);

// How old a cursor that a client sends back may be: the /events `since`, the SSE Last-Event-ID
// (or ?last_event_id=), the WebSocket `after`. One rule for all of them:
//   * the id of an event of the investigation's log is always usable, however old: vigil handed
//     it out (a page's next_cursor, a snapshot's last_event_id, an SSE id:), and the log is never
//     trimmed, so a log older than the expiry can still be paged and resumed;
//   * any other position older than `max_age_ms` (EVENT_FEED_CURSOR_EXPIRY_DAYS) is expired;
//   * 0_000000, the start of the log, never is.
// Whether a cursor names an event takes a read of the log, which the caller makes only when
// MustNameEvent says that the answer depends on it.
class CursorExpiry {
 public:
  explicit CursorExpiry(int64_t max_age_ms) : max_age_ms_(max_age_ms) {}

  // Whether `cursor` is older than the expiry at `now_ms`, so usable only as an event's id.
  bool MustNameEvent(EventId cursor, int64_t now_ms) const;
  // Nothing when `cursor` may be used; otherwise kInvalidArgument "cursor expired: ...", naming
  // `field` and saying where to start again. `names_event`: whether `cursor` is the id of an
  // event of the log; only looked at when MustNameEvent.
  Result<void> Check(EventId cursor, bool names_event, int64_t now_ms,
                     std::string field = {}) const;

 private:
  int64_t max_age_ms_;
};

}  // namespace vigil::core
