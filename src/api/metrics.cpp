// GET /metrics: counters in the Prometheus text format (version 0.0.4), for admins.
#include "api/api.hpp"
#include "api/handler_util.hpp"

namespace vigil::api {

namespace {

void Counter(std::string& out, const char* name, const char* help, const char* type,
             uint64_t value) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  out.append(name).append(" ").append(std::to_string(value)).append("\n");
}

void Metrics(const ApiContext& ctx, const http::Request& req, http::Responder respond) {
  if (!req.principal.is_admin) {
    return RespondError(req, respond,
                        Error(ErrorCode::kPermissionDenied, "/metrics needs the admin role"));
  }
  engine::Engine::Stats s = ctx.engine.stats();
  std::string out;
  out.reserve(2048);
  Counter(out, "vigil_commits_total", "Store transactions committed by the writer (group commits).",
          "counter", s.commits);
  Counter(out, "vigil_write_jobs_total", "Write requests (create, report, transition) run.",
          "counter", s.jobs);
  Counter(out, "vigil_events_appended_total", "Events appended to investigation logs.", "counter",
          s.events);
  Counter(out, "vigil_investigation_loads_total",
          "Investigations folded from the store into memory.", "counter", s.loads);
  Counter(out, "vigil_investigation_evictions_total",
          "Investigations dropped from memory (least recently used).", "counter", s.evictions);
  Counter(out, "vigil_hot_investigations", "Investigations in memory now.", "gauge", s.hot);
  Counter(out, "vigil_recent_events_bytes", "Bytes of recent events held in memory.", "gauge",
          s.recent_log_bytes);
  http::Response res;
  res.status = 200;
  res.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  res.Set("Cache-Control", "no-store");
  res.body = std::move(out);
  respond(std::move(res));
}

}  // namespace

void RegisterMetricsRoutes(http::Router& router, const ApiContext& ctx) {
  router.Add(http::Method::kGet, "/metrics",
             [&ctx](const http::Request& q, http::Responder r) { Metrics(ctx, q, r); });
}

}  // namespace vigil::api
