// Configuration of `vigil serve`: every setting comes from a flag or from the environment (the
// flag wins), each has a default, and all are validated before anything starts. The one table of
// them is docs/configuration.md; keep it in step with AddServeOptions.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "api/api.hpp"
#include "engine/engine.hpp"
#include "http/rate_limit.hpp"
#include "http/server.hpp"
#include "live/bridge.hpp"
#include "live/hub.hpp"

namespace vigil::app {

struct ServeConfig {
  std::string listen = "127.0.0.1:8080";
  std::string db = "data/vigil.db";
  std::string port_file;
  bool demo = false;
  int demo_investigations = 3;
  double demo_speed = 1.0;
  std::string log_level = "info";
  std::string jwt_secret;                     // environment only: VIGIL_JWT_SECRET
  std::string cors_origins;                   // VIGIL_CORS_ORIGINS: comma-separated; empty: no CORS
  std::vector<std::string> cors_origin_list;  // derived by ValidateServeConfig
  std::string jwt_algorithm = "HS256";        // VIGIL_JWT_ALGORITHM: HS256, RS256 or ES256
  std::string jwt_public_key_file;            // VIGIL_JWT_PUBLIC_KEY_FILE: for RS256 and ES256
  std::string jwt_public_key;                 // its contents, read by ValidateServeConfig
  std::string jwt_issuer;    // VIGIL_JWT_ISSUER: tokens must carry this iss (empty: not checked)
  std::string jwt_audience;  // VIGIL_JWT_AUDIENCE: tokens must name this aud (empty: not checked)
  std::string web_root;      // VIGIL_WEB_ROOT: the web UI's built files (empty: no UI)

  size_t max_streams = 20'000;       // LIVE_MAX_STREAMS
  size_t max_streams_per_user = 32;  // LIVE_MAX_STREAMS_PER_USER
  int ws_heartbeat_ms = 30'000;      // WS_HEARTBEAT_INTERVAL_MS

  http::RateLimitOptions rate_limit;
  http::ServerOptions server;
  live::HubOptions hub;
  live::BridgeOptions bridge;
  // VIGIL_SESSION_CACHE_MS: how long a node trusts its last lookup of a session cookie in the
  // store; the bound on how long a sign-out on another node takes to reach this one.
  std::chrono::milliseconds session_cache{5000};
  // VIGIL_NODE_ID: this node's name in its logs and metrics; empty: the host name and the port
  // (a random suffix when the port is picked at start), set by ValidateServeConfig.
  std::string node_id;
  engine::EngineOptions engine;
  api::ApiOptions api;
};

// Declares the options of `serve` on `cmd`, bound to `config`.
void AddServeOptions(CLI::App& cmd, ServeConfig& config);

// Checks what CLI11 cannot check alone (address syntax, secret length, relations between values)
// and fills derived fields. An error names the setting and says what is wrong.
Result<void> ValidateServeConfig(ServeConfig& config);

// "8h", "30m", "90s", "3600" -> seconds.
Result<int64_t> ParseDuration(std::string_view text);

}  // namespace vigil::app
