// The response head: the status line and header fields of every answer vigil writes, by one
// function with one set of rules, for a plain answer and for a stream's head alike. Adding a
// status or a header is a change here, not in the socket code (http/session.cpp).
//
// The rules, in the order the head is written:
//   * "HTTP/1.1 <status> <reason>", the reason from RFC 9110's table (ReasonPhrase).
//   * The handler's headers, in its order, except Content-Length and Transfer-Encoding (framing
//     is the server's) and Connection (its `close` is obeyed, see below). A header that cannot be
//     written as is — an empty name, a name with a space, colon or line break, a value with a
//     line break — is dropped and logged, never written: it could split the head.
//   * Server: vigil, unless the handler named a Server.
//   * The security headers — X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer,
//     Content-Security-Policy: default-src 'none'; frame-ancestors 'none' — unless the handler
//     set its own Content-Security-Policy, in which case it sets all three (the web UI's files,
//     http/static_files.cpp). Every answer of the API is data, never a page: nothing may sniff,
//     frame or run it. The same rule for streams.
//   * X-RateLimit-Limit, -Remaining and -Reset when the request was rate limited (a 304 too).
//   * X-Request-Id, unless the handler set one.
//   * For a plain answer: Content-Length, unless the status has no body (1xx, 204, 304; a HEAD
//     answer announces the length a GET would send); then Connection: close when a 1.1
//     connection ends (the request or the handler said so), Connection: keep-alive when a 1.0
//     one stays open.
//   * For a stream (SSE): neither Content-Length nor Connection. Its body ends when the
//     connection does, which a head without a length says already (RFC 9112 §6.3).
//   * The empty line.
//
// Plain functions of their arguments, Beast-free; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/message.hpp"

namespace spdlog {
class logger;
}

namespace vigil::http {

// What a head is written from. The referenced values must outlive the call only.
struct ResponseHead {
  int status = 200;                                                 // 100..999
  const std::vector<std::pair<std::string, std::string>>& headers;  // the handler's, in order
  std::string_view request_id;
  const RateLimitState& rate;  // its X-RateLimit-* are written when it has a key and a limit
  unsigned version = 11;       // the request's HTTP version: 10 or 11
  bool keep_alive = false;     // whether the request asked to keep the connection
  // The length of the body that follows (of the body a GET would send, for HEAD); nullopt: a
  // stream, whose body ends with the connection.
  std::optional<size_t> content_length;
};

// Appends the head, its final empty line included, to `out`. Returns whether the connection stays
// open after this answer: the request's keep-alive, unless the handler said Connection: close.
// Dropped headers are logged on `log`.
bool AppendResponseHead(const ResponseHead& head, std::string& out, spdlog::logger& log);

// Whether an answer with this status has a body: not 1xx, 204 or 304 (RFC 9110 §6.4.1).
inline bool StatusHasBody(int status) { return status >= 200 && status != 204 && status != 304; }

// The reason phrase written after `status` ("Not Modified"); "<unknown-status>" for a code
// without one (Beast's text, kept so that such heads did not change).
std::string_view ReasonPhrase(int status);

// Whether a response header can be written as is: a name without space, colon or line break, a
// value without line break.
bool IsWritableHeader(std::string_view name, std::string_view value);

}  // namespace vigil::http
