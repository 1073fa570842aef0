// A latency histogram with fixed bounds, in the Prometheus text format, for /metrics: lock-free,
// updated by whoever measures. What any program could use: no I/O.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace vigil {

// "# HELP <name> <help>" and "# TYPE <name> <type>": the head of a metric family.
void WriteMetricHead(std::string& out, std::string_view name, std::string_view help,
                     std::string_view type);

// A label's value as the text format wants it: backslash, double quote and newline escaped.
std::string MetricLabelValue(std::string_view value);

// Bounds in seconds; Prometheus' shape: cumulative buckets, _sum and _count.
class LatencyHistogram {
 public:
  static constexpr std::array<double, 12> kBounds = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
                                                     0.1,   0.2,   0.5,   1.0,  2.0,  5.0};
  void Observe(int64_t ns);
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  // The family's head, then its one series.
  void Write(std::string& out, const char* name, const char* help) const;
  // One series of a family with labels (`labels`: `a="x",b="y"`, already escaped), no head.
  void WriteSeries(std::string& out, std::string_view name, std::string_view labels) const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> counts_{};  // the last: above every bound
  std::atomic<uint64_t> sum_ns_{0};
  std::atomic<uint64_t> count_{0};
};

}  // namespace vigil
