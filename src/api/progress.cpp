// GET /progress (the snapshot, with ETag / 304 answered from memory) and GET /tools.

#include "api/api.hpp"
#include "api/handler_util.hpp"
#include "base/json_text.hpp"
#include "http/conditional.hpp"

namespace vigil::api {

namespace json = boost::json;
using http::Request;
using http::Responder;

std::optional<int> RecommendedIntervalMs(const ApiOptions& options, core::State state) {
  if (core::IsTerminal(state)) return std::nullopt;
  return core::IsActive(state) ? options.poll_interval_active_ms : options.poll_interval_idle_ms;
}

namespace {

void SetPollingHeaders(const ApiContext& ctx, const engine::Snapshot& s, http::Response& res) {
  res.Set("ETag", s.etag());
  res.Set("Cache-Control", "private, no-cache");
  if (auto ms = RecommendedIntervalMs(ctx.options, s.state())) {
    res.Set("X-Recommended-Interval", std::to_string(*ms));
  }
}

void Progress(const ApiContext& ctx, const Request& req, Responder respond) {
  auto answer = [&ctx, &req](const engine::Snapshot& s) {
    std::string_view inm = req.Header("if-none-match");
    http::Response res;
    if (!inm.empty() && http::IfNoneMatchMatches(inm, s.etag())) {
      res.status = 304;
    } else {
      res = http::JsonResponse(200, s.progress_json());
    }
    SetPollingHeaders(ctx, s, res);
    return res;
  };
  // The hot path of every poller: in memory and visible, answered here and now.
  if (engine::SnapshotPtr s = ctx.engine.CachedFor(req.principal, req.path_params[0])) {
    return respond(answer(*s));
  }
  ctx.engine.Get(req.principal, req.path_params[0],
                 [&req, respond, answer](Result<engine::SnapshotPtr> r) {
                   if (!r) return RespondError(req, respond, r.error());
                   respond(answer(**r));
                 });
}

void Tools(const ApiContext& ctx, const Request& req, Responder respond) {
  std::optional<std::string_view> agent = req.Query("agent_type");
  std::optional<core::ToolStatus> status;
  if (auto text = req.Query("status")) {
    status = core::ParseToolStatus(*text);
    if (!status) {
      return RespondError(req, respond,
                          Error(ErrorCode::kInvalidArgument,
                                "'status' must be one of: queued, running, completed, failed, "
                                "skipped",
                                "status"));
    }
  }
  ctx.engine.Get(req.principal, req.path_params[0],
                 [&req, respond, agent, status](Result<engine::SnapshotPtr> r) {
                   if (!r) return RespondError(req, respond, r.error());
                   const core::Investigation& inv = (*r)->investigation();
                   std::string body;
                   JsonWriter w(body);
                   w.BeginObject();
                   w.Key("investigation_id").String(inv.id);
                   w.Key("run_id").String(inv.run_id);
                   w.Key("version").Int(inv.version);
                   w.Key("items").BeginArray();
                   for (const core::ToolExecution& t : inv.run.tools) {
                     if (agent && t.agent_type != *agent) continue;
                     if (status && t.status != *status) continue;
                     core::WriteToolExecution(t, w);
                   }
                   w.EndArray().EndObject();
                   http::Response res = Json(200, std::move(body));
                   res.Set("Cache-Control", "private, no-cache");
                   respond(std::move(res));
                 });
}

}  // namespace

void RegisterProgressRoutes(http::Router& router, const ApiContext& ctx) {
  router.Add(http::Method::kGet, "/api/v1/investigations/{id}/progress",
             [&ctx](const Request& q, Responder r) { Progress(ctx, q, std::move(r)); },
             {.budget = http::Budget::kRead, .conditional = true});
  router.Add(http::Method::kGet, "/api/v1/investigations/{id}/tools",
             [&ctx](const Request& q, Responder r) { Tools(ctx, q, std::move(r)); },
             {.budget = http::Budget::kRead});
}

}  // namespace vigil::api
