// The JSON views of an investigation: the /progress body, the investigation resource, and the
// pieces other views reuse. Written once per snapshot (engine/snapshot.cpp); the fold that builds
// what they show is investigation.cpp.
#include <algorithm>
#include <boost/json/parse.hpp>
#include <cmath>

#include "base/clock.hpp"
#include "base/json_text.hpp"
#include "base/json_util.hpp"
#include "core/investigation.hpp"
#include "core/known_tools.hpp"

namespace vigil::core {

namespace json = boost::json;

// ---------------------------------------------------------------------------------------------
// JSON views, written straight to text (JsonWriter): they are built on every commit.

void WriteToolExecution(const ToolExecution& t, JsonWriter& w) {
  w.BeginObject();
  w.Key("id").String(t.id);
  w.Key("tool_name").String(t.tool_name);
  w.Key("agent_type").String(t.agent_type);
  w.Key("phase_id");
  t.phase_id.empty() ? w.Null() : w.String(t.phase_id);
  w.Key("status").String(ToolStatusName(t.status));
  w.Key("queued_at").Iso(t.queued_at_ms);
  w.Key("started_at").IsoOrNull(t.started_at_ms);
  w.Key("completed_at").IsoOrNull(t.completed_at_ms);
  w.Key("execution_time_ms").Int(t.execution_time_ms);
  w.Key("input").Value(t.input);
  w.Key("result");
  t.result ? w.Value(*t.result) : w.Null();
  w.Key("error");
  t.error ? w.Value(*t.error) : w.Null();
  w.Key("retry_count").Int(t.retry_count);
  w.Key("max_retries").Int(t.max_retries);
  if (t.status == ToolStatus::kSkipped) w.Key("skip_reason").String(t.skip_reason);
  w.EndObject();
}

namespace {

void WriteAgentStatuses(const Investigation& inv, JsonWriter& w) {
  const Run& run = inv.run;
  struct Agent {
    std::string type, name;
    int total = 0, completed = 0, finished = 0, failed = 0, begun = 0, findings = 0;
    int64_t time_sum = 0;
    double max_risk = 0;
    std::optional<int64_t> started, completed_at;
    size_t first_queued = SIZE_MAX;  // the queue position of the execution it is named after
  };
  std::vector<Agent> agents;
  auto agent = [&](const std::string& type) -> Agent& {
    for (Agent& a : agents) {
      if (a.type == type) return a;
    }
    agents.push_back(Agent{type, type});
    return agents.back();
  };
  // Planned agents come first, in plan order (the slots are visited first).
  ForEachKnownTool(run, [&](const KnownTool& k) {
    Agent& a = agent(k.agent_type);
    ++a.total;
    a.finished += k.finished;
    if (!k.execution) return;
    const ToolExecution& t = *k.execution;
    // Named after the actor of its first queued execution.
    size_t queued = static_cast<size_t>(&t - run.tools.data());
    if (queued < a.first_queued && !t.agent_name.empty()) {
      a.first_queued = queued;
      a.name = t.agent_name;
    }
    if (IsFinished(t.status) && t.completed_at_ms) {
      a.completed_at = std::max(a.completed_at.value_or(0), *t.completed_at_ms);
    }
    if (t.status != ToolStatus::kQueued || t.retry_count > 0) ++a.begun;
    if (t.status == ToolStatus::kFailed) ++a.failed;
    if (t.started_at_ms)
      a.started = std::min(a.started.value_or(*t.started_at_ms), *t.started_at_ms);
    if (t.status == ToolStatus::kCompleted) {
      ++a.completed;
      a.time_sum += t.execution_time_ms;
    }
    if (t.result) {
      if (auto f = t.result->find("findings"); f != t.result->end() && f->value().is_array()) {
        a.findings += static_cast<int>(f->value().get_array().size());
      }
      a.max_risk = std::max(a.max_risk, NumberOr(*t.result, "risk_score", 0.0));
    }
  });
  w.BeginArray();
  for (const Agent& a : agents) {
    bool done = a.total > 0 && a.finished >= a.total;
    std::string_view status = done ? (a.failed > 0 ? "failed" : "completed")
                              : (a.begun > 0 || a.finished > 0) ? "running"
                                                                : "pending";
    auto risk = run.risk.by_agent.find(a.type);
    w.BeginObject();
    w.Key("agent_type").String(a.type);
    w.Key("agent_name").String(a.name);
    w.Key("status").String(status);
    w.Key("tools_completed").Int(a.completed);
    w.Key("total_tools").Int(a.total);
    w.Key("progress_percent").Int(Percent(a.finished, a.total));
    w.Key("average_execution_time_ms").Int(a.completed ? a.time_sum / a.completed : 0);
    w.Key("findings_count").Int(a.findings);
    w.Key("risk_score").Double(risk != run.risk.by_agent.end() ? risk->second : 0.0);
    w.Key("max_risk_detected").Double(a.max_risk);
    w.Key("started_at").IsoOrNull(a.started);
    w.Key("completed_at").IsoOrNull(done ? a.completed_at : std::nullopt);
    w.EndObject();
  }
  w.EndArray();
}

void WritePhases(const Run& run, JsonWriter& w) {
  std::vector<const PhaseRun*> ordered;
  for (const PhaseRun& p : run.phases) ordered.push_back(&p);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const PhaseRun* a, const PhaseRun* b) { return a->order < b->order; });
  struct Count {
    int64_t known = 0, finished = 0;
  };
  std::vector<Count> counts(run.phases.size());
  ForEachKnownTool(run, [&counts](const KnownTool& t) {
    if (t.phase < 0) return;
    Count& c = counts[static_cast<size_t>(t.phase)];
    ++c.known;
    c.finished += t.finished;
  });
  w.BeginArray();
  for (const PhaseRun* p : ordered) {
    const Count& count = counts[static_cast<size_t>(p - run.phases.data())];
    w.BeginObject();
    w.Key("id").String(p->id);
    w.Key("name").String(p->name);
    w.Key("order").Int(p->order);
    w.Key("status").String(PhaseStatusName(p->status));
    w.Key("tool_execution_ids").BeginArray();
    for (const ToolExecution& t : run.tools) {
      if (t.phase_id == p->id) w.String(t.id);
    }
    w.EndArray();
    w.Key("completion_percent")
        .Int(p->status == PhaseStatus::kCompleted ? 100 : Percent(count.finished, count.known));
    w.Key("started_at").IsoOrNull(p->started_at_ms);
    w.Key("completed_at").IsoOrNull(p->completed_at_ms);
    w.Key("estimated_duration_ms").Int(p->estimated_duration_ms);
    w.EndObject();
  }
  w.EndArray();
}

void WriteEntities(const Investigation& inv, JsonWriter& w) {
  w.BeginArray();
  for (const Entity& e : inv.entities) {
    w.BeginObject();
    w.Key("id").String(e.id);
    w.Key("type").String(e.type);
    w.Key("value").String(e.value);
    w.Key("label").String(e.label);
    w.Key("metadata").Value(e.metadata);
    w.Key("added_at").Iso(e.added_at_ms);
    w.EndObject();
  }
  w.EndArray();
}

void WriteLastEventId(const Investigation& inv, JsonWriter& w) {
  w.Key("last_event_id");
  inv.last_event_id.IsZero() ? w.Null() : w.String(FormatEventId(inv.last_event_id));
}

json::object ParseObject(const std::string& text) { return json::parse(text).as_object(); }

}  // namespace

std::string ProgressText(const Investigation& inv) {
  const Run& run = inv.run;
  int completed = 0, running = 0, queued = 0, failed = 0, skipped = 0;
  for (const ToolExecution& t : run.tools) {
    switch (t.status) {
      case ToolStatus::kQueued:
        ++queued;
        break;
      case ToolStatus::kRunning:
        ++running;
        break;
      case ToolStatus::kCompleted:
        ++completed;
        break;
      case ToolStatus::kFailed:
        ++failed;
        break;
      case ToolStatus::kSkipped:
        ++skipped;
        break;
    }
  }
  std::string out;
  out.reserve(1024 + 512 * run.tools.size());
  JsonWriter w(out);
  w.BeginObject();
  w.Key("id").String(inv.id);
  w.Key("investigation_id").String(inv.id);
  w.Key("run_id").String(inv.run_id);
  w.Key("status").String(ProgressStatus(inv.state));
  w.Key("lifecycle_stage").String(LifecycleStage(inv.state));
  w.Key("state").String(StateName(inv.state));
  w.Key("completion_percent").Int(run.completion_percent);
  w.Key("created_at").Iso(inv.created_at_ms);
  w.Key("started_at").IsoOrNull(run.started_at_ms);
  w.Key("completed_at").IsoOrNull(run.completed_at_ms);
  w.Key("last_updated_at").Iso(inv.updated_at_ms);
  w.Key("tool_executions").BeginArray();
  for (const ToolExecution& t : run.tools) WriteToolExecution(t, w);
  w.EndArray();
  w.Key("total_tools").Int(run.known_tools);
  w.Key("completed_tools").Int(completed);
  w.Key("running_tools").Int(running);
  w.Key("queued_tools").Int(queued);
  w.Key("failed_tools").Int(failed);
  w.Key("skipped_tools").Int(skipped);
  w.Key("agent_statuses");
  WriteAgentStatuses(inv, w);
  w.Key("risk_metrics").BeginObject();
  w.Key("overall").Double(run.risk.overall);
  w.Key("confidence").Double(run.risk.confidence);
  w.Key("last_calculated").IsoOrNull(run.risk.last_calculated_ms);
  w.Key("by_agent").BeginObject();
  for (const auto& [agent, score] : run.risk.by_agent) w.Key(agent).Double(score);
  w.EndObject().EndObject();
  w.Key("phases");
  WritePhases(run, w);
  w.Key("current_phase");
  run.current_phase >= 0 ? w.String(run.phases[static_cast<size_t>(run.current_phase)].name)
                         : w.Null();
  w.Key("entities");
  WriteEntities(inv, w);
  w.Key("relationships").BeginArray();
  for (const Relationship& r : inv.relationships) {
    w.BeginObject();
    w.Key("id").String(r.id);
    w.Key("source_entity_id").String(r.source_entity_id);
    w.Key("target_entity_id").String(r.target_entity_id);
    w.Key("relationship_type").String(r.relationship_type);
    w.Key("confidence").Double(r.confidence);
    w.Key("metadata").Value(r.metadata);
    w.Key("discovered_at").Iso(r.discovered_at_ms);
    w.EndObject();
  }
  w.EndArray();
  w.Key("tools_per_second").Double(run.tools_per_second);
  w.Key("peak_tools_per_second").Double(run.peak_tools_per_second);
  w.Key("ice_connected").Bool(IsActive(inv.state));
  w.Key("errors").BeginArray();
  for (const InvestigationError& e : run.errors) {
    w.BeginObject();
    w.Key("id").String(e.id);
    w.Key("code").String(e.code);
    w.Key("message").String(e.message);
    w.Key("timestamp").Iso(e.timestamp_ms);
    w.Key("severity").String(e.severity);
    w.Key("context").Value(e.context);
    w.EndObject();
  }
  w.EndArray();
  w.Key("version").Int(inv.version);
  WriteLastEventId(inv, w);
  w.EndObject();
  return out;
}

std::string InvestigationText(const Investigation& inv) {
  std::string out;
  out.reserve(1024);
  JsonWriter w(out);
  w.BeginObject();
  w.Key("investigation_id").String(inv.id);
  w.Key("owner").String(inv.owner);
  w.Key("name").String(inv.name);
  w.Key("entities");
  WriteEntities(inv, w);
  w.Key("plan").BeginObject().Key("phases").BeginArray();
  for (const PlannedPhase& p : inv.plan) {
    w.BeginObject();
    w.Key("id").String(p.id);
    w.Key("name").String(p.name);
    w.Key("order").Int(p.order);
    w.Key("estimated_duration_ms").Int(p.estimated_duration_ms);
    w.Key("tools").BeginArray();
    for (const PlannedTool& t : p.tools) {
      w.BeginObject().Key("tool_name").String(t.tool_name);
      w.Key("agent_type").String(t.agent_type).EndObject();
    }
    w.EndArray().EndObject();
  }
  w.EndArray().EndObject();
  w.Key("settings").Value(inv.settings);
  w.Key("runner");
  inv.runner.empty() ? w.Null() : w.String(inv.runner);
  w.Key("state").String(StateName(inv.state));
  w.Key("status").String(ProgressStatus(inv.state));
  w.Key("lifecycle_stage").String(LifecycleStage(inv.state));
  w.Key("allowed_transitions").BeginArray();
  for (State s : AllowedTargets(inv.state)) w.String(StateName(s));
  w.EndArray();
  w.Key("run_id").String(inv.run_id);
  w.Key("version").Int(inv.version);
  w.Key("completion_percent").Int(inv.run.completion_percent);
  WriteLastEventId(inv, w);
  w.Key("created_at").Iso(inv.created_at_ms);
  w.Key("updated_at").Iso(inv.updated_at_ms);
  w.EndObject();
  return out;
}

json::object ToolExecutionToJson(const ToolExecution& t) {
  std::string out;
  JsonWriter w(out);
  WriteToolExecution(t, w);
  return ParseObject(out);
}

json::array AgentStatusesToJson(const Investigation& inv) {
  std::string out;
  JsonWriter w(out);
  WriteAgentStatuses(inv, w);
  return json::parse(out).as_array();
}

json::object ProgressToJson(const Investigation& inv) { return ParseObject(ProgressText(inv)); }
json::object InvestigationToJson(const Investigation& inv) {
  return ParseObject(InvestigationText(inv));
}

}  // namespace vigil::core
