// Route table, health and readiness, and the web UI's files.
#include <chrono>

#include "api/api.hpp"
#include "api/handler_util.hpp"

namespace vigil::api {

void RegisterInvestigationRoutes(http::Router& router, const ApiContext& ctx);
void RegisterProgressRoutes(http::Router& router, const ApiContext& ctx);
void RegisterEventRoutes(http::Router& router, const ApiContext& ctx);
void RegisterMetricsRoutes(http::Router& router, const ApiContext& ctx);
void RegisterLiveRoutes(http::Router& router, const ApiContext& ctx);
void RegisterAuthRoutes(http::Router& router, const ApiContext& ctx);

namespace {

// How old the outcome of the writer's last transaction may be to answer /readyz from memory: a
// busy node never asks the store for it, an idle one begins and commits an empty transaction.
constexpr std::chrono::milliseconds kWriteOutcomeFresh{1000};

// Ready when the node can write to the store: 200 {"status":"ready","writable":true}; otherwise
// 503 unavailable (Retry-After) with "writable": false. Reads of investigations in memory and
// open streams go on meanwhile; a load balancer that should keep sending them reads looks at
// /healthz.
void Ready(const ApiContext& ctx, const http::Request& req, http::Responder respond) {
  ctx.engine.CheckWritable(kWriteOutcomeFresh, [&req, respond](Result<void> r) {
    if (!r) {
      Error error(ErrorCode::kUnavailable, "the store cannot be written now: " + r.error().message);
      error.cause = r.error().cause;
      error.extra["writable"] = false;
      return RespondError(req, respond, error);
    }
    respond(Json(200, R"({"status":"ready","writable":true})"));
  });
}

}  // namespace

void RegisterRoutes(http::Router& router, const ApiContext& ctx) {
  using http::Method;
  router.Add(Method::kGet, "/healthz",
             [](const http::Request&, http::Responder r) { r(Json(200, R"({"status":"ok"})")); },
             {.auth = false, .budget = http::Budget::kNone});
  router.Add(Method::kGet, "/readyz",
             [&ctx](const http::Request& q, http::Responder r) { Ready(ctx, q, r); },
             {.auth = false, .budget = http::Budget::kNone});
  RegisterInvestigationRoutes(router, ctx);
  RegisterProgressRoutes(router, ctx);
  RegisterEventRoutes(router, ctx);
  RegisterMetricsRoutes(router, ctx);
  RegisterLiveRoutes(router, ctx);
  RegisterAuthRoutes(router, ctx);
  // Whatever path the API does not use is the web UI's: a file, or the single-page app's
  // index.html for the paths its own router shows. No token, no rate limit.
  if (ctx.web_ui) {
    std::shared_ptr<const http::StaticFiles> files = ctx.web_ui;
    http::Fallback web_ui;
    web_ui.owns = [files](std::string_view path) { return files->Resolve(path) != nullptr; };
    web_ui.handler = [files](const http::Request& q, http::Responder r) { r(files->Serve(q)); };
    router.SetFallback(std::move(web_ui));
  }
}

}  // namespace vigil::api
