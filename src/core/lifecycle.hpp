// The investigation lifecycle: an explicit, total state machine.
//
//   created -> queued -> initializing -> running <-> paused
//   running -> completing -> completed
//   any non-terminal state -> failed | cancelled
//   failed -> retrying -> initializing        (the retry starts a new run id)
//   failed -> cancelled                       (a failed run that will not be retried is closed)
//
// completed and cancelled are terminal; failed is terminal unless retried or closed. Every
// transition is an event (`status_change`) that records who made it and why.
//
// This is seed 004's ALLOWED_TRANSITIONS with one kind of addition: every non-terminal state may
// also move to failed and to cancelled (the seed omits some of those pairs, e.g. running ->
// cancelled, paused -> failed); docs/api.md section 3 lists them and says why.
//
// The earlier system's clients read two coarser vocabularies; each state maps to one value of each:
//
//   state          status (progress)   lifecycle_stage
//   created        pending             draft
//   queued         pending             submitted
//   initializing   initializing        in_progress
//   running        running             in_progress
//   paused         paused              in_progress
//   completing     running             in_progress
//   completed      completed           completed
//   failed         failed              failed
//   cancelled      cancelled           completed
//   retrying       initializing        in_progress
#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace vigil::core {

enum class State {
  kCreated,
  kQueued,
  kInitializing,
  kRunning,
  kPaused,
  kCompleting,
  kCompleted,
  kFailed,
  kCancelled,
  kRetrying,
};

inline constexpr State kAllStates[] = {
    State::kCreated,   State::kQueued,     State::kInitializing, State::kRunning,
    State::kPaused,    State::kCompleting, State::kCompleted,    State::kFailed,
    State::kCancelled, State::kRetrying,
};

std::string_view StateName(State s);
std::optional<State> ParseState(std::string_view name);

// The states `from` may move to, in a fixed order.
std::span<const State> AllowedTargets(State from);
bool CanTransition(State from, State to);

// No transition leaves a terminal state except failed -> retrying and failed -> cancelled.
bool IsTerminal(State s);  // completed, cancelled, failed
// Whether the run is executing: events from its tools are expected (initializing, running,
// completing, retrying).
bool IsActive(State s);

// The earlier system's vocabularies (see the table above).
std::string_view ProgressStatus(State s);
std::string_view LifecycleStage(State s);
// All states whose ProgressStatus is `status` ("pending" -> created, queued); empty if unknown.
std::vector<State> StatesWithProgressStatus(std::string_view status);

}  // namespace vigil::core
