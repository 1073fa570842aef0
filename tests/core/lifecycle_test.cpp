#include "core/lifecycle.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace vigil::core {
namespace {

// The order of the rows and columns below.
constexpr State kOrder[] = {
    State::kCreated,   State::kQueued,     State::kInitializing, State::kRunning,
    State::kPaused,    State::kCompleting, State::kCompleted,    State::kFailed,
    State::kCancelled, State::kRetrying,
};

// The transition table from the issue, written out by hand (1 = allowed):
//   created -> queued; queued -> initializing; initializing -> running; running <-> paused;
//   running -> completing -> completed; any non-terminal -> failed | cancelled;
//   failed -> retrying -> initializing; failed -> cancelled; completed and cancelled go nowhere.
// clang-format off
constexpr int kExpected[10][10] = {
    //            cre que ini run pau cmg cmd fai can ret
    /* created */ {0,  1,  0,  0,  0,  0,  0,  1,  1,  0},
    /* queued  */ {0,  0,  1,  0,  0,  0,  0,  1,  1,  0},
    /* initial */ {0,  0,  0,  1,  0,  0,  0,  1,  1,  0},
    /* running */ {0,  0,  0,  0,  1,  1,  0,  1,  1,  0},
    /* paused  */ {0,  0,  0,  1,  0,  0,  0,  1,  1,  0},
    /* complet.*/ {0,  0,  0,  0,  0,  0,  1,  1,  1,  0},
    /* complete*/ {0,  0,  0,  0,  0,  0,  0,  0,  0,  0},
    /* failed  */ {0,  0,  0,  0,  0,  0,  0,  0,  1,  1},
    /* cancel  */ {0,  0,  0,  0,  0,  0,  0,  0,  0,  0},
    /* retrying*/ {0,  0,  1,  0,  0,  0,  0,  1,  1,  0},
};
// clang-format on

TEST(Lifecycle, EveryOrderedPairMatchesTheTable) {
  int allowed = 0;
  for (int i = 0; i < 10; ++i) {
    for (int j = 0; j < 10; ++j) {
      State from = kOrder[i], to = kOrder[j];
      EXPECT_EQ(CanTransition(from, to), kExpected[i][j] == 1)
          << StateName(from) << " -> " << StateName(to);
      allowed += kExpected[i][j];
    }
  }
  EXPECT_EQ(allowed, 24);  // guards the table itself against a typo
}

// Seed 004's ALLOWED_TRANSITIONS, as written there.
// clang-format off
constexpr int kSeed004[10][10] = {
    //            cre que ini run pau cmg cmd fai can ret
    /* created */ {0,  1,  0,  0,  0,  0,  0,  0,  1,  0},
    /* queued  */ {0,  0,  1,  0,  0,  0,  0,  0,  1,  0},
    /* initial */ {0,  0,  0,  1,  0,  0,  0,  1,  0,  0},
    /* running */ {0,  0,  0,  0,  1,  1,  0,  1,  0,  0},
    /* paused  */ {0,  0,  0,  1,  0,  0,  0,  0,  1,  0},
    /* complet.*/ {0,  0,  0,  0,  0,  0,  1,  1,  0,  0},
    /* complete*/ {0,  0,  0,  0,  0,  0,  0,  0,  0,  0},
    /* failed  */ {0,  0,  0,  0,  0,  0,  0,  0,  1,  1},
    /* cancel  */ {0,  0,  0,  0,  0,  0,  0,  0,  0,  0},
    /* retrying*/ {0,  0,  1,  0,  0,  0,  0,  1,  0,  0},
};
// clang-format on

// Every transition of seed 004 exists, and the only ones added are those docs/api.md section 3
// lists: a non-terminal state may always fail and may always be cancelled.
TEST(Lifecycle, SeedTableIsKeptAndTheOnlyAdditionsAreFailingAndCancellingANonTerminalState) {
  for (int i = 0; i < 10; ++i) {
    for (int j = 0; j < 10; ++j) {
      State from = kOrder[i], to = kOrder[j];
      if (kSeed004[i][j]) {
        EXPECT_TRUE(CanTransition(from, to)) << StateName(from) << " -> " << StateName(to);
      } else if (CanTransition(from, to)) {
        EXPECT_FALSE(IsTerminal(from)) << StateName(from) << " -> " << StateName(to);
        EXPECT_TRUE(to == State::kFailed || to == State::kCancelled)
            << StateName(from) << " -> " << StateName(to);
      }
    }
  }
  EXPECT_TRUE(CanTransition(State::kFailed, State::kCancelled));
}

TEST(Lifecycle, AllowedTargetsListsExactlyTheTableRowWithoutDuplicates) {
  for (int i = 0; i < 10; ++i) {
    auto targets = AllowedTargets(kOrder[i]);
    std::set<State> got(targets.begin(), targets.end());
    EXPECT_EQ(got.size(), targets.size()) << StateName(kOrder[i]) << " lists a target twice";
    std::set<State> want;
    for (int j = 0; j < 10; ++j) {
      if (kExpected[i][j]) want.insert(kOrder[j]);
    }
    EXPECT_EQ(got, want) << StateName(kOrder[i]);
  }
}

TEST(Lifecycle, NoStateMayTransitionToItself) {
  for (State s : kAllStates) EXPECT_FALSE(CanTransition(s, s)) << StateName(s);
}

TEST(Lifecycle, AllStatesListsEachStateOnce) {
  std::set<State> all(std::begin(kAllStates), std::end(kAllStates));
  EXPECT_EQ(all.size(), 10u);
  EXPECT_EQ(std::size(kAllStates), 10u);
}

TEST(Lifecycle, TerminalStates) {
  const std::set<State> terminal = {State::kCompleted, State::kFailed, State::kCancelled};
  for (State s : kAllStates) EXPECT_EQ(IsTerminal(s), terminal.contains(s)) << StateName(s);
}

// A failed run is retried, or closed (cancelled) when it will not be.
TEST(Lifecycle, TerminalStatesOnlyLeaveFailedByRetryOrCancel) {
  for (State s : kAllStates) {
    if (!IsTerminal(s)) continue;
    for (State t : AllowedTargets(s)) {
      EXPECT_EQ(s, State::kFailed) << StateName(t);
      EXPECT_TRUE(t == State::kRetrying || t == State::kCancelled) << StateName(t);
    }
  }
}

TEST(Lifecycle, NonTerminalStatesMayFailOrBeCancelled) {
  for (State s : kAllStates) {
    if (IsTerminal(s)) continue;
    EXPECT_TRUE(CanTransition(s, State::kFailed)) << StateName(s);
    EXPECT_TRUE(CanTransition(s, State::kCancelled)) << StateName(s);
  }
}

TEST(Lifecycle, ActiveStates) {
  const std::set<State> active = {State::kInitializing, State::kRunning, State::kCompleting,
                                  State::kRetrying};
  for (State s : kAllStates) EXPECT_EQ(IsActive(s), active.contains(s)) << StateName(s);
}

struct Mapping {
  State state;
  const char* name;
  const char* status;
  const char* stage;
};

// The table in lifecycle.hpp's header comment.
constexpr Mapping kMappings[] = {
    {State::kCreated, "created", "pending", "draft"},
    {State::kQueued, "queued", "pending", "submitted"},
    {State::kInitializing, "initializing", "initializing", "in_progress"},
    {State::kRunning, "running", "running", "in_progress"},
    {State::kPaused, "paused", "paused", "in_progress"},
    {State::kCompleting, "completing", "running", "in_progress"},
    {State::kCompleted, "completed", "completed", "completed"},
    {State::kFailed, "failed", "failed", "failed"},
    {State::kCancelled, "cancelled", "cancelled", "completed"},
    {State::kRetrying, "retrying", "initializing", "in_progress"},
};

TEST(Lifecycle, NamesStatusesAndStagesOfEveryState) {
  for (const Mapping& m : kMappings) {
    EXPECT_EQ(StateName(m.state), m.name);
    EXPECT_EQ(ProgressStatus(m.state), m.status) << m.name;
    EXPECT_EQ(LifecycleStage(m.state), m.stage) << m.name;
  }
}

TEST(Lifecycle, ParseStateRoundTripsEveryName) {
  for (State s : kAllStates) {
    auto parsed = ParseState(StateName(s));
    ASSERT_TRUE(parsed.has_value()) << StateName(s);
    EXPECT_EQ(*parsed, s);
  }
}

TEST(Lifecycle, ParseStateRejectsUnknownNames) {
  for (const char* name : {"", "Created", "RUNNING", "running ", " running", "complete", "canceled",
                           "in_progress", "pending", "unknown"}) {
    EXPECT_FALSE(ParseState(name).has_value()) << "'" << name << "'";
  }
}

TEST(Lifecycle, StatesWithProgressStatus) {
  using V = std::vector<State>;
  EXPECT_EQ(StatesWithProgressStatus("pending"), (V{State::kCreated, State::kQueued}));
  EXPECT_EQ(StatesWithProgressStatus("initializing"), (V{State::kInitializing, State::kRetrying}));
  EXPECT_EQ(StatesWithProgressStatus("running"), (V{State::kRunning, State::kCompleting}));
  EXPECT_EQ(StatesWithProgressStatus("paused"), (V{State::kPaused}));
  EXPECT_EQ(StatesWithProgressStatus("completed"), (V{State::kCompleted}));
  EXPECT_EQ(StatesWithProgressStatus("failed"), (V{State::kFailed}));
  EXPECT_EQ(StatesWithProgressStatus("cancelled"), (V{State::kCancelled}));
  EXPECT_TRUE(StatesWithProgressStatus("").empty());
  EXPECT_TRUE(StatesWithProgressStatus("draft").empty());
  EXPECT_TRUE(StatesWithProgressStatus("queued").empty());
}

TEST(Lifecycle, EveryStateHasExactlyOneProgressStatus) {
  size_t covered = 0;
  for (const char* status :
       {"pending", "initializing", "running", "paused", "completed", "failed", "cancelled"}) {
    covered += StatesWithProgressStatus(status).size();
  }
  EXPECT_EQ(covered, 10u);
}

}  // namespace
}  // namespace vigil::core
