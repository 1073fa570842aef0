// Micro-benchmarks of the hot paths: the fold, snapshot serialization, cursors, conditional
// requests, routing and a durable group commit. `make bench` runs them; figures in
// docs/performance.md.
#include <benchmark/benchmark.h>

#include <boost/json/parse.hpp>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "base/json_text.hpp"
#include "core/cursor.hpp"
#include "core/input.hpp"
#include "core/investigation.hpp"
#include "engine/snapshot.hpp"
#include "http/conditional.hpp"
#include "http/router.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace vigil {
namespace {

namespace json = boost::json;

// An investigation with `tools` planned tools, all queued, started and completed.
struct Fixture {
  core::Investigation inv;
  core::EventId last;
  int64_t now = 1'730'668'800'000;

  void Add(core::EventType type, json::object data) {
    core::Event e;
    e.investigation_id = "inv_bench";
    e.run_id = "run_bench";
    e.type = type;
    e.actor = "bench";
    e.data = std::move(data);
    e.id = last = core::NextEventId(last, now += 3);
    core::Apply(inv, e);
  }

  explicit Fixture(int tools) {
    json::array list;
    for (int i = 0; i < tools; ++i) {
      list.push_back(json::object{{"tool_name", "tool_" + std::to_string(i % 20)},
                                  {"agent_type", "agent_" + std::to_string(i % 4)}});
    }
    json::object body{
        {"name", "bench"},
        {"entities", json::array{json::object{{"type", "ip"}, {"value", "1.2.3.4"}}}},
        {"plan",
         json::object{{"phases", json::array{json::object{{"name", "all"}, {"tools", list}}}}}}};
    core::InputLimits limits;
    limits.max_planned_tools = 1000;
    json::object created = *core::ParseCreateRequest(body, limits);
    created["owner"] = "bench";
    Add(core::EventType::kInvestigationCreated, created);
    for (const char* to : {"queued", "initializing", "running"}) {
      Add(core::EventType::kStatusChange, {{"to", to}});
    }
    for (int i = 0; i < tools; ++i) {
      std::string id = "x" + std::to_string(i);
      Add(core::EventType::kToolQueued, {{"tool_execution_id", id},
                                         {"tool_name", "tool_" + std::to_string(i % 20)},
                                         {"agent_type", "agent_" + std::to_string(i % 4)}});
      Add(core::EventType::kToolStarted, {{"tool_execution_id", id}});
      Add(core::EventType::kToolComplete,
          {{"tool_execution_id", id}, {"result", {{"risk_score", 0.42}}}});
    }
  }
};

void BM_ApplyRiskEvent(benchmark::State& state) {
  Fixture f(static_cast<int>(state.range(0)));
  core::Event e;
  e.type = core::EventType::kRiskUpdated;
  e.data = {{"overall", 0.5}, {"confidence", 0.7}};
  for (auto _ : state) {
    e.id = f.last = core::NextEventId(f.last, f.now += 1);
    core::Apply(f.inv, e);
  }
}
BENCHMARK(BM_ApplyRiskEvent)->Arg(30)->Arg(300);

void BM_ProgressSnapshot(benchmark::State& state) {
  Fixture f(static_cast<int>(state.range(0)));
  size_t bytes = 0;
  for (auto _ : state) {
    std::string text = core::ProgressText(f.inv);
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_ProgressSnapshot)->Arg(30)->Arg(300);

// What every commit pays for each investigation it changes: the snapshot readers will share.
void BM_BuildSnapshot(benchmark::State& state) {
  Fixture f(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(engine::Snapshot(f.inv));
}
BENCHMARK(BM_BuildSnapshot)->Arg(30);

void BM_ParseCursor(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(core::ParseEventId("1730668800000_000127"));
}
BENCHMARK(BM_ParseCursor);

void BM_IfNoneMatch(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        http::IfNoneMatchMatches("\"x\", W/\"41-9f3a01bc\"", "\"41-9f3a01bc\""));
  }
}
BENCHMARK(BM_IfNoneMatch);

void BM_RouterMatch(benchmark::State& state) {
  http::Router router;
  auto ok = [](const http::Request&, http::Responder r) { r(http::Response{}); };
  for (const char* p : {"/api/v1/investigations", "/api/v1/investigations/{id}",
                        "/api/v1/investigations/{id}/events", "/api/v1/investigations/{id}/tools",
                        "/api/v1/investigations/{id}/progress"}) {
    router.Add(http::Method::kGet, p, ok, {.auth = false});
  }
  http::Request req;
  req.path = "/api/v1/investigations/inv_6e42fe8645c558569ddc33d9/progress";
  for (auto _ : state) {
    int status = 0;
    router.Dispatch(req, [&status](http::Response r) { status = r.status; });
    benchmark::DoNotOptimize(status);
  }
}
BENCHMARK(BM_RouterMatch);

// One durable commit (fsync) of `range` events: the cost a group commit shares among its jobs.
void BM_StoreAppendCommit(benchmark::State& state) {
  std::string dir = std::filesystem::temp_directory_path() / "vigil-bench-store";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::string path = dir + "/bench.db";
  (void)store::MigrateSqlite(path);
  auto opened = store::OpenSqliteStore({.path = path});
  if (!opened) {
    state.SkipWithError(opened.error().message.c_str());
    return;
  }
  auto& s = **opened;
  Fixture f(0);
  {
    auto txn = s.BeginWrite();
    store::InvestigationRow row;
    row.id = "inv_bench";
    row.owner = "bench";
    row.name = "bench";
    row.run_id = "run_bench";
    row.snapshot_json = "{}";
    (void)(*txn)->InsertInvestigation(row);
    (void)(*txn)->Commit();
  }
  std::vector<core::Event> events(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    for (core::Event& e : events) {
      e.investigation_id = "inv_bench";
      e.run_id = "run_bench";
      e.type = core::EventType::kRiskUpdated;
      e.data = {{"overall", 0.5}};
      e.id = f.last = core::NextEventId(f.last, f.now += 1);
    }
    auto txn = s.BeginWrite();
    (void)(*txn)->AppendEvents(events);
    (void)(*txn)->Commit();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  opened->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_StoreAppendCommit)->Arg(1)->Arg(100)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace vigil
