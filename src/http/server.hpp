// Server: HTTP/1.1 on Boost.Beast, one port, a fixed pool of I/O threads.
//
// One io_context per I/O thread; each connection lives on one of them and is a coroutine: read a
// request (with a body limit and a read timeout), hand it to the dispatcher, write the answer,
// keep the connection alive. The dispatcher may answer from any thread; an answer given after the
// dispatcher returned is posted back to the connection's context. One access-log
// line per request (method, route, status, bytes, milliseconds, request id).
//
// This header keeps Beast out of its includers.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/result.hpp"
#include "http/message.hpp"
#include "http/request_metrics.hpp"

namespace vigil::http {

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port (see Server::port())
  int threads = 0;       // 0: one per core
  size_t body_limit = 1 << 20;
  size_t header_limit = 16 << 10;    // bytes of the request line and header fields (431 beyond)
  size_t header_fields_limit = 100;  // header fields (431 beyond)
  std::chrono::seconds read_timeout{30};
  std::chrono::seconds idle_timeout{75};
  // Streams (SSE, WebSocket): how long one write may take before the client is dropped as stuck,
  // and a WebSocket's idle limit (a ping after half of it).
  struct StreamOptions {
    std::chrono::seconds write_timeout{30};
    std::chrono::seconds ws_idle_timeout{60};
    size_t ws_message_limit = 64 << 10;
  } stream;
  // Called once on every answer to a request the rate limiter admitted, before it is written,
  // while the request is still held: charges it (by the answer's status) and updates `rate`, from
  // which the server writes the X-RateLimit-* headers. It may replace the answer: a request
  // admitted under the conditional ceiling whose answer is not a 304 is refused (429) when its
  // budget cannot pay for it.
  std::function<void(RateLimitState& rate, const Request& request, Response& response)> on_answer;
  // Counts every answer written, with its latency (http/request_metrics.hpp); null: none.
  std::shared_ptr<RequestMetrics> request_metrics;
};

using Dispatcher = std::function<void(Request&, Responder)>;

class Server {
 public:
  Server(ServerOptions options, Dispatcher dispatcher);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts the I/O threads. kUnavailable when the address cannot be bound.
  Result<void> Start();
  uint16_t port() const;  // the bound port, after Start
  // Stops accepting, closes connections, joins the threads. Idempotent. Not from an I/O thread
  // (a handler must not stop the server that runs it). Requests still held by handlers stay
  // valid; answering them afterwards does nothing.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::http
