#include "core/event.hpp"

#include <boost/json/parse.hpp>

#include "base/clock.hpp"
#include "base/json_text.hpp"

namespace vigil::core {

namespace {
constexpr EventType kAll[] = {
    EventType::kInvestigationCreated,
    EventType::kStatusChange,
    EventType::kPhaseChange,
    EventType::kToolQueued,
    EventType::kToolStarted,
    EventType::kToolComplete,
    EventType::kToolError,
    EventType::kToolSkipped,
    EventType::kRiskUpdated,
    EventType::kEntityDiscovered,
    EventType::kRelationshipDiscovered,
    EventType::kErrorLogged,
};
}  // namespace

void NormalizeFindings(boost::json::array& findings) {
  for (boost::json::value& f : findings) {
    if (f.is_string()) f = boost::json::object{{"finding", std::move(f.get_string())}};
  }
}

std::string_view EventTypeName(EventType t) {
  switch (t) {
    case EventType::kInvestigationCreated:
      return "investigation_created";
    case EventType::kStatusChange:
      return "status_change";
    case EventType::kPhaseChange:
      return "phase_change";
    case EventType::kToolQueued:
      return "tool_queued";
    case EventType::kToolStarted:
      return "tool_started";
    case EventType::kToolComplete:
      return "tool_complete";
    case EventType::kToolError:
      return "tool_error";
    case EventType::kToolSkipped:
      return "tool_skipped";
    case EventType::kRiskUpdated:
      return "risk_updated";
    case EventType::kEntityDiscovered:
      return "entity_discovered";
    case EventType::kRelationshipDiscovered:
      return "relationship_discovered";
    case EventType::kErrorLogged:
      return "error_logged";
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

void WriteEvent(const Event& e, JsonWriter& w) {
  if (!e.wire.empty()) {
    w.Raw(e.wire);
    return;
  }
  w.BeginObject();
  w.Key("event_id").String(FormatEventId(e.id));
  w.Key("investigation_id").String(e.investigation_id);
  w.Key("run_id").String(e.run_id);
  w.Key("event_type").String(EventTypeName(e.type));
  w.Key("actor").String(e.actor);
  w.Key("timestamp").Iso(e.id.ts_ms);
  w.Key("data").Value(e.data);
  w.EndObject();
}

std::string WireText(const Event& e) {
  if (!e.wire.empty()) return e.wire;
  std::string text;
  text.reserve(256);
  JsonWriter w(text);
  WriteEvent(e, w);
  return text;
}

boost::json::object EventToJson(const Event& e) {
  return boost::json::parse(WireText(e)).as_object();
}

}  // namespace vigil::core
