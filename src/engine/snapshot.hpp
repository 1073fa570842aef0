// Snapshot: one investigation at one version, immutable once built, shared by every reader.
// Its JSON forms are serialized once, when the writer builds it, so that every poller of an
// unchanged investigation is answered with the same bytes and no work.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "core/investigation.hpp"

namespace vigil::engine {

class Snapshot {
 public:
  explicit Snapshot(core::Investigation investigation);

  const core::Investigation& investigation() const { return inv_; }
  const std::string& id() const { return inv_.id; }
  const std::string& owner() const { return inv_.owner; }
  int64_t version() const { return inv_.version; }
  core::State state() const { return inv_.state; }

  // The body of GET /progress, and its strong ETag ("<version>-<8 hex>"; the hex part tells apart
  // investigations and databases that reach the same version).
  const std::string& progress_json() const { return progress_json_; }
  const std::string& etag() const { return etag_; }
  // The body of GET /investigations/{id}: written on first use (it is read far less often than
  // every commit builds a snapshot), then shared.
  const std::string& investigation_json() const;

 private:
  core::Investigation inv_;
  std::string progress_json_;
  std::string etag_;
  mutable std::once_flag investigation_once_;
  mutable std::string investigation_json_;  // written once, under investigation_once_
};

}  // namespace vigil::engine
