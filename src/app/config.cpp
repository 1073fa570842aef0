#include "app/config.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "store/open.hpp"

namespace vigil::app {

void AddServeOptions(CLI::App& cmd, ServeConfig& c) {
  auto opt = [&cmd](const std::string& flag, auto& var, const std::string& env,
                    const std::string& help) {
    return cmd.add_option(flag, var, help)->envname(env)->capture_default_str();
  };
  opt("--listen", c.listen, "VIGIL_LISTEN", "address and port to listen on (port 0: any free)");
  opt("--db", c.db, "VIGIL_DB", "the database: a SQLite file path, or a PostgreSQL URL");
  cmd.add_option("--port-file", c.port_file,
                 "write the bound port to this file once listening (for tests and scripts)");
  cmd.add_flag("--demo", c.demo, "run simulated demo investigations and print a login token")
      ->envname("VIGIL_DEMO");
  opt("--demo-investigations", c.demo_investigations, "DEMO_INVESTIGATIONS",
      "simulated investigations kept running in demo mode")
      ->check(CLI::Range(0, 50));
  opt("--demo-speed", c.demo_speed, "DEMO_SPEED", "speed of simulated tools (2 = twice as fast)")
      ->check(CLI::Range(0.1, 100.0));
  opt("--log-level", c.log_level, "VIGIL_LOG_LEVEL", "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));

  opt("--threads", c.server.threads, "VIGIL_THREADS", "I/O threads (0: one per core)")
      ->check(CLI::Range(0, 256));
  opt("--read-threads", c.engine.read_threads, "VIGIL_READ_THREADS",
      "threads that read from the store")
      ->check(CLI::Range(1, 64));
  opt("--body-limit", c.server.body_limit, "HTTP_BODY_LIMIT_BYTES", "largest request body")
      ->check(CLI::Range(size_t{1024}, size_t{64} << 20));
  cmd.add_option_function<int>(
         "--read-timeout", [&c](int s) { c.server.read_timeout = std::chrono::seconds(s); },
         "seconds allowed to read one request (default 30)")
      ->envname("HTTP_READ_TIMEOUT_SECONDS")
      ->check(CLI::Range(1, 3600));
  cmd.add_option_function<int>(
         "--idle-timeout", [&c](int s) { c.server.idle_timeout = std::chrono::seconds(s); },
         "seconds a keep-alive connection may idle (default 75)")
      ->envname("HTTP_IDLE_TIMEOUT_SECONDS")
      ->check(CLI::Range(1, 3600));

  opt("--event-feed-default-limit", c.api.event_feed_default_limit, "EVENT_FEED_DEFAULT_LIMIT",
      "events per /events page when no limit is given")
      ->check(CLI::Range(1, 100000));
  opt("--event-feed-max-limit", c.api.event_feed_max_limit, "EVENT_FEED_MAX_LIMIT",
      "largest /events page")
      ->check(CLI::Range(1, 100000));
  opt("--event-feed-cursor-expiry-days", c.api.event_feed_cursor_expiry_days,
      "EVENT_FEED_CURSOR_EXPIRY_DAYS", "cursors older than this are refused")
      ->check(CLI::Range(1, 3650));
  opt("--poll-interval-active-ms", c.api.poll_interval_active_ms, "POLL_INTERVAL_ACTIVE_MS",
      "X-Recommended-Interval while an investigation runs")
      ->check(CLI::Range(100, 600000));
  opt("--poll-interval-idle-ms", c.api.poll_interval_idle_ms, "POLL_INTERVAL_IDLE_MS",
      "X-Recommended-Interval while it waits (created, queued, paused)")
      ->check(CLI::Range(100, 600000));
  opt("--event-batch-max", c.api.limits.max_batch_events, "EVENT_BATCH_MAX", "events in one report")
      ->check(CLI::Range(1, 10000));
  opt("--recent-events", c.engine.recent_events, "RECENT_EVENTS_PER_INVESTIGATION",
      "newest events of each hot investigation kept in memory for feeds")
      ->check(CLI::Range(size_t{0}, size_t{1'000'000}));
  opt("--recent-bytes", c.engine.recent_bytes, "RECENT_BYTES_PER_INVESTIGATION",
      "at most this many bytes of them")
      ->check(CLI::Range(size_t{0}, size_t{1} << 30));
  opt("--hot-investigations", c.engine.hot_max, "HOT_INVESTIGATIONS_MAX",
      "investigations kept in memory; the least recently used are folded again when needed")
      ->check(CLI::Range(size_t{1}, size_t{10'000'000}));
  opt("--sse-heartbeat-seconds", c.api.sse_heartbeat_seconds, "SSE_HEARTBEAT_INTERVAL_SECONDS",
      "a heartbeat event after this many quiet seconds on an SSE stream")
      ->check(CLI::Range(1, 3600));
  opt("--sse-max-duration-seconds", c.api.sse_max_duration_seconds, "SSE_MAX_DURATION_SECONDS",
      "an SSE stream ends with a reconnect event after this long")
      ->check(CLI::Range(1, 86400));
  opt("--sse-progress-interval-ms", c.api.sse_progress_interval_ms, "SSE_PROGRESS_INTERVAL_MS",
      "at most one coalesced progress event per stream per this interval")
      ->check(CLI::Range(0, 600000));
  opt("--sse-retry-ms", c.api.sse_retry_ms, "SSE_RETRY_MS",
      "the SSE retry: hint is between this and twice it (jittered)")
      ->check(CLI::Range(100, 600000));
  opt("--ws-heartbeat-ms", c.ws_heartbeat_ms, "WS_HEARTBEAT_INTERVAL_MS",
      "a WebSocket ping after this long without traffic; closed after twice it unanswered")
      ->check(CLI::Range(1000, 3600000));
  opt("--ws-max-subscriptions", c.api.ws_max_subscriptions, "WS_MAX_SUBSCRIPTIONS",
      "investigations one WebSocket may follow at once")
      ->check(CLI::Range(size_t{1}, size_t{100000}));
  opt("--max-streams", c.max_streams, "LIVE_MAX_STREAMS",
      "SSE streams and WebSockets open at once, in all")
      ->check(CLI::Range(size_t{1}, size_t{10'000'000}));
  opt("--max-streams-per-user", c.max_streams_per_user, "LIVE_MAX_STREAMS_PER_USER",
      "SSE streams and WebSockets open at once per user")
      ->check(CLI::Range(size_t{1}, size_t{10'000'000}));
  opt("--live-queue-max-events", c.hub.max_queue, "LIVE_QUEUE_MAX_EVENTS",
      "events waiting for one subscriber before it is cut as too slow")
      ->check(CLI::Range(size_t{16}, size_t{10'000'000}));
  opt("--node-id", c.node_id, "VIGIL_NODE_ID",
      "this node's name in its logs and metrics (default: host name and port)");
  cmd.add_option_function<int>(
         "--session-cache-ms", [&c](int ms) { c.session_cache = std::chrono::milliseconds(ms); },
         "how long a node trusts its last lookup of a session cookie in the store: the bound on "
         "how long a sign-out on another node takes to reach it (default 5000)")
      ->envname("VIGIL_SESSION_CACHE_MS")
      ->check(CLI::Range(0, 300000));
  cmd.add_option_function<int>(
         "--head-check-interval-ms",
         [&c](int ms) { c.bridge.head_check_interval = std::chrono::milliseconds(ms); },
         "several nodes on PostgreSQL: how often the investigations in memory are compared with "
         "the store, in case a hint from another node was lost (default 1000)")
      ->envname("HEAD_CHECK_INTERVAL_MS")
      ->check(CLI::Range(50, 600000));
  cmd.add_option_function<int>(
         "--stream-write-timeout",
         [&c](int s) { c.server.stream.write_timeout = std::chrono::seconds(s); },
         "seconds one write to a stream may take before the client is dropped (default 30)")
      ->envname("STREAM_WRITE_TIMEOUT_SECONDS")
      ->check(CLI::Range(1, 3600));
  opt("--rate-limit", c.rate_limit.enabled, "RATE_LIMIT_ENABLED",
      "limit requests per principal (true or false)");
  opt("--rate-limit-max-requests", c.rate_limit.max_requests, "RATE_LIMIT_MAX_REQUESTS",
      "requests per window in the default budget (the others are multiples of it)")
      ->check(CLI::Range(1, 1'000'000));
  opt("--rate-limit-nodes", c.rate_limit.nodes, "RATE_LIMIT_NODES",
      "nodes sharing the budgets: each node allows its share of every budget")
      ->check(CLI::Range(1, 1000));
  opt("--rate-limit-window-seconds", c.rate_limit.window_seconds, "RATE_LIMIT_WINDOW_SECONDS",
      "the window in which a spent budget refills")
      ->check(CLI::Range(1, 86400));
  opt("--rate-limit-backoff", c.rate_limit.backoff, "RATE_LIMIT_ENABLE_BACKOFF",
      "repeated refusals wait longer: a window, doubling, at most 300 s (true or false)");
  opt("--rate-limit-conditional-factor", c.rate_limit.conditional_factor,
      "RATE_LIMIT_CONDITIONAL_FACTOR",
      "conditional reads answered 304 have a ceiling of their own, this many times the read "
      "budget")
      ->check(CLI::Range(1, 1000));
  opt("--cors-origins", c.cors_origins, "VIGIL_CORS_ORIGINS",
      "comma-separated origins whose pages may call the API (CORS); empty: none");
  opt("--jwt-algorithm", c.jwt_algorithm, "VIGIL_JWT_ALGORITHM",
      "how tokens are signed: HS256 (with VIGIL_JWT_SECRET), RS256 or ES256 (with a public key)")
      ->check(CLI::IsMember({"HS256", "RS256", "ES256"}));
  opt("--jwt-public-key-file", c.jwt_public_key_file, "VIGIL_JWT_PUBLIC_KEY_FILE",
      "the PEM public key that verifies RS256 or ES256 tokens");
  opt("--jwt-issuer", c.jwt_issuer, "VIGIL_JWT_ISSUER",
      "tokens must carry this `iss` claim (empty: not checked)");
  opt("--jwt-audience", c.jwt_audience, "VIGIL_JWT_AUDIENCE",
      "tokens must name this in their `aud` claim (empty: not checked)");
  cmd.add_flag("--cookie-secure", c.api.cookie_secure,
               "mark the session cookie Secure (when clients reach vigil over TLS, via a proxy)")
      ->envname("VIGIL_COOKIE_SECURE");
  opt("--web-root", c.web_root, "VIGIL_WEB_ROOT",
      "directory of the web UI's built files (web/dist), served at /; empty: no UI");
  opt("--group-commit-max", c.engine.max_group, "GROUP_COMMIT_MAX", "write jobs committed together")
      ->check(CLI::Range(1, 10000));
}

namespace {

// The host name and the port; with port 0 (picked at start), the host name and 8 random hex
// digits, so that two such nodes on one host still differ.
std::string DefaultNodeId(uint16_t port) {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0')
    std::snprintf(host, sizeof host, "vigil");
  std::string id;
  for (const char* p = host; *p != '\0' && id.size() < 48; ++p) {
    const char ch = *p;
    id += std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' ? ch : '_';
  }
  if (port != 0) return id + ":" + std::to_string(port);
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "-%08x", static_cast<unsigned>(std::random_device{}()));
  return id + suffix;
}

}  // namespace

Result<void> ValidateServeConfig(ServeConfig& c) {
  if (auto db = store::ParseStoreLocation(c.db); !db) return Fail(db.error());
  size_t colon = c.listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "--listen / VIGIL_LISTEN must be HOST:PORT, got '" + c.listen + "'", "listen");
  }
  unsigned port = 0;
  std::string_view port_text = std::string_view(c.listen).substr(colon + 1);
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return Fail(ErrorCode::kInvalidArgument,
                "--listen / VIGIL_LISTEN has an invalid port: '" + c.listen + "'", "listen");
  }
  c.server.address = c.listen.substr(0, colon);
  if (c.server.address.size() > 2 && c.server.address.front() == '[') {
    c.server.address = c.server.address.substr(1, c.server.address.size() - 2);
  }
  c.server.port = static_cast<uint16_t>(port);

  if (c.node_id.empty()) c.node_id = DefaultNodeId(c.server.port);
  const bool node_id_ok =
      c.node_id.size() <= 64 && std::all_of(c.node_id.begin(), c.node_id.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' ||
               ch == '_' || ch == ':';
      });
  if (!node_id_ok) {
    return Fail(ErrorCode::kInvalidArgument,
                "--node-id / VIGIL_NODE_ID must be at most 64 letters, digits and . - _ :, got '" +
                    c.node_id + "'",
                "node-id");
  }

  const char* secret = std::getenv("VIGIL_JWT_SECRET");
  c.jwt_secret = secret ? secret : "";
  if (c.jwt_algorithm != "HS256") {
    if (c.demo) {
      return Fail(
          ErrorCode::kInvalidArgument,
          "--demo signs its own tokens with HS256; it cannot run with VIGIL_JWT_ALGORITHM=" +
              c.jwt_algorithm,
          "VIGIL_JWT_ALGORITHM");
    }
    std::ifstream in(c.jwt_public_key_file);
    std::stringstream pem;
    pem << in.rdbuf();
    c.jwt_public_key = pem.str();
    if (c.jwt_public_key_file.empty() || !in ||
        c.jwt_public_key.find("-----BEGIN PUBLIC KEY-----") == std::string::npos) {
      return Fail(ErrorCode::kInvalidArgument,
                  "VIGIL_JWT_ALGORITHM=" + c.jwt_algorithm +
                      " needs VIGIL_JWT_PUBLIC_KEY_FILE, a readable PEM public key ('" +
                      c.jwt_public_key_file + "' is not)",
                  "VIGIL_JWT_PUBLIC_KEY_FILE");
    }
  } else if (c.jwt_secret.size() < 32) {
    return Fail(ErrorCode::kInvalidArgument,
                "VIGIL_JWT_SECRET must be set to at least 32 bytes (it signs and verifies tokens; "
                "e.g. export VIGIL_JWT_SECRET=$(head -c 48 /dev/urandom | base64))",
                "VIGIL_JWT_SECRET");
  }
  if (c.api.event_feed_default_limit > c.api.event_feed_max_limit) {
    return Fail(ErrorCode::kInvalidArgument,
                "EVENT_FEED_DEFAULT_LIMIT (" + std::to_string(c.api.event_feed_default_limit) +
                    ") is larger than EVENT_FEED_MAX_LIMIT (" +
                    std::to_string(c.api.event_feed_max_limit) + ")",
                "EVENT_FEED_DEFAULT_LIMIT");
  }
  c.server.stream.ws_idle_timeout =
      std::chrono::seconds(std::max(1, (2 * c.ws_heartbeat_ms + 999) / 1000));
  c.cors_origin_list.clear();
  for (std::string_view rest = c.cors_origins; !rest.empty();) {
    size_t comma = rest.find(',');
    std::string_view origin = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    while (!origin.empty() && origin.front() == ' ') origin.remove_prefix(1);
    while (!origin.empty() && origin.back() == ' ') origin.remove_suffix(1);
    if (origin.empty()) continue;
    if (!(origin.starts_with("http://") || origin.starts_with("https://")) ||
        origin.find('/', origin.find("//") + 2) != std::string_view::npos) {
      return Fail(ErrorCode::kInvalidArgument,
                  "VIGIL_CORS_ORIGINS: '" + std::string(origin) +
                      "' is not an origin (scheme://host[:port], no path)",
                  "VIGIL_CORS_ORIGINS");
    }
    c.cors_origin_list.emplace_back(origin);
  }
  if (!c.web_root.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_directory(c.web_root, ec)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "--web-root / VIGIL_WEB_ROOT: '" + c.web_root + "' is not a directory",
                  "VIGIL_WEB_ROOT");
    }
    if (!std::filesystem::is_regular_file(std::filesystem::path(c.web_root) / "index.html", ec)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "--web-root / VIGIL_WEB_ROOT: '" + c.web_root +
                      "' has no index.html (build the UI with `npm run build` in web/ and point "
                      "this at web/dist)",
                  "VIGIL_WEB_ROOT");
    }
  }
  // A full batch of maximal events must fit in a body.
  if (c.server.body_limit < 64 * 1024) {
    return Fail(ErrorCode::kInvalidArgument, "HTTP_BODY_LIMIT_BYTES must be at least 65536",
                "HTTP_BODY_LIMIT_BYTES");
  }
  return {};
}

Result<int64_t> ParseDuration(std::string_view text) {
  if (text.empty()) return Fail(ErrorCode::kInvalidArgument, "empty duration");
  int64_t unit = 1;
  switch (text.back()) {
    case 's':
      unit = 1;
      text.remove_suffix(1);
      break;
    case 'm':
      unit = 60;
      text.remove_suffix(1);
      break;
    case 'h':
      unit = 3600;
      text.remove_suffix(1);
      break;
    case 'd':
      unit = 86400;
      text.remove_suffix(1);
      break;
    default:
      break;
  }
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n <= 0 || n > 10 * 365 * 86400) {
    return Fail(ErrorCode::kInvalidArgument,
                "a duration is a positive number with s, m, h or d, e.g. 8h");
  }
  return n * unit;
}

}  // namespace vigil::app
