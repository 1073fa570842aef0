// Counters of live delivery, for /metrics: lock-free, updated by the streams as they go.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace vigil::live {

// A latency histogram with fixed bounds (seconds), in the Prometheus shape: cumulative buckets.
class LatencyHistogram {
 public:
  static constexpr std::array<double, 12> kBounds = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
                                                     0.1,   0.2,   0.5,   1.0,  2.0,  5.0};
  void Observe(int64_t ns);
  // "# HELP …", "# TYPE … histogram", the buckets, _sum and _count.
  void Write(std::string& out, const char* name, const char* help) const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> counts_{};  // the last: above every bound
  std::atomic<uint64_t> sum_ns_{0};
  std::atomic<uint64_t> count_{0};
};

struct LiveMetrics {
  std::atomic<int64_t> sse_open{0};  // SSE streams open now
  std::atomic<int64_t> ws_open{0};   // WebSockets open now
  std::atomic<int64_t> ws_subscriptions{0};
  std::atomic<uint64_t> sse_opened{0};  // since start
  std::atomic<uint64_t> ws_opened{0};
  std::atomic<uint64_t> frames_sent{0};   // SSE frames and WebSocket messages written
  std::atomic<uint64_t> events_sent{0};   // of which domain events
  std::atomic<uint64_t> replays{0};       // followers that resumed from the log
  std::atomic<uint64_t> resets{0};        // resume ids that could not be used
  std::atomic<uint64_t> slow_cut{0};      // subscribers whose queue overflowed (by the hub)
  std::atomic<uint64_t> ended{0};         // streams ended at a terminal state
  std::atomic<uint64_t> max_duration{0};  // SSE streams closed at their maximum duration
  std::atomic<uint64_t> refused{0};       // streams refused by a connection limit
  LatencyHistogram delivery;              // commit → written to the client's socket
};

}  // namespace vigil::live
