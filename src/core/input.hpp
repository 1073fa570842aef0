// Input: what producers and users send, parsed and validated before anything is written.
//
// Validation here is about shape (types, required and unknown fields, sizes and ranges); whether
// an input is legal in the investigation's current state is Check's job (investigation.hpp).
// Every rejection names the field at fault, as a path into the request body
// ("events[3].data.result.risk_score"), and lists the allowed values where there is a list.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "core/event.hpp"
#include "core/lifecycle.hpp"

namespace vigil::core {

// Limits on input (seed 002 where it gives one).
struct InputLimits {
  size_t max_entities = 10;        // entities given at creation
  size_t max_selected_tools = 20;  // distinct tools in a plan
  size_t max_planned_tools = 200;  // tool slots in a plan
  size_t max_phases = 50;
  size_t max_settings_bytes = 50 * 1024;
  size_t max_result_bytes = 500 * 1024;  // one event's data
  size_t max_batch_events = 500;         // events in one report
  size_t max_name_length = 255;
  size_t max_string_length = 1024;
};

// A validated POST /investigations body, as the `data` of its investigation_created event
// (owner is added by the caller). Entities get their ids ("type:value") and labels here.
Result<boost::json::object> ParseCreateRequest(const boost::json::value& body,
                                               const InputLimits& limits);

struct EventInput {
  EventType type = EventType::kStatusChange;
  std::string actor;
  std::string key;
  boost::json::object data;
};

// A validated POST /investigations/{id}/events body: {"events": [{event_type, key?, actor?,
// data}]}. Any invalid event rejects the whole batch.
Result<std::vector<EventInput>> ParseEventBatch(const boost::json::value& body,
                                                const InputLimits& limits);

struct TransitionInput {
  State to = State::kCreated;
  std::string reason;
};
// {"to": "<state>", "reason": "..."}. With `implied` (the shorthands: start, pause, ...), `to` may
// be omitted, and must name the implied state when given.
Result<TransitionInput> ParseTransition(const boost::json::value& body,
                                        std::optional<State> implied);

// Parses a request body as JSON; kInvalidArgument saying what is wrong. An empty body is an
// empty object. Depth is limited to 32.
Result<boost::json::value> ParseJsonBody(std::string_view body);

}  // namespace vigil::core
