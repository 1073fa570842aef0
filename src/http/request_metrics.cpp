#include "http/request_metrics.hpp"

namespace vigil::http {
namespace {

std::string Labels(const std::string& method, const std::string& route, char status_class) {
  return "method=\"" + method + "\",route=\"" + MetricLabelValue(route) + "\",status=\"" +
         status_class + "xx\"";
}

}  // namespace

void RequestMetrics::Observe(Method method, std::string_view route, int status, int64_t ns) {
  const char status_class =
      status >= 100 && status <= 599 ? static_cast<char>('0' + status / 100) : '5';
  Key key{std::string(MethodName(method)), route.empty() ? "other" : std::string(route),
          status_class};
  LatencyHistogram* series = nullptr;
  {
    std::lock_guard lock(mu_);
    std::unique_ptr<LatencyHistogram>& slot = series_[key];
    if (!slot) slot = std::make_unique<LatencyHistogram>();
    series = slot.get();
  }
  series->Observe(ns);  // series are never removed: the pointer stays good
}

void RequestMetrics::Write(std::string& out) const {
  std::lock_guard lock(mu_);
  WriteMetricHead(out, "vigil_http_requests_total",
                  "HTTP requests answered, by method, route pattern and status class.", "counter");
  for (const auto& [key, series] : series_) {
    const auto& [method, route, status_class] = key;
    out.append("vigil_http_requests_total{")
        .append(Labels(method, route, status_class))
        .append("} ")
        .append(std::to_string(series->count()))
        .append("\n");
  }
  WriteMetricHead(out, "vigil_http_request_duration_seconds",
                  "From a request read to its answer written, by method, route pattern and status "
                  "class.",
                  "histogram");
  for (const auto& [key, series] : series_) {
    const auto& [method, route, status_class] = key;
    series->WriteSeries(out, "vigil_http_request_duration_seconds",
                        Labels(method, route, status_class));
  }
}

}  // namespace vigil::http
