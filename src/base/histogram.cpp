#include "base/histogram.hpp"

#include <cstdio>

namespace vigil {

void WriteMetricHead(std::string& out, std::string_view name, std::string_view help,
                     std::string_view type) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

std::string MetricLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '\\' || c == '"') out += '\\';
    out += c;
  }
  return out;
}

void LatencyHistogram::Observe(int64_t ns) {
  if (ns < 0) ns = 0;
  const double seconds = static_cast<double>(ns) / 1e9;
  size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<uint64_t>(ns), std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

void LatencyHistogram::Write(std::string& out, const char* name, const char* help) const {
  WriteMetricHead(out, name, help, "histogram");
  WriteSeries(out, name, "");
}

void LatencyHistogram::WriteSeries(std::string& out, std::string_view name,
                                   std::string_view labels) const {
  const std::string n(name);
  const std::string with = labels.empty() ? "" : std::string(labels) + ",";
  const std::string braces = labels.empty() ? "" : "{" + std::string(labels) + "}";
  uint64_t cumulative = 0;
  char bound[32];
  for (size_t i = 0; i <= kBounds.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    if (i < kBounds.size()) {
      std::snprintf(bound, sizeof bound, "%g", kBounds[i]);
    } else {
      std::snprintf(bound, sizeof bound, "+Inf");
    }
    out.append(n).append("_bucket{").append(with).append("le=\"").append(bound).append("\"} ");
    out.append(std::to_string(cumulative)).append("\n");
  }
  char sum[64];
  std::snprintf(sum, sizeof sum, "%.6f",
                static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9);
  out.append(n).append("_sum").append(braces).append(" ").append(sum).append("\n");
  out.append(n).append("_count").append(braces).append(" ");
  out.append(std::to_string(count_.load(std::memory_order_relaxed))).append("\n");
}

}  // namespace vigil
