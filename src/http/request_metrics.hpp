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
  void Observe(Method method, std::string_view route, int status, int64_t ns);
  // Both families, heads included.
  void Write(std::string& out) const;

 private:
  using Key = std::tuple<std::string, std::string, char>;  // method, route, status class digit
  mutable std::mutex mu_;
  std::map<Key, std::unique_ptr<LatencyHistogram>> series_;  // Guarded by mu_ (the map)
};

}  // namespace vigil::http
