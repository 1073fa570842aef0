// Router: maps (method, path) to a handler. Patterns are literal segments and {name} captures,
// e.g. "/api/v1/investigations/{id}/progress"; a capture matches one non-empty segment.
//
// Before any handler runs, the router answers these itself, in this order, each an ordinary
// problem+json response (never an exception):
//   204 / 403   a CORS preflight from an allowed origin / from any other (VIGIL_CORS_ORIGINS)
//   —           a path no route matches that the fallback owns (the web UI's files): served by it
//   404         a path no route matches
//   405         a path matched with another method, with `Allow` and an `allowed` member
//   401         a route that needs a principal, without a valid token or session cookie
//               (WWW-Authenticate: Bearer)
//   403         a change made with the session cookie without X-Requested-With, or a cookie
//               WebSocket from another origin
//   429         a spent rate-limit budget (Retry-After, X-RateLimit-*)
// Everything after that (400, 403 for a read-only role, 404 of an investigation, 409, ...) is the
// handler's.
//
// Not thread-safe to Add while Dispatch runs; build it before the server starts.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.hpp"
#include "http/message.hpp"
#include "http/rate_limit.hpp"

namespace vigil::http {

class Authenticator;

// What serves paths no route matches: the web UI's files. `owns(path)` says whether it has
// something at a path no route matches. GET and HEAD of such a path go to `handler`, without
// authentication or rate limit; other methods are answered 405 (Allow: GET, HEAD). Paths it
// does not own are answered 404 as ever.
struct Fallback {
  std::function<bool(std::string_view path)> owns;
  Handler handler;
};

struct RouteOptions {
  bool auth = true;                  // requires a verified principal (401 otherwise)
  Budget budget = Budget::kDefault;  // the rate limit it spends
  // A GET route that answers 304 to a current If-None-Match: a GET or HEAD with that header is
  // admitted under the conditional ceiling first (http/rate_limit.hpp).
  bool conditional = false;
};

class Router {
 public:
  // `auth` may be null when no route needs it.
  explicit Router(std::shared_ptr<const Authenticator> auth);

  void Add(Method method, std::string pattern, Handler handler, RouteOptions options = {});
  // Origins (e.g. "https://ui.example.com") whose pages may call the API from a browser (CORS);
  // none by default. Before Dispatch.
  void AllowOrigins(std::vector<std::string> origins) { cors_origins_ = std::move(origins); }
  // Limits every route by its budget (before the handler runs; 429 when spent). Before Dispatch.
  void UseRateLimiter(std::shared_ptr<RateLimiter> limiter, const Clock& clock) {
    limiter_ = std::move(limiter);
    clock_ = &clock;
  }

  // Serves what no route matches; none by default. Before Dispatch.
  void SetFallback(Fallback fallback) { fallback_ = std::move(fallback); }

  // Matches, authenticates when the route asks for it, and calls the handler; or answers 401, 404
  // or 405 itself. Thread-safe once built.
  void Dispatch(Request& request, Responder respond) const;

 private:
  struct Route {
    Method method;
    std::string pattern;
    std::vector<std::string> segments;  // "{}" marks a capture
    Handler handler;
    RouteOptions options;
    // Bit 63 - i set when segment i is a capture: tested per segment, and compared between
    // routes (the smaller mask is the more specific route).
    uint64_t captures = 0;
    size_t capture_count = 0;
  };
  std::vector<Route> routes_;
  std::shared_ptr<const Authenticator> auth_;
  bool AllowsOrigin(std::string_view origin) const;

  Fallback fallback_;
  std::vector<std::string> cors_origins_;
  std::shared_ptr<RateLimiter> limiter_;
  const Clock* clock_ = nullptr;
};

}  // namespace vigil::http
