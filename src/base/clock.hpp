// Time enters vigil through Clock, so that core stays pure and tests can move time by hand: wall
// time (for timestamps and cursors, which may step back) and monotonic time (for durations and
// latencies, which never do).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil {

class Clock {
 public:
  virtual ~Clock() = default;
  using SteadyTime = std::chrono::steady_clock::time_point;

  // Wall-clock milliseconds since the Unix epoch. May step back; callers must not assume order.
  virtual int64_t NowMs() const = 0;
  // Monotonic time: never steps back; only differences mean anything.
  virtual SteadyTime SteadyNow() const = 0;
  int64_t MonotonicNs() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyNow().time_since_epoch())
        .count();
  }
};

// The system's clocks.
class SystemClock final : public Clock {
 public:
  int64_t NowMs() const override;
  SteadyTime SteadyNow() const override { return std::chrono::steady_clock::now(); }
};

// A clock that only moves when told to; for tests. Not thread-safe to move while others read.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t now_ms) : now_ms_(now_ms) {}
  int64_t NowMs() const override { return now_ms_; }
  SteadyTime SteadyNow() const override { return steady_; }
  // Sets the wall clock alone, as a time step does (back or forward): monotonic time stays.
  void Set(int64_t now_ms) { now_ms_ = now_ms; }
  // Time passes: both clocks move.
  void Advance(int64_t ms) {
    now_ms_ += ms;
    steady_ += std::chrono::milliseconds(ms);
  }

 private:
  int64_t now_ms_;
  SteadyTime steady_{std::chrono::hours(1)};
};

// "2026-11-22T09:30:00.123Z": ISO-8601 UTC with milliseconds, the only time format on the wire.
std::string FormatIsoMs(int64_t epoch_ms);
// Parses the same format (also without milliseconds, and with "+00:00" for "Z").
std::optional<int64_t> ParseIsoMs(std::string_view text);

}  // namespace vigil
