#include "core/investigation.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <cmath>

#include "base/clock.hpp"
#include "base/json_text.hpp"
#include "base/json_util.hpp"
#include "core/known_tools.hpp"

namespace vigil::core {

namespace json = boost::json;

std::string_view ToolStatusName(ToolStatus s) {
  switch (s) {
    case ToolStatus::kQueued:
      return "queued";
    case ToolStatus::kRunning:
      return "running";
    case ToolStatus::kCompleted:
      return "completed";
    case ToolStatus::kFailed:
      return "failed";
    case ToolStatus::kSkipped:
      return "skipped";
  }
  return "queued";
}

std::optional<ToolStatus> ParseToolStatus(std::string_view name) {
  for (ToolStatus s : {ToolStatus::kQueued, ToolStatus::kRunning, ToolStatus::kCompleted,
                       ToolStatus::kFailed, ToolStatus::kSkipped}) {
    if (ToolStatusName(s) == name) return s;
  }
  return std::nullopt;
}

std::string_view PhaseStatusName(PhaseStatus s) {
  switch (s) {
    case PhaseStatus::kPending:
      return "pending";
    case PhaseStatus::kInProgress:
      return "in_progress";
    case PhaseStatus::kCompleted:
      return "completed";
    case PhaseStatus::kFailed:
      return "failed";
    case PhaseStatus::kSkipped:
      return "skipped";
  }
  return "pending";
}

std::optional<PhaseStatus> ParsePhaseStatus(std::string_view name) {
  for (PhaseStatus s : {PhaseStatus::kPending, PhaseStatus::kInProgress, PhaseStatus::kCompleted,
                        PhaseStatus::kFailed, PhaseStatus::kSkipped}) {
    if (PhaseStatusName(s) == name) return s;
  }
  return std::nullopt;
}

bool IsFinished(ToolStatus s) {
  switch (s) {
    case ToolStatus::kQueued:
    case ToolStatus::kRunning:
      return false;
    case ToolStatus::kCompleted:
    case ToolStatus::kFailed:
    case ToolStatus::kSkipped:
      return true;
  }
  return false;
}

bool IsFinished(PhaseStatus s) {
  switch (s) {
    case PhaseStatus::kPending:
    case PhaseStatus::kInProgress:
      return false;
    case PhaseStatus::kCompleted:
    case PhaseStatus::kFailed:
    case PhaseStatus::kSkipped:
      return true;
  }
  return false;
}

namespace {

Error Conflict(std::string message, std::string field = {}) {
  return Error(ErrorCode::kConflict, std::move(message), std::move(field));
}

int FindPhase(const Run& run, std::string_view id) {
  for (size_t i = 0; i < run.phases.size(); ++i) {
    if (run.phases[i].id == id) return static_cast<int>(i);
  }
  return -1;
}

const ToolExecution* FindTool(const Run& run, std::string_view id) {
  auto it = run.tool_index.find(std::string(id));
  return it == run.tool_index.end() ? nullptr : &run.tools[it->second];
}

// A fresh run laid out from the plan.
Run NewRun(const std::vector<PlannedPhase>& plan) {
  Run run;
  for (size_t p = 0; p < plan.size(); ++p) {
    const PlannedPhase& phase = plan[p];
    run.phases.push_back(PhaseRun{phase.id, phase.name, phase.order, phase.estimated_duration_ms});
    for (const PlannedTool& tool : phase.tools) run.slots.push_back(Run::Slot{p, tool, -1});
  }
  return run;
}

std::vector<PlannedPhase> ParsePlan(const json::object& plan) {
  std::vector<PlannedPhase> out;
  auto it = plan.find("phases");
  if (it == plan.end() || !it->value().is_array()) return out;
  for (const json::value& pv : it->value().get_array()) {
    if (!pv.is_object()) continue;
    const json::object& po = pv.get_object();
    PlannedPhase phase;
    phase.id = StringOr(po, "id");
    phase.name = StringOr(po, "name");
    phase.order = static_cast<int>(IntOr(po, "order", static_cast<int64_t>(out.size())));
    phase.estimated_duration_ms = IntOr(po, "estimated_duration_ms", 0);
    auto tools = po.find("tools");
    if (tools != po.end() && tools->value().is_array()) {
      for (const json::value& tv : tools->value().get_array()) {
        if (!tv.is_object()) continue;
        phase.tools.push_back(PlannedTool{std::string(StringOr(tv.get_object(), "tool_name")),
                                          std::string(StringOr(tv.get_object(), "agent_type"))});
      }
    }
    out.push_back(std::move(phase));
  }
  return out;
}

void AddOrUpdateEntity(Investigation& inv, const json::object& e, int64_t at_ms) {
  Entity entity;
  entity.type = StringOr(e, "type");
  entity.value = StringOr(e, "value");
  entity.id = StringOr(e, "id");
  if (entity.id.empty()) entity.id = entity.type + ":" + entity.value;
  entity.label = StringOr(e, "label");
  if (entity.label.empty()) entity.label = entity.type + ": " + entity.value;
  entity.metadata = ObjectOr(e, "metadata");
  entity.added_at_ms = at_ms;
  auto it = inv.entity_index.find(entity.id);
  if (it != inv.entity_index.end()) {
    Entity& existing = inv.entities[it->second];
    if (!StringOr(e, "label").empty()) existing.label = entity.label;
    for (const auto& kv : entity.metadata) existing.metadata[kv.key()] = kv.value();
    return;
  }
  inv.entity_index.emplace(entity.id, inv.entities.size());
  inv.entities.push_back(std::move(entity));
}

void UpdateRates(Run& run, int64_t now_ms) {
  while (!run.recent_finishes.empty() &&
         run.recent_finishes.front() <= now_ms - kToolRateWindowMs) {
    run.recent_finishes.pop_front();
  }
  int64_t window = kToolRateWindowMs;
  if (run.started_at_ms) window = std::clamp<int64_t>(now_ms - *run.started_at_ms, 1000, window);
  double rate =
      static_cast<double>(run.recent_finishes.size()) * 1000.0 / static_cast<double>(window);
  run.tools_per_second = std::round(rate * 100.0) / 100.0;
  run.peak_tools_per_second = std::max(run.peak_tools_per_second, run.tools_per_second);
}

void FinishTool(Run& run, ToolExecution& tool, ToolStatus status, int64_t at_ms,
                const json::object& data) {
  tool.status = status;
  tool.completed_at_ms = at_ms;
  int64_t measured = IntOr(data, "execution_time_ms", -1);
  if (measured >= 0) {
    tool.execution_time_ms = measured;
  } else if (tool.started_at_ms) {
    tool.execution_time_ms = std::max<int64_t>(0, at_ms - *tool.started_at_ms);
  }
  run.recent_finishes.push_back(at_ms);
}

void ApplyCreated(Investigation& inv, const Event& e) {
  const json::object& d = e.data;
  inv.id = e.investigation_id;
  inv.owner = StringOr(d, "owner");
  inv.name = StringOr(d, "name");
  inv.runner = StringOr(d, "runner");
  inv.plan = ParsePlan(ObjectOr(d, "plan"));
  inv.settings = ObjectOr(d, "settings");
  inv.created_at_ms = e.id.ts_ms;
  inv.state = State::kCreated;
  inv.run_id = e.run_id;
  auto entities = d.find("entities");
  if (entities != d.end() && entities->value().is_array()) {
    for (const json::value& v : entities->value().get_array()) {
      if (v.is_object()) AddOrUpdateEntity(inv, v.get_object(), e.id.ts_ms);
    }
  }
  inv.run = NewRun(inv.plan);
}

void ApplyStatus(Investigation& inv, const Event& e) {
  auto to = ParseState(StringOr(e.data, "to"));
  if (!to) return;
  int64_t t = e.id.ts_ms;
  if (*to == State::kRetrying) {
    inv.run = NewRun(inv.plan);
    std::string_view run_id = StringOr(e.data, "run_id");
    if (!run_id.empty()) inv.run_id = run_id;
  }
  if (*to == State::kInitializing && !inv.run.started_at_ms) inv.run.started_at_ms = t;
  // A run ends once: a failed run closed as cancelled keeps the time it failed.
  if (IsTerminal(*to) && !inv.run.completed_at_ms) inv.run.completed_at_ms = t;
  std::string_view reason = StringOr(e.data, "reason");
  if (*to == State::kFailed && !reason.empty()) {
    // Why the run failed, where a client polling /progress looks for what went wrong.
    InvestigationError failure;
    failure.id = FormatEventId(e.id);
    failure.code = kRunFailedCode;
    failure.message = reason;
    failure.severity = "critical";
    failure.timestamp_ms = t;
    failure.context = {{"from", StringOr(e.data, "from")}, {"actor", e.actor}};
    inv.run.errors.push_back(std::move(failure));
  }
  inv.state = *to;
}

void ApplyPhase(Investigation& inv, const Event& e) {
  Run& run = inv.run;
  std::string_view id = StringOr(e.data, "phase_id");
  int index = FindPhase(run, id);
  if (index < 0) {
    PhaseRun phase;
    phase.id = id;
    phase.name = StringOr(e.data, "name", id);
    phase.order = static_cast<int>(IntOr(e.data, "order", static_cast<int64_t>(run.phases.size())));
    run.phases.push_back(std::move(phase));
    index = static_cast<int>(run.phases.size() - 1);
  }
  PhaseRun& phase = run.phases[static_cast<size_t>(index)];
  auto status = ParsePhaseStatus(StringOr(e.data, "status")).value_or(phase.status);
  phase.status = status;
  if (status == PhaseStatus::kInProgress) {
    if (!phase.started_at_ms) phase.started_at_ms = e.id.ts_ms;
    phase.completed_at_ms.reset();
    run.current_phase = index;
  } else {
    if (IsFinished(status)) phase.completed_at_ms = e.id.ts_ms;
    if (run.current_phase == index) run.current_phase = -1;
  }
}

void ApplyToolQueued(Investigation& inv, const Event& e) {
  Run& run = inv.run;
  const json::object& d = e.data;
  ToolExecution tool;
  tool.id = StringOr(d, "tool_execution_id");
  tool.tool_name = StringOr(d, "tool_name");
  tool.agent_type = StringOr(d, "agent_type");
  tool.agent_name = e.actor.empty() ? tool.agent_type : e.actor;
  tool.phase_id = StringOr(d, "phase_id");
  tool.queued_at_ms = e.id.ts_ms;
  tool.max_retries = static_cast<int>(IntOr(d, "max_retries", 0));
  const json::object& input = ObjectOr(d, "input");
  tool.input["entity_id"] = StringOr(input, "entity_id");
  tool.input["entity_type"] = StringOr(input, "entity_type");
  tool.input["parameters"] = ObjectOr(input, "parameters");
  // Fill the first unfilled planned slot for this tool (in this phase, when one is named).
  for (size_t s = 0; s < run.slots.size(); ++s) {
    Run::Slot& slot = run.slots[s];
    if (slot.execution >= 0 || slot.tool.tool_name != tool.tool_name ||
        slot.tool.agent_type != tool.agent_type) {
      continue;
    }
    if (!tool.phase_id.empty() && run.phases[slot.phase].id != tool.phase_id) continue;
    slot.execution = static_cast<int>(run.tools.size());
    tool.slot = static_cast<int>(s);
    if (tool.phase_id.empty()) tool.phase_id = run.phases[slot.phase].id;
    break;
  }
  tool.phase = tool.slot >= 0 ? static_cast<int>(run.slots[static_cast<size_t>(tool.slot)].phase)
               : tool.phase_id.empty() ? -1
                                       : FindPhase(run, tool.phase_id);
  run.tool_index.emplace(tool.id, run.tools.size());
  run.tools.push_back(std::move(tool));
}

void ApplyTool(Investigation& inv, const Event& e) {
  Run& run = inv.run;
  auto it = run.tool_index.find(std::string(StringOr(e.data, "tool_execution_id")));
  if (it == run.tool_index.end()) return;
  ToolExecution& tool = run.tools[it->second];
  int64_t t = e.id.ts_ms;
  switch (e.type) {
    case EventType::kToolStarted:
      tool.status = ToolStatus::kRunning;
      tool.started_at_ms = t;
      break;
    case EventType::kToolComplete: {
      json::object result = ObjectOr(e.data, "result");
      if (!result.contains("success")) result["success"] = true;
      if (auto f = result.find("findings"); f != result.end() && f->value().is_array()) {
        // Reports are normalised when they are read (core/input.cpp); a log appended before
        // then may still hold findings that are strings.
        NormalizeFindings(f->value().get_array());
      } else {
        result["findings"] = json::array();
      }
      if (!result.contains("metadata")) result["metadata"] = json::object();
      tool.result = std::move(result);
      tool.error.reset();
      FinishTool(run, tool, ToolStatus::kCompleted, t, e.data);
      break;
    }
    case EventType::kToolError: {
      json::object error = ObjectOr(e.data, "error");
      if (!error.contains("details")) error["details"] = nullptr;
      tool.error = error;
      bool will_retry = BoolOr(e.data, "will_retry", false);
      InvestigationError logged;
      logged.id = FormatEventId(e.id);
      logged.code = StringOr(error, "code");
      logged.message = StringOr(error, "message");
      logged.severity = will_retry ? "warning" : "error";
      logged.timestamp_ms = t;
      logged.context = {{"tool_execution_id", tool.id},
                        {"tool_name", tool.tool_name},
                        {"agent_type", tool.agent_type},
                        {"will_retry", will_retry}};
      run.errors.push_back(std::move(logged));
      if (will_retry) {
        tool.status = ToolStatus::kQueued;
        tool.started_at_ms.reset();
        ++tool.retry_count;
      } else {
        FinishTool(run, tool, ToolStatus::kFailed, t, e.data);
      }
      break;
    }
    case EventType::kToolSkipped:
      tool.skip_reason = StringOr(e.data, "reason");
      FinishTool(run, tool, ToolStatus::kSkipped, t, e.data);
      break;
    case EventType::kInvestigationCreated:
    case EventType::kStatusChange:
    case EventType::kPhaseChange:
    case EventType::kToolQueued:
    case EventType::kRiskUpdated:
    case EventType::kEntityDiscovered:
    case EventType::kRelationshipDiscovered:
    case EventType::kErrorLogged:
      break;
  }
}

void ApplyRisk(Investigation& inv, const Event& e) {
  RiskMetrics& risk = inv.run.risk;
  risk.overall = NumberOr(e.data, "overall", risk.overall);
  risk.confidence = NumberOr(e.data, "confidence", risk.confidence);
  for (const auto& kv : ObjectOr(e.data, "by_agent")) {
    if (auto v = NumberOf(kv.value())) risk.by_agent[std::string(kv.key())] = *v;
  }
  risk.last_calculated_ms = e.id.ts_ms;
}

void ApplyRelationship(Investigation& inv, const Event& e) {
  const json::object& r = ObjectOr(e.data, "relationship");
  Relationship rel;
  rel.id = StringOr(r, "id");
  if (rel.id.empty()) rel.id = FormatEventId(e.id);
  rel.source_entity_id = StringOr(r, "source_entity_id");
  rel.target_entity_id = StringOr(r, "target_entity_id");
  rel.relationship_type = StringOr(r, "relationship_type");
  rel.confidence = NumberOr(r, "confidence", 1.0);
  rel.metadata = ObjectOr(r, "metadata");
  rel.discovered_at_ms = e.id.ts_ms;
  auto it = inv.relationship_index.find(rel.id);
  if (it != inv.relationship_index.end()) {
    rel.discovered_at_ms = inv.relationships[it->second].discovered_at_ms;
    inv.relationships[it->second] = std::move(rel);
    return;
  }
  inv.relationship_index.emplace(rel.id, inv.relationships.size());
  inv.relationships.push_back(std::move(rel));
}

void ApplyErrorLogged(Investigation& inv, const Event& e) {
  const json::object& err = ObjectOr(e.data, "error");
  InvestigationError logged;
  logged.id = FormatEventId(e.id);
  logged.code = StringOr(err, "code");
  logged.message = StringOr(err, "message");
  logged.severity = StringOr(err, "severity", "error");
  logged.timestamp_ms = e.id.ts_ms;
  logged.context = ObjectOr(err, "context");
  inv.run.errors.push_back(std::move(logged));
}

Result<void> CheckTool(const Investigation& inv, const Event& e) {
  std::string_view id = StringOr(e.data, "tool_execution_id");
  const ToolExecution* tool = FindTool(inv.run, id);
  if (e.type == EventType::kToolQueued) {
    if (tool) {
      return Fail(Conflict("tool execution '" + std::string(id) + "' is already queued in this run",
                           "data.tool_execution_id"));
    }
    std::string_view phase = StringOr(e.data, "phase_id");
    if (!phase.empty() && FindPhase(inv.run, phase) < 0) {
      return Fail(Conflict("phase '" + std::string(phase) + "' is not part of this investigation",
                           "data.phase_id"));
    }
    return {};
  }
  if (!tool) {
    return Fail(Conflict("tool execution '" + std::string(id) + "' was not queued in this run",
                         "data.tool_execution_id"));
  }
  bool ok = e.type == EventType::kToolStarted ? tool->status == ToolStatus::kQueued
                                              : !IsFinished(tool->status);
  if (!ok) {
    return Fail(Conflict("tool execution '" + std::string(id) + "' is " +
                             std::string(ToolStatusName(tool->status)) + "; " +
                             std::string(EventTypeName(e.type)) + " is not allowed",
                         "data.tool_execution_id"));
  }
  return {};
}

Error IllegalTransition(State from, std::string_view to) {
  Error err(ErrorCode::kConflict,
            "cannot move from '" + std::string(StateName(from)) + "' to '" + std::string(to) + "'",
            "data.to");
  json::array allowed;
  for (State s : AllowedTargets(from)) allowed.emplace_back(StateName(s));
  err.extra["current_state"] = StateName(from);
  err.extra["allowed"] = std::move(allowed);
  return err;
}

}  // namespace

Result<void> Check(const Investigation& inv, const Event& e) {
  if (e.type == EventType::kInvestigationCreated) {
    if (!inv.id.empty()) return Fail(Conflict("the investigation exists already"));
    return {};
  }
  if (inv.id.empty()) return Fail(ErrorCode::kNotFound, "investigation not found");
  if (e.type == EventType::kStatusChange) {
    std::string_view to = StringOr(e.data, "to");
    auto target = ParseState(to);
    if (!target || !CanTransition(inv.state, *target))
      return Fail(IllegalTransition(inv.state, to));
    return {};
  }
  if (IsTerminal(inv.state)) {
    return Fail(Conflict("the investigation is " + std::string(StateName(inv.state)) +
                         "; it takes no more events" +
                         (inv.state == State::kFailed ? " until it is retried" : "")));
  }
  bool started = inv.state != State::kCreated && inv.state != State::kQueued;
  bool run_event = e.type == EventType::kPhaseChange || e.type == EventType::kToolQueued ||
                   e.type == EventType::kToolStarted || e.type == EventType::kToolComplete ||
                   e.type == EventType::kToolError || e.type == EventType::kToolSkipped;
  if (run_event && !started) {
    return Fail(Conflict("the investigation is " + std::string(StateName(inv.state)) +
                         "; tools and phases are reported once its run is initializing"));
  }
  switch (e.type) {
    case EventType::kToolQueued:
    case EventType::kToolStarted:
    case EventType::kToolComplete:
    case EventType::kToolError:
    case EventType::kToolSkipped:
      return CheckTool(inv, e);
    case EventType::kPhaseChange: {
      std::string_view id = StringOr(e.data, "phase_id");
      if (FindPhase(inv.run, id) < 0 && StringOr(e.data, "name").empty()) {
        return Fail(Conflict(
            "phase '" + std::string(id) + "' is not in the plan; name it to add it", "data.name"));
      }
      return {};
    }
    case EventType::kRelationshipDiscovered: {
      const json::object& r = ObjectOr(e.data, "relationship");
      for (const char* end : {"source_entity_id", "target_entity_id"}) {
        std::string_view id = StringOr(r, end);
        if (!inv.entity_index.contains(std::string(id))) {
          return Fail(Conflict("entity '" + std::string(id) + "' has not been discovered",
                               std::string("data.relationship.") + end));
        }
      }
      return {};
    }
    case EventType::kInvestigationCreated:
    case EventType::kStatusChange:
    case EventType::kRiskUpdated:
    case EventType::kEntityDiscovered:
    case EventType::kErrorLogged:
      return {};
  }
  return {};
}

void Apply(Investigation& inv, const Event& e) {
  switch (e.type) {
    case EventType::kInvestigationCreated:
      ApplyCreated(inv, e);
      break;
    case EventType::kStatusChange:
      ApplyStatus(inv, e);
      break;
    case EventType::kPhaseChange:
      ApplyPhase(inv, e);
      break;
    case EventType::kToolQueued:
      ApplyToolQueued(inv, e);
      break;
    case EventType::kToolStarted:
    case EventType::kToolComplete:
    case EventType::kToolError:
    case EventType::kToolSkipped:
      ApplyTool(inv, e);
      break;
    case EventType::kRiskUpdated:
      ApplyRisk(inv, e);
      break;
    case EventType::kEntityDiscovered:
      AddOrUpdateEntity(inv, ObjectOr(e.data, "entity"), e.id.ts_ms);
      break;
    case EventType::kRelationshipDiscovered:
      ApplyRelationship(inv, e);
      break;
    case EventType::kErrorLogged:
      ApplyErrorLogged(inv, e);
      break;
  }
  Run& run = inv.run;
  UpdateRates(run, e.id.ts_ms);
  run.known_tools = run.finished_tools = 0;
  ForEachKnownTool(run, [&run](const KnownTool& t) {
    ++run.known_tools;
    run.finished_tools += t.finished;
  });
  // Finished of known, as they are now (lower when new tools appear); 100 only once the run
  // has completed, which may leave tools unfinished.
  run.completion_percent = inv.state == State::kCompleted
                               ? 100
                               : std::min(99, Percent(run.finished_tools, run.known_tools));
  ++inv.version;
  inv.last_event_id = e.id;
  inv.updated_at_ms = e.id.ts_ms;
}

}  // namespace vigil::core
