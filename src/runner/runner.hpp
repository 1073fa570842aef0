// Runner: vigil's built-in producer of SIMULATED investigations, for demos and load.
//
// It drives every investigation created with "runner": "simulated" once it is started, through
// the same engine calls the HTTP API makes, so its events are ordinary events. Nothing it reports
// is real: tools, durations, risk scores, discoveries and failures are drawn at random.
//
// It decides each next step from the investigation's current snapshot, so it honours pause,
// resume, cancel and retry made by anyone, and picks up where it was after a restart. Per phase it
// queues the phase's planned tools, runs up to three at a time with realistic durations, fails
// some (with one retry), reports risk and discoveries, then completes the phase; after the last
// phase it completes the investigation. Now and then a run fails as a whole (demo only).
//
// With `keep_running` > 0 (demo mode) it also keeps that many demo investigations of `demo_user`
// running, starting a new one a while after one ends.
//
// Thread-safety: OnCommit may be called from any thread; the rest from the owner's thread.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>

#include "base/clock.hpp"
#include "engine/engine.hpp"

namespace vigil::runner {

struct RunnerOptions {
  double speed = 1.0;    // 2.0 runs tools twice as fast
  int keep_running = 0;  // demo investigations kept running (0: none created)
  std::string demo_user = "demo";
  double run_failure_rate = 0.1;  // share of demo runs that fail as a whole
  uint64_t seed = 0;              // 0: random
};

class Runner {
 public:
  Runner(engine::Engine& engine, const Clock& clock, RunnerOptions options);
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Resumes simulated investigations that were mid-run, then starts the loop.
  void Start();
  void Stop();

  // To be registered as an engine commit listener.
  void OnCommit(const engine::SnapshotPtr& snapshot, std::span<const core::Event> events);

 private:
  struct Sim;
  void Loop();
  void Step(Sim& sim, const engine::SnapshotPtr& snapshot);
  void EnsureDemo();
  bool Report(Sim& sim, std::vector<core::EventInput> events);
  bool Move(Sim& sim, core::State to, std::string reason);

  engine::Engine& engine_;
  const Clock& clock_;
  const RunnerOptions options_;
  core::Principal principal_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                                       // Guarded by mu_
  std::unordered_map<std::string, std::unique_ptr<Sim>> sims_;  // Guarded by mu_
  int64_t next_demo_ms_ = 0;                                    // Guarded by mu_
  std::thread thread_;
};

}  // namespace vigil::runner
