// Request and Response as the rest of vigil sees them: plain data, no Boost.Beast.
// The session (http/session.cpp) translates between these and the wire.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/principal.hpp"
#include "http/stream.hpp"

namespace vigil::http {

enum class Method { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };

std::string_view MethodName(Method m);

struct RateLimitState {
  std::string key;  // whom it is charged to ("u:alice"); empty when not limited
  int budget = 0;   // an http::Budget
  int limit = 0;
  int remaining = 0;
  int64_t reset_epoch_s = 0;
  bool conditional = false;  // admitted under the conditional ceiling: a 304 is paid for
};

// The first of `headers` (names lower-case) with this lower-case name, or empty.
std::string_view FirstHeader(const std::vector<std::pair<std::string, std::string>>& headers,
                             std::string_view lower_name);

struct Request {
  Method method = Method::kGet;
  std::string target;  // as received, e.g. "/api/v1/investigations?status=running"
  std::string path;    // percent-decoded path, without the query
  std::vector<std::pair<std::string, std::string>> query;    // decoded, in order
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case, in order
  std::string body;
  std::string request_id;      // unique per request; echoed as X-Request-Id
  std::string remote_address;  // "127.0.0.1"

  // Filled in by the router and the middleware before a handler runs.
  std::vector<std::string> path_params;  // the {name} segments of the route, in order
  // The matched route pattern, for logs and metrics; a view of the router's copy, which outlives
  // every request.
  std::string_view route;
  core::Principal principal;  // empty subject when the route needs no auth
  bool via_session = false;   // authenticated by the session cookie, not a bearer token
  // What the rate limiter said when it admitted the request (empty key: not limited). The server
  // charges once the answer is known (a 304 is free) and writes the X-RateLimit-* headers.
  RateLimitState rate;

  // The first header with this lower-case name, or empty.
  std::string_view Header(std::string_view lower_name) const;
  // Whether a header with this lower-case name was sent, even with an empty value.
  bool HasHeader(std::string_view lower_name) const;
  // The first query parameter with this name, or nullopt.
  std::optional<std::string_view> Query(std::string_view name) const;
};

struct Response {
  int status = 200;
  // Content-Length is added by the server.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Bytes shared instead of copied, such as a static file loaded at start-up: when set, they are
  // the body and `body` is ignored. Nobody may change them while a response holds them.
  std::shared_ptr<const std::string> shared_body;
  // When set, the response is a stream (http/stream.hpp): for Server-Sent Events the server
  // writes the status and headers, then the stream's frames until it is done; for a WebSocket
  // the server completes the upgrade instead (the request must be one). `body` is ignored.
  std::shared_ptr<Stream> stream;

  // Replaces the header if present.
  void Set(std::string_view name, std::string value);
  std::string_view Get(std::string_view name) const;  // case-insensitive; empty when absent
  // The body's bytes: shared_body's when set, else body's.
  std::string_view Body() const {
    return shared_body ? std::string_view(*shared_body) : std::string_view(body);
  }
};

// A handler answers by calling its Responder exactly once, from any thread. The Request stays
// valid until then.
using Responder = std::function<void(Response)>;
using Handler = std::function<void(const Request&, Responder)>;

// ASCII case-insensitive equality, for header names and tokens (RFC 9110: they are
// case-insensitive). Inline and without the locale: the server compares every response header
// name with several others.
inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Builders for the common responses.
Response JsonResponse(int status, std::string body);

}  // namespace vigil::http
