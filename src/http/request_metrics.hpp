// Requests answered, for /metrics: a count and a latency histogram per method, route pattern and
// status class (2xx, 4xx, ...), in the Prometheus conventions (vigil_http_requests_total,
// vigil_http_request_duration_seconds). Labels come only from the router's patterns, never from
// paths or ids, so their number is bounded by the route table: a request no route matched is
// "other". The latency runs from the request read to its answer written (for a stream, to its
// hand-off).
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

#include "base/histogram.hpp"
#include "http/message.hpp"

namespace vigil::http {

class RequestMetrics {
 public:
  RequestMetrics();

  void Observe(Method method, std::string_view route, int status, int64_t ns);
  // Both families, heads included.
  void Write(std::string& out) const;

 private:
  // Method, route, status class digit. The route is the router's own copy of its pattern (it
  // outlives every request), kept by its address: a lookup per request allocates nothing and
  // compares no text. Empty: no route matched.
  using Key = std::tuple<Method, const char*, size_t, char>;
  const uint64_t id_;  // unique in the process: what a thread's last lookup remembers
  mutable std::mutex mu_;
  std::map<Key, std::unique_ptr<LatencyHistogram>> series_;  // Guarded by mu_ (the map)
};

}  // namespace vigil::http
