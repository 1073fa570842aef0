#include "live/bridge.hpp"

#include <algorithm>
#include <span>
#include <utility>
#include <vector>

namespace vigil::live {

namespace {

// Ids per head query: one round trip each, a parameter of a few tens of kilobytes.
constexpr size_t kHeadsPerQuery = 1000;
// The longest a wait on the listener lasts, so that Stop is noticed soon.
constexpr std::chrono::milliseconds kMaxWait{250};

}  // namespace

Bridge::Bridge(store::Store& store, engine::Engine& engine, BridgeOptions options,
               std::function<void(const std::string&, bool)> log)
    : store_(store), engine_(engine), options_(options), log_(std::move(log)) {}

Bridge::~Bridge() { Stop(); }

void Bridge::Start() {
  listener_ = store_.ListenForHeads();
  if (!listener_) return;  // one writer: nobody else commits
  thread_ = std::thread([this] { Loop(*listener_); });
}

void Bridge::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Bridge::Stats Bridge::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

bool Bridge::Pause(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, d, [this] { return stopping_; });
}

void Bridge::Loop(store::HeadListener& listener) {
  using Clock = std::chrono::steady_clock;
  auto next_check = Clock::now() + options_.head_check_interval;
  bool failing = false;  // the last wait failed: said once, not at every retry
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    auto until_check =
        std::chrono::duration_cast<std::chrono::milliseconds>(next_check - Clock::now());
    auto batch = listener.Wait(std::clamp(until_check, std::chrono::milliseconds(0), kMaxWait));
    if (!batch) {
      {
        std::lock_guard lock(mu_);
        ++stats_.listener_errors;
      }
      if (!failing && log_) {
        log_("listening for other nodes' commits failed, listening again: " +
                 Describe(batch.error()),
             true);
      }
      failing = true;
      if (!Pause(options_.retry_interval)) return;
      continue;
    }
    if (!batch->heads.empty()) {
      {
        std::lock_guard lock(mu_);
        stats_.hints += batch->heads.size();
      }
      engine_.CatchUp(std::move(batch->heads));
    }
    if (batch->resync) {
      {
        std::lock_guard lock(mu_);
        ++stats_.resyncs;
      }
      if (failing && log_) log_("listening for other nodes' commits again; resynchronizing", false);
      failing = false;
    }
    if (batch->resync || Clock::now() >= next_check) {
      CheckHeads();
      next_check = Clock::now() + options_.head_check_interval;
    }
  }
}

void Bridge::CheckHeads() {
  std::vector<store::InvestigationHead> in_memory = engine_.HotHeads();
  std::vector<std::string> ids;
  ids.reserve(std::min(in_memory.size(), kHeadsPerQuery));
  for (size_t start = 0; start < in_memory.size(); start += kHeadsPerQuery) {
    ids.clear();
    const size_t end = std::min(in_memory.size(), start + kHeadsPerQuery);
    for (size_t i = start; i < end; ++i) ids.push_back(std::move(in_memory[i].id));
    auto stored = store_.ReadHeads(ids);
    if (!stored) {
      if (log_)
        log_("reading the heads of the investigations in memory: " + Describe(stored.error()),
             true);
      return;
    }
    // The engine keeps those it holds at a lower version.
    engine_.CatchUp(std::move(*stored));
  }
  std::lock_guard lock(mu_);
  ++stats_.head_checks;
}

}  // namespace vigil::live
