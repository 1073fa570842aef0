#include "store/common/rows.hpp"

#include <boost/json/parse.hpp>

namespace vigil::store::common {

Error DatabaseError(ErrorCode code, std::string cause) {
  std::string message;
  switch (code) {
    case ErrorCode::kUnavailable:
      message = "the database cannot take this request now; retry later";
      break;
    case ErrorCode::kConflict:
      message = "the change conflicts with what is stored; read the resource again";
      break;
    default:
      message = "the database failed";
      break;
  }
  Error error(code, std::move(message));
  error.cause = std::move(cause);
  return error;
}

Error SessionExists() { return Error(ErrorCode::kConflict, "a session with this id exists"); }

Error InvestigationExists(const std::string& id) {
  return Error(ErrorCode::kConflict, "investigation " + id + " already exists");
}

Error UpdateRefused(const std::string& id, std::optional<int64_t> stored_version,
                    std::optional<int64_t> expected_version) {
  if (!stored_version) return Error(ErrorCode::kNotFound, "no investigation " + id);
  return Error(ErrorCode::kStaleVersion, "investigation " + id + " is at version " +
                                             std::to_string(*stored_version) + ", not " +
                                             std::to_string(expected_version.value_or(0)));
}

Error AppendRefused(AppendRule rule, const core::Event& event) {
  const std::string id = core::FormatEventId(event.id);
  switch (rule) {
    case AppendRule::kIdExists:
      return Error(ErrorCode::kConflict,
                   "event " + id + " already exists in investigation " + event.investigation_id);
    case AppendRule::kKeyExists:
      return Error(ErrorCode::kConflict, "investigation " + event.investigation_id +
                                             " already has an event with idempotency key '" +
                                             event.key + "'");
    case AppendRule::kIdNotAfterLast:
      return Error(ErrorCode::kConflict, "event " + id + " is not after the last event of " +
                                             "investigation " + event.investigation_id);
    case AppendRule::kNoInvestigation:
      return Error(ErrorCode::kNotFound, "no investigation " + event.investigation_id);
  }
  return InternalError("unknown append rule");
}

Result<core::State> StoredState(std::string_view state, const std::string& investigation_id) {
  auto parsed = core::ParseState(state);
  if (!parsed) {
    return Fail(ErrorCode::kInternal, "investigation " + investigation_id +
                                          " has an unknown state '" + std::string(state) + "'");
  }
  return *parsed;
}

Result<core::EventType> StoredEventType(std::string_view type, const core::Event& event) {
  auto parsed = core::ParseEventType(type);
  if (!parsed) {
    return Fail(ErrorCode::kInternal, "event " + core::FormatEventId(event.id) +
                                          " of investigation " + event.investigation_id +
                                          " has an unknown type '" + std::string(type) + "'");
  }
  return *parsed;
}

Result<void> DecodeStoredData(core::Event& event) {
  boost::system::error_code ec;
  boost::json::value item = boost::json::parse(event.wire, ec);
  boost::json::value* data =
      ec || !item.is_object() ? nullptr : item.as_object().if_contains("data");
  if (!data || !data->is_object()) {
    return Fail(ErrorCode::kInternal, "event " + core::FormatEventId(event.id) +
                                          " of investigation " + event.investigation_id +
                                          " has a stored form without a data object");
  }
  event.data = std::move(data->as_object());
  return {};
}

}  // namespace vigil::store::common
