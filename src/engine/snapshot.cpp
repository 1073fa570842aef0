#include "engine/snapshot.hpp"

#include <cstdio>

#include "core/json_text.hpp"

namespace vigil::engine {

namespace {
// FNV-1a; only has to tell investigations (and databases) apart, not resist anyone.
uint32_t Fnv1a(std::string_view s, uint32_t h = 2166136261u) {
  for (unsigned char c : s) h = (h ^ c) * 16777619u;
  return h;
}
}  // namespace

Snapshot::Snapshot(core::Investigation investigation) : inv_(std::move(investigation)) {
  progress_json_ = core::ProgressText(inv_);
  uint32_t h = Fnv1a(inv_.id);
  h = Fnv1a(std::to_string(inv_.created_at_ms), h);
  char buf[48];
  int n = std::snprintf(buf, sizeof buf, "\"%lld-%08x\"", static_cast<long long>(inv_.version), h);
  etag_.assign(buf, static_cast<size_t>(n));
}

const std::string& Snapshot::investigation_json() const {
  std::call_once(investigation_once_,
                 [this] { investigation_json_ = core::InvestigationText(inv_); });
  return investigation_json_;
}

}  // namespace vigil::engine
