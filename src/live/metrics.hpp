// Counters of live delivery, for /metrics: lock-free, updated by the streams as they go.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "base/histogram.hpp"

namespace vigil::live {

using vigil::LatencyHistogram;  // base/histogram.hpp

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
