// The HTTP API: one file per resource, each handler thin and of one shape —
// parse and validate, call the engine, map the result. No SQL and no Beast here.
#pragma once

#include <cstdint>
#include <optional>

#include "base/clock.hpp"
#include "core/input.hpp"
#include "engine/engine.hpp"
#include "http/auth.hpp"
#include "http/rate_limit.hpp"
#include "http/request_metrics.hpp"
#include "http/router.hpp"
#include "http/sessions.hpp"
#include "http/static_files.hpp"
#include "live/bridge.hpp"
#include "live/hub.hpp"
#include "live/limits.hpp"

namespace vigil::api {

struct ApiOptions {
  core::InputLimits limits;
  size_t event_feed_default_limit = 100;   // EVENT_FEED_DEFAULT_LIMIT
  size_t event_feed_max_limit = 1000;      // EVENT_FEED_MAX_LIMIT
  int event_feed_cursor_expiry_days = 30;  // EVENT_FEED_CURSOR_EXPIRY_DAYS
  int poll_interval_active_ms = 1000;      // POLL_INTERVAL_ACTIVE_MS
  int poll_interval_idle_ms = 5000;        // POLL_INTERVAL_IDLE_MS
  size_t list_default_limit = 50;
  size_t list_max_limit = 200;
  // Live delivery.
  int sse_heartbeat_seconds = 30;      // SSE_HEARTBEAT_INTERVAL_SECONDS
  int sse_max_duration_seconds = 300;  // SSE_MAX_DURATION_SECONDS
  int sse_progress_interval_ms = 500;  // SSE_PROGRESS_INTERVAL_MS
  int sse_retry_ms = 2000;             // SSE_RETRY_MS: retry: hints between this and twice it
  size_t ws_max_subscriptions = 100;   // WS_MAX_SUBSCRIPTIONS: per socket
  bool cookie_secure = false;          // VIGIL_COOKIE_SECURE: the session cookie is Secure
};

struct ApiContext {
  engine::Engine& engine;
  const Clock& clock;
  ApiOptions options;
  live::Hub& hub;
  // Open SSE streams and WebSockets, in all and per user.
  std::shared_ptr<live::ConnectionLimits> stream_limits;
  std::shared_ptr<http::Sessions> sessions;
  std::shared_ptr<const http::Authenticator> auth;
  std::shared_ptr<http::RateLimiter> rate_limiter;  // null: no limits
  // The web UI's files, served at the paths the API does not use; null: no UI (VIGIL_WEB_ROOT).
  std::shared_ptr<const http::StaticFiles> web_ui;
  // For /metrics: this node's name (VIGIL_NODE_ID), the answers the server counted, and the
  // bridge to other nodes (null: none).
  std::string node_id;
  std::shared_ptr<const http::RequestMetrics> request_metrics;
  const live::Bridge* bridge = nullptr;
};

// Registers every /api/v1 route, /healthz, /readyz and /metrics, and the web UI's files when
// ctx.web_ui is set. `ctx` must outlive the router.
void RegisterRoutes(http::Router& router, const ApiContext& ctx);

// Browser sessions and one-time sign-in codes are kept in the store (api/auth.cpp), so that every
// node knows every cookie. How http::Sessions looks a session up there: on the read pool.
http::SessionLoader StoreSessionLoader(engine::Engine& engine);
// A one-time sign-in code for `token`, valid for `ttl_s` seconds, stored so that any node redeems
// it, once (GET /api/v1/auth/login).
void MakeLoginCode(engine::Engine& engine, const Clock& clock, std::string token, int64_t ttl_s,
                   engine::Done<std::string> done);

// The interval a poller of an investigation in `state` should wait, in ms; nullopt when it should
// stop (terminal states).
std::optional<int> RecommendedIntervalMs(const ApiOptions& options, core::State state);

}  // namespace vigil::api
