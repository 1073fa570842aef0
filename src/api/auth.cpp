// Browser sessions (http/sessions.hpp): open one with a bearer token, see who is signed in, close
// it; and the one-time login link of demo mode. Both are kept in the store, so that every node on
// one database knows them and a restart signs nobody out.
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

// Stores a new session or code for `token` until `expires_at_s`; `done` gets its id once the
// group it was written in has committed.
void StoreNew(engine::Engine& engine, const Clock& clock, store::SessionKind kind,
              std::string token, int64_t expires_at_s, engine::Done<std::string> done) {
  store::SessionRow row{http::RandomId(), std::move(token), expires_at_s};
  const int64_t now_s = clock.NowMs() / 1000;
  std::string id = row.id;
  engine.Write<void>(
      [kind, row = std::move(row), now_s](store::WriteTransaction& txn) {
        return txn.InsertSession(kind, row, now_s);
      },
      [id = std::move(id), done = std::move(done)](Result<void> r) {
        if (!r) return done(Fail(r.error()));
        done(id);
      });
}

// Opens a session for `token` (verified: `principal`), and answers with its cookie: `status`
// 201 with who is signed in, or 303 to the UI.
void OpenSession(const ApiContext& ctx, const Request& req, Responder respond, std::string token,
                 core::Principal principal, int status) {
  const int64_t expires_at_s = principal.expires_at_s;
  StoreNew(ctx.engine, ctx.clock, store::SessionKind::kSession, token, expires_at_s,
           [&ctx, &req, respond, token, principal = std::move(principal), status,
            expires_at_s](Result<std::string> id) {
             if (!id) return RespondError(req, respond, id.error());
             ctx.sessions->Remember(*id, {token, expires_at_s});
             http::Response res;
             if (status == 201) {
               res = Json(201, WhoAmI(principal, "cookie"));
             } else {
               res.status = status;
               res.Set("Location", "/");
               res.Set("Cache-Control", "no-store");
             }
             const int64_t now_s = ctx.clock.NowMs() / 1000;
             res.Set("Set-Cookie", SessionCookie(ctx, *id, expires_at_s - now_s));
             respond(std::move(res));
           });
}

void Open(const ApiContext& ctx, const Request& req, Responder respond) {
  if (req.via_session) {
    return RespondError(
        req, respond,
        Error(ErrorCode::kInvalidArgument,
              "send the bearer token in the Authorization header to open a session"));
  }
  OpenSession(ctx, req, respond, std::string(http::BearerToken(req)), req.principal, 201);
}

void Show(const ApiContext&, const Request& req, Responder respond) {
  respond(Json(200, WhoAmI(req.principal, req.via_session ? "cookie" : "bearer")));
}

// Ends the session on this node at once, and in the store, so that every other node refuses it
// once its cached lookup is older than the cache's lifetime (VIGIL_SESSION_CACHE_MS).
void Close(const ApiContext& ctx, const Request& req, Responder respond) {
  std::string id(http::CookieValue(req.Header("cookie"), http::kSessionCookie));
  auto cleared = [&ctx]() {
    http::Response res;
    res.status = 204;
    res.Set("Set-Cookie", SessionCookie(ctx, "", 0));
    res.Set("Cache-Control", "no-store");
    return res;
  };
  if (id.empty()) return respond(cleared());
  ctx.sessions->Forget(id);
  ctx.engine.Write<std::optional<store::SessionRow>>(
      [id](store::WriteTransaction& txn) {
        return txn.TakeSession(store::SessionKind::kSession, id);
      },
      [&req, respond, cleared](Result<std::optional<store::SessionRow>> r) {
        if (!r) return RespondError(req, respond, r.error());
        respond(cleared());
      });
}

void Login(const ApiContext& ctx, const Request& req, Responder respond) {
  std::optional<std::string_view> code = req.Query("code");
  auto unknown = [&req, respond]() {
    RespondError(
        req, respond,
        Error(ErrorCode::kNotFound, "this login link is unknown, used or expired", "code"));
  };
  if (!code || code->empty()) return unknown();
  // Taken from the store in a write: of two nodes asked for the same code, one gets it.
  ctx.engine.Write<std::optional<store::SessionRow>>(
      [code = std::string(*code)](store::WriteTransaction& txn) {
        return txn.TakeSession(store::SessionKind::kLoginCode, code);
      },
      [&ctx, &req, respond, unknown](Result<std::optional<store::SessionRow>> taken) {
        if (!taken) return RespondError(req, respond, taken.error());
        if (!*taken || (*taken)->expires_at_s <= ctx.clock.NowMs() / 1000) return unknown();
        auto principal = ctx.auth->Verify((*taken)->token);
        if (!principal) return RespondError(req, respond, principal.error());
        OpenSession(ctx, req, respond, std::move((*taken)->token), std::move(*principal), 303);
      });
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

http::SessionLoader StoreSessionLoader(engine::Engine& engine) {
  return [&engine](std::string id,
                   std::function<void(Result<std::optional<http::SessionEntry>>)> done) {
    engine.Read<std::optional<store::SessionRow>>(
        [id = std::move(id)](store::Store& store) {
          return store.GetSession(store::SessionKind::kSession, id);
        },
        [done = std::move(done)](Result<std::optional<store::SessionRow>> r) {
          if (!r) return done(Fail(r.error()));
          if (!*r) return done(std::optional<http::SessionEntry>());
          done(http::SessionEntry{std::move((*r)->token), (*r)->expires_at_s});
        });
  };
}

void MakeLoginCode(engine::Engine& engine, const Clock& clock, std::string token, int64_t ttl_s,
                   engine::Done<std::string> done) {
  StoreNew(engine, clock, store::SessionKind::kLoginCode, std::move(token),
           clock.NowMs() / 1000 + ttl_s, std::move(done));
}

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
