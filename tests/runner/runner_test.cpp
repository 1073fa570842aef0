// The simulated runner over a real engine and SQLite store, without HTTP: it drives an
// investigation created with "runner": "simulated" to a terminal state through the engine's
// calls, honours a pause made by someone else, picks up a run after a restart, and leaves every
// other investigation alone.
//
// Time: the clock stands still (a ManualClock nobody moves, so the runner's thread and the
// engine's may read it freely) and the speed is so high that every simulated duration rounds to
// nothing; so each pass of the runner's loop takes the next step, however fast the machine is.
#include "runner/runner.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/input.hpp"
#include "engine/await.hpp"
#include "store/open.hpp"
#include "support/result_matchers.hpp"

namespace vigil::runner {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using vigil::test::IsOk;

constexpr int64_t kNowMs = 1'800'000'000'000;

core::Principal Alice() {
  core::Principal p;
  p.subject = "alice";
  p.can_read = p.can_write = true;
  return p;
}

// Two phases, five tools: a run of a few dozen steps.
constexpr char kSimulated[] = R"({"name": "simulated case", "runner": "simulated",
  "entities": [{"type": "ip", "value": "203.0.113.9"}],
  "plan": {"phases": [
    {"name": "network", "tools": [{"tool_name": "ip_reputation", "agent_type": "network"},
                                  {"tool_name": "vpn_detection", "agent_type": "network"},
                                  {"tool_name": "tor_check", "agent_type": "network"}]},
    {"name": "device", "tools": [{"tool_name": "device_fingerprint", "agent_type": "device"},
                                 {"tool_name": "device_reputation", "agent_type": "device"}]}]}})";

// The newest snapshot of every investigation, as the engine commits them, for the test to wait on.
class Commits {
 public:
  void Add(const engine::SnapshotPtr& s) {
    std::lock_guard lock(mu_);
    latest_[s->id()] = s;
    cv_.notify_all();
  }
  // Waits until `done(snapshot of id)` holds, at most 30 s; returns the snapshot that satisfied
  // it, or null.
  engine::SnapshotPtr Await(const std::string& id,
                            const std::function<bool(const engine::Snapshot&)>& done) {
    std::unique_lock lock(mu_);
    engine::SnapshotPtr found;
    cv_.wait_for(lock, 30s, [&] {
      auto it = latest_.find(id);
      if (it == latest_.end() || !done(*it->second)) return false;
      found = it->second;
      return true;
    });
    return found;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<std::string, engine::SnapshotPtr> latest_;  // Guarded by mu_
};

class RunnerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The runner logs to the "runner" logger, which main() makes.
    if (!spdlog::get("runner")) spdlog::null_logger_mt("runner");
  }

  void SetUp() override {
    char tmpl[] = "/tmp/vigil-runner-XXXXXX";
    dir_ = mkdtemp(tmpl);
    db_ = dir_ + "/vigil.db";
    ASSERT_TRUE(IsOk(store::MigrateStore(db_)));
  }
  void TearDown() override {
    StopAll();
    std::filesystem::remove_all(dir_);
  }

  // An engine on the test's database, with a runner listening to its commits when `with_runner`
  // (started by the test).
  void StartEngine(bool with_runner) {
    auto s = store::OpenStore(db_);
    ASSERT_TRUE(IsOk(s));
    store_ = std::move(*s);
    engine_ = std::make_unique<engine::Engine>(*store_, clock_);
    if (with_runner) {
      runner_ = std::make_unique<Runner>(
          *engine_, clock_, RunnerOptions{.speed = 10'000, .keep_running = 0, .seed = 7});
      engine_->AddCommitListener(
          [r = runner_.get()](const engine::SnapshotPtr& s, std::span<const core::Event> events,
                              std::span<const engine::SharedEventPtr>) { r->OnCommit(s, events); });
    }
    engine_->AddCommitListener(
        [c = commits_.get()](const engine::SnapshotPtr& s, std::span<const core::Event>,
                             std::span<const engine::SharedEventPtr>) { c->Add(s); });
    engine_->Start();
  }
  // The producer first (its thread waits on the engine), then the engine, then what it called.
  void StopAll() {
    if (runner_) runner_->Stop();
    engine_.reset();
    runner_.reset();
    store_.reset();
    commits_ = std::make_unique<Commits>();
  }

  std::string Create(const char* body) {
    auto data = core::ParseCreateRequest(json::parse(body), {});
    EXPECT_TRUE(IsOk(data));
    auto created = engine::Await<engine::SnapshotPtr>(
        [&](auto done) { engine_->Create(Alice(), *data, done); });
    EXPECT_TRUE(IsOk(created));
    return created ? (*created)->id() : "";
  }
  Result<engine::SnapshotPtr> Move(const std::string& id, core::State to) {
    return engine::Await<engine::SnapshotPtr>([&](auto done) {
      engine_->Transition(Alice(), id, {to, "test"}, done);
    });
  }
  std::vector<core::Event> Log(const std::string& id) {
    auto events = engine::Await<std::vector<core::Event>>([&](auto done) {
      engine_->ReadEvents(store::EventQuery{id, {}, 1'000'000, {}, false}, done);
    });
    EXPECT_TRUE(IsOk(events));
    return events ? *events : std::vector<core::Event>{};
  }
  // The `to` of every status change in the log.
  std::vector<std::string> Path(const std::string& id) {
    std::vector<std::string> path;
    for (const core::Event& e : Log(id)) {
      if (e.type == core::EventType::kStatusChange) {
        path.emplace_back(e.data.at("to").as_string());
      }
    }
    return path;
  }
  engine::SnapshotPtr AwaitState(const std::string& id, core::State state) {
    return commits_->Await(id, [state](const engine::Snapshot& s) { return s.state() == state; });
  }

  // Checks what a completed simulated run must hold: every planned tool finished, every phase
  // completed, a risk computed, an ordered log.
  void ExpectCompleted(const engine::Snapshot& s) {
    const core::Investigation& inv = s.investigation();
    EXPECT_EQ(inv.state, core::State::kCompleted);
    EXPECT_EQ(inv.run.known_tools, 5);
    EXPECT_EQ(inv.run.finished_tools, 5);
    EXPECT_EQ(inv.run.completion_percent, 100);
    for (const core::Run::Slot& slot : inv.run.slots) {
      ASSERT_GE(slot.execution, 0) << slot.tool.tool_name << " was never queued";
      EXPECT_TRUE(core::IsFinished(inv.run.tools[static_cast<size_t>(slot.execution)].status))
          << slot.tool.tool_name;
    }
    for (const core::PhaseRun& phase : inv.run.phases) {
      EXPECT_EQ(phase.status, core::PhaseStatus::kCompleted) << phase.name;
    }
    EXPECT_TRUE(inv.run.risk.last_calculated_ms.has_value());
    std::vector<core::Event> log = Log(inv.id);
    ASSERT_EQ(static_cast<int64_t>(log.size()), inv.version);
    for (size_t i = 1; i < log.size(); ++i) EXPECT_LT(log[i - 1].id, log[i].id) << i;
  }

  ManualClock clock_{kNowMs};
  std::string dir_, db_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Commits> commits_ = std::make_unique<Commits>();
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<Runner> runner_;
};

TEST_F(RunnerTest, DrivesASimulatedInvestigationToCompletion) {
  StartEngine(/*with_runner=*/true);
  runner_->Start();
  std::string id = Create(kSimulated);
  ASSERT_TRUE(Move(id, core::State::kQueued));

  engine::SnapshotPtr done = AwaitState(id, core::State::kCompleted);
  ASSERT_NE(done, nullptr) << "not completed within 30 s";
  ExpectCompleted(*done);
  EXPECT_EQ(Path(id), (std::vector<std::string>{"queued", "initializing", "running", "completing",
                                                "completed"}));
}

TEST_F(RunnerTest, LeavesInvestigationsWithoutTheSimulatedRunnerAlone) {
  StartEngine(/*with_runner=*/true);
  runner_->Start();
  std::string outside = Create(R"({"name": "an outside producer's"})");
  ASSERT_TRUE(Move(outside, core::State::kQueued));
  std::string simulated = Create(kSimulated);
  ASSERT_TRUE(Move(simulated, core::State::kQueued));

  ASSERT_NE(AwaitState(simulated, core::State::kCompleted), nullptr);
  // The runner took dozens of steps meanwhile, none of them on the other investigation.
  std::vector<core::Event> log = Log(outside);
  ASSERT_EQ(log.size(), 2u) << "created and queued, nothing more";
  EXPECT_EQ(log.back().data.at("to").as_string(), "queued");
}

// A pause by the owner stops the run where it is, while the runner goes on with the others; the
// resume lets it finish.
TEST_F(RunnerTest, HonoursAPauseAndAResumeMadeBySomeoneElse) {
  StartEngine(/*with_runner=*/true);
  runner_->Start();
  std::string id = Create(kSimulated);
  std::string other = Create(kSimulated);
  ASSERT_TRUE(Move(id, core::State::kQueued));
  ASSERT_TRUE(Move(other, core::State::kQueued));

  ASSERT_NE(commits_->Await(id,
                            [](const engine::Snapshot& s) {
                              for (const core::ToolExecution& t : s.investigation().run.tools) {
                                if (t.status == core::ToolStatus::kRunning) return true;
                              }
                              return false;
                            }),
            nullptr);
  auto paused = Move(id, core::State::kPaused);
  ASSERT_TRUE(IsOk(paused));
  const int64_t paused_at = (*paused)->version();

  // The runner's loop takes a step of each investigation per pass: a few steps of the other one
  // are a few passes in which the paused one was looked at.
  const int64_t other_at =
      commits_->Await(other, [](const engine::Snapshot&) { return true; })->version();
  ASSERT_NE(commits_->Await(other,
                            [&](const engine::Snapshot& s) {
                              return s.version() >= other_at + 4 || core::IsTerminal(s.state());
                            }),
            nullptr);
  engine::SnapshotPtr still = commits_->Await(id, [](const engine::Snapshot&) { return true; });
  EXPECT_EQ(still->state(), core::State::kPaused);
  EXPECT_LE(still->version(), paused_at + 1)
      << "at most the report of a step begun before the pause, and nothing after it";

  ASSERT_TRUE(IsOk(Move(id, core::State::kRunning)));
  engine::SnapshotPtr done = AwaitState(id, core::State::kCompleted);
  ASSERT_NE(done, nullptr);
  ExpectCompleted(*done);
  EXPECT_EQ(Path(id), (std::vector<std::string>{"queued", "initializing", "running", "paused",
                                                "running", "completing", "completed"}));
  ASSERT_NE(AwaitState(other, core::State::kCompleted), nullptr);
}

// A run left mid-way (vigil stopped) is picked up by the next runner's Start.
TEST_F(RunnerTest, PicksUpARunThatWasUnderWayWhenItStarts) {
  StartEngine(/*with_runner=*/false);
  std::string id = Create(kSimulated);
  ASSERT_TRUE(Move(id, core::State::kQueued));
  ASSERT_TRUE(Move(id, core::State::kInitializing));
  ASSERT_TRUE(Move(id, core::State::kRunning));
  StopAll();

  StartEngine(/*with_runner=*/true);
  runner_->Start();
  engine::SnapshotPtr done = AwaitState(id, core::State::kCompleted);
  ASSERT_NE(done, nullptr) << "the runner did not resume it";
  ExpectCompleted(*done);
}

}  // namespace
}  // namespace vigil::runner
