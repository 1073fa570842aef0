// Route table, health and readiness, and the web UI's files.
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

// Ready when the store answers a read.
void Ready(const ApiContext& ctx, const http::Request& req, http::Responder respond) {
  store::InvestigationQuery probe;
  probe.owner = "";
  probe.limit = 1;
  ctx.engine.List(probe, [&req, respond](Result<std::vector<store::InvestigationRow>> r) {
    if (!r) {
      return RespondError(
          req, respond,
          Error(ErrorCode::kUnavailable, "the store is not answering: " + r.error().message));
    }
    respond(Json(200, R"({"status":"ready"})"));
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
