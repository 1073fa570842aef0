#include "runner/runner.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <cmath>
#include <random>

#include "base/json_util.hpp"
#include "core/input.hpp"
#include "engine/await.hpp"

namespace vigil::runner {

namespace json = boost::json;
using core::EventInput;
using core::EventType;

namespace {

constexpr int kParallelTools = 3;
constexpr int64_t kTickMs = 100;

using engine::Await;  // the runner's own thread may block on the engine

EventInput Input(EventType type, std::string actor, json::object data) {
  EventInput in;
  in.type = type;
  in.actor = std::move(actor);
  in.data = std::move(data);
  return in;
}

double Round3(double v) { return std::round(v * 1000.0) / 1000.0; }

// The plan of a demo investigation: the phases and tools a fraud investigation typically runs.
constexpr const char kDemoPlan[] = R"({"phases": [
  {"name": "initialization", "estimated_duration_ms": 2000,
   "tools": [{"tool_name": "entity_loader", "agent_type": "orchestrator"}]},
  {"name": "device_analysis", "estimated_duration_ms": 8000,
   "tools": [{"tool_name": "device_fingerprint", "agent_type": "device"},
             {"tool_name": "device_reputation", "agent_type": "device"}]},
  {"name": "network_analysis", "estimated_duration_ms": 12000,
   "tools": [{"tool_name": "ip_reputation", "agent_type": "network"},
             {"tool_name": "vpn_detection", "agent_type": "network"},
             {"tool_name": "proxy_detection", "agent_type": "network"},
             {"tool_name": "tor_check", "agent_type": "network"}]},
  {"name": "location_analysis", "estimated_duration_ms": 8000,
   "tools": [{"tool_name": "ip_geolocation", "agent_type": "location"},
             {"tool_name": "impossible_travel", "agent_type": "location"}]},
  {"name": "logs_analysis", "estimated_duration_ms": 10000,
   "tools": [{"tool_name": "log_query", "agent_type": "logs"},
             {"tool_name": "auth_anomaly", "agent_type": "logs"},
             {"tool_name": "session_timeline", "agent_type": "logs"}]},
  {"name": "risk_assessment", "estimated_duration_ms": 4000,
   "tools": [{"tool_name": "risk_aggregator", "agent_type": "risk"}]},
  {"name": "finalization", "estimated_duration_ms": 2000,
   "tools": [{"tool_name": "report_builder", "agent_type": "orchestrator"}]}
]})";

struct DemoCase {
  const char* name;
  const char* entity_type;
  const char* entity_value;
};
constexpr DemoCase kDemoCases[] = {
    {"Account takeover: user 4821", "user_id", "u-4821"},
    {"Card testing burst: merchant 77", "merchant", "m-77"},
    {"Suspicious login: 203.0.113.7", "ip", "203.0.113.7"},
    {"New device, high-value transfer", "device_id", "dev-9f3a01"},
    {"Promo abuse ring: alice@example.com", "email", "alice@example.com"},
    {"Chargeback spike: payment token", "payment_method_token", "pm_tok_5521"},
};

}  // namespace

struct Runner::Sim {
  std::string id;
  bool demo = false;
  std::mt19937_64 rng;
  int64_t next_ms = 0;
  std::unordered_map<std::string, int64_t> due;  // running tool -> when it finishes
  double base_risk = 0.3;
  bool fail_run = false;
  int fail_phase = -1;
  int discoveries = 0;

  double Uniform(double lo, double hi) { return std::uniform_real_distribution<>(lo, hi)(rng); }
  bool Chance(double p) { return Uniform(0, 1) < p; }
};

Runner::Runner(engine::Engine& engine, const Clock& clock, RunnerOptions options)
    : engine_(engine), clock_(clock), options_(options) {
  principal_.subject = "runner";
  principal_.can_read = principal_.can_write = principal_.is_admin = true;
}

Runner::~Runner() { Stop(); }

void Runner::Start() {
  // Pick up simulated investigations that were mid-run when vigil stopped.
  store::InvestigationQuery query;
  query.states = {core::State::kQueued, core::State::kInitializing, core::State::kRunning,
                  core::State::kPaused, core::State::kCompleting,   core::State::kRetrying};
  query.limit = 1000;
  auto rows = Await<std::vector<store::InvestigationRow>>(
      [&](auto done) { engine_.List(query, std::move(done)); });
  int resumed = 0;
  if (rows) {
    for (const auto& row : *rows) {
      auto snapshot = Await<engine::SnapshotPtr>(
          [&](auto done) { engine_.Get(principal_, row.id, std::move(done)); });
      if (snapshot && (*snapshot)->investigation().runner == "simulated") {
        OnCommit(*snapshot, {});
        ++resumed;
      }
    }
  }
  if (resumed > 0) spdlog::get("runner")->info("resumed {} simulated investigations", resumed);
  thread_ = std::thread([this] { Loop(); });
}

void Runner::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Runner::OnCommit(const engine::SnapshotPtr& snapshot, std::span<const core::Event>) {
  const core::Investigation& inv = snapshot->investigation();
  if (inv.runner != "simulated" || core::IsTerminal(inv.state) ||
      inv.state == core::State::kCreated) {
    return;
  }
  std::lock_guard lock(mu_);
  if (sims_.contains(inv.id)) return;
  auto sim = std::make_unique<Sim>();
  sim->id = inv.id;
  sim->demo = inv.owner == options_.demo_user;
  sim->rng.seed(options_.seed ? options_.seed : std::random_device{}());
  sim->base_risk = sim->Uniform(0.1, 0.85);
  sim->fail_run = sim->demo && sim->Chance(options_.run_failure_rate);
  sim->fail_phase = static_cast<int>(sim->Uniform(1, std::max<double>(1, inv.plan.size())));
  sims_.emplace(inv.id, std::move(sim));
  cv_.notify_one();
}

void Runner::Loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    int64_t now = clock_.NowMs();
    std::vector<Sim*> due;
    for (auto& [id, sim] : sims_) {
      if (sim->next_ms <= now) due.push_back(sim.get());
    }
    lock.unlock();
    std::vector<std::string> finished;
    for (Sim* sim : due) {
      engine::SnapshotPtr snapshot = engine_.Cached(sim->id);
      if (!snapshot) {
        auto loaded = Await<engine::SnapshotPtr>(
            [&](auto done) { engine_.Get(principal_, sim->id, std::move(done)); });
        if (!loaded) {
          finished.push_back(sim->id);
          continue;
        }
        snapshot = *loaded;
      }
      if (core::IsTerminal(snapshot->state())) {
        finished.push_back(sim->id);
        continue;
      }
      Step(*sim, snapshot);
    }
    EnsureDemo();
    lock.lock();
    for (const std::string& id : finished) {
      if (sims_.erase(id) && options_.keep_running > 0) {
        next_demo_ms_ = std::max(next_demo_ms_, now + static_cast<int64_t>(15000 / options_.speed));
      }
    }
    cv_.wait_for(lock, std::chrono::milliseconds(kTickMs), [this] { return stopping_; });
  }
}

bool Runner::Report(Sim& sim, std::vector<EventInput> events) {
  auto r = Await<engine::ReportOutcome>(
      [&](auto done) { engine_.Report(principal_, sim.id, std::move(events), std::move(done)); });
  if (!r) {
    // Someone else moved the investigation (paused, cancelled): decide again from its new state.
    if (r.error().code != ErrorCode::kConflict) {
      spdlog::get("runner")->warn("{}: report failed: {}", sim.id, Describe(r.error()));
    }
    return false;
  }
  return true;
}

bool Runner::Move(Sim& sim, core::State to, std::string reason) {
  core::TransitionInput t{to, std::move(reason)};
  auto r = Await<engine::SnapshotPtr>(
      [&](auto done) { engine_.Transition(principal_, sim.id, t, std::move(done)); });
  return r.has_value();
}

void Runner::Step(Sim& sim, const engine::SnapshotPtr& snapshot) {
  const core::Investigation& inv = snapshot->investigation();
  const core::Run& run = inv.run;
  int64_t now = clock_.NowMs();
  auto later = [&](double ms) { sim.next_ms = now + static_cast<int64_t>(ms / options_.speed); };
  later(200);
  switch (inv.state) {
    case core::State::kQueued:
    case core::State::kRetrying:
      sim.due.clear();
      Move(sim, core::State::kInitializing, "picked up by the simulated runner");
      later(600);
      return;
    case core::State::kInitializing:
      Move(sim, core::State::kRunning, "simulated tools ready");
      return;
    case core::State::kCompleting:
      Move(sim, core::State::kCompleted, "every phase finished");
      return;
    case core::State::kPaused:
    case core::State::kCreated:
    case core::State::kCompleted:
    case core::State::kFailed:
    case core::State::kCancelled:
      return;
    case core::State::kRunning:
      break;
  }

  // The first phase, in plan order, that has not finished.
  int phase = -1;
  for (size_t i = 0; i < run.phases.size(); ++i) {
    if (core::IsFinished(run.phases[i].status)) continue;
    if (phase < 0 || run.phases[i].order < run.phases[static_cast<size_t>(phase)].order) {
      phase = static_cast<int>(i);
    }
  }
  if (phase < 0) {
    Move(sim, core::State::kCompleting, "every phase finished");
    return;
  }
  const core::PhaseRun& ph = run.phases[static_cast<size_t>(phase)];
  const std::string orchestrator = "orchestrator_agent";
  if (ph.status == core::PhaseStatus::kPending) {
    Report(sim, {Input(EventType::kPhaseChange, orchestrator,
                       {{"phase_id", ph.id}, {"status", "in_progress"}})});
    return;
  }

  // Queue the phase's planned tools that have not been queued.
  std::vector<EventInput> batch;
  const core::Entity* subject = inv.entities.empty() ? nullptr : &inv.entities.front();
  for (size_t s = 0; s < run.slots.size(); ++s) {
    const core::Run::Slot& slot = run.slots[s];
    if (slot.phase != static_cast<size_t>(phase) || slot.execution >= 0) continue;
    json::object input{{"entity_id", subject ? subject->id : ""},
                       {"entity_type", subject ? subject->type : ""},
                       {"parameters", json::object{{"simulated", true}}}};
    batch.push_back(
        Input(EventType::kToolQueued, slot.tool.agent_type + "_agent",
              {{"tool_execution_id", "t" + std::to_string(s) + "-" + slot.tool.tool_name},
               {"tool_name", slot.tool.tool_name},
               {"agent_type", slot.tool.agent_type},
               {"phase_id", ph.id},
               {"input", std::move(input)},
               {"max_retries", 1}}));
  }
  if (!batch.empty()) {
    Report(sim, std::move(batch));
    return;
  }

  // Finish the running tools that are due; start queued ones while there is room.
  int running = 0, unfinished = 0, finished_in_phase = 0;
  for (const core::ToolExecution& t : run.tools) {
    if (t.phase_id != ph.id) continue;
    if (core::IsFinished(t.status)) {
      ++finished_in_phase;
      continue;
    }
    ++unfinished;
    std::string actor = t.agent_type + "_agent";
    if (t.status == core::ToolStatus::kRunning) {
      auto due = sim.due.find(t.id);
      if (due == sim.due.end()) {
        sim.due[t.id] = now + static_cast<int64_t>(sim.Uniform(500, 2500) / options_.speed);
        ++running;
        continue;
      }
      if (due->second > now) {
        ++running;
        continue;
      }
      sim.due.erase(due);
      if (sim.Chance(0.12)) {
        bool retry = t.retry_count < t.max_retries;
        batch.push_back(
            Input(EventType::kToolError, actor,
                  {{"tool_execution_id", t.id},
                   {"will_retry", retry},
                   {"error",
                    json::object{{"code", sim.Chance(0.5) ? "UPSTREAM_TIMEOUT" : "RATE_LIMITED"},
                                 {"message", t.tool_name + " did not answer in time (simulated)"},
                                 {"details", json::object{{"simulated", true}}}}}}));
        continue;
      }
      double risk = Round3(std::clamp(sim.base_risk + sim.Uniform(-0.25, 0.25), 0.0, 1.0));
      json::array findings;
      if (risk > 0.5) {
        findings.push_back(json::object{{"finding", t.tool_name + " flagged the entity"},
                                        {"severity", risk > 0.75 ? "high" : "medium"}});
      }
      batch.push_back(Input(EventType::kToolComplete, actor,
                            {{"tool_execution_id", t.id},
                             {"result", json::object{{"success", true},
                                                     {"risk_score", risk},
                                                     {"findings", std::move(findings)},
                                                     {"metadata", {{"simulated", true}}}}}}));
      ++finished_in_phase;
      if (subject && sim.Chance(0.35)) {
        static constexpr const char* kRelations[] = {"same_ip", "same_device", "network_connection",
                                                     "temporal_correlation"};
        std::string type = t.agent_type == "network"  ? "ip"
                           : t.agent_type == "device" ? "device_id"
                           : t.agent_type == "logs"   ? "session_id"
                                                      : "email";
        int n = ++sim.discoveries;
        std::string value = type == "ip" ? "198.51.100." + std::to_string(10 + n)
                                         : type + "-" + std::to_string(1000 + n);
        std::string entity_id = type + ":" + value;
        batch.push_back(Input(
            EventType::kEntityDiscovered, actor,
            {{"entity",
              json::object{
                  {"type", type}, {"value", value}, {"metadata", {{"found_by", t.tool_name}}}}}}));
        batch.push_back(
            Input(EventType::kRelationshipDiscovered, actor,
                  {{"relationship", json::object{{"source_entity_id", subject->id},
                                                 {"target_entity_id", entity_id},
                                                 {"relationship_type", kRelations[n % 4]},
                                                 {"confidence", Round3(sim.Uniform(0.5, 1.0))},
                                                 {"metadata", {{"found_by", t.tool_name}}}}}}));
      }
    } else if (running < kParallelTools) {
      batch.push_back(Input(EventType::kToolStarted, actor, {{"tool_execution_id", t.id}}));
      sim.due[t.id] = now + static_cast<int64_t>(sim.Uniform(800, 4500) / options_.speed);
      ++running;
    }
  }
  if (!batch.empty()) {
    Report(sim, std::move(batch));
    return;
  }
  if (sim.fail_run && phase == sim.fail_phase && finished_in_phase > 0) {
    Report(sim,
           {Input(EventType::kErrorLogged, orchestrator,
                  {{"error", json::object{{"code", "AGENT_CRASHED"},
                                          {"message", "the " + ph.name +
                                                          " agent stopped answering (simulated)"},
                                          {"severity", "critical"},
                                          {"context", {{"phase_id", ph.id}}}}}}),
            Input(EventType::kPhaseChange, orchestrator,
                  {{"phase_id", ph.id}, {"status", "failed"}})});
    Move(sim, core::State::kFailed, "the " + ph.name + " phase failed (simulated)");
    return;
  }
  if (unfinished > 0) return;

  // The phase is done: recompute risk from the completed tools, then close the phase.
  std::map<std::string, std::pair<double, int>> by_agent;
  int finished = 0;
  for (const core::ToolExecution& t : run.tools) {
    if (core::IsFinished(t.status)) ++finished;
    if (t.status != core::ToolStatus::kCompleted || !t.result) continue;
    auto& [sum, n] = by_agent[t.agent_type];
    sum += NumberOr(*t.result, "risk_score", 0);
    ++n;
  }
  json::object agents;
  double max_score = 0, mean = 0;
  for (const auto& [agent, sn] : by_agent) {
    double score = Round3(sn.first / sn.second);
    agents[agent] = score;
    max_score = std::max(max_score, score);
    mean += score / static_cast<double>(by_agent.size());
  }
  double coverage = static_cast<double>(finished) /
                    static_cast<double>(std::max<size_t>({1, run.slots.size(), run.tools.size()}));
  Report(sim, {Input(EventType::kRiskUpdated, "risk_agent",
                     {{"overall", Round3(0.6 * max_score + 0.4 * mean)},
                      {"by_agent", std::move(agents)},
                      {"confidence", Round3(std::clamp(0.05 + 0.9 * coverage, 0.0, 1.0))}}),
               Input(EventType::kPhaseChange, orchestrator,
                     {{"phase_id", ph.id}, {"status", "completed"}})});
}

void Runner::EnsureDemo() {
  if (options_.keep_running <= 0) return;
  int64_t now = clock_.NowMs();
  int active = 0;
  {
    std::lock_guard lock(mu_);
    if (now < next_demo_ms_) return;
    for (const auto& [id, sim] : sims_) active += sim->demo;
  }
  if (active >= options_.keep_running) return;

  thread_local std::mt19937_64 rng{std::random_device{}()};
  const DemoCase& c = kDemoCases[rng() % std::size(kDemoCases)];
  json::object body{
      {"name", c.name},
      {"entities", json::array{json::object{{"type", c.entity_type}, {"value", c.entity_value}}}},
      {"plan", json::parse(kDemoPlan)},
      {"settings", {{"simulated", true}}},
      {"runner", "simulated"}};
  auto data = core::ParseCreateRequest(body, core::InputLimits{});
  if (!data) {
    spdlog::get("runner")->error("demo plan rejected: {}", data.error().message);
    return;
  }
  core::Principal demo;
  demo.subject = options_.demo_user;
  demo.can_read = demo.can_write = true;
  auto created = Await<engine::SnapshotPtr>(
      [&](auto done) { engine_.Create(demo, std::move(*data), std::move(done)); });
  if (!created) return;
  auto started = Await<engine::SnapshotPtr>([&](auto done) {
    engine_.Transition(demo, (*created)->id(), {core::State::kQueued, "demo"}, std::move(done));
  });
  if (started) {
    spdlog::get("runner")->info("started simulated demo investigation {} ({})", (*created)->id(),
                                c.name);
  }
  std::lock_guard lock(mu_);
  next_demo_ms_ = now + static_cast<int64_t>(2000 / options_.speed);
}

}  // namespace vigil::runner
