// Time enters vigil through Clock, so that core stays pure and tests can move time by hand.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock milliseconds since the Unix epoch. May step back; callers must not assume order.
  virtual int64_t NowMs() const = 0;
};

// The system's real-time clock.
class SystemClock final : public Clock {
 public:
  int64_t NowMs() const override;
};

// A clock that only moves when told to; for tests. Not thread-safe to Set while others read.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t now_ms) : now_ms_(now_ms) {}
  int64_t NowMs() const override { return now_ms_; }
  void Set(int64_t now_ms) { now_ms_ = now_ms; }
  void Advance(int64_t ms) { now_ms_ += ms; }

 private:
  int64_t now_ms_;
};

// "2026-11-22T09:30:00.123Z": ISO-8601 UTC with milliseconds, the only time format on the wire.
std::string FormatIsoMs(int64_t epoch_ms);
// Parses the same format (also without milliseconds, and with "+00:00" for "Z").
std::optional<int64_t> ParseIsoMs(std::string_view text);

}  // namespace vigil
