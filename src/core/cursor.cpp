#include "core/cursor.hpp"

#include <algorithm>
#include <charconv>

namespace vigil::core {

std::string FormatEventId(EventId id) {
  // Digit by digit: every event written to a feed or a stream formats its id.
  char buf[32];
  char* end = std::to_chars(buf, buf + 20, id.ts_ms).ptr;
  *end++ = '_';
  int32_t seq = id.seq;
  for (int i = 5; i >= 0; --i, seq /= 10) end[i] = static_cast<char>('0' + seq % 10);
  return std::string(buf, static_cast<size_t>(end + 6 - buf));
}

std::optional<EventId> ParseEventId(std::string_view text) {
  size_t us = text.find('_');
  if (us == std::string_view::npos || us == 0 || us > 15) return std::nullopt;
  std::string_view ts = text.substr(0, us), seq = text.substr(us + 1);
  if (seq.size() != 6) return std::nullopt;
  auto all_digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!all_digits(ts) || !all_digits(seq)) return std::nullopt;
  if (ts.size() > 1 && ts.front() == '0') return std::nullopt;  // one spelling per id
  EventId id;
  std::from_chars(ts.data(), ts.data() + ts.size(), id.ts_ms);
  std::from_chars(seq.data(), seq.data() + seq.size(), id.seq);
  return id;
}

EventId NextEventId(EventId last, int64_t now_ms) {
  if (now_ms > last.ts_ms) return {now_ms, 0};
  if (last.seq < kMaxSequence) return {last.ts_ms, last.seq + 1};
  return {last.ts_ms + 1, 0};
}

EventId EventIdBefore(EventId id) {
  if (id.IsZero()) return id;
  if (id.seq > 0) return {id.ts_ms, id.seq - 1};
  return {id.ts_ms - 1, kMaxSequence};
}

bool CursorExpiry::MustNameEvent(EventId cursor, int64_t now_ms) const {
  return !cursor.IsZero() && cursor.ts_ms < now_ms - max_age_ms_;
}

Result<void> CursorExpiry::Check(EventId cursor, bool names_event, int64_t now_ms,
                                 std::string field) const {
  if (!MustNameEvent(cursor, now_ms) || names_event) return {};
  constexpr int64_t kDayMs = 86'400'000;
  std::string age = max_age_ms_ % kDayMs == 0 ? std::to_string(max_age_ms_ / kDayMs) + " days"
                                              : std::to_string(max_age_ms_) + " ms";
  return Fail(ErrorCode::kInvalidArgument,
              "cursor expired: " + FormatEventId(cursor) + " is older than " + age +
                  " and is not an event of this investigation; start again from 0_000000 (the "
                  "start of the log) or from the investigation's last_event_id",
              std::move(field));
}

}  // namespace vigil::core
