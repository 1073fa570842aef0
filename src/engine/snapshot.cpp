#include "engine/snapshot.hpp"

#include "base/json_text.hpp"
#include "core/etag.hpp"

namespace vigil::engine {

Snapshot::Snapshot(core::Investigation investigation) : inv_(std::move(investigation)) {
  progress_json_ = core::ProgressText(inv_);
  // The id and the creation time tell apart investigations (and databases) at the same version.
  etag_ = core::StrongETag(core::TagHasher().Add(inv_.id).Add(inv_.created_at_ms).Hash32(),
                           {.version = inv_.version});
}

const std::string& Snapshot::investigation_json() const {
  std::call_once(investigation_once_,
                 [this] { investigation_json_ = core::InvestigationText(inv_); });
  return investigation_json_;
}

}  // namespace vigil::engine
