// vigil: the command line. `serve`, `migrate`, `copy`, `token`, `tail`.
#include <pthread.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <optional>

#include "api/api.hpp"
#include "app/config.hpp"
#include "app/copy.hpp"
#include "app/tail.hpp"
#include "base/clock.hpp"
#include "engine/engine.hpp"
#include "http/auth.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "http/sessions.hpp"
#include "http/static_files.hpp"
#include "http/steps.hpp"
#include "live/bridge.hpp"
#include "live/hub.hpp"
#include "live/limits.hpp"
#include "runner/runner.hpp"
#include "store/open.hpp"

namespace vigil::app {
namespace {

void SetUpLogging(const std::string& level) {
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  for (const char* name : {"app", "http", "engine", "runner"}) {
    auto logger = std::make_shared<spdlog::logger>(name, sink);
    logger->set_level(spdlog::level::from_str(level));
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");
    spdlog::register_logger(logger);
  }
  spdlog::set_default_logger(spdlog::get("app"));
}

// Every line says which node wrote it, once the configuration says which this is.
void NameNodeInLogs(const std::string& node_id) {
  spdlog::apply_all([&node_id](const std::shared_ptr<spdlog::logger>& logger) {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] " + node_id + " %v");
  });
}

// Writes the port atomically, so a reader never sees a partial file.
bool WritePortFile(const std::string& path, uint16_t port) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  return !ec;
}

int Serve(ServeConfig& config) {
  SetUpLogging(config.log_level);
  auto log = spdlog::get("app");
  if (auto ok = ValidateServeConfig(config); !ok) {
    log->error("configuration: {}", Describe(ok.error()));
    return 2;
  }
  NameNodeInLogs(config.node_id);
  // Read whole before anything starts: a wrong directory is a configuration error.
  std::shared_ptr<const http::StaticFiles> web_ui;
  if (!config.web_root.empty()) {
    auto files = http::StaticFiles::Load(config.web_root);
    if (!files) {
      log->error("configuration: --web-root / VIGIL_WEB_ROOT: {}", Describe(files.error()));
      return 2;
    }
    web_ui = std::move(*files);
    for (const std::string& skipped : web_ui->skipped()) {
      log->warn("web root {}: skipped {}", config.web_root, skipped);
    }
    log->info("serving the web UI from {} ({} files, {} bytes)", config.web_root,
              web_ui->file_count(), web_ui->total_bytes());
  }
  // Signals are taken by sigwait below; every thread started from here on inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto store = store::OpenStore(config.db);
  if (!store) {
    log->error("{}", Describe(store.error()));
    return 1;
  }
  SystemClock clock;
  engine::Engine engine(**store, clock, config.engine);
  std::unique_ptr<runner::Runner> runner;
  runner::RunnerOptions runner_options;
  runner_options.speed = config.demo_speed;
  runner_options.keep_running = config.demo ? config.demo_investigations : 0;
  runner = std::make_unique<runner::Runner>(engine, clock, runner_options);
  engine.AddCommitListener(
      [r = runner.get()](const engine::SnapshotPtr& s, std::span<const core::Event> events,
                         std::span<const engine::SharedEventPtr>) { r->OnCommit(s, events); });
  // Outlives the server: streams leave the hub as the server closes them.
  live::Hub hub(config.hub);
  hub.Attach(engine);
  engine.Start();
  // Other nodes' commits on the same database, for a store that has other writers (PostgreSQL).
  live::Bridge bridge(**store, engine, config.bridge,
                      [log](const std::string& message, bool warning) {
                        if (warning) {
                          log->warn("{}", message);
                        } else {
                          log->info("{}", message);
                        }
                      });
  bridge.Start();
  // Every way out from here stops the parts in this order: the producer, the server (no more
  // requests), then the engine (drains its queue, whose callbacks use the router's context).
  std::optional<http::Server> server;
  struct StopAll {
    runner::Runner& runner;
    std::optional<http::Server>& server;
    engine::Engine& engine;
    ~StopAll() {
      runner.Stop();
      if (server) server->Stop();
      engine.Stop();
    }
  };

  auto auth = std::make_shared<http::Authenticator>(config.jwt_secret, clock);
  if (auto algorithm = http::ParseTokenAlgorithm(config.jwt_algorithm);
      algorithm && *algorithm != http::TokenAlgorithm::kHS256) {
    auth->UsePublicKey(*algorithm, config.jwt_public_key);
  }
  auth->RequireIssuer(config.jwt_issuer);
  auth->RequireAudience(config.jwt_audience);
  auto sessions = std::make_shared<http::Sessions>(clock, config.session_cache,
                                                   api::StoreSessionLoader(engine));
  http::Router router;
  api::ApiContext ctx{
      engine,
      clock,
      config.api,
      hub,
      std::make_shared<live::ConnectionLimits>(config.max_streams, config.max_streams_per_user),
      sessions,
      auth,
      std::make_shared<http::RateLimiter>(config.rate_limit),
      web_ui};
  ctx.node_id = config.node_id;
  ctx.bridge = &bridge;
  auto request_metrics = std::make_shared<http::RequestMetrics>();
  ctx.request_metrics = request_metrics;
  config.server.request_metrics = request_metrics;
  // The steps around every handler (http/steps.hpp), in order.
  router.Use(http::Authenticate(auth, sessions));
  router.Use(http::LimitRate(ctx.rate_limiter, clock));
  router.AllowOrigins(config.cors_origin_list);
  // The server charges each admitted request once its answer is known (http/rate_limit.hpp).
  config.server.on_answer = http::ChargeOnAnswer(ctx.rate_limiter, clock);
  api::RegisterRoutes(router, ctx);
  server.emplace(config.server, [&router](http::Request& req, http::Responder respond) {
    router.Dispatch(req, std::move(respond));
  });
  // Declared after the router and its context, so it runs before they are destroyed.
  StopAll stop_all{*runner, server, engine};
  if (auto started = server->Start(); !started) {
    log->error("{}", Describe(started.error()));
    return 1;
  }
  std::string host = config.server.address.find(':') != std::string::npos
                         ? "[" + config.server.address + "]"
                         : config.server.address;
  log->info("vigil listening on http://{}:{} (database {}, node {})", host, server->port(),
            store::RedactedLocation(config.db), config.node_id);
  if (!config.port_file.empty() && !WritePortFile(config.port_file, server->port())) {
    log->error("cannot write the port file {}", config.port_file);
    return 1;
  }
  runner->Start();
  if (config.demo) {
    auto token =
        http::MintToken(config.jwt_secret, "demo", {"read", "dev"}, 7 * 86400, clock.NowMs());
    // A link that signs a browser in once, without the token in the URL.
    std::string code;
    if (token) {
      std::promise<Result<std::string>> made;
      api::MakeLoginCode(engine, clock, *token, 3600,
                         [&made](Result<std::string> r) { made.set_value(std::move(r)); });
      auto stored = made.get_future().get();
      if (stored) code = std::move(*stored);
      if (!stored) log->error("cannot store the sign-in code: {}", Describe(stored.error()));
    }
    std::printf(
        "\n  vigil is running at http://%s:%u  (demo mode: simulated investigations)\n"
        "  sign a browser in as the user demo (one use, within an hour):\n\n"
        "  http://%s:%u/api/v1/auth/login?code=%s\n\n"
        "  a bearer token for the user demo (roles read,dev; valid 7 days):\n\n"
        "  export TOKEN=%s\n"
        "  curl -H \"Authorization: Bearer $TOKEN\" http://%s:%u/api/v1/investigations\n\n",
        host.c_str(), server->port(), host.c_str(), server->port(), code.c_str(),
        token ? token->c_str() : "(error)", host.c_str(), server->port());
    std::fflush(stdout);
  }

  int signal = 0;
  sigwait(&signals, &signal);
  log->info("received {}, shutting down", signal == SIGINT ? "SIGINT" : "SIGTERM");
  log->info("stopped");
  return 0;
}

int Migrate(const std::string& location) {
  auto report = store::MigrateStore(location);
  const std::string db = store::RedactedLocation(location);  // a URL's password stays private
  if (!report) {
    std::fprintf(stderr, "vigil migrate: %s\n", Describe(report.error()).c_str());
    return 1;
  }
  if (report->from_version == report->to_version) {
    std::printf("%s is at schema version %d; nothing to do\n", db.c_str(), report->to_version);
  } else {
    std::printf("migrated %s from schema version %d to %d\n", db.c_str(), report->from_version,
                report->to_version);
  }
  return 0;
}

int Token(const std::string& user, const std::string& roles_text, const std::string& ttl) {
  const char* secret = std::getenv("VIGIL_JWT_SECRET");
  if (!secret || std::string_view(secret).size() < 32) {
    std::fprintf(stderr, "vigil token: VIGIL_JWT_SECRET must be set to at least 32 bytes\n");
    return 2;
  }
  auto seconds = ParseDuration(ttl);
  if (!seconds) {
    std::fprintf(stderr, "vigil token: --ttl: %s\n", seconds.error().message.c_str());
    return 2;
  }
  std::vector<std::string> roles;
  std::string_view rest = roles_text;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string role(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (role != "read" && role != "dev" && role != "admin") {
      std::fprintf(stderr, "vigil token: unknown role '%s' (read, dev, admin)\n", role.c_str());
      return 2;
    }
    roles.push_back(role);
  }
  SystemClock clock;
  auto token = http::MintToken(secret, user, roles, *seconds, clock.NowMs());
  if (!token) {
    std::fprintf(stderr, "vigil token: %s\n", token.error().message.c_str());
    return 1;
  }
  std::printf("%s\n", token->c_str());
  return 0;
}

}  // namespace
}  // namespace vigil::app

int main(int argc, char** argv) {
  using namespace vigil::app;
  CLI::App app{"vigil: live progress of long-running investigations"};
  app.require_subcommand(1);

  ServeConfig serve_config;
  CLI::App* serve = app.add_subcommand("serve", "run the server");
  AddServeOptions(*serve, serve_config);

  std::string migrate_db = "data/vigil.db";
  CLI::App* migrate = app.add_subcommand("migrate", "create or upgrade the database schema");
  migrate->add_option("--db", migrate_db, "the database: a SQLite file path, or a PostgreSQL URL")
      ->envname("VIGIL_DB")
      ->capture_default_str();

  CopyCommand copy_command;
  AddCopyOptions(*app.add_subcommand("copy", "copy a whole store into a new, migrated, empty one"),
                 copy_command);

  std::string user, roles = "read,dev", ttl = "8h";
  CLI::App* token =
      app.add_subcommand("token", "print a bearer token signed with VIGIL_JWT_SECRET");
  token->add_option("--user", user, "the user id (the token's subject)")->required();
  token->add_option("--roles", roles, "comma-separated: read, dev, admin")->capture_default_str();
  token->add_option("--ttl", ttl, "lifetime, e.g. 30m, 8h, 7d")->capture_default_str();

  TailOptions tail_options;
  CLI::App* tail =
      app.add_subcommand("tail", "print the events of an investigation as they happen");
  tail->add_option("investigation_id", tail_options.investigation_id, "the investigation to follow")
      ->required();
  tail->add_flag("--follow,-f", tail_options.follow,
                 "keep printing new events until the run ends (reconnects by itself)");
  tail->add_option("--since", tail_options.since,
                   "print only the events after this event id (default: from the start)");
  tail->add_flag("--json", tail_options.json, "print each event as one line of JSON");
  tail->add_option("--url", tail_options.url, "the vigil server")->capture_default_str();
  tail->add_option("--token", tail_options.token, "bearer token")->envname("VIGIL_TOKEN");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 prints the message (or the help). Its own exit codes differ by error; a usage error
    // exits 2, as docs/configuration.md and `vigil tail` promise.
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (*serve) return Serve(serve_config);
  if (*migrate) return Migrate(migrate_db);
  if (*token) return Token(user, roles, ttl);
  if (*app.get_subcommand("copy")) return Copy(copy_command);
  if (*tail) return Tail(tail_options);
  return 2;
}
