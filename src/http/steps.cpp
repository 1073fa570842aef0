#include "http/steps.hpp"

#include <utility>

#include "http/auth.hpp"
#include "http/problem.hpp"
#include "http/rate_limit.hpp"
#include "http/sessions.hpp"

namespace vigil::http {
namespace {

// A request authenticated by the session cookie could have been sent by another site in the
// browser's name. One that changes anything must carry a header no other site can add without a
// CORS preflight; a WebSocket upgrade (which browsers send cross-site with cookies) must come from
// a page of this origin. The header's presence is the proof, whatever its value: a page of another
// site needs the preflight to add it even empty (it is not CORS-safelisted by name), and a form
// cannot send it at all.
Result<void> CheckSessionRequest(const Request& request, bool allowed_origin) {
  const bool safe = request.method == Method::kGet || request.method == Method::kHead ||
                    request.method == Method::kOptions;
  if (!safe && !request.HasHeader(kCsrfHeader)) {
    return Fail(ErrorCode::kPermissionDenied,
                "a request authenticated by the session cookie that changes anything must carry "
                "the header X-Requested-With");
  }
  if (EqualsIgnoreCase(request.Header("upgrade"), "websocket")) {
    std::string_view origin = request.Header("origin");
    std::string_view host = request.Header("host");
    size_t scheme = origin.find("://");
    std::string_view origin_host =
        scheme == std::string_view::npos ? origin : origin.substr(scheme + 3);
    // Browsers always send Origin with a WebSocket upgrade; one without it is not from a page.
    if ((origin.empty() || origin_host != host) && !allowed_origin) {
      return Fail(ErrorCode::kPermissionDenied,
                  "a WebSocket authenticated by the session cookie must be opened by a page of "
                  "this origin");
    }
  }
  return {};
}

// The request authenticated as `principal`, or the answer that refuses it.
std::optional<Response> Admit(Request& request, const Matched& route,
                              Result<core::Principal> principal, bool via_cookie) {
  if (!principal) {
    Response response = Problem(principal.error(), request);
    response.Set("WWW-Authenticate", "Bearer");
    return response;
  }
  request.principal = std::move(*principal);
  request.via_session = via_cookie;
  if (via_cookie) {
    if (auto ok = CheckSessionRequest(request, route.allowed_origin); !ok) {
      return Problem(ok.error(), request);
    }
  }
  return std::nullopt;
}

Error SessionEnded() {
  return Error(ErrorCode::kUnauthenticated, "the session has ended; sign in again");
}

}  // namespace

Step Authenticate(std::shared_ptr<const Authenticator> auth, std::shared_ptr<Sessions> sessions) {
  Step step{"authenticate", /*authenticates=*/true, {}, {}};
  step.run_async = [auth = std::move(auth), sessions = std::move(sessions)](
                       Request& request, const Matched& route, StepDone next) {
    if (!route.options.auth) return next(std::nullopt);
    // A bearer token wins; the cookie counts only without an Authorization header.
    std::string_view header = request.Header("authorization");
    const bool no_header = header.find_first_not_of(" \t") == std::string_view::npos;
    std::string_view id;
    if (sessions && no_header) {
      id = CookieValue(request.Header("cookie"), kSessionCookie);
      if (id.empty()) {
        return next(Admit(
            request, route,
            Fail(ErrorCode::kUnauthenticated, "missing bearer token or session cookie"), false));
      }
    }
    if (id.empty()) return next(Admit(request, route, auth->Authenticate(request), false));
    std::string token;
    switch (sessions->Lookup(id, &token)) {
      case Sessions::Known::kValid:
        return next(Admit(request, route, auth->Verify(token), true));
      case Sessions::Known::kEnded:
        return next(Admit(request, route, Fail(SessionEnded()), true));
      case Sessions::Known::kAsk:
        break;
    }
    // Not known here, or not lately: the store says (on the read pool; the steps after this one
    // and the handler run there).
    sessions->Load(std::string(id),
                   [auth, &request, route, next](Result<std::optional<SessionEntry>> found) {
                     if (!found) return next(Problem(found.error(), request));
                     if (!*found) return next(Admit(request, route, Fail(SessionEnded()), true));
                     next(Admit(request, route, auth->Verify((*found)->token), true));
                   });
  };
  return step;
}

Step LimitRate(std::shared_ptr<RateLimiter> limiter, const Clock& clock) {
  return {"rate limit", /*authenticates=*/false,
          [limiter = std::move(limiter), &clock](Request& request,
                                                 const Matched& route) -> std::optional<Response> {
            return AdmitRequest(*limiter, route.options.budget, route.options.conditional,
                                clock.NowMs(), request);
          }};
}

}  // namespace vigil::http
