// The connection side of streams (http/stream.hpp): Server-Sent Events and WebSocket sessions.
// Internal to src/http: it sees Asio and Beast, and only the session (session.cpp) includes it.
//
// Both run the same loop on the connection's thread: Poll the stream, write what it gave (with a
// write deadline), and when there is nothing to write wait on a timer until the stream's wake_at
// — or until its wake function ends the wait. A second operation reads from the client all
// along: for SSE only to notice that it went away, for a WebSocket its messages.
//
// A wake from another thread is posted to the connection's thread. A wake on that thread (the
// live hub delivering a commit there) acts at once: an SSE stream that waits is polled and its
// frames sent right there, with one non-blocking send, and its loop is resumed only when that
// was not the end of it (a send the socket did not take whole, the stream's end, an earlier
// wake-up time). So a delivery to a waiting stream costs a poll and a send: no post, no timer,
// no coroutine resumed.
#pragma once

#include <spdlog/logger.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <memory>
#include <string>

#include "http/io_executor.hpp"
#include "http/server.hpp"
#include "http/stream.hpp"

namespace vigil::http::detail {

using StreamSettings = ServerOptions::StreamOptions;

struct StreamEnv {
  StreamSettings settings;
  IoExecutor* executor;  // the connection's I/O thread
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
