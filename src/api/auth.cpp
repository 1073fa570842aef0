// Browser sessions (http/sessions.hpp): open one with a bearer token, see who is signed in, close
// it; and the one-time login link of demo mode.
//
//   POST   /api/v1/auth/session   bearer token → 201, Set-Cookie (HttpOnly, SameSite=Strict)
//   GET    /api/v1/auth/session   who is asking, and how
//   DELETE /api/v1/auth/session   closes the cookie's session → 204, the cookie cleared
//   GET    /api/v1/auth/login?code=…   a one-time code → 303 to / with the cookie
#include "api/api.hpp"
#include "api/handler_util.hpp"
#include "base/json_text.hpp"
#include "http/sessions.hpp"

namespace vigil::api {

using http::Request;
using http::Responder;

namespace {

std::string SessionCookie(const ApiContext& ctx, const std::string& id, int64_t max_age_s) {
  std::string cookie = std::string(http::kSessionCookie) + "=" + id +
                       "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                       std::to_string(std::max<int64_t>(0, max_age_s));
  if (ctx.options.cookie_secure) cookie += "; Secure";
  return cookie;
}

std::string WhoAmI(const core::Principal& p, std::string_view via) {
  std::string body;
  JsonWriter w(body);
  w.BeginObject();
  w.Key("user").String(p.subject);
  w.Key("roles").BeginArray();
  if (p.can_read) w.String("read");
  if (p.can_write) w.String("dev");
  if (p.is_admin) w.String("admin");
  w.EndArray();
  w.Key("expires_at").Iso(p.expires_at_s * 1000);
  w.Key("via").String(via);
  w.EndObject();
  return body;
}

void Open(const ApiContext& ctx, const Request& req, Responder respond) {
  if (req.via_session) {
    return RespondError(
        req, respond,
        Error(ErrorCode::kInvalidArgument,
              "send the bearer token in the Authorization header to open a session"));
  }
  const int64_t now_s = ctx.clock.NowMs() / 1000;
  std::string id =
      ctx.sessions->Open(std::string(http::BearerToken(req)), req.principal.expires_at_s);
  http::Response res = Json(201, WhoAmI(req.principal, "cookie"));
  res.Set("Set-Cookie", SessionCookie(ctx, id, req.principal.expires_at_s - now_s));
  respond(std::move(res));
}

void Show(const ApiContext&, const Request& req, Responder respond) {
  respond(Json(200, WhoAmI(req.principal, req.via_session ? "cookie" : "bearer")));
}

void Close(const ApiContext& ctx, const Request& req, Responder respond) {
  std::string_view id = http::CookieValue(req.Header("cookie"), http::kSessionCookie);
  if (!id.empty()) ctx.sessions->Close(id);
  http::Response res;
  res.status = 204;
  res.Set("Set-Cookie", SessionCookie(ctx, "", 0));
  res.Set("Cache-Control", "no-store");
  respond(std::move(res));
}

void Login(const ApiContext& ctx, const Request& req, Responder respond) {
  std::optional<std::string_view> code = req.Query("code");
  std::optional<std::string> token;
  if (code && !code->empty()) token = ctx.sessions->Redeem(*code);
  if (!token) {
    return RespondError(
        req, respond,
        Error(ErrorCode::kNotFound, "this login link is unknown, used or expired", "code"));
  }
  auto principal = ctx.auth->Verify(*token);
  if (!principal) return RespondError(req, respond, principal.error());
  const int64_t now_s = ctx.clock.NowMs() / 1000;
  std::string id = ctx.sessions->Open(std::move(*token), principal->expires_at_s);
  http::Response res;
  res.status = 303;
  res.Set("Location", "/");
  res.Set("Cache-Control", "no-store");
  res.Set("Set-Cookie", SessionCookie(ctx, id, principal->expires_at_s - now_s));
  respond(std::move(res));
}

// The caller's own budgets, without spending any.
void RateLimitStatus(const ApiContext& ctx, const Request& req, Responder respond) {
  std::string body;
  JsonWriter w(body);
  w.BeginObject();
  const http::RateLimiter* limiter = ctx.rate_limiter.get();
  const bool enabled = limiter && limiter->options().enabled;
  w.Key("enabled").Bool(enabled);
  w.Key("user").String(req.principal.subject);
  if (enabled) {
    w.Key("window_seconds").Int(limiter->options().window_seconds);
    w.Key("backoff").Bool(limiter->options().backoff);
    w.Key("budgets").BeginObject();
    const std::string key = http::RateLimitKey(req);
    for (http::Budget b : {http::Budget::kDefault, http::Budget::kRead, http::Budget::kReport,
                           http::Budget::kStream, http::Budget::kAuth}) {
      http::RateLimiter::Decision d = ctx.rate_limiter->Status(b, key, ctx.clock.NowMs());
      w.Key(http::BudgetName(b)).BeginObject();
      w.Key("limit").Int(d.limit);
      w.Key("remaining").Int(d.remaining);
      w.Key("reset").Int(d.reset_epoch_s);
      w.Key("retry_after");
      d.allowed ? w.Null() : w.Int(d.retry_after_s);
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndObject();
  respond(Json(200, std::move(body)));
}

}  // namespace

void RegisterAuthRoutes(http::Router& router, const ApiContext& ctx) {
  const std::string path = "/api/v1/auth/session";
  router.Add(http::Method::kPost, path, [&ctx](const Request& q, Responder r) { Open(ctx, q, r); },
             {.budget = http::Budget::kAuth});
  router.Add(http::Method::kGet, path, [&ctx](const Request& q, Responder r) { Show(ctx, q, r); });
  router.Add(http::Method::kDelete, path,
             [&ctx](const Request& q, Responder r) { Close(ctx, q, r); },
             {.budget = http::Budget::kAuth});
  router.Add(http::Method::kGet, "/api/v1/auth/login",
             [&ctx](const Request& q, Responder r) { Login(ctx, q, r); },
             {.auth = false, .budget = http::Budget::kAuth});
  router.Add(http::Method::kGet, "/api/v1/rate-limit/status",
             [&ctx](const Request& q, Responder r) { RateLimitStatus(ctx, q, r); },
             {.budget = http::Budget::kNone});
}

}  // namespace vigil::api
