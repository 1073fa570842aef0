// GET /metrics: counters in the Prometheus text format (version 0.0.4), for admins.
#include <cstdio>

#include "api/api.hpp"
#include "api/handler_util.hpp"
#include "base/histogram.hpp"

namespace vigil::api {

namespace {

void Counter(std::string& out, const char* name, const char* help, const char* type,
             uint64_t value) {
  WriteMetricHead(out, name, help, type);
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
  live::LiveMetrics& m = ctx.hub.metrics();
  auto load = [](const auto& a) {
    return static_cast<uint64_t>(a.load(std::memory_order_relaxed));
  };
  Counter(out, "vigil_sse_streams_open", "Server-Sent Event streams open now.", "gauge",
          load(m.sse_open));
  Counter(out, "vigil_websockets_open", "WebSockets open now.", "gauge", load(m.ws_open));
  Counter(out, "vigil_websocket_subscriptions", "Investigations followed over WebSockets now.",
          "gauge", load(m.ws_subscriptions));
  Counter(out, "vigil_sse_streams_total", "Server-Sent Event streams opened.", "counter",
          load(m.sse_opened));
  Counter(out, "vigil_websockets_total", "WebSockets opened.", "counter", load(m.ws_opened));
  Counter(out, "vigil_live_frames_sent_total", "SSE frames and WebSocket messages written.",
          "counter", load(m.frames_sent));
  Counter(out, "vigil_live_events_sent_total", "Live events written to subscribers.", "counter",
          load(m.events_sent));
  Counter(out, "vigil_live_replays_total", "Resumes served from the log up to the live edge.",
          "counter", load(m.replays));
  Counter(out, "vigil_live_resets_total",
          "Resume ids that could not be used (answered with reset).", "counter", load(m.resets));
  Counter(out, "vigil_live_slow_subscribers_cut_total",
          "Subscribers disconnected for falling behind.", "counter", load(m.slow_cut));
  Counter(out, "vigil_live_streams_ended_total", "Streams ended at a terminal state.", "counter",
          load(m.ended));
  Counter(out, "vigil_sse_max_duration_closes_total",
          "SSE streams closed at their maximum duration.", "counter", load(m.max_duration));
  Counter(out, "vigil_live_streams_refused_total", "Streams refused by a connection limit.",
          "counter", load(m.refused));
  live::Hub::Stats hs = ctx.hub.stats();
  Counter(out, "vigil_live_subscribers", "Followers subscribed to the hub now.", "gauge",
          hs.subscribers);
  Counter(out, "vigil_live_topics", "Investigations with at least one follower now.", "gauge",
          hs.topics);
  m.delivery.Write(out, "vigil_live_delivery_seconds",
                   "From an event's commit to its write to a subscriber's socket.");
  Counter(out, "vigil_live_investigation_subscribers_max",
          "The most followers any one investigation has now.", "gauge",
          ctx.hub.MaxSubscribersPerInvestigation());

  // The node, its writer and its store.
  WriteMetricHead(out, "vigil_node_info", "This node (VIGIL_NODE_ID); always 1.", "gauge");
  out.append("vigil_node_info{node_id=\"").append(MetricLabelValue(ctx.node_id)).append("\"} 1\n");
  ctx.engine.commit_latency().Write(out, "vigil_commit_seconds",
                                    "From a group's BEGIN to its COMMIT returning.");
  store::PoolStats pool = ctx.engine.pool_stats();
  Counter(out, "vigil_store_pool_waits_total",
          "Reads that found every connection of the read pool lent, and waited.", "counter",
          pool.waits);
  char seconds[64];
  std::snprintf(seconds, sizeof seconds, "%.6f", static_cast<double>(pool.wait_ns) / 1e9);
  WriteMetricHead(out, "vigil_store_pool_wait_seconds_total",
                  "Time reads waited for a connection of the read pool.", "counter");
  out.append("vigil_store_pool_wait_seconds_total ").append(seconds).append("\n");

  // Other nodes on the same database.
  Counter(out, "vigil_cross_node_events_total",
          "Events other nodes committed, fed in by catch-ups.", "counter", s.caught_up);
  ctx.engine.catch_up_lag().Write(
      out, "vigil_cross_node_lag_seconds",
      "From the time in another node's event id (just before its commit) to its publication "
      "here.");
  live::Bridge::Stats bs = ctx.bridge ? ctx.bridge->stats() : live::Bridge::Stats{};
  Counter(out, "vigil_bridge_hints_total", "Heads announced by other nodes and received.",
          "counter", bs.hints);
  Counter(out, "vigil_bridge_head_checks_total",
          "Comparisons of every head in memory with the store's.", "counter", bs.head_checks);
  Counter(out, "vigil_bridge_resyncs_total",
          "Head checks made because the listener connected again.", "counter", bs.resyncs);
  Counter(out, "vigil_bridge_listener_errors_total",
          "Waits for other nodes' hints that failed (connection lost or not made).", "counter",
          bs.listener_errors);

  if (ctx.request_metrics) ctx.request_metrics->Write(out);
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
