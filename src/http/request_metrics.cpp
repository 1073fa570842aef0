#include "http/request_metrics.hpp"

#include <atomic>

namespace vigil::http {
namespace {

std::string Labels(Method method, std::string_view route, char status_class) {
  return "method=\"" + std::string(MethodName(method)) + "\",route=\"" +
         MetricLabelValue(route.empty() ? std::string_view("other") : route) + "\",status=\"" +
         status_class + "xx\"";
}

std::atomic<uint64_t> next_id{1};

}  // namespace

RequestMetrics::RequestMetrics() : id_(next_id.fetch_add(1, std::memory_order_relaxed)) {}

void RequestMetrics::Observe(Method method, std::string_view route, int status, int64_t ns) {
  const char status_class =
      status >= 100 && status <= 599 ? static_cast<char>('0' + status / 100) : '5';
  const Key key{method, route.empty() ? nullptr : route.data(), route.size(), status_class};
  // A connection's requests mostly go to the route of the one before: each thread remembers its
  // last series, and takes the lock only for another.
  struct Last {
    uint64_t owner = 0;
    Key key;
    LatencyHistogram* series = nullptr;
  };
  thread_local Last last;
  LatencyHistogram* series = nullptr;
  if (last.owner == id_ && last.key == key) {
    series = last.series;
  } else {
    std::lock_guard lock(mu_);
    std::unique_ptr<LatencyHistogram>& slot = series_[key];
    if (!slot) slot = std::make_unique<LatencyHistogram>();
    series = slot.get();
    last = {id_, key, series};
  }
  series->Observe(ns);  // series are never removed: the pointer stays good
}

void RequestMetrics::Write(std::string& out) const {
  std::lock_guard lock(mu_);
  WriteMetricHead(out, "vigil_http_requests_total",
                  "HTTP requests answered, by method, route pattern and status class.", "counter");
  for (const auto& [key, series] : series_) {
    const auto& [method, route, route_size, status_class] = key;
    out.append("vigil_http_requests_total{")
        .append(Labels(method, std::string_view(route, route_size), status_class))
        .append("} ")
        .append(std::to_string(series->count()))
        .append("\n");
  }
  WriteMetricHead(out, "vigil_http_request_duration_seconds",
                  "From a request read to its answer written, by method, route pattern and status "
                  "class.",
                  "histogram");
  for (const auto& [key, series] : series_) {
    const auto& [method, route, route_size, status_class] = key;
    series->WriteSeries(out, "vigil_http_request_duration_seconds",
                        Labels(method, std::string_view(route, route_size), status_class));
  }
}

}  // namespace vigil::http
