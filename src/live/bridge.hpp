// Bridge: the cross-node half of live delivery, for several vigil nodes on one database.
//
// Each node's engine publishes its own commits (engine.hpp). What other nodes commit reaches this
// node as hints, `investigation:version`, which their commits announce through the store
// (store::WriteTransaction::AnnounceHeads; PostgreSQL's NOTIFY). The bridge waits for them on a
// connection of its own (store::HeadListener), on a thread of its own that does nothing else, so
// the server's queue of notifications is drained however busy the node is; it hands every hint to
// Engine::CatchUp, which reads what the node lacks of the investigations it holds in memory and
// feeds it through the path of its own commits, on the writer thread.
//
// Hints can be lost (the listener's connection drops; the server ends its session), so there is
// a safety net: every `head_check_interval` the heads of every investigation in memory are read
// from the store (one query per 1,000) and those behind are caught up the same way; and after
// the listener (re)connects, that check runs at once. So a node is never behind the store longer
// than the check's interval, and normally only as long as a hint takes.
//
// A store with a single writer (SQLite) has no listener: Start does nothing.
//
// Thread-safety: Start and Stop from one thread; stats from any.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "engine/engine.hpp"
#include "store/store.hpp"

namespace vigil::live {

struct BridgeOptions {
  // HEAD_CHECK_INTERVAL_MS: how often the heads in memory are compared with the store's.
  std::chrono::milliseconds head_check_interval{1000};
  // How long to wait before listening again after the listener's connection failed.
  std::chrono::milliseconds retry_interval{250};
};

class Bridge {
 public:
  // `log(message, warning)` is told of connections lost and made again; it may be empty.
  Bridge(store::Store& store, engine::Engine& engine, BridgeOptions options = {},
         std::function<void(const std::string& message, bool warning)> log = {});
  ~Bridge();  // Stop
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  // Starts listening when the store has other writers to hear from. Call after engine.Start.
  void Start();
  // Stops within about a quarter of a second. Call before engine.Stop.
  void Stop();

  struct Stats {
    uint64_t hints = 0;            // heads announced by other nodes
    uint64_t head_checks = 0;      // comparisons of every head in memory with the store's
    uint64_t resyncs = 0;          // head checks made because the listener (re)connected
    uint64_t listener_errors = 0;  // waits that failed (the connection lost, or not made)
  };
  Stats stats() const;

 private:
  void Loop(store::HeadListener& listener);
  // Compares the heads in memory with the store's, and catches up those behind.
  void CheckHeads();
  // Waits `d` unless Stop comes first; false when stopping.
  bool Pause(std::chrono::milliseconds d);

  store::Store& store_;
  engine::Engine& engine_;
  const BridgeOptions options_;
  const std::function<void(const std::string&, bool)> log_;

  std::unique_ptr<store::HeadListener> listener_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // Guarded by mu_
  Stats stats_;            // Guarded by mu_
};

}  // namespace vigil::live
