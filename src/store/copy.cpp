#include "store/copy.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace vigil::store {
namespace {

bool SameRow(const InvestigationRow& a, const InvestigationRow& b) {
  return a.id == b.id && a.owner == b.owner && a.name == b.name && a.state == b.state &&
         a.run_id == b.run_id && a.version == b.version && a.last_event_id == b.last_event_id &&
         a.created_at_ms == b.created_at_ms && a.updated_at_ms == b.updated_at_ms &&
         a.completion_percent == b.completion_percent && a.snapshot_json == b.snapshot_json;
}

Error Prefixed(std::string prefix, Error error) {
  error.message = std::move(prefix) + error.message;
  return error;
}

// Every investigation of the source, newest first, a page at a time: `visit` is called with each
// page until the store has no more or `visit` fails.
template <typename Visit>
Result<void> ForEachPage(Store& from, size_t page_size, Visit&& visit) {
  InvestigationQuery query;
  query.limit = page_size;
  for (;;) {
    auto page = from.ListInvestigations(query);
    if (!page) return Fail(Prefixed("reading the source: ", std::move(page.error())));
    if (page->empty()) return {};
    query.after = std::make_pair(page->back().created_at_ms, page->back().id);
    const bool last = page->size() < page_size;
    if (auto done = visit(*page); !done) return done;
    if (last) return {};
  }
}

// Appends the events of `row` (those up to its last event id: the row and its log agree there) to
// `tx` in batches; fails when their number is not the row's version.
Result<int64_t> CopyLog(Store& from, WriteTransaction& tx, const InvestigationRow& row,
                        size_t batch) {
  EventQuery query;
  query.investigation_id = row.id;
  query.limit = batch;
  int64_t copied = 0;
  while (query.after < row.last_event_id) {
    auto events = from.ReadEvents(query);
    if (!events) return Fail(Prefixed("reading the source: ", std::move(events.error())));
    if (events->empty()) break;
    size_t keep = 0;
    while (keep < events->size() && (*events)[keep].id <= row.last_event_id) ++keep;
    if (keep > 0) {
      if (auto appended = tx.AppendEvents(std::span(events->data(), keep)); !appended) {
        return Fail(Prefixed("writing the target: ", std::move(appended.error())));
      }
    }
    copied += static_cast<int64_t>(keep);
    if (keep < events->size() || events->size() < batch) break;
    query.after = events->back().id;
  }
  if (copied != row.version) {
    return Fail(ErrorCode::kConflict, "investigation '" + row.id + "' is at version " +
                                          std::to_string(row.version) + " but its log up to " +
                                          core::FormatEventId(row.last_event_id) + " holds " +
                                          std::to_string(copied) + " events; nothing was copied");
  }
  return copied;
}

}  // namespace

Result<CopyReport> CopyStore(Store& from, Store& to, const CopyOptions& options,
                             const CopyProgress& progress) {
  const size_t page_size = std::max<size_t>(options.investigations_per_page, 1);
  const size_t batch = std::max<size_t>(options.events_per_batch, 1);

  auto existing = to.ListInvestigations({.limit = 1});
  if (!existing) return Fail(Prefixed("reading the target: ", std::move(existing.error())));
  if (!existing->empty()) {
    return Fail(ErrorCode::kConflict,
                "the target is not empty (it holds investigation '" + existing->front().id +
                    "' and maybe more): copy only into a new, migrated database, so that no "
                    "investigation or event id can collide; nothing was written");
  }

  auto tx = to.BeginWrite();
  if (!tx) return Fail(Prefixed("writing the target: ", std::move(tx.error())));
  CopyReport report;
  std::vector<InvestigationHead> copied;  // in the source's order
  auto copy_page = [&](const std::vector<InvestigationRow>& page) -> Result<void> {
    for (const InvestigationRow& row : page) {
      if (auto inserted = (*tx)->InsertInvestigation(row); !inserted) {
        return Fail(Prefixed("writing the target: ", std::move(inserted.error())));
      }
      auto events = CopyLog(from, **tx, row, batch);
      if (!events) return Fail(std::move(events.error()));
      report.events += *events;
      ++report.investigations;
      copied.push_back({row.id, row.version});
    }
    if (progress) progress(report);
    return {};
  };
  if (auto done = ForEachPage(from, page_size, copy_page); !done) return Fail(done.error());

  // Before committing: the source must still be what was copied (nobody wrote to it meanwhile).
  size_t next = 0;
  auto unchanged = [&](const std::vector<InvestigationRow>& page) -> Result<void> {
    for (const InvestigationRow& row : page) {
      if (next >= copied.size() || copied[next].id != row.id ||
          copied[next].version != row.version) {
        return Fail(ErrorCode::kConflict,
                    "the source changed during the copy (investigation '" + row.id +
                        "'): stop every server that writes to it and copy again; nothing was "
                        "written to the target");
      }
      ++next;
    }
    return {};
  };
  if (auto same = ForEachPage(from, page_size, unchanged); !same) return Fail(same.error());
  if (next != copied.size()) {
    return Fail(ErrorCode::kConflict,
                "the source changed during the copy (investigations were removed): stop every "
                "server that writes to it and copy again; nothing was written to the target");
  }
  if (auto committed = (*tx)->Commit(); !committed) {
    return Fail(Prefixed("committing the target: ", std::move(committed.error())));
  }
  tx->reset();

  // After: the target, read back, holds the same rows in the same order as the source, and so the
  // same versions and heads (the events were counted against them before the commit).
  InvestigationQuery query;
  query.limit = page_size;
  int64_t compared = 0;
  auto compare = [&](const std::vector<InvestigationRow>& page) -> Result<void> {
    auto theirs = to.ListInvestigations(query);
    if (!theirs) return Fail(Prefixed("reading the target back: ", std::move(theirs.error())));
    for (size_t i = 0; i < page.size(); ++i) {
      if (i >= theirs->size() || !SameRow(page[i], (*theirs)[i])) {
        return Fail(ErrorCode::kInternal,
                    "the copy was committed, but the target read back differs from the source at "
                    "investigation '" +
                        page[i].id + "'");
      }
    }
    compared += static_cast<int64_t>(page.size());
    query.after = std::make_pair(page.back().created_at_ms, page.back().id);
    return {};
  };
  if (auto same = ForEachPage(from, page_size, compare); !same) return Fail(same.error());
  auto extra = to.ListInvestigations(query);
  if (!extra) return Fail(Prefixed("reading the target back: ", std::move(extra.error())));
  if (compared != report.investigations || !extra->empty()) {
    return Fail(ErrorCode::kInternal,
                "the copy was committed, but the target read back holds " +
                    std::to_string(compared + static_cast<int64_t>(extra->size())) +
                    " investigations or more where the source has " +
                    std::to_string(report.investigations));
  }
  return report;
}

}  // namespace vigil::store
