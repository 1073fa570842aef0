#include "http/router.hpp"

#include <array>
#include <boost/json/array.hpp>
#include <cstdint>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "http/problem.hpp"

namespace vigil::http {
namespace {

// Longer paths match no route: a route has at most this many segments (checked by Add).
constexpr size_t kMaxSegments = 32;

constexpr std::string_view kCapture = "{}";

// The segments of an absolute path, as views into it: "/a/b" -> {"a", "b"}, "/" -> {}.
// Returns the count, or kMaxSegments + 1 when the path is too long or not absolute.
size_t SplitPath(std::string_view path, std::array<std::string_view, kMaxSegments>& out) {
  if (path.empty() || path.front() != '/') return kMaxSegments + 1;
  if (path.size() == 1) return 0;
  size_t count = 0;
  size_t start = 1;
  while (true) {
    if (count == kMaxSegments) return kMaxSegments + 1;
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      out[count++] = path.substr(start);
      return count;
    }
    out[count++] = path.substr(start, slash - start);
    start = slash + 1;
  }
}

// Methods in the order `Allow` lists them.
constexpr Method kAllowOrder[] = {Method::kGet,   Method::kHead,   Method::kPost,   Method::kPut,
                                  Method::kPatch, Method::kDelete, Method::kOptions};

uint32_t Bit(Method m) { return 1u << static_cast<unsigned>(m); }

}  // namespace

namespace {

void SetCorsHeaders(std::string_view origin, Response& response) {
  response.Set("Access-Control-Allow-Origin", std::string(origin));
  response.Set("Access-Control-Allow-Credentials", "true");
  response.Set("Access-Control-Expose-Headers",
               "ETag, Location, Retry-After, X-Recommended-Interval, X-Request-Id, "
               "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset");
  // Added to what the answer varies by already (a static file: Accept-Encoding), not replacing it.
  std::string_view vary = response.Get("Vary");
  response.Set("Vary", vary.empty() ? std::string("Origin") : std::string(vary) + ", Origin");
}

}  // namespace

bool Router::AllowsOrigin(std::string_view origin) const {
  for (const std::string& o : cors_origins_) {
    if (o == origin) return true;
  }
  return false;
}

void Router::Use(Step step) {
  authenticates_ = authenticates_ || step.authenticates;
  steps_.push_back(std::move(step));
}

void Router::Add(Method method, std::string pattern, Handler handler, RouteOptions options) {
  if (options.auth && !authenticates_) {
    throw std::invalid_argument("route " + pattern +
                                " needs a principal but no step authenticates");
  }
  std::array<std::string_view, kMaxSegments> parts;
  size_t n = SplitPath(pattern, parts);
  if (n > kMaxSegments) throw std::invalid_argument("bad route pattern: " + pattern);
  std::vector<std::string> segments;
  segments.reserve(n);
  uint64_t captures = 0;
  size_t capture_count = 0;
  for (size_t i = 0; i < n; ++i) {
    std::string_view part = parts[i];
    if (part.size() >= 2 && part.front() == '{' && part.back() == '}') {
      segments.emplace_back(kCapture);
      captures |= uint64_t{1} << (63 - i);
      ++capture_count;
    } else if (part.empty() || part.find_first_of("{}") != std::string_view::npos) {
      throw std::invalid_argument("bad route pattern: " + pattern);
    } else {
      segments.emplace_back(part);
    }
  }
  routes_.push_back(Route{method, std::move(pattern), std::move(segments), std::move(handler),
                          options, captures, capture_count});
}

void Router::Dispatch(Request& request, Responder respond) const {
  std::array<std::string_view, kMaxSegments> parts;
  const size_t n = SplitPath(request.path, parts);

  // A literal segment is more specific than a capture at the same place: at the first position
  // where two matching routes differ, the literal wins. With captures as bits counted from the
  // most significant end, the smaller mask is the more specific route.
  auto is_capture = [](const Route& route, size_t i) { return (route.captures >> (63 - i)) & 1; };
  auto matches = [&](const Route& route) {
    if (route.segments.size() != n) return false;
    // From the last segment, which tells routes apart ("progress", "events"), back to the
    // prefix most of them share ("api", "v1").
    for (size_t i = n; i-- > 0;) {
      if (is_capture(route, i)) {
        if (parts[i].empty()) return false;
      } else if (std::string_view(route.segments[i]) != parts[i]) {  // lengths first
        return false;
      }
    }
    return true;
  };

  const Route* best = nullptr;      // matches path and method
  const Route* best_get = nullptr;  // matches path, GET; serves HEAD when no HEAD route exists
  auto more_specific = [](const Route& route, const Route* than) {
    return than == nullptr || route.captures < than->captures;
  };
  uint32_t allowed = 0;
  if (n <= kMaxSegments) {
    for (const Route& route : routes_) {
      if (!matches(route)) continue;
      allowed |= Bit(route.method);
      if (route.method == request.method) {
        if (more_specific(route, best)) best = &route;
      } else if (route.method == Method::kGet && request.method == Method::kHead) {
        if (more_specific(route, best_get)) best_get = &route;
      }
    }
  }
  if (best == nullptr) best = best_get;

  // CORS: a preflight from an allowed origin is answered here; an answer to an allowed origin
  // says so. Other origins get no CORS headers at all (the browser then refuses the answer).
  std::string_view origin = request.Header("origin");
  const bool cors = !origin.empty() && AllowsOrigin(origin);
  if (request.method == Method::kOptions &&
      !request.Header("access-control-request-method").empty() && allowed != 0) {
    if (!cors) {
      respond(Problem(Error(ErrorCode::kPermissionDenied, "this origin is not allowed"), request));
      return;
    }
    if (allowed & Bit(Method::kGet)) allowed |= Bit(Method::kHead);
    std::string methods;
    for (Method m : kAllowOrder) {
      if (!(allowed & Bit(m))) continue;
      if (!methods.empty()) methods += ", ";
      methods += MethodName(m);
    }
    Response response;
    response.status = 204;
    SetCorsHeaders(origin, response);
    response.Set("Access-Control-Allow-Methods", std::move(methods));
    response.Set("Access-Control-Allow-Headers",
                 "Authorization, Content-Type, If-None-Match, Last-Event-ID, X-Requested-With");
    response.Set("Access-Control-Max-Age", "600");
    respond(std::move(response));
    return;
  }
  if (cors) {
    respond = [respond = std::move(respond), origin = std::string(origin)](Response response) {
      SetCorsHeaders(origin, response);
      respond(std::move(response));
    };
  }

  if (best == nullptr) {
    if (allowed == 0 && fallback_.owns && fallback_.owns(request.path)) {
      if (request.method == Method::kGet || request.method == Method::kHead) {
        fallback_.handler(request, std::move(respond));
        return;
      }
      allowed = Bit(Method::kGet);  // 405 below, allowing GET and HEAD
    }
    if (allowed == 0) {
      respond(Problem(Error(ErrorCode::kNotFound, "no resource at this path"), request));
      return;
    }
    if (allowed & Bit(Method::kGet)) allowed |= Bit(Method::kHead);
    std::string allow;
    boost::json::array allowed_json;
    for (Method m : kAllowOrder) {
      if (!(allowed & Bit(m))) continue;
      if (!allow.empty()) allow += ", ";
      allow += MethodName(m);
      allowed_json.emplace_back(MethodName(m));
    }
    Error error(ErrorCode::kMethodNotAllowed,
                std::string(MethodName(request.method)) + " is not allowed on this path");
    error.extra["allowed"] = std::move(allowed_json);
    Response response = Problem(error, request);
    response.Set("Allow", std::move(allow));
    respond(std::move(response));
    return;
  }

  request.route = best->pattern;
  request.path_params.clear();
  request.path_params.reserve(best->capture_count);
  for (size_t i = 0; i < n; ++i) {
    if (is_capture(*best, i)) request.path_params.emplace_back(parts[i]);
  }

  RunSteps(0, request, Matched{best->options, cors}, *best, std::move(respond));
}

void Router::RunSteps(size_t from, Request& request, const Matched& matched, const Route& route,
                      Responder respond) const {
  for (size_t i = from; i < steps_.size(); ++i) {
    const Step& step = steps_[i];
    if (step.run_async) {
      step.run_async(request, matched,
                     [this, i, &request, matched, &route,
                      respond = std::move(respond)](std::optional<Response> answer) mutable {
                       if (answer) return respond(std::move(*answer));
                       RunSteps(i + 1, request, matched, route, std::move(respond));
                     });
      return;
    }
    if (std::optional<Response> answer = step.run(request, matched)) {
      respond(std::move(*answer));
      return;
    }
  }
  route.handler(request, std::move(respond));
}

}  // namespace vigil::http
