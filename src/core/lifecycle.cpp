#include "core/lifecycle.hpp"

#include <algorithm>

namespace vigil::core {

std::string_view StateName(State s) {
  switch (s) {
    case State::kCreated:
      return "created";
    case State::kQueued:
      return "queued";
    case State::kInitializing:
      return "initializing";
    case State::kRunning:
      return "running";
    case State::kPaused:
      return "paused";
    case State::kCompleting:
      return "completing";
    case State::kCompleted:
      return "completed";
    case State::kFailed:
      return "failed";
    case State::kCancelled:
      return "cancelled";
    case State::kRetrying:
      return "retrying";
  }
  return "created";
}

std::optional<State> ParseState(std::string_view name) {
  for (State s : kAllStates) {
    if (StateName(s) == name) return s;
  }
  return std::nullopt;
}

std::span<const State> AllowedTargets(State from) {
  using S = State;
  static constexpr S kFromCreated[] = {S::kQueued, S::kFailed, S::kCancelled};
  static constexpr S kFromQueued[] = {S::kInitializing, S::kFailed, S::kCancelled};
  static constexpr S kFromInitializing[] = {S::kRunning, S::kFailed, S::kCancelled};
  static constexpr S kFromRunning[] = {S::kPaused, S::kCompleting, S::kFailed, S::kCancelled};
  static constexpr S kFromPaused[] = {S::kRunning, S::kFailed, S::kCancelled};
  static constexpr S kFromCompleting[] = {S::kCompleted, S::kFailed, S::kCancelled};
  // A failed run that will not be retried is closed as cancelled (seed 004 allows it).
  static constexpr S kFromFailed[] = {S::kRetrying, S::kCancelled};
  static constexpr S kFromRetrying[] = {S::kInitializing, S::kFailed, S::kCancelled};
  switch (from) {
    case S::kCreated:
      return kFromCreated;
    case S::kQueued:
      return kFromQueued;
    case S::kInitializing:
      return kFromInitializing;
    case S::kRunning:
      return kFromRunning;
    case S::kPaused:
      return kFromPaused;
    case S::kCompleting:
      return kFromCompleting;
    case S::kCompleted:
      return {};
    case S::kFailed:
      return kFromFailed;
    case S::kCancelled:
      return {};
    case S::kRetrying:
      return kFromRetrying;
  }
  return {};
}

bool CanTransition(State from, State to) {
  auto targets = AllowedTargets(from);
  return std::find(targets.begin(), targets.end(), to) != targets.end();
}

bool IsTerminal(State s) {
  switch (s) {
    case State::kCompleted:
    case State::kFailed:
    case State::kCancelled:
      return true;
    case State::kCreated:
    case State::kQueued:
    case State::kInitializing:
    case State::kRunning:
    case State::kPaused:
    case State::kCompleting:
    case State::kRetrying:
      return false;
  }
  return false;
}

bool IsActive(State s) {
  switch (s) {
    case State::kInitializing:
    case State::kRunning:
    case State::kCompleting:
    case State::kRetrying:
      return true;
    case State::kCreated:
    case State::kQueued:
    case State::kPaused:
    case State::kCompleted:
    case State::kFailed:
    case State::kCancelled:
      return false;
  }
  return false;
}

std::string_view ProgressStatus(State s) {
  switch (s) {
    case State::kCreated:
    case State::kQueued:
      return "pending";
    case State::kInitializing:
    case State::kRetrying:
      return "initializing";
    case State::kRunning:
    case State::kCompleting:
      return "running";
    case State::kPaused:
      return "paused";
    case State::kCompleted:
      return "completed";
    case State::kFailed:
      return "failed";
    case State::kCancelled:
      return "cancelled";
  }
  return "pending";
}

std::string_view LifecycleStage(State s) {
  switch (s) {
    case State::kCreated:
      return "draft";
    case State::kQueued:
      return "submitted";
    case State::kInitializing:
    case State::kRunning:
    case State::kPaused:
    case State::kCompleting:
    case State::kRetrying:
      return "in_progress";
    case State::kCompleted:
    case State::kCancelled:
      return "completed";
    case State::kFailed:
      return "failed";
  }
  return "draft";
}

std::vector<State> StatesWithProgressStatus(std::string_view status) {
  std::vector<State> out;
  for (State s : kAllStates) {
    if (ProgressStatus(s) == status) out.push_back(s);
  }
  return out;
}

}  // namespace vigil::core
