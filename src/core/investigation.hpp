// Investigation: the aggregate folded from an investigation's event log.
//
// Everything an investigation is (its plan, lifecycle state, run, tools, risk, entities,
// relationships, errors) is the result of applying its events in order, starting from an empty
// Investigation; the progress snapshot (/progress) is a view of it. Nothing here reads a clock or
// does I/O: time is each event's id.
//
// Writing an event is two steps, both pure:
//   Check(inv, event)  is the event legal in this state? (kConflict / kInvalidArgument otherwise)
//   Apply(inv, event)  fold it in. Apply never fails: events in the log were checked when appended.
//
// Derived values and how they are defined (docs/api.md repeats this for clients):
//   total_tools          the tools the run knows of: its planned tools, plus executions that fill
//                        no planned slot
//   finished tools       executions that are completed, failed or skipped, plus planned tools
//                        that never ran in a phase that has finished (it was closed without them)
//   completion_percent   finished tools / total_tools, at most 99 until the run completes, then
//                        100. It follows the counts, so it goes down when new tools appear.
//                        The agents' and phases' percentages count the same way.
//   tools_per_second     tools finished in the 10 s before the latest event, divided by the
//                        window (shorter at the start of a run, at least 1 s)
//   ice_connected        the run is active: tool events are expected now
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/json_text.hpp"
#include "base/result.hpp"
#include "core/cursor.hpp"
#include "core/event.hpp"
#include "core/lifecycle.hpp"

namespace vigil::core {

inline constexpr int64_t kToolRateWindowMs = 10'000;
// The code of the entry in a run's errors that a status_change to failed with a reason adds.
inline constexpr std::string_view kRunFailedCode = "RUN_FAILED";

enum class ToolStatus { kQueued, kRunning, kCompleted, kFailed, kSkipped };
enum class PhaseStatus { kPending, kInProgress, kCompleted, kFailed, kSkipped };

std::string_view ToolStatusName(ToolStatus s);
std::optional<ToolStatus> ParseToolStatus(std::string_view name);
std::string_view PhaseStatusName(PhaseStatus s);
std::optional<PhaseStatus> ParsePhaseStatus(std::string_view name);
bool IsFinished(ToolStatus s);   // completed, failed, skipped
bool IsFinished(PhaseStatus s);  // completed, failed, skipped

struct PlannedTool {
  std::string tool_name;
  std::string agent_type;
};

struct PlannedPhase {
  std::string id;
  std::string name;
  int order = 0;
  int64_t estimated_duration_ms = 0;
  std::vector<PlannedTool> tools;
};

struct Entity {
  std::string id;
  std::string type;
  std::string value;
  std::string label;
  boost::json::object metadata;
  int64_t added_at_ms = 0;
};

struct Relationship {
  std::string id;
  std::string source_entity_id;
  std::string target_entity_id;
  std::string relationship_type;
  double confidence = 1.0;
  boost::json::object metadata;
  int64_t discovered_at_ms = 0;
};

struct InvestigationError {
  std::string id;  // the id of the event that reported it
  std::string code;
  std::string message;
  std::string severity;  // warning | error | critical
  int64_t timestamp_ms = 0;
  boost::json::object context;
};

struct ToolExecution {
  std::string id;
  std::string tool_name;
  std::string agent_type;
  std::string agent_name;  // the actor that queued it
  std::string phase_id;    // may be empty
  ToolStatus status = ToolStatus::kQueued;
  int64_t queued_at_ms = 0;
  std::optional<int64_t> started_at_ms;
  std::optional<int64_t> completed_at_ms;
  int64_t execution_time_ms = 0;
  boost::json::object input;  // {entity_id, entity_type, parameters}
  std::optional<boost::json::object> result;
  std::optional<boost::json::object> error;
  int retry_count = 0;
  int max_retries = 0;
  int slot = -1;   // the planned tool it fills (index into Run::slots), or -1
  int phase = -1;  // the phase of phase_id (index into Run::phases), or -1 when it has none
  std::string skip_reason;
};

struct PhaseRun {
  std::string id;
  std::string name;
  int order = 0;
  int64_t estimated_duration_ms = 0;
  PhaseStatus status = PhaseStatus::kPending;
  std::optional<int64_t> started_at_ms;
  std::optional<int64_t> completed_at_ms;
};

struct RiskMetrics {
  double overall = 0;
  double confidence = 0;
  std::map<std::string, double> by_agent;
  std::optional<int64_t> last_calculated_ms;  // the time of the risk event; null before the first
};

// What belongs to one run; a retry starts a new one.
struct Run {
  struct Slot {
    size_t phase = 0;  // index into phases
    PlannedTool tool;
    int execution = -1;  // index into tools, or -1 while unfilled
  };
  std::vector<Slot> slots;
  std::vector<PhaseRun> phases;
  std::vector<ToolExecution> tools;
  std::unordered_map<std::string, size_t> tool_index;
  RiskMetrics risk;
  std::vector<InvestigationError> errors;
  std::optional<int64_t> started_at_ms;
  std::optional<int64_t> completed_at_ms;  // when the run first reached a terminal state
  int64_t known_tools = 0;                 // total_tools (see the top of this file)
  int64_t finished_tools = 0;              // finished tools, of those
  int completion_percent = 0;
  std::deque<int64_t> recent_finishes;  // finish times within the rate window
  double tools_per_second = 0;
  double peak_tools_per_second = 0;
  int current_phase = -1;  // index into phases of the phase most recently started, while running
};

struct Investigation {
  // From investigation_created; never changes afterwards.
  std::string id;  // empty until the first event is applied
  std::string owner;
  std::string name;
  std::string runner;  // "simulated" for vigil's built-in runner, empty for an outside producer
  std::vector<PlannedPhase> plan;
  boost::json::object settings;
  int64_t created_at_ms = 0;

  State state = State::kCreated;
  std::string run_id;
  int64_t version = 0;  // the number of events applied
  EventId last_event_id;
  int64_t updated_at_ms = 0;

  // Knowledge outlives runs.
  std::vector<Entity> entities;
  std::unordered_map<std::string, size_t> entity_index;
  std::vector<Relationship> relationships;
  std::unordered_map<std::string, size_t> relationship_index;

  Run run;
};

// Whether `event` may be appended to `inv` now. Does not look at event.id. Tool and phase events
// need a run that has started (not created or queued); nothing but a retry follows a terminal
// state.
Result<void> Check(const Investigation& inv, const Event& event);
// Folds `event` in. `event` must have passed Check against `inv`.
void Apply(Investigation& inv, const Event& event);

// The public JSON forms, as text: the body of GET /progress and of GET /investigations/{id}.
// They are written straight to text because every commit writes them.
std::string ProgressText(const Investigation& inv);
std::string InvestigationText(const Investigation& inv);
void WriteToolExecution(const ToolExecution& t, JsonWriter& w);

// The same as trees, parsed back from the text (for tests and tools; not on hot paths).
boost::json::object ProgressToJson(const Investigation& inv);
boost::json::object InvestigationToJson(const Investigation& inv);
boost::json::object ToolExecutionToJson(const ToolExecution& t);
// Per-agent statuses, derived from the run's tools and risk.
boost::json::array AgentStatusesToJson(const Investigation& inv);

}  // namespace vigil::core
