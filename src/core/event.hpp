// Events: every change to an investigation is one event in its ordered, durable log.
//
// On the wire (an /events item, an SSE `data:`, a WebSocket `event` message) an event is
//   {"event_id": "1730668800000_000127", "investigation_id": "...", "run_id": "...",
//    "event_type": "tool_complete", "actor": "network_agent",
//    "timestamp": "2024-11-03T21:20:00.000Z", "data": {...}}
// `timestamp` is the id's millisecond. Ids are assigned by vigil at append, never by a client.
//
// The types and their `data` (R = required, O = optional; objects marked {} are free-form):
//
//   investigation_created    written by vigil when an investigation is created:
//                            owner, name, entities[{id,type,value,label,metadata{}}],
//                            plan{phases[{id,name,order,estimated_duration_ms,tools[{tool_name,
//                            agent_type}]}]}, settings{}, runner (string or null)
//   status_change            R to; O reason; written by vigil also: from, run_id (the run a
//                            retry starts). Reported ones are checked against the lifecycle.
//   phase_change             R phase_id, status (pending|in_progress|completed|failed|skipped);
//                            O name, order (default: the plan's)
//   tool_queued              R tool_execution_id, tool_name, agent_type; O phase_id,
//                            input{entity_id, entity_type, parameters{}}, max_retries
//   tool_started             R tool_execution_id
//   tool_complete            R tool_execution_id; O result{success, risk_score (0..1),
//                            findings[] (objects; a string s is stored as {"finding": s}),
//                            metadata{}}, execution_time_ms
//   tool_error               R tool_execution_id, error{code, message, O details}; O will_retry
//                            (default false), execution_time_ms
//   tool_skipped             R tool_execution_id; O reason
//   risk_updated             R overall (0..1); O by_agent{agent: 0..1}, confidence (0..1)
//   entity_discovered        R entity{type, value; O id (default "type:value"), label, metadata{}}
//   relationship_discovered  R relationship{source_entity_id, target_entity_id, relationship_type;
//                            O id (default: the event id), confidence (0..1, default 1),
//                            metadata{}}
//   error_logged             R error{code, message, severity (warning|error|critical); O context{}}
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/json_text.hpp"
#include "core/cursor.hpp"

namespace vigil::core {

enum class EventType {
  kInvestigationCreated,
  kStatusChange,
  kPhaseChange,
  kToolQueued,
  kToolStarted,
  kToolComplete,
  kToolError,
  kToolSkipped,
  kRiskUpdated,
  kEntityDiscovered,
  kRelationshipDiscovered,
  kErrorLogged,
};

std::string_view EventTypeName(EventType t);
std::optional<EventType> ParseEventType(std::string_view name);
// Every type, in declaration order; and the ones a producer may report (all but
// investigation_created).
std::span<const EventType> AllEventTypes();
std::span<const EventType> ReportableEventTypes();

struct Event {
  EventId id;
  std::string investigation_id;
  std::string run_id;
  EventType type = EventType::kStatusChange;
  std::string actor;
  boost::json::object data;
  // The wire form as text (WriteEvent), once the event has its id: written once when it is
  // appended, stored, and copied as it is into feeds and streams. Empty before that, and in
  // events built by hand; WireText fills it in.
  std::string wire;
  std::string key;  // the producer's idempotency key; empty when none was given
};

// A tool result's findings are objects, as the earlier system's clients read them. A finding
// reported as a string s is {"finding": s}, as the earlier system made it; other items are
// refused when reported (core/input.cpp) and never reach the log. Rewrites `findings` so.
void NormalizeFindings(boost::json::array& findings);

// The wire form described above (the key is not part of it). Uses e.wire when it is set.
void WriteEvent(const Event& e, JsonWriter& w);
// The wire form as text: e.wire, or written now when it is empty.
std::string WireText(const Event& e);
boost::json::object EventToJson(const Event& e);

}  // namespace vigil::core
