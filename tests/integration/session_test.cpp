// Browser sessions and the headers every answer carries: a real server over real sockets.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <regex>
#include <string>
#include <thread>

#include "support/http_client.hpp"
#include "support/sse_client.hpp"
#include "support/vigil_process.hpp"
#include "support/ws_client.hpp"

namespace vigil::test {
namespace {

namespace json = boost::json;

class SessionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(MakeTempDir());
    VigilOptions options;
    options.db_path = *dir_ + "/vigil.db";
    options.extra_args = {"--demo", "--demo-investigations", "0"};
    server_ = VigilProcess::Start(options).release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(server_);
    client_ = std::make_unique<HttpClient>("127.0.0.1", server_->port());
  }

  // Opens a session for alice; returns the cookie ("vigil_session=<id>").
  std::string SignIn(const std::string& user = "alice") {
    HttpResult r = client_->Post("/api/v1/auth/session", "",
                                 {{"Authorization", "Bearer " + TestToken(user, {"read", "dev"})}});
    EXPECT_EQ(r.status, 201) << r.body;
    std::string set_cookie = r.Header("set-cookie");
    return set_cookie.substr(0, set_cookie.find(';'));
  }

  static std::string* dir_;
  static VigilProcess* server_;
  std::unique_ptr<HttpClient> client_;
};
std::string* SessionTest::dir_ = nullptr;
VigilProcess* SessionTest::server_ = nullptr;

const char kCreateBody[] = R"({"name":"from the browser"})";

TEST_F(SessionTest, ABearerTokenOpensAnHttpOnlyStrictSession) {
  HttpResult r =
      client_->Post("/api/v1/auth/session", "",
                    {{"Authorization", "Bearer " + TestToken("alice", {"read", "dev"})}});
  ASSERT_EQ(r.status, 201) << r.body;
  std::string cookie = r.Header("set-cookie");
  EXPECT_TRUE(std::regex_search(cookie, std::regex("^vigil_session=[0-9a-f]{64}; ")));
  EXPECT_NE(cookie.find("; HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("; SameSite=Strict"), std::string::npos);
  EXPECT_NE(cookie.find("; Path=/"), std::string::npos);
  EXPECT_EQ(cookie.find("Secure"), std::string::npos) << "not Secure unless configured";
  std::smatch age;
  ASSERT_TRUE(std::regex_search(cookie, age, std::regex("Max-Age=([0-9]+)")));
  EXPECT_GT(std::stoi(age[1]), 3000) << "as long as the token (an hour)";
  json::value who = r.Json();
  EXPECT_EQ(who.at("user"), "alice");
  EXPECT_EQ(who.at("via"), "cookie");

  // Without a token there is nothing to trade.
  EXPECT_EQ(client_->Post("/api/v1/auth/session", "").status, 401);
}

TEST_F(SessionTest, TheCookieAuthenticatesReadsAndStreams) {
  std::string cookie = SignIn();
  HttpResult who = client_->Get("/api/v1/auth/session", {{"Cookie", cookie}});
  ASSERT_EQ(who.status, 200) << who.body;
  EXPECT_EQ(who.Json().at("via"), "cookie");
  EXPECT_EQ(client_->Get("/api/v1/investigations", {{"Cookie", cookie}}).status, 200);

  HttpResult created = client_->Post(
      "/api/v1/investigations", kCreateBody,
      {{"Cookie", cookie}, {"X-Requested-With", "vigil"}, {"Content-Type", "application/json"}});
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id(created.Json().at("investigation_id").as_string());
  auto stream =
      SseClient::Open(server_->port(), "/api/v1/investigations/" + id + "/runs/current/stream",
                      {.headers = {{"Cookie", cookie}}});
  ASSERT_TRUE(stream);
  EXPECT_EQ(stream->status(), 200) << "EventSource sends the cookie, not a header";

  EXPECT_EQ(client_->Get("/api/v1/investigations", {{"Cookie", "vigil_session=nope"}}).status, 401);
}

TEST_F(SessionTest, ChangesMadeWithTheCookieNeedTheCsrfHeader) {
  std::string cookie = SignIn();
  HttpResult refused = client_->Post("/api/v1/investigations", kCreateBody,
                                     {{"Cookie", cookie}, {"Content-Type", "application/json"}});
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(refused.Header("content-type"), "application/problem+json");
  EXPECT_NE(refused.body.find("X-Requested-With"), std::string::npos);
  // Nothing was created: the 403 came before the handler.
  HttpResult list = client_->Get("/api/v1/investigations?limit=200", {{"Cookie", cookie}});
  json::value page = list.Json();  // kept alive for the loop
  size_t before = page.at("items").as_array().size();
  HttpResult again = client_->Post("/api/v1/investigations", kCreateBody,
                                   {{"Cookie", cookie}, {"Content-Type", "application/json"}});
  EXPECT_EQ(again.status, 403);
  json::value after = client_->Get("/api/v1/investigations?limit=200", {{"Cookie", cookie}}).Json();
  EXPECT_EQ(after.at("items").as_array().size(), before);
  // Bearer clients are not browsers: no header needed.
  HttpResult bearer =
      client_->Post("/api/v1/investigations", kCreateBody,
                    {{"Authorization", "Bearer " + TestToken("alice", {"read", "dev"})},
                     {"Content-Type", "application/json"}});
  EXPECT_EQ(bearer.status, 201) << bearer.body;
}

// What proves a request came from a page of this origin is that the header is there at all: a
// page of another site cannot add it, with any value, without a CORS preflight. Its value, even
// empty, says nothing more.
TEST_F(SessionTest, AnEmptyCsrfHeaderCountsAsTheHeader) {
  const std::string cookie = SignIn();
  // A create with the cookie and `extra` header lines, as bytes; the status line of the answer.
  auto create = [&](const std::string& extra) {
    const std::string body = kCreateBody;
    std::string request = "POST /api/v1/investigations HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    request += "Cookie: " + cookie + "\r\n" + extra;
    request += "Content-Type: application/json\r\nConnection: close\r\n";
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    std::string answer = RawExchange(server_->port(), request);
    return answer.substr(0, answer.find("\r\n"));
  };
  EXPECT_EQ(create("X-Requested-With:\r\n"), "HTTP/1.1 201 Created");
  EXPECT_EQ(create("X-Requested-With:   \r\n"), "HTTP/1.1 201 Created");
  EXPECT_EQ(create(""), "HTTP/1.1 403 Forbidden") << "without the header at all, still refused";
}

TEST_F(SessionTest, SigningOutEndsTheSession) {
  std::string cookie = SignIn();
  EXPECT_EQ(client_->Request("DELETE", "/api/v1/auth/session", "", {{"Cookie", cookie}}).status,
            403)
      << "signing out with the cookie is a change: it needs the CSRF header";
  HttpResult out = client_->Request("DELETE", "/api/v1/auth/session", "",
                                    {{"Cookie", cookie}, {"X-Requested-With", "vigil"}});
  ASSERT_EQ(out.status, 204) << out.body;
  EXPECT_NE(out.Header("set-cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(client_->Get("/api/v1/investigations", {{"Cookie", cookie}}).status, 401);
}

// Sessions are kept in the store: a restart signs nobody out, and a session signed out before
// it stays signed out after it.
TEST(SessionRestartTest, ARestartSignsNobodyOut) {
  VigilOptions options;
  options.db_path = MakeTempDir() + "/vigil.db";
  auto server = VigilProcess::Start(options);
  ASSERT_NE(server, nullptr);
  auto sign_in = [](HttpClient& client) {
    HttpResult r = client.Post("/api/v1/auth/session", "",
                               {{"Authorization", "Bearer " + TestToken("alice", {"read"})}});
    EXPECT_EQ(r.status, 201) << r.body;
    std::string set_cookie = r.Header("set-cookie");
    return set_cookie.substr(0, set_cookie.find(';'));
  };
  std::string kept, ended;
  {
    HttpClient client("127.0.0.1", server->port());
    kept = sign_in(client);
    ended = sign_in(client);
    ASSERT_EQ(client
                  .Request("DELETE", "/api/v1/auth/session", "",
                           {{"Cookie", ended}, {"X-Requested-With", "vigil"}})
                  .status,
              204);
  }
  options.port = server->port();
  server.reset();
  server = VigilProcess::Start(options);
  ASSERT_NE(server, nullptr);
  HttpClient client("127.0.0.1", server->port());
  HttpResult who = client.Get("/api/v1/auth/session", {{"Cookie", kept}});
  EXPECT_EQ(who.status, 200) << who.body;
  EXPECT_EQ(client.Get("/api/v1/auth/session", {{"Cookie", ended}}).status, 401);
}

TEST_F(SessionTest, TheDemoLoginLinkWorksOnce) {
  // The link is printed once the server listens; wait for it.
  const std::regex link_re("/api/v1/auth/login\\?code=([0-9a-f]{64})");
  std::smatch m;
  std::string log;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!std::regex_search(log = server_->ReadLog(), m, link_re) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_FALSE(m.empty()) << "demo mode prints a login link";
  std::string link = "/api/v1/auth/login?code=" + m[1].str();
  HttpResult first = client_->Get(link);
  ASSERT_EQ(first.status, 303) << first.body;
  EXPECT_EQ(first.Header("location"), "/");
  std::string cookie = first.Header("set-cookie");
  cookie = cookie.substr(0, cookie.find(';'));
  HttpResult who = client_->Get("/api/v1/auth/session", {{"Cookie", cookie}});
  ASSERT_EQ(who.status, 200);
  EXPECT_EQ(who.Json().at("user"), "demo");
  EXPECT_EQ(client_->Get(link).status, 404) << "a login link works once";
  EXPECT_EQ(client_->Get("/api/v1/auth/login?code=bogus").status, 404);
}

TEST_F(SessionTest, AWebSocketWithTheCookieMustComeFromThisOrigin) {
  std::string cookie = SignIn();
  const std::string host = "127.0.0.1:" + std::to_string(server_->port());
  int status = 0;
  EXPECT_FALSE(WsClient::Open(server_->port(), "/api/v1/ws",
                              {{"Cookie", cookie}, {"Origin", "http://evil.example"}}, &status));
  EXPECT_EQ(status, 403);
  auto ws = WsClient::Open(server_->port(), "/api/v1/ws",
                           {{"Cookie", cookie}, {"Origin", "http://" + host}}, &status);
  ASSERT_TRUE(ws) << status;
  ASSERT_TRUE(ws->Send(R"({"type":"ping"})"));
  auto pong = ws->Receive();
  ASSERT_TRUE(pong);
  EXPECT_NE(pong->find("pong"), std::string::npos);
}

TEST_F(SessionTest, EveryAnswerCarriesTheSecurityHeaders) {
  std::string token = TestToken("alice", {"read", "dev"});
  Headers bearer{{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
  HttpResult created = client_->Post("/api/v1/investigations", kCreateBody, bearer);
  std::string id(created.Json().at("investigation_id").as_string());
  HttpResult progress = client_->Get("/api/v1/investigations/" + id + "/progress", bearer);
  std::vector<HttpResult> answers = {
      created, progress, client_->Get("/healthz"), client_->Get("/nowhere"),
      client_->Get("/api/v1/investigations/" + id + "/progress",
                   {bearer[0], {"If-None-Match", progress.Header("etag")}})};
  EXPECT_EQ(answers.back().status, 304);
  for (const HttpResult& r : answers) {
    EXPECT_EQ(r.Header("x-content-type-options"), "nosniff") << r.status;
    EXPECT_EQ(r.Header("referrer-policy"), "no-referrer") << r.status;
    EXPECT_EQ(r.Header("content-security-policy"), "default-src 'none'; frame-ancestors 'none'")
        << r.status;
  }
  auto stream =
      SseClient::Open(server_->port(), "/api/v1/investigations/" + id + "/runs/current/stream",
                      {.headers = {{"Authorization", "Bearer " + token}}});
  ASSERT_TRUE(stream);
  EXPECT_EQ(stream->Header("x-content-type-options"), "nosniff");
}

TEST(CorsTest, OnlyAllowedOriginsGetCorsAnswers) {
  VigilOptions options;
  options.db_path = MakeTempDir() + "/vigil.db";
  options.env = {{"VIGIL_CORS_ORIGINS", "http://ui.example:5173, https://other.example"}};
  auto server = VigilProcess::Start(options);
  ASSERT_TRUE(server);
  HttpClient client("127.0.0.1", server->port());
  const std::string path = "/api/v1/investigations";
  Headers preflight{{"Origin", "http://ui.example:5173"},
                    {"Access-Control-Request-Method", "POST"},
                    {"Access-Control-Request-Headers", "authorization, content-type"}};
  HttpResult ok = client.Request("OPTIONS", path, "", preflight);
  ASSERT_EQ(ok.status, 204) << ok.body;
  EXPECT_EQ(ok.Header("access-control-allow-origin"), "http://ui.example:5173");
  EXPECT_EQ(ok.Header("access-control-allow-credentials"), "true");
  EXPECT_NE(ok.Header("access-control-allow-methods").find("POST"), std::string::npos);
  EXPECT_NE(ok.Header("access-control-allow-headers").find("Authorization"), std::string::npos);

  Headers evil = preflight;
  evil[0].second = "http://evil.example";
  HttpResult refused = client.Request("OPTIONS", path, "", evil);
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.Header("access-control-allow-origin"), "");

  Headers bearer{{"Authorization", "Bearer " + TestToken("alice", {"read", "dev"})}};
  Headers from_ui = bearer;
  from_ui.emplace_back("Origin", "http://ui.example:5173");
  HttpResult read = client.Get(path, from_ui);
  ASSERT_EQ(read.status, 200);
  EXPECT_EQ(read.Header("access-control-allow-origin"), "http://ui.example:5173");
  EXPECT_NE(read.Header("access-control-expose-headers").find("ETag"), std::string::npos);
  EXPECT_EQ(read.Header("vary"), "Origin");
  Headers from_evil = bearer;
  from_evil.emplace_back("Origin", "http://evil.example");
  EXPECT_EQ(client.Get(path, from_evil).Header("access-control-allow-origin"), "");
  EXPECT_EQ(client.Get(path, bearer).Header("access-control-allow-origin"), "");
}

TEST(CorsTest, IsOffByDefault) {
  VigilOptions options;
  options.db_path = MakeTempDir() + "/vigil.db";
  auto server = VigilProcess::Start(options);
  ASSERT_TRUE(server);
  HttpClient client("127.0.0.1", server->port());
  HttpResult r =
      client.Request("OPTIONS", "/api/v1/investigations", "",
                     {{"Origin", "http://ui.example"}, {"Access-Control-Request-Method", "GET"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.Header("access-control-allow-origin"), "");
}

}  // namespace
}  // namespace vigil::test
