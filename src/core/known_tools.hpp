// What a run's tool counts count, in one place for the fold and the JSON views
// (investigation.cpp, investigation_json.cpp). Private to core.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "core/investigation.hpp"

namespace vigil::core {

// One tool the run knows of.
struct KnownTool {
  int phase;  // index into Run::phases, or -1
  const std::string& agent_type;
  bool finished;
  const ToolExecution* execution;  // null for a planned tool that no execution has filled
};

// The one definition of what the run's tool counts count (total_tools, completion_percent, and
// the agents' and phases' percentages): the run knows every planned slot and every execution
// that fills none. A tool has finished when its execution has (completed, failed or skipped),
// and a planned tool that never ran once its phase has: the phase was closed without it.
// Visits the slots in plan order (each with its execution, if filled), then the executions
// that fill no slot, in queue order.
template <typename Visit>
void ForEachKnownTool(const Run& run, Visit&& visit) {
  for (const Run::Slot& s : run.slots) {
    const int phase = static_cast<int>(s.phase);
    if (s.execution >= 0) {
      const ToolExecution& t = run.tools[static_cast<size_t>(s.execution)];
      visit(KnownTool{phase, t.agent_type, IsFinished(t.status), &t});
    } else {
      visit(KnownTool{phase, s.tool.agent_type, IsFinished(run.phases[s.phase].status), nullptr});
    }
  }
  for (const ToolExecution& t : run.tools) {
    if (t.slot < 0) visit(KnownTool{t.phase, t.agent_type, IsFinished(t.status), &t});
  }
}

// floor(finished * 100 / known), or 0 when nothing is known.
inline int Percent(int64_t finished, int64_t known) {
  return known > 0 ? static_cast<int>(std::min<int64_t>(100, finished * 100 / known)) : 0;
}

}  // namespace vigil::core
