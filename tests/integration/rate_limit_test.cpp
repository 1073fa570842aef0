// Rate limits per principal, end to end: a real server with a small budget.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/sse_client.hpp"
#include "support/vigil_process.hpp"

namespace vigil::test {
namespace {

namespace json = boost::json;

class RateLimitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    VigilOptions options;
    options.db_path = dir_ + "/vigil.db";
    // Default budget 6 a minute; reads 60, reports 120, streams 3, auth 1.
    options.env = {{"RATE_LIMIT_ENABLED", "true"},
                   {"RATE_LIMIT_MAX_REQUESTS", "6"},
                   {"RATE_LIMIT_WINDOW_SECONDS", "60"}};
    server_ = VigilProcess::Start(options);
    ASSERT_TRUE(server_);
    client_ = std::make_unique<HttpClient>("127.0.0.1", server_->port());
  }
  Headers As(const std::string& user, std::vector<std::string> roles = {"read", "dev"}) {
    return {{"Authorization", "Bearer " + TestToken(user, std::move(roles))},
            {"Content-Type", "application/json"}};
  }

  std::string dir_;
  std::unique_ptr<VigilProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(RateLimitTest, EveryAnswerSaysWhatIsLeftAndTheSpentBudgetIs429) {
  Headers alice = As("alice");
  for (int i = 0; i < 6; ++i) {
    HttpResult r = client_->Get("/api/v1/investigations", alice);
    ASSERT_EQ(r.status, 200) << i;
    EXPECT_EQ(r.Header("x-ratelimit-limit"), "6");
    EXPECT_EQ(r.Header("x-ratelimit-remaining"), std::to_string(5 - i));
    EXPECT_GT(std::stoll(r.Header("x-ratelimit-reset")), 1'700'000'000);
  }
  HttpResult refused = client_->Post("/api/v1/investigations", R"({"name":"one too many"})", alice);
  ASSERT_EQ(refused.status, 429) << refused.body;
  EXPECT_EQ(refused.Header("content-type"), "application/problem+json");
  EXPECT_EQ(refused.Json().at("type"), "urn:vigil:problem:rate_limited");
  EXPECT_EQ(refused.Header("x-ratelimit-remaining"), "0");
  int first_wait = std::stoi(refused.Header("retry-after"));
  EXPECT_GE(first_wait, 1);
  EXPECT_LE(first_wait, 10) << "the first refusal waits for the next token (one per 10 s)";

  // Nothing was created, and another user is not affected.
  HttpResult theirs = client_->Get("/api/v1/investigations?owner=alice", As("root", {"admin"}));
  ASSERT_EQ(theirs.status, 200);
  EXPECT_TRUE(theirs.Json().at("items").as_array().empty());

  // Repeated refusals wait longer: one window, then twice that.
  HttpResult second = client_->Get("/api/v1/investigations", alice);
  ASSERT_EQ(second.status, 429);
  EXPECT_EQ(second.Header("retry-after"), "60");
  HttpResult third = client_->Get("/api/v1/investigations", alice);
  ASSERT_EQ(third.status, 429);
  EXPECT_GE(std::stoi(third.Header("retry-after")), 59) << "blocked: still the first back-off";
}

TEST_F(RateLimitTest, NotModifiedIsFreeAndBudgetsAreSeparate) {
  Headers alice = As("alice");
  HttpResult created = client_->Post("/api/v1/investigations", R"({"name":"polled"})", alice);
  ASSERT_EQ(created.status, 201);
  std::string id(created.Json().at("investigation_id").as_string());
  const std::string progress = "/api/v1/investigations/" + id + "/progress";
  HttpResult first = client_->Get(progress, alice);
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.Header("x-ratelimit-limit"), "60") << "reads have a budget of their own";
  const std::string left = first.Header("x-ratelimit-remaining");
  Headers conditional = alice;
  conditional.emplace_back("If-None-Match", first.Header("etag"));
  for (int i = 0; i < 100; ++i) {  // more 304s than the whole budget
    HttpResult r = client_->Get(progress, conditional);
    ASSERT_EQ(r.status, 304) << i;
    EXPECT_EQ(r.Header("x-ratelimit-remaining"), left) << "a 304 costs nothing";
  }
  // Spending the default budget does not touch reads.
  for (int i = 0; i < 8; ++i) client_->Get("/api/v1/investigations", alice);
  EXPECT_EQ(client_->Get("/api/v1/investigations", alice).status, 429);
  EXPECT_EQ(client_->Get(progress, conditional).status, 304);

  // The status endpoint tells, without spending.
  HttpResult status = client_->Get("/api/v1/rate-limit/status", alice);
  ASSERT_EQ(status.status, 200) << status.body;
  json::value budgets = status.Json().at("budgets");
  EXPECT_EQ(budgets.at("default").at("remaining"), 0);
  EXPECT_TRUE(budgets.at("default").at("retry_after").is_int64());
  EXPECT_EQ(budgets.at("read").at("limit"), 60);
  EXPECT_EQ(budgets.at("stream").at("limit"), 3);
  EXPECT_EQ(client_->Get("/api/v1/rate-limit/status", alice).Json().at("budgets"), budgets);
}

TEST_F(RateLimitTest, AStreamIsOneRequest) {
  Headers alice = As("alice");
  HttpResult created = client_->Post("/api/v1/investigations", R"({"name":"followed"})", alice);
  std::string id(created.Json().at("investigation_id").as_string());
  const std::string path = "/api/v1/investigations/" + id + "/runs/current/stream";
  std::vector<std::unique_ptr<SseClient>> open;
  for (int i = 0; i < 3; ++i) {
    open.push_back(SseClient::Open(server_->port(), path, {.headers = {alice.front()}}));
    ASSERT_TRUE(open.back());
    ASSERT_EQ(open.back()->status(), 200);
    EXPECT_EQ(open.back()->Header("x-ratelimit-remaining"), std::to_string(2 - i));
    ASSERT_TRUE(open.back()->NextEvent());  // the snapshot: the stream is live
  }
  auto refused = SseClient::Open(server_->port(), path, {.headers = {alice.front()}});
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status(), 429);
  EXPECT_FALSE(refused->Header("retry-after").empty());
}

TEST_F(RateLimitTest, HealthChecksAreNotLimited) {
  for (int i = 0; i < 20; ++i) ASSERT_EQ(client_->Get("/healthz").status, 200);
  EXPECT_EQ(client_->Get("/healthz").Header("x-ratelimit-limit"), "");
}

// A poller with a current ETag is answered 304 even when its read budget is spent; made-up
// ETags get no bodies beyond it, and a flood of conditional requests meets a ceiling of its own.
TEST(RateLimitConditionalTest, APollWithACurrentETagIsNotLockedOut) {
  const std::string dir = MakeTempDir();
  VigilOptions options;
  options.db_path = dir + "/vigil.db";
  // Reads 60 a minute; conditional reads 120.
  options.env = {{"RATE_LIMIT_ENABLED", "true"},
                 {"RATE_LIMIT_MAX_REQUESTS", "6"},
                 {"RATE_LIMIT_WINDOW_SECONDS", "60"},
                 {"RATE_LIMIT_CONDITIONAL_FACTOR", "2"}};
  std::unique_ptr<VigilProcess> server = VigilProcess::Start(options);
  ASSERT_TRUE(server);
  HttpClient client("127.0.0.1", server->port());
  const Headers alice = {{"Authorization", "Bearer " + TestToken("alice", {"read", "dev"})},
                         {"Content-Type", "application/json"}};
  HttpResult created = client.Post("/api/v1/investigations", R"({"name":"polled"})", alice);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string progress = "/api/v1/investigations/" +
                               std::string(created.Json().at("investigation_id").as_string()) +
                               "/progress";
  HttpResult first = client.Get(progress, alice);
  ASSERT_EQ(first.status, 200);
  Headers current = alice;
  current.emplace_back("If-None-Match", first.Header("etag"));
  Headers made_up = alice;
  made_up.emplace_back("If-None-Match", "\"1-00000000\"");

  // Within the budget a conditional request that is not a 304 is an ordinary read.
  HttpResult fresh = client.Get(progress, made_up);
  ASSERT_EQ(fresh.status, 200);
  EXPECT_EQ(fresh.Header("x-ratelimit-remaining"), "58");
  int spent = 2;
  while (client.Get(progress, alice).status == 200) ASSERT_LE(++spent, 70);
  EXPECT_EQ(spent, 60) << "the whole read budget";
  ASSERT_EQ(client.Get(progress, alice).status, 429) << "at once again: a penalty of a window";

  // The poller doing the right thing still gets its 304s, penalty or not.
  for (int i = 0; i < 20; ++i) {
    HttpResult r = client.Get(progress, current);
    ASSERT_EQ(r.status, 304) << i << ": " << r.body;
    EXPECT_EQ(r.Header("x-ratelimit-remaining"), "0") << "the read budget";
    EXPECT_TRUE(r.body.empty());
  }
  // An ETag that does not match buys no body: 429 after all, once, with its headers.
  HttpResult refused = client.Get(progress, made_up);
  ASSERT_EQ(refused.status, 429) << refused.body;
  EXPECT_EQ(refused.Json().at("type"), "urn:vigil:problem:rate_limited");
  EXPECT_EQ(refused.Header("x-ratelimit-limit"), "60");
  EXPECT_EQ(refused.Header("x-ratelimit-remaining"), "0");
  EXPECT_GE(std::stoi(refused.Header("retry-after")), 1);
  EXPECT_TRUE(refused.Header("etag").empty()) << "nothing of the read's answer";

  // A flood of polls is bounded by the conditional ceiling (120 a minute, of which 22 are
  // spent; it refills by two a second meanwhile).
  int answered = 0;
  HttpResult last;
  for (int i = 0; i < 400; ++i) {
    last = client.Get(progress, current);
    if (last.status != 304) break;
    ++answered;
  }
  EXPECT_EQ(last.status, 429) << last.body;
  EXPECT_GE(answered, 98);
  EXPECT_LE(answered, 150);
  EXPECT_FALSE(last.Header("retry-after").empty());
}

// Back-off on the wire, with a window short enough for penalties to end within the test: a
// default budget of 2 per 2 s (a token a second).
TEST(RateLimitBackoffTest, EachEpisodeRightAfterAPenaltyWaitsTwiceAsLong) {
  const std::string dir = MakeTempDir();
  VigilOptions options;
  options.db_path = dir + "/vigil.db";
  options.env = {{"RATE_LIMIT_ENABLED", "true"},
                 {"RATE_LIMIT_MAX_REQUESTS", "2"},
                 {"RATE_LIMIT_WINDOW_SECONDS", "2"}};
  std::unique_ptr<VigilProcess> server = VigilProcess::Start(options);
  ASSERT_TRUE(server);
  HttpClient client("127.0.0.1", server->port());
  const Headers alice = {{"Authorization", "Bearer " + TestToken("alice", {"read", "dev"})}};

  // Lists until one is refused; its Retry-After.
  auto flood = [&] {
    for (int i = 0; i < 100; ++i) {
      HttpResult r = client.Get("/api/v1/investigations", alice);
      if (r.status == 429) return std::stoi(r.Header("retry-after"));
      EXPECT_EQ(r.status, 200) << r.body;
    }
    ADD_FAILURE() << "never refused";
    return 0;
  };
  // Until the status endpoint (which spends nothing) says the penalty is over.
  auto wait_out_penalty = [&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      HttpResult status = client.Get("/api/v1/rate-limit/status", alice);
      if (status.status != 200) return false;
      if (status.Json().at("budgets").at("default").at("retry_after").is_null()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling, with a deadline
    }
    return false;
  };

  std::vector<int> waits;
  waits.push_back(flood());  // the next token
  waits.push_back(flood());  // at once again: a penalty of one window
  for (int episode = 0; episode < 2; ++episode) {
    ASSERT_TRUE(wait_out_penalty());
    waits.push_back(flood());  // flooding the moment it ends: twice the last penalty
  }
  EXPECT_EQ(waits, (std::vector<int>{1, 2, 4, 8}));
}

}  // namespace
}  // namespace vigil::test
