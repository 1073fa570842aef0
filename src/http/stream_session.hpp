// The connection side of streams (http/stream.hpp): Server-Sent Events and WebSocket sessions.
// Internal to src/http: it sees Asio and Beast, and only server.cpp includes it.
//
// Both run the same loop on the connection's thread: Poll the stream, write what it gave (with a
// write deadline), and when there is nothing to write wait on a timer until the stream's wake_at
// — or until its wake function, called from any thread, cancels the timer. A second operation
// reads from the client all along: for SSE only to notice that it went away, for a WebSocket its
// messages.
#pragma once

#include <spdlog/logger.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <unordered_set>

#include "http/server.hpp"
#include "http/stream.hpp"

namespace vigil::http::detail {

class StreamWake;

// Every live stream's wake-up, so that the server can disable them all before its io_contexts
// are destroyed: after CloseAll, a wake posts nothing.
class WakeRegistry {
 public:
  bool Add(StreamWake* wake);
  void Remove(StreamWake* wake);
  void CloseAll();

 private:
  std::mutex mu_;
  std::unordered_set<StreamWake*> wakes_;  // Guarded by mu_
  bool closed_ = false;                    // Guarded by mu_
};

using StreamSettings = ServerOptions::StreamOptions;

struct StreamEnv {
  StreamSettings settings;
  std::shared_ptr<WakeRegistry> wakes;
  std::shared_ptr<spdlog::logger> log;
  std::string request_id;  // for the log lines
};

// After the response head was written: runs an SSE stream until it is done or the client goes.
boost::asio::awaitable<void> RunEventStream(boost::beast::tcp_stream stream,
                                            std::shared_ptr<Stream> body, StreamEnv env);

// Completes the WebSocket upgrade of `request` and runs the session.
boost::asio::awaitable<void> RunWebSocket(
    boost::beast::tcp_stream stream,
    boost::beast::http::request<boost::beast::http::string_body> request,
    std::shared_ptr<Stream> body, StreamEnv env);

}  // namespace vigil::http::detail
