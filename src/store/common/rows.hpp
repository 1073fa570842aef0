// What every store backend does the same way, whatever its client library: binding an
// investigation's row and an event to the columns they are kept in and reading them back, the
// errors a client is shown, and why a write was refused. Private to src/store/ (the backends link
// it); the pool of read connections is in pool.hpp.
//
// The readers are templates over a backend's result row, which must offer
//   std::string_view ColumnText(int column) const;   // valid until the row moves on
//   int64_t ColumnInt64(int column) const;
//   bool ColumnIsNull(int column) const;
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "store/store.hpp"

namespace vigil::store::common {

// An Error of `code` with the one sentence a client is told for it (a database's own text names
// tables, columns and hosts, so it goes to `cause`, for the log only): kUnavailable "retry later",
// kConflict "read the resource again", anything else "the database failed".
Error DatabaseError(ErrorCode code, std::string cause);

// Why a write was refused, in the caller's terms, the same from every backend.
Error InvestigationExists(const std::string& id);
// An update that changed nothing: kNotFound when there is no such investigation
// (`stored_version` nullopt), else kStaleVersion.
Error UpdateRefused(const std::string& id, std::optional<int64_t> stored_version,
                    std::optional<int64_t> expected_version);
// Which rule of the events table an append broke.
enum class AppendRule {
  kIdExists,         // (investigation, id) is taken: kConflict
  kKeyExists,        // (investigation, idempotency key) is taken: kConflict
  kIdNotAfterLast,   // ids increase per investigation: kConflict
  kNoInvestigation,  // kNotFound
};
Error AppendRefused(AppendRule rule, const core::Event& event);

// The parts of a stored row that need checking: kInternal when the database holds what this build
// never writes (an unknown state or type, a stored form without a data object).
// How a session's kind is stored.
inline const char* SessionKindName(SessionKind kind) {
  return kind == SessionKind::kSession ? "session" : "login_code";
}
// kConflict: a session or code with this id exists (ids are random: a second insert of one).
Error SessionExists();

Result<core::State> StoredState(std::string_view state, const std::string& investigation_id);
Result<core::EventType> StoredEventType(std::string_view type, const core::Event& event);
// Sets event.data from the "data" member of event.wire.
Result<void> DecodeStoredData(core::Event& event);

// Reads a row selected as
//   id, owner, name, state, run_id, version, last_ts, last_seq, created_at_ms, updated_at_ms,
//   completion_percent, snapshot
// A session row read as (token, expires_at_s).
template <typename Row>
SessionRow ReadSession(const Row& r, const std::string& id) {
  return SessionRow{id, std::string(r.ColumnText(0)), r.ColumnInt64(1)};
}

template <typename Row>
Result<InvestigationRow> ReadInvestigation(const Row& r) {
  InvestigationRow row;
  row.id = r.ColumnText(0);
  row.owner = r.ColumnText(1);
  row.name = r.ColumnText(2);
  auto state = StoredState(r.ColumnText(3), row.id);
  if (!state) return Fail(std::move(state.error()));
  row.state = *state;
  row.run_id = r.ColumnText(4);
  row.version = r.ColumnInt64(5);
  row.last_event_id.ts_ms = r.ColumnInt64(6);
  row.last_event_id.seq = static_cast<int32_t>(r.ColumnInt64(7));
  row.created_at_ms = r.ColumnInt64(8);
  row.updated_at_ms = r.ColumnInt64(9);
  row.completion_percent = static_cast<int>(r.ColumnInt64(10));
  row.snapshot_json = r.ColumnText(11);
  return row;
}

// Reads a row selected as ts_ms, seq, event_type, item, run_id, actor, idem_key; or, when `raw`,
// as ts_ms, seq, event_type, item (then only the id, type, investigation and wire form are set:
// EventQuery::raw_data).
template <typename Row>
Result<core::Event> ReadEvent(const Row& r, const std::string& investigation_id, bool raw) {
  core::Event event;
  event.id.ts_ms = r.ColumnInt64(0);
  event.id.seq = static_cast<int32_t>(r.ColumnInt64(1));
  event.investigation_id = investigation_id;
  auto type = StoredEventType(r.ColumnText(2), event);
  if (!type) return Fail(std::move(type.error()));
  event.type = *type;
  event.wire = r.ColumnText(3);
  if (raw) return event;
  event.run_id = r.ColumnText(4);
  event.actor = r.ColumnText(5);
  if (!r.ColumnIsNull(6)) event.key = r.ColumnText(6);
  if (auto decoded = DecodeStoredData(event); !decoded) return Fail(std::move(decoded.error()));
  return event;
}

// Binds every column of an investigation's row but the id, in the order
//   owner, name, state, run_id, version, last_ts, last_seq, created_at_ms, updated_at_ms,
//   completion_percent, snapshot
// to a backend's statement, which offers Bind(int64_t) and Bind(std::string_view), each binding
// the next parameter and returning the statement.
template <typename Statement>
void BindInvestigationFields(Statement& stmt, const InvestigationRow& row) {
  stmt.Bind(row.owner)
      .Bind(row.name)
      .Bind(core::StateName(row.state))
      .Bind(row.run_id)
      .Bind(row.version)
      .Bind(row.last_event_id.ts_ms)
      .Bind(int64_t{row.last_event_id.seq})
      .Bind(row.created_at_ms)
      .Bind(row.updated_at_ms)
      .Bind(int64_t{row.completion_percent})
      .Bind(row.snapshot_json);
}

// Binds an event's columns in the order
//   investigation_id, ts_ms, seq, run_id, event_type, actor, item, idem_key
// (item its wire form, idem_key NULL when it has none; BindNull() binds a NULL).
template <typename Statement>
void BindEventFields(Statement& stmt, const core::Event& event) {
  stmt.Bind(event.investigation_id)
      .Bind(event.id.ts_ms)
      .Bind(int64_t{event.id.seq})
      .Bind(event.run_id)
      .Bind(core::EventTypeName(event.type))
      .Bind(event.actor)
      .Bind(core::WireText(event));
  if (event.key.empty()) {
    stmt.BindNull();
  } else {
    stmt.Bind(event.key);
  }
}

// Sorted and without repeats, so that the SQL built for a filter depends only on how many distinct
// values it has (which bounds the statements each connection prepares), and repeats change
// nothing.
template <typename Enum>
std::vector<Enum> Distinct(std::vector<Enum> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return values;
}

}  // namespace vigil::store::common
