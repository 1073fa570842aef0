#include "core/decide.hpp"

#include <utility>

#include "base/json_util.hpp"
#include "core/lifecycle.hpp"

namespace vigil::core {
namespace {

// Appends `e` to the decision: its id from the investigation's last one and the time, checked
// against the investigation as it stands, folded in, its wire form written once.
Result<EventId> Append(Decision& d, Event e, int64_t now_ms) {
  if (!d.after.id.empty()) e.investigation_id = d.after.id;
  if (e.run_id.empty()) e.run_id = d.after.run_id;
  if (auto ok = Check(d.after, e); !ok) return Fail(ok.error());
  e.id = NextEventId(d.after.last_event_id, now_ms);
  Apply(d.after, e);
  e.wire = WireText(e);  // serialized once: stored, paged and streamed as it is
  d.events.push_back(std::move(e));
  return d.events.back().id;
}

// What vigil writes into a status change: where it came from, and the run a retry starts.
void CompleteStatusChange(const Investigation& inv, const DecideInput& input, Event& e) {
  e.data["from"] = StateName(inv.state);
  if (ParseState(StringOr(e.data, "to")) == State::kRetrying) {
    e.run_id = input.mint_id("run_");
    e.data["run_id"] = e.run_id;
  }
}

Result<void> DecideCreate(Decision& d, const CreateCommand& c, const DecideInput& input) {
  Event e;
  e.type = EventType::kInvestigationCreated;
  e.investigation_id = input.mint_id("inv_");
  e.run_id = input.mint_id("run_");
  e.actor = input.actor;
  e.data = c.data;
  e.data["owner"] = input.actor;
  if (auto appended = Append(d, std::move(e), input.now_ms); !appended) {
    return Fail(appended.error());
  }
  return {};
}

Result<void> DecideReport(Decision& d, const ReportCommand& c, const DecideInput& input) {
  for (size_t i = 0; i < c.events.size(); ++i) {
    const EventInput& in = c.events[i];
    if (!in.key.empty()) {
      // A key seen before, in this batch or in the log, is answered with that event's id.
      std::optional<EventId> earlier;
      for (const Event& e : d.events) {
        if (e.key == in.key) earlier = e.id;
      }
      if (!earlier && input.stored_key) {
        auto stored = input.stored_key(in.key);
        if (!stored) return Fail(stored.error());
        earlier = *stored;
      }
      if (earlier) {
        d.items.push_back({i, *earlier, true});
        continue;
      }
    }
    Event e;
    e.type = in.type;
    e.actor = in.actor.empty() ? input.actor : in.actor;
    e.data = in.data;
    e.key = in.key;
    if (e.type == EventType::kStatusChange) CompleteStatusChange(d.after, input, e);
    auto appended = Append(d, std::move(e), input.now_ms);
    if (!appended) {
      Error err = appended.error();
      const std::string prefix = "events[" + std::to_string(i) + "]";
      err.field = err.field.empty() ? prefix : prefix + "." + err.field;
      err.message = prefix + ": " + err.message;
      return Fail(std::move(err));
    }
    d.items.push_back({i, *appended, false});
  }
  return {};
}

Result<void> DecideTransition(Decision& d, const TransitionCommand& c, const DecideInput& input) {
  Event e;
  e.type = EventType::kStatusChange;
  e.actor = input.actor;
  e.data["to"] = StateName(c.transition.to);
  e.data["reason"] = c.transition.reason;
  CompleteStatusChange(d.after, input, e);
  auto appended = Append(d, std::move(e), input.now_ms);
  if (!appended) {
    Error err = appended.error();
    if (err.field == "data.to") err.field = "to";  // the request's own member
    return Fail(std::move(err));
  }
  return {};
}

}  // namespace

Result<Decision> Decide(Investigation inv, const Command& command, const DecideInput& input) {
  Decision d;
  d.after = std::move(inv);
  Result<void> decided = std::visit(
      [&](const auto& c) -> Result<void> {
        using C = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<C, CreateCommand>) {
          return DecideCreate(d, c, input);
        } else if constexpr (std::is_same_v<C, ReportCommand>) {
          return DecideReport(d, c, input);
        } else {
          return DecideTransition(d, c, input);
        }
      },
      command);
  if (!decided) return Fail(decided.error());
  return d;
}

}  // namespace vigil::core
