// ServerCore: what the server's parts share — the options, the dispatcher, the log, the I/O
// threads with their io_contexts and executors, the acceptor, the pending answers, the request
// ids. Server (http/server.hpp) is a thin handle on it.
//
// Owned by the Server; outlives every coroutine it runs: the listener (http/server.cpp) and the
// sessions (http/session.cpp) hold it by reference, and the io_contexts, with every suspended
// coroutine in them, are destroyed in Server::Stop after the I/O threads were joined.
//
// Thread-safety: `options`, `dispatcher`, `log` and `pending` are set at construction and only
// read after (PendingResponses locks itself); the counters are atomics; `sessions[i]` belongs to
// I/O thread i; `mu` serializes Start and Stop, which alone touch the rest.
//
// Internal to src/http: it sees Asio; only the transport files include it.
#pragma once

#include <spdlog/logger.h>

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http/io_executor.hpp"
#include "http/response_slot.hpp"
#include "http/server.hpp"

namespace vigil::http::detail {

struct ServerCore {
  // Makes the io_contexts and their executors; nothing runs until Server::Start.
  ServerCore(ServerOptions o, Dispatcher d);

  // The context the next accepted connection lives on.
  size_t NextContext() { return next_context.fetch_add(1, std::memory_order_relaxed) % ios.size(); }

  std::string NextRequestId() {
    uint64_t id = request_id_base + next_request.fetch_add(1, std::memory_order_relaxed);
    static constexpr char kHex[] = "0123456789abcdef";
    // 15 hex digits (60 bits): short enough to live inside the string, with no allocation.
    std::string out(15, '0');
    for (int i = 14; i >= 0; --i, id >>= 4) out[i] = kHex[id & 0xf];
    return out;
  }

  // The listener and the threads (http/server.cpp).
  boost::asio::awaitable<void> Listen();
  // Runs a session for an accepted connection.
  void Spawn(boost::asio::ip::tcp::socket socket, size_t context);
  // Runs ios[context] until it stops.
  void RunThread(size_t context);

  ServerOptions options;
  Dispatcher dispatcher;
  std::shared_ptr<spdlog::logger> log;
  std::shared_ptr<PendingResponses> pending;
  const uint64_t request_id_base;
  std::atomic<uint64_t> next_request{0};
  std::atomic<uint16_t> port{0};

  std::mutex mu;                                                      // Serializes Start and Stop.
  enum class State { kNew, kRunning, kStopped } state = State::kNew;  // Guarded by mu.
  // Open connections per I/O thread, each touched by its thread alone (and by Stop once they
  // are joined). Declared before `ios`: sessions destroyed with their io_context count down.
  std::vector<int> sessions;
  // Each I/O thread as an executor, for the live hub. Declared before `ios`: streams destroyed
  // with their io_context leave the hub through it. Closed in Stop, before the io_contexts go.
  std::vector<std::unique_ptr<IoExecutor>> executors;
  std::vector<std::unique_ptr<boost::asio::io_context>> ios;  // one per I/O thread
  std::atomic<size_t> next_context{0};
  std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
  std::optional<boost::asio::ip::tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
};

}  // namespace vigil::http::detail
