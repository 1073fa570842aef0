// Copying every investigation and every event of one store into another, empty one: how a user who
// outgrows one machine moves a SQLite database into PostgreSQL (`vigil copy`) and keeps their
// history and cursors.
//
// Only the Store interface is used, so any backend copies into any other. What is copied is what
// the API serves, byte for byte: each investigation's row as stored (id, owner, name, state, run,
// version, last event id, times, snapshot) and each event with its id, run, type, actor, stored
// wire form and idempotency key. So /events pages, /progress ETags, and the ids clients resume
// from are the same on the target.
//
// The whole copy is one write transaction on the target: it commits completely or not at all, and
// a failed copy leaves the target empty, ready for another try. Investigations are read a page at
// a time and events a batch at a time, so memory does not grow with the store (only each
// investigation's id and version are kept, for the checks). Nothing must write to the source
// meanwhile (stop the server that serves it): a source that changed during the copy is detected
// before the commit, and the copy is rolled back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "base/result.hpp"
#include "store/store.hpp"

namespace vigil::store {

struct CopyOptions {
  size_t investigations_per_page = 500;  // investigations read from the source at once
  size_t events_per_batch = 1000;        // events read from the source and appended at once
};

struct CopyReport {
  int64_t investigations = 0;
  int64_t events = 0;
};

// Called after each page of investigations is copied (not yet committed), with the totals so far.
using CopyProgress = std::function<void(const CopyReport&)>;

// Copies everything in `from` into `to`, then reads both back and compares them.
// kConflict when `to` holds an investigation already (nothing is written), when an investigation's
// stored version is not the number of its events, or when `from` changed during the copy (rolled
// back); kInternal when the target read back after the commit differs from the source (the copy
// is committed then: the message says so). The stores' own errors otherwise (the target rolled
// back).
Result<CopyReport> CopyStore(Store& from, Store& to, const CopyOptions& options = {},
                             const CopyProgress& progress = {});

}  // namespace vigil::store
