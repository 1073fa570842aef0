#include "live/metrics.hpp"

#include <cstdio>

namespace vigil::live {

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
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" histogram\n");
  uint64_t cumulative = 0;
  char line[160];
  for (size_t i = 0; i <= kBounds.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    if (i < kBounds.size()) {
      std::snprintf(line, sizeof line, "%s_bucket{le=\"%g\"} %llu\n", name, kBounds[i],
                    static_cast<unsigned long long>(cumulative));
    } else {
      std::snprintf(line, sizeof line, "%s_bucket{le=\"+Inf\"} %llu\n", name,
                    static_cast<unsigned long long>(cumulative));
    }
    out.append(line);
  }
  std::snprintf(line, sizeof line, "%s_sum %.6f\n%s_count %llu\n", name,
                static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9, name,
                static_cast<unsigned long long>(count_.load(std::memory_order_relaxed)));
  out.append(line);
}

}  // namespace vigil::live
