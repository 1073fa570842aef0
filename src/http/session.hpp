// The session: one coroutine per connection, on the I/O thread the listener gave it for its whole
// life. It reads a request (http/request_parser.hpp, with the body and header limits and one read
// deadline, http/deadline.hpp), dispatches it, awaits the answer (http/response_slot.hpp), writes
// it, and repeats while the connection is kept alive; or it hands the socket to a stream
// (http/stream_session.hpp). One access-log line per request.
//
// Owns its socket, its deadline and its buffers; holds the server core by reference (the core
// outlives it: a suspended session is destroyed with its io_context, in Server::Stop). Runs on its
// connection's thread only: nothing in it is shared with another thread except through the
// response slot.
//
// Internal to src/http: it sees Asio and Beast; only the listener (http/server.cpp) includes it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstddef>

namespace vigil::http::detail {

struct ServerCore;

// Serves an accepted connection on ios[context] until it closes or is handed to a stream.
boost::asio::awaitable<void> RunSession(ServerCore& impl, boost::asio::ip::tcp::socket socket,
                                        size_t context);

}  // namespace vigil::http::detail
