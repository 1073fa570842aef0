#include "core/event.hpp"

#include "core/clock.hpp"

namespace vigil::core {

namespace {
constexpr EventType kAll[] = {
    EventType::kInvestigationCreated, EventType::kStatusChange,
    EventType::kPhaseChange,          EventType::kToolQueued,
    EventType::kToolStarted,          EventType::kToolComplete,
    EventType::kToolError,            EventType::kToolSkipped,
    EventType::kRiskUpdated,          EventType::kEntityDiscovered,
    EventType::kRelationshipDiscovered, EventType::kErrorLogged,
};
}  // namespace

std::string_view EventTypeName(EventType t) {
  switch (t) {
    case EventType::kInvestigationCreated: return "investigation_created";
    case EventType::kStatusChange: return "status_change";
    case EventType::kPhaseChange: return "phase_change";
    case EventType::kToolQueued: return "tool_queued";
    case EventType::kToolStarted: return "tool_started";
    case EventType::kToolComplete: return "tool_complete";
    case EventType::kToolError: return "tool_error";
    case EventType::kToolSkipped: return "tool_skipped";
    case EventType::kRiskUpdated: return "risk_updated";
    case EventType::kEntityDiscovered: return "entity_discovered";
    case EventType::kRelationshipDiscovered: return "relationship_discovered";
    case EventType::kErrorLogged: return "error_logged";
  }
  return "status_change";
}

std::optional<EventType> ParseEventType(std::string_view name) {
  for (EventType t : kAll) {
    if (EventTypeName(t) == name) return t;
  }
  return std::nullopt;
}

std::span<const EventType> AllEventTypes() { return kAll; }
std::span<const EventType> ReportableEventTypes() { return std::span(kAll).subspan(1); }

boost::json::object EventToJson(const Event& e) {
  boost::json::object o;
  o.reserve(7);
  o["event_id"] = FormatEventId(e.id);
  o["investigation_id"] = e.investigation_id;
  o["run_id"] = e.run_id;
  o["event_type"] = EventTypeName(e.type);
  o["actor"] = e.actor;
  o["timestamp"] = FormatIsoMs(e.id.ts_ms);
  o["data"] = e.data;
  return o;
}

}  // namespace vigil::core
