// The configuration of `vigil serve` (app/config.hpp): what ValidateServeConfig refuses, naming
// the setting at fault, and what it derives; the flags and their environment variables.
#include "app/config.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "support/result_matchers.hpp"

namespace vigil::app {
namespace {

using vigil::test::FailsWith;
using vigil::test::IsOk;

constexpr char kSecret32[] = "0123456789abcdef0123456789abcdef";  // exactly 32 bytes

// VIGIL_JWT_SECRET is read from the environment alone; each test sets it, and none leaks into
// the next.
class ServeConfigTest : public ::testing::Test {
 protected:
  void SetUp() override { setenv("VIGIL_JWT_SECRET", kSecret32, 1); }
  void TearDown() override {
    unsetenv("VIGIL_JWT_SECRET");
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // A fresh directory for files a test needs.
  const std::string& Dir() {
    if (dir_.empty()) {
      char tmpl[] = "/tmp/vigil-config-XXXXXX";
      dir_ = mkdtemp(tmpl);
    }
    return dir_;
  }

  // Parses no flags with these variables set, then unsets them.
  void ParseWithEnvironment(std::vector<std::pair<const char*, const char*>> variables) {
    for (const auto& [name, value] : variables) setenv(name, value, 1);
    CLI::App app;
    AddServeOptions(app, config_);
    const char* argv[] = {"serve"};
    EXPECT_NO_THROW(app.parse(1, argv));
    for (const auto& [name, value] : variables) unsetenv(name);
  }

  ServeConfig config_;
  std::string dir_;
};

TEST_F(ServeConfigTest, TheDefaultsAreValid) {
  ASSERT_TRUE(IsOk(ValidateServeConfig(config_)));
  EXPECT_EQ(config_.server.address, "127.0.0.1");
  EXPECT_EQ(config_.server.port, 8080);
  EXPECT_EQ(config_.jwt_secret, kSecret32);
}

TEST_F(ServeConfigTest, ListenIsHostColonPort) {
  for (const char* bad : {"8080", ":8080", "localhost", "localhost:", "localhost:http",
                          "localhost:65536", "localhost:-1", "localhost:80x", "localhost: 80"}) {
    config_.listen = bad;
    EXPECT_TRUE(FailsWith(ValidateServeConfig(config_), ErrorCode::kInvalidArgument, "listen"))
        << bad;
  }
}

TEST_F(ServeConfigTest, ListenSetsTheServersAddressAndPort) {
  config_.listen = "0.0.0.0:0";
  ASSERT_TRUE(IsOk(ValidateServeConfig(config_)));
  EXPECT_EQ(config_.server.address, "0.0.0.0");
  EXPECT_EQ(config_.server.port, 0) << "0: any free port";

  config_.listen = "[::1]:65535";
  ASSERT_TRUE(IsOk(ValidateServeConfig(config_)));
  EXPECT_EQ(config_.server.address, "::1") << "an IPv6 address loses its brackets";
  EXPECT_EQ(config_.server.port, 65535);
}

TEST_F(ServeConfigTest, ADatabaseThisBuildCannotOpenIsRefusedByName) {
  for (const char* bad : {"postgresql://db:port/vigil", "postgres://vigil@db/vigil?nonsense=1",
                          "mysql://x", "", "sqlite:", "sqlite://"}) {
    config_.db = bad;
    auto r = ValidateServeConfig(config_);
    EXPECT_TRUE(FailsWith(r, ErrorCode::kInvalidArgument, "db")) << bad;
  }
  config_.db = "mysql://x";
  auto r = ValidateServeConfig(config_);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("PostgreSQL"), std::string::npos) << r.error().message;
}

TEST_F(ServeConfigTest, APostgresqlUrlIsADatabase) {
  for (const char* good : {"postgresql://vigil:pw@db:5432/vigil", "postgres://db/vigil"}) {
    config_.db = good;
    EXPECT_TRUE(IsOk(ValidateServeConfig(config_))) << good;
  }
}

TEST_F(ServeConfigTest, ASqliteFileMayBeAPathOrAUrl) {
  for (const char* good : {"data/vigil.db", "/var/lib/vigil/vigil.db", "sqlite:data/vigil.db",
                           "sqlite:///var/lib/vigil.db"}) {
    config_.db = good;
    EXPECT_TRUE(IsOk(ValidateServeConfig(config_))) << good;
  }
}

TEST_F(ServeConfigTest, TheJwtSecretMustBeAtLeast32Bytes) {
  unsetenv("VIGIL_JWT_SECRET");
  EXPECT_TRUE(
      FailsWith(ValidateServeConfig(config_), ErrorCode::kInvalidArgument, "VIGIL_JWT_SECRET"));
  setenv("VIGIL_JWT_SECRET", std::string(kSecret32, 31).c_str(), 1);
  EXPECT_TRUE(
      FailsWith(ValidateServeConfig(config_), ErrorCode::kInvalidArgument, "VIGIL_JWT_SECRET"));
  setenv("VIGIL_JWT_SECRET", kSecret32, 1);
  EXPECT_TRUE(IsOk(ValidateServeConfig(config_)));
}

TEST_F(ServeConfigTest, APublicKeyAlgorithmNeedsAReadablePemKeyAndNoSecret) {
  unsetenv("VIGIL_JWT_SECRET");
  config_.jwt_algorithm = "RS256";
  EXPECT_TRUE(FailsWith(ValidateServeConfig(config_), ErrorCode::kInvalidArgument,
                        "VIGIL_JWT_PUBLIC_KEY_FILE"))
      << "no file";
  config_.jwt_public_key_file = Dir() + "/missing.pem";
  EXPECT_TRUE(FailsWith(ValidateServeConfig(config_), ErrorCode::kInvalidArgument,
                        "VIGIL_JWT_PUBLIC_KEY_FILE"));
  config_.jwt_public_key_file = Dir() + "/not-a-key.pem";
  std::ofstream(config_.jwt_public_key_file) << "hello\n";
  EXPECT_TRUE(FailsWith(ValidateServeConfig(config_), ErrorCode::kInvalidArgument,
                        "VIGIL_JWT_PUBLIC_KEY_FILE"));

  const std::string pem = "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n";
  config_.jwt_public_key_file = Dir() + "/key.pem";
  std::ofstream(config_.jwt_public_key_file) << pem;
  ASSERT_TRUE(IsOk(ValidateServeConfig(config_)));
  EXPECT_EQ(config_.jwt_public_key, pem) << "read for the authenticator";

  config_.demo = true;
  EXPECT_TRUE(
      FailsWith(ValidateServeConfig(config_), ErrorCode::kInvalidArgument, "VIGIL_JWT_ALGORITHM"))
      << "--demo signs its own HS256 tokens";
}

TEST_F(ServeConfigTest, TheDefaultFeedPageMayNotExceedTheLargest) {
  config_.api.event_feed_default_limit = 101;
  config_.api.event_feed_max_limit = 100;
  EXPECT_TRUE(FailsWith(ValidateServeConfig(config_), ErrorCode::kInvalidArgument,
                        "EVENT_FEED_DEFAULT_LIMIT"));
  config_.api.event_feed_default_limit = 100;
  EXPECT_TRUE(IsOk(ValidateServeConfig(config_)));
}

TEST_F(ServeConfigTest, TheBodyLimitFitsAFullBatch) {
  config_.server.body_limit = 64 * 1024 - 1;
  EXPECT_TRUE(FailsWith(ValidateServeConfig(config_), ErrorCode::kInvalidArgument,
                        "HTTP_BODY_LIMIT_BYTES"));
  config_.server.body_limit = 64 * 1024;
  EXPECT_TRUE(IsOk(ValidateServeConfig(config_)));
}

TEST_F(ServeConfigTest, CorsOriginsAreSchemeHostAndPortOnly) {
  config_.cors_origins = " https://app.example.com, ,http://localhost:5173 ,";
  ASSERT_TRUE(IsOk(ValidateServeConfig(config_)));
  EXPECT_EQ(config_.cors_origin_list,
            (std::vector<std::string>{"https://app.example.com", "http://localhost:5173"}));

  for (const char* bad : {"https://app.example.com/", "https://app.example.com/path",
                          "ftp://files.example.com", "app.example.com"}) {
    config_.cors_origins = bad;
    EXPECT_TRUE(
        FailsWith(ValidateServeConfig(config_), ErrorCode::kInvalidArgument, "VIGIL_CORS_ORIGINS"))
        << bad;
  }
}

TEST_F(ServeConfigTest, TheWebRootIsADirectoryWithAnIndex) {
  config_.web_root = Dir() + "/missing";
  EXPECT_TRUE(
      FailsWith(ValidateServeConfig(config_), ErrorCode::kInvalidArgument, "VIGIL_WEB_ROOT"));
  config_.web_root = Dir();
  auto r = ValidateServeConfig(config_);
  EXPECT_TRUE(FailsWith(r, ErrorCode::kInvalidArgument, "VIGIL_WEB_ROOT"));
  EXPECT_NE(r.error().message.find("index.html"), std::string::npos) << r.error().message;
  std::ofstream(Dir() + "/index.html") << "<!doctype html>";
  EXPECT_TRUE(IsOk(ValidateServeConfig(config_)));
}

TEST_F(ServeConfigTest, TheWebSocketIdleTimeoutIsTwiceTheHeartbeat) {
  config_.ws_heartbeat_ms = 30'000;
  ASSERT_TRUE(IsOk(ValidateServeConfig(config_)));
  EXPECT_EQ(config_.server.stream.ws_idle_timeout, std::chrono::seconds(60));
  config_.ws_heartbeat_ms = 1'200;
  ASSERT_TRUE(IsOk(ValidateServeConfig(config_)));
  EXPECT_EQ(config_.server.stream.ws_idle_timeout, std::chrono::seconds(3)) << "rounded up";
}

// The flags, with their environment variables as fallbacks: a flag wins over its variable.
TEST_F(ServeConfigTest, AFlagWinsOverItsEnvironmentVariable) {
  setenv("VIGIL_LISTEN", "127.0.0.1:1111", 1);
  setenv("EVENT_FEED_MAX_LIMIT", "250", 1);
  CLI::App app;
  AddServeOptions(app, config_);
  const char* argv[] = {"serve", "--listen", "127.0.0.1:2222"};
  EXPECT_NO_THROW(app.parse(3, argv));
  unsetenv("VIGIL_LISTEN");
  unsetenv("EVENT_FEED_MAX_LIMIT");
  EXPECT_EQ(config_.listen, "127.0.0.1:2222");
  EXPECT_EQ(config_.api.event_feed_max_limit, 250u) << "from the environment";
}

TEST_F(ServeConfigTest, AFlagOutOfItsRangeIsRefusedByTheParser) {
  CLI::App app;
  AddServeOptions(app, config_);
  const char* argv[] = {"serve", "--event-feed-max-limit", "0"};
  EXPECT_THROW(app.parse(3, argv), CLI::ValidationError);
}

// Several nodes: the head check's interval, from its flag or its variable, within its range.
TEST_F(ServeConfigTest, TheHeadCheckIntervalIsReadAndBounded) {
  EXPECT_EQ(config_.bridge.head_check_interval, std::chrono::milliseconds(1000));
  ParseWithEnvironment({{"HEAD_CHECK_INTERVAL_MS", "250"}});
  EXPECT_EQ(config_.bridge.head_check_interval, std::chrono::milliseconds(250));
  CLI::App app;
  AddServeOptions(app, config_);
  const char* argv[] = {"serve", "--head-check-interval-ms", "10"};
  EXPECT_THROW(app.parse(3, argv), CLI::ValidationError);
}

// Several nodes: the session cache's lifetime and the nodes sharing the rate-limit budgets, read
// from their variables and bounded.
TEST_F(ServeConfigTest, TheSessionCacheAndTheRateLimitNodesAreReadAndBounded) {
  EXPECT_EQ(config_.session_cache, std::chrono::milliseconds(5000));
  EXPECT_EQ(config_.rate_limit.nodes, 1);
  ParseWithEnvironment({{"VIGIL_SESSION_CACHE_MS", "0"}, {"RATE_LIMIT_NODES", "3"}});
  EXPECT_EQ(config_.session_cache, std::chrono::milliseconds(0));
  EXPECT_EQ(config_.rate_limit.nodes, 3);
  for (const char* bad : {"--rate-limit-nodes=0", "--session-cache-ms=-1"}) {
    CLI::App app;
    AddServeOptions(app, config_);
    const char* argv[] = {"serve", bad};
    EXPECT_THROW(app.parse(2, argv), CLI::ValidationError) << bad;
  }
}

// The node's name: the host name and port by default; a given one is checked.
TEST_F(ServeConfigTest, TheNodeIdIsTheHostAndPortByDefaultAndIsChecked) {
  ASSERT_TRUE(IsOk(ValidateServeConfig(config_)));
  EXPECT_TRUE(config_.node_id.ends_with(":8080")) << config_.node_id;
  config_.node_id = "";
  config_.listen = "127.0.0.1:0";
  ASSERT_TRUE(IsOk(ValidateServeConfig(config_)));
  EXPECT_EQ(config_.node_id.find(':'), std::string::npos) << "a random suffix, not port 0";
  config_.node_id = "node-a.eu:1";
  EXPECT_TRUE(IsOk(ValidateServeConfig(config_)));
  for (const std::string& bad :
       {std::string("has space"), std::string("quote\""), std::string(65, 'a')}) {
    config_.node_id = bad;
    EXPECT_TRUE(FailsWith(ValidateServeConfig(config_), ErrorCode::kInvalidArgument, "node-id"))
        << bad;
  }
}

TEST(ParseDurationTest, ReadsSecondsMinutesHoursAndDays) {
  EXPECT_EQ(ParseDuration("90s").value_or(-1), 90);
  EXPECT_EQ(ParseDuration("30m").value_or(-1), 1800);
  EXPECT_EQ(ParseDuration("8h").value_or(-1), 28800);
  EXPECT_EQ(ParseDuration("2d").value_or(-1), 172800);
  EXPECT_EQ(ParseDuration("3600").value_or(-1), 3600) << "seconds without a unit";
}

// At most ten years' worth of the number: 315360001 seconds is refused.
TEST(ParseDurationTest, RefusesWhatIsNotAPositiveDuration) {
  for (const char* bad :
       {"", "h", "0", "0s", "-5m", "1.5h", "8 h", "8H", "8w", "abc", "315360001"}) {
    EXPECT_TRUE(FailsWith(ParseDuration(bad), ErrorCode::kInvalidArgument)) << bad;
  }
}

}  // namespace
}  // namespace vigil::app
