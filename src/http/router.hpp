// Router: maps (method, path) to a handler. Patterns are literal segments and {name} captures,
// e.g. "/api/v1/investigations/{id}/progress"; a capture matches one non-empty segment.
//
// Before any handler runs, the router answers these itself, in this order, each an ordinary
// problem+json response (never an exception):
//   204 / 403   a CORS preflight from an allowed origin / from any other (VIGIL_CORS_ORIGINS)
//   —           a path no route matches that the fallback owns (the web UI's files): served by it
//   404         a path no route matches
//   405         a path matched with another method, with `Allow` and an `allowed` member
// Then the steps run, in the order they were added (Use), each of which may answer instead of
// the handler: the cross-cutting checks are steps around every handler, not branches here.
// vigil's steps (http/steps.hpp), in the order main adds them:
//   401         a route that needs a principal, without a valid token or session cookie
//               (WWW-Authenticate: Bearer)
//   403         a change made with the session cookie without X-Requested-With, or a cookie
//               WebSocket from another origin
//   429         a spent rate-limit budget (Retry-After, X-RateLimit-*)
// Everything after that (400, 403 for a read-only role, 404 of an investigation, 409, ...) is the
// handler's.
//
// Not thread-safe to Add or Use while Dispatch runs; build it before the server starts.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.hpp"
#include "http/rate_limit.hpp"

namespace vigil::http {

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

// What a step knows of the route a request matched.
struct Matched {
  const RouteOptions& options;
  bool allowed_origin;  // the request comes from an origin CORS allows (VIGIL_CORS_ORIGINS)
};

// How a step that waits says what `run` returns: exactly once, from any thread.
using StepDone = std::function<void(std::optional<Response>)>;

// A step around every route's handler: `run` lets the request go on (nullopt) or answers it
// itself. It may fill in the request (its principal, whom it is charged to) for the steps and
// the handler after it. `authenticates`: it sets the principal of every route whose options ask
// for one, or answers 401 — a route that needs a principal can only be added after such a step.
// A step that may have to wait (a lookup in the store) sets `run_async` instead of `run`: the
// steps after it and the handler then run on the thread that calls `next` (the Request stays
// valid until the answer).
struct Step {
  std::string name;
  bool authenticates = false;
  std::function<std::optional<Response>(Request& request, const Matched& route)> run;
  std::function<void(Request& request, const Matched& route, StepDone next)> run_async;
};

class Router {
 public:
  // Adds a step, after those added before. Before the routes that need it, and before Dispatch.
  void Use(Step step);
  // Throws std::invalid_argument on a malformed pattern, and for a route that needs a principal
  // when no step authenticates.
  void Add(Method method, std::string pattern, Handler handler, RouteOptions options = {});
  // Origins (e.g. "https://ui.example.com") whose pages may call the API from a browser (CORS);
  // none by default. Before Dispatch.
  void AllowOrigins(std::vector<std::string> origins) { cors_origins_ = std::move(origins); }
  // Serves what no route matches; none by default. Before Dispatch.
  void SetFallback(Fallback fallback) { fallback_ = std::move(fallback); }

  // Matches, runs the steps, and calls the handler; or answers the preflight, 404 or 405 itself,
  // or a step answers. Thread-safe once built.
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
  // Runs the steps from `from` on, then the route's handler.
  void RunSteps(size_t from, Request& request, const Matched& matched, const Route& route,
                Responder respond) const;

  std::vector<Route> routes_;
  std::vector<Step> steps_;
  bool authenticates_ = false;  // a step authenticates
  bool AllowsOrigin(std::string_view origin) const;

  Fallback fallback_;
  std::vector<std::string> cors_origins_;
};

}  // namespace vigil::http
