// The command side of an investigation: what a request asks (a Command), turned into the events
// it appends (a Decision). Check and Apply (investigation.hpp) judge and fold one event; Decide is
// everything around them that a request needs: the default actor, the owner of a new
// investigation, `from` in a status change, a new run id for a retry, each event's id, and the
// idempotency keys of a report (one event per key, in the batch and in the stored log).
//
// Pure: no clock, no randomness, no I/O. The time, the ids to mint and the stored log's keys come
// in through DecideInput, so a decision can be replayed exactly — by a test, or by a node that
// finds its copy stale and decides again on the stored one.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/result.hpp"
#include "core/cursor.hpp"
#include "core/event.hpp"
#include "core/input.hpp"
#include "core/investigation.hpp"

namespace vigil::core {

// A validated POST /investigations body (ParseCreateRequest).
struct CreateCommand {
  boost::json::object data;
};
// A validated batch (ParseEventBatch): appended whole or not at all.
struct ReportCommand {
  std::vector<EventInput> events;
};
// A lifecycle move (ParseTransition).
struct TransitionCommand {
  TransitionInput transition;
};
using Command = std::variant<CreateCommand, ReportCommand, TransitionCommand>;

struct DecideInput {
  // Who asks: the owner of what a create makes, and the actor of every event that names none.
  std::string actor;
  int64_t now_ms = 0;
  // A new id with this prefix ("inv_", "run_"): called by a create, and by each move to retrying.
  std::function<std::string(const char* prefix)> mint_id;
  // The id of the stored event with this idempotency key, if any. May be empty for a create.
  std::function<Result<std::optional<EventId>>(const std::string& key)> stored_key;
};

struct Decision {
  Investigation after;        // the investigation with `events` folded in
  std::vector<Event> events;  // to append, in order, with their ids and wire forms
  // For a report, one item per reported event, in order: its id, or the id of the earlier event
  // with its key (duplicate). Empty for other commands.
  struct Item {
    size_t index = 0;
    EventId event_id;
    bool duplicate = false;
  };
  std::vector<Item> items;
};

// Decides `command` on `inv` as it stands (a default Investigation for a create). Errors are those
// of Check, with the field named as the request names it ("events[2].data.tool_execution_id",
// "to"); an error of stored_key is passed on.
Result<Decision> Decide(Investigation inv, const Command& command, const DecideInput& input);

}  // namespace vigil::core
