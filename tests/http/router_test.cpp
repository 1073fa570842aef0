#include "http/router.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <optional>

#include "base/clock.hpp"
#include "http/auth.hpp"
#include "http/sessions.hpp"
#include "http/steps.hpp"

namespace vigil::http {
namespace {

constexpr char kSecret[] = "router-test-secret-0123456789abcdefghij";
constexpr int64_t kNowMs = 1'700'000'000'000;

// Answers with the route it matched and the captured segments, "route|a|b".
Handler Echo() {
  return [](const Request& request, Responder respond) {
    std::string body(request.route);
    for (const std::string& p : request.path_params) body += "|" + p;
    respond(JsonResponse(200, body));
  };
}

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() : clock_(kNowMs), auth_(std::make_shared<Authenticator>(kSecret, clock_)) {
    router_.Use(Authenticate(auth_, nullptr));
  }

  Response Dispatch(Method method, std::string path, Request* seen = nullptr,
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
    Request request;
    request.method = method;
    request.path = std::move(path);
    request.headers = std::move(headers);
    std::optional<Response> answer;
    router_.Dispatch(request, [&](Response r) { answer = std::move(r); });
    if (seen != nullptr) *seen = request;
    EXPECT_TRUE(answer.has_value());
    return answer.value_or(Response{});
  }

  ManualClock clock_;
  std::shared_ptr<Authenticator> auth_;
  Router router_;
  RouteOptions open_{.auth = false};
};

TEST_F(RouterTest, MatchesLiteralRoutes) {
  router_.Add(Method::kGet, "/healthz", Echo(), open_);
  router_.Add(Method::kGet, "/", Echo(), open_);
  EXPECT_EQ(Dispatch(Method::kGet, "/healthz").body, "/healthz");
  EXPECT_EQ(Dispatch(Method::kGet, "/").body, "/");
  EXPECT_EQ(Dispatch(Method::kGet, "/healthz/").status, 404);
  EXPECT_EQ(Dispatch(Method::kGet, "/health").status, 404);
}

TEST_F(RouterTest, CapturesSegments) {
  router_.Add(Method::kGet, "/api/v1/investigations/{id}/progress", Echo(), open_);
  router_.Add(Method::kGet, "/a/{x}/b/{y}", Echo(), open_);
  Request seen;
  Response response = Dispatch(Method::kGet, "/api/v1/investigations/inv-42/progress", &seen);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(seen.route, "/api/v1/investigations/{id}/progress");
  EXPECT_EQ(seen.path_params, std::vector<std::string>{"inv-42"});
  EXPECT_EQ(Dispatch(Method::kGet, "/a/1/b/2").body, "/a/{x}/b/{y}|1|2");
}

TEST_F(RouterTest, CaptureNeedsANonEmptySegment) {
  router_.Add(Method::kGet, "/investigations/{id}/progress", Echo(), open_);
  EXPECT_EQ(Dispatch(Method::kGet, "/investigations//progress").status, 404);
}

TEST_F(RouterTest, LiteralBeatsCaptureWhateverTheOrder) {
  router_.Add(Method::kGet, "/investigations/{id}", Echo(), open_);
  router_.Add(Method::kGet, "/investigations/summary", Echo(), open_);
  EXPECT_EQ(Dispatch(Method::kGet, "/investigations/summary").body, "/investigations/summary");
  EXPECT_EQ(Dispatch(Method::kGet, "/investigations/inv-1").body, "/investigations/{id}|inv-1");
}

TEST_F(RouterTest, UnknownPathIs404Problem) {
  router_.Add(Method::kGet, "/healthz", Echo(), open_);
  Response response = Dispatch(Method::kGet, "/nope");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.Get("Content-Type"), "application/problem+json");
  boost::json::value body = boost::json::parse(response.body);
  EXPECT_EQ(body.at("type"), "urn:vigil:problem:not_found");
  EXPECT_EQ(body.at("instance"), "/nope");
}

TEST_F(RouterTest, KnownPathWithOtherMethodIs405WithAllow) {
  router_.Add(Method::kPost, "/investigations", Echo(), open_);
  router_.Add(Method::kGet, "/investigations", Echo(), open_);
  Response response = Dispatch(Method::kDelete, "/investigations");
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.Get("Allow"), "GET, HEAD, POST");
  boost::json::value body = boost::json::parse(response.body);
  EXPECT_EQ(body.at("type"), "urn:vigil:problem:method_not_allowed");
  EXPECT_EQ(body.at("allowed"), (boost::json::array{"GET", "HEAD", "POST"}));
}

TEST_F(RouterTest, HeadIsServedByGet) {
  router_.Add(Method::kGet, "/fixed", Echo(), open_);
  Request seen;
  Response response = Dispatch(Method::kHead, "/fixed", &seen);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(seen.route, "/fixed");
}

TEST_F(RouterTest, AnExplicitHeadRouteWins) {
  router_.Add(Method::kGet, "/fixed", Echo(), open_);
  router_.Add(
      Method::kHead, "/fixed",
      [](const Request&, Responder respond) { respond(JsonResponse(200, "head")); }, open_);
  EXPECT_EQ(Dispatch(Method::kHead, "/fixed").body, "head");
}

TEST_F(RouterTest, AuthRequiredWithoutTokenIs401WithChallenge) {
  bool called = false;
  router_.Add(Method::kGet, "/secret", [&](const Request&, Responder respond) {
    called = true;
    respond(JsonResponse(200, "{}"));
  });
  Response response = Dispatch(Method::kGet, "/secret");
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(response.Get("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(boost::json::parse(response.body).at("detail"), "missing bearer token");
  EXPECT_FALSE(called);

  response = Dispatch(Method::kGet, "/secret", nullptr, {{"authorization", "Bearer not.a.jwt"}});
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(response.Get("WWW-Authenticate"), "Bearer");
  EXPECT_FALSE(called);
}

TEST_F(RouterTest, AuthSetsThePrincipal) {
  router_.Add(Method::kGet, "/secret", Echo());
  auto token = MintToken(kSecret, "alice", {"dev"}, 3600, kNowMs);
  ASSERT_TRUE(token.has_value());
  Request seen;
  Response response =
      Dispatch(Method::kGet, "/secret", &seen, {{"authorization", "Bearer " + *token}});
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(seen.principal.subject, "alice");
  EXPECT_TRUE(seen.principal.can_read);
  EXPECT_TRUE(seen.principal.can_write);
  EXPECT_FALSE(seen.principal.is_admin);
}

// A step that waits: the session cookie of a session this node has not looked up is asked of
// the store; the request goes on (the handler runs) only when the answer comes, on the thread
// that gives it; a cookie the store does not know is 401; a store that cannot answer, 503.
TEST_F(RouterTest, ACookieNotLookedUpWaitsForTheStoreBeforeTheHandlerRuns) {
  std::function<void(Result<std::optional<SessionEntry>>)> pending;
  auto sessions = std::make_shared<Sessions>(
      clock_, std::chrono::milliseconds(5000),
      [&pending](std::string, std::function<void(Result<std::optional<SessionEntry>>)> done) {
        pending = std::move(done);
      });
  Router router;
  router.Use(Authenticate(auth_, sessions));
  router.Add(Method::kGet, "/secret", Echo());
  auto token = MintToken(kSecret, "alice", {"read"}, 3600, kNowMs);
  ASSERT_TRUE(token.has_value());

  auto ask = [&](const std::string& cookie, std::optional<Response>& answer, Request& request) {
    request.method = Method::kGet;
    request.path = "/secret";
    request.headers = {{"cookie", "vigil_session=" + cookie}};
    router.Dispatch(request, [&answer](Response r) { answer = std::move(r); });
  };
  Request request;
  std::optional<Response> answer;
  ask("known", answer, request);
  EXPECT_FALSE(answer.has_value()) << "waiting for the store";
  ASSERT_TRUE(pending);
  pending(std::optional<SessionEntry>(SessionEntry{*token, kNowMs / 1000 + 3600}));
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(request.principal.subject, "alice");
  EXPECT_TRUE(request.via_session);

  // Looked up now: answered at once, without the store.
  pending = nullptr;
  Request again;
  std::optional<Response> at_once;
  ask("known", at_once, again);
  ASSERT_TRUE(at_once.has_value());
  EXPECT_EQ(at_once->status, 200);
  EXPECT_FALSE(pending);

  Request unknown;
  std::optional<Response> refused;
  ask("unknown", refused, unknown);
  ASSERT_TRUE(pending);
  pending(std::optional<SessionEntry>());
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 401);

  Request down;
  std::optional<Response> unavailable;
  ask("other", unavailable, down);
  ASSERT_TRUE(pending);
  pending(Fail(ErrorCode::kUnavailable, "the store is down"));
  ASSERT_TRUE(unavailable.has_value());
  EXPECT_EQ(unavailable->status, 503);
}

TEST_F(RouterTest, OpenRoutesNeedNoToken) {
  router_.Add(Method::kGet, "/healthz", Echo(), open_);
  Request seen;
  EXPECT_EQ(Dispatch(Method::kGet, "/healthz", &seen).status, 200);
  EXPECT_EQ(seen.principal.subject, "");
}

TEST_F(RouterTest, NotFoundComesBeforeAuth) {
  router_.Add(Method::kGet, "/secret", Echo());
  EXPECT_EQ(Dispatch(Method::kGet, "/other").status, 404);
  EXPECT_EQ(Dispatch(Method::kPost, "/secret").status, 405);
}

// A fallback that owns every path outside /api and answers "fallback:<path>".
Fallback OwnAllButApi(int* calls) {
  return Fallback{.owns = [](std::string_view path) { return !path.starts_with("/api/"); },
                  .handler =
                      [calls](const Request& request, Responder respond) {
                        ++*calls;
                        respond(JsonResponse(200, "fallback:" + request.path));
                      }};
}

TEST_F(RouterTest, TheFallbackServesGetAndHeadOfPathsNoRouteMatches) {
  int calls = 0;
  router_.Add(Method::kGet, "/api/v1/secret", Echo());  // needs a token
  router_.SetFallback(OwnAllButApi(&calls));
  Request seen;
  Response response = Dispatch(Method::kGet, "/investigations/inv_x", &seen);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "fallback:/investigations/inv_x");
  EXPECT_EQ(seen.principal.subject, "") << "no token asked for";
  EXPECT_EQ(Dispatch(Method::kHead, "/").body, "fallback:/");
  EXPECT_EQ(calls, 2);
}

TEST_F(RouterTest, TheFallbackAnswersOtherMethods405) {
  int calls = 0;
  router_.SetFallback(OwnAllButApi(&calls));
  Response response = Dispatch(Method::kPost, "/index.html");
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.Get("Allow"), "GET, HEAD");
  EXPECT_EQ(boost::json::parse(response.body).at("type"), "urn:vigil:problem:method_not_allowed");
  EXPECT_EQ(Dispatch(Method::kOptions, "/").status, 405);
  EXPECT_EQ(calls, 0);
}

TEST_F(RouterTest, RoutesAndPathsTheFallbackDoesNotOwnAreAnsweredAsBefore) {
  int calls = 0;
  router_.Add(Method::kGet, "/healthz", Echo(), open_);
  router_.Add(Method::kGet, "/api/v1/secret", Echo());
  router_.SetFallback(OwnAllButApi(&calls));
  EXPECT_EQ(Dispatch(Method::kGet, "/healthz").body, "/healthz");
  Response post = Dispatch(Method::kPost, "/healthz");
  EXPECT_EQ(post.status, 405) << "a routed path keeps its own methods";
  EXPECT_EQ(post.Get("Allow"), "GET, HEAD");
  EXPECT_EQ(Dispatch(Method::kGet, "/api/v1/secret").status, 401);
  Response missing = Dispatch(Method::kGet, "/api/v1/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.Get("Content-Type"), "application/problem+json");
  EXPECT_EQ(Dispatch(Method::kPost, "/api/v1/secret").status, 405);
  EXPECT_EQ(calls, 0);
}

TEST_F(RouterTest, TheFallbackIsNotRateLimited) {
  int calls = 0;
  auto limiter = std::make_shared<RateLimiter>(RateLimitOptions{.max_requests = 1});
  router_.Use(LimitRate(limiter, clock_));
  router_.Add(Method::kGet, "/limited", Echo(), open_);
  router_.SetFallback(OwnAllButApi(&calls));
  Request limited;
  ASSERT_EQ(Dispatch(Method::kGet, "/limited", &limited).status, 200);
  EXPECT_FALSE(limited.rate.key.empty()) << "an ordinary route is admitted, to be charged";
  for (int i = 0; i < 20; ++i) {
    Request seen;
    ASSERT_EQ(Dispatch(Method::kGet, "/", &seen).status, 200) << i;
    EXPECT_TRUE(seen.rate.key.empty()) << "nothing to charge";
  }
  EXPECT_EQ(calls, 20);
}

// A poll (a GET or HEAD with If-None-Match of a route that answers 304) is admitted under the
// conditional ceiling when the budget is spent; the server charges it by its answer.
TEST_F(RouterTest, AConditionalRouteAdmitsAPollWhenTheBudgetIsSpent) {
  auto limiter = std::make_shared<RateLimiter>(RateLimitOptions{.max_requests = 1});
  router_.Use(LimitRate(limiter, clock_));
  router_.Add(Method::kGet, "/polled", Echo(), {.auth = false, .conditional = true});
  router_.Add(Method::kGet, "/plain", Echo(), open_);
  router_.Add(Method::kPost, "/polled", Echo(), {.auth = false, .conditional = true});
  const std::vector<std::pair<std::string, std::string>> inm = {{"if-none-match", "\"1-ab\""}};
  Request seen;
  ASSERT_EQ(Dispatch(Method::kGet, "/polled", &seen).status, 200);
  EXPECT_FALSE(seen.rate.conditional);
  limiter->Charge(Budget::kDefault, seen.rate.key, kNowMs, false);
  ASSERT_EQ(Dispatch(Method::kGet, "/polled").status, 429);

  ASSERT_EQ(Dispatch(Method::kGet, "/polled", &seen, inm).status, 200);
  EXPECT_TRUE(seen.rate.conditional);
  ASSERT_EQ(Dispatch(Method::kHead, "/polled", &seen, inm).status, 200);
  EXPECT_TRUE(seen.rate.conditional);
  EXPECT_EQ(Dispatch(Method::kGet, "/plain", nullptr, inm).status, 429)
      << "not a conditional route";
  EXPECT_EQ(Dispatch(Method::kPost, "/polled", nullptr, inm).status, 429) << "a write is never";
}

TEST_F(RouterTest, CorsAddsOriginToWhatTheAnswerVariesBy) {
  router_.AllowOrigins({"https://ui.example"});
  router_.Add(Method::kGet, "/plain", Echo(), open_);
  router_.Add(
      Method::kGet, "/encoded",
      [](const Request&, Responder respond) {
        Response response = JsonResponse(200, "{}");
        response.Set("Vary", "Accept-Encoding");
        respond(std::move(response));
      },
      open_);
  EXPECT_EQ(
      Dispatch(Method::kGet, "/plain", nullptr, {{"origin", "https://ui.example"}}).Get("Vary"),
      "Origin");
  EXPECT_EQ(
      Dispatch(Method::kGet, "/encoded", nullptr, {{"origin", "https://ui.example"}}).Get("Vary"),
      "Accept-Encoding, Origin");
  EXPECT_EQ(Dispatch(Method::kGet, "/encoded").Get("Vary"), "Accept-Encoding");
}

TEST(RouterWithoutAuthTest, RefusesRoutesThatNeedAuth) {
  Router router;
  EXPECT_THROW(router.Add(Method::kGet, "/secret", Echo()), std::invalid_argument);
  EXPECT_NO_THROW(router.Add(Method::kGet, "/open", Echo(), RouteOptions{.auth = false}));
  router.Use({"not authenticating", false, [](Request&, const Matched&) { return std::nullopt; }});
  EXPECT_THROW(router.Add(Method::kGet, "/secret", Echo()), std::invalid_argument)
      << "a step that does not authenticate is no authentication";
}

// Steps run in the order they were added, after the route matched and before its handler; the
// first that answers ends the request, and what a step sets in the request the next ones see.
TEST(RouterStepsTest, RunInOrderAndTheFirstAnswerEndsTheRequest) {
  Router router;
  std::vector<std::string> ran;
  router.Use({"first", false, [&ran](Request& request, const Matched& route) {
                ran.push_back("first " + std::string(request.route));
                request.principal.subject = "set by first";
                EXPECT_FALSE(route.allowed_origin);
                return std::optional<Response>();
              }});
  router.Use({"gate", false, [&ran](Request& request, const Matched& route) {
                ran.push_back("gate " + request.principal.subject);
                if (route.options.budget == Budget::kReport)
                  return std::optional(JsonResponse(418, "{}"));
                return std::optional<Response>();
              }});
  int handled = 0;
  auto handler = [&handled](const Request&, Responder respond) {
    ++handled;
    respond(JsonResponse(200, "{}"));
  };
  router.Add(Method::kGet, "/open", handler, {.auth = false});
  router.Add(Method::kPost, "/gated", handler, {.auth = false, .budget = Budget::kReport});
  auto dispatch = [&router](Method method, std::string path) {
    Request request;
    request.method = method;
    request.path = std::move(path);
    int status = 0;
    router.Dispatch(request, [&status](Response r) { status = r.status; });
    return status;
  };
  EXPECT_EQ(dispatch(Method::kGet, "/open"), 200);
  EXPECT_EQ(dispatch(Method::kPost, "/gated"), 418);
  EXPECT_EQ(dispatch(Method::kGet, "/nowhere"), 404);
  EXPECT_EQ(handled, 1);
  EXPECT_EQ(ran, (std::vector<std::string>{"first /open", "gate set by first", "first /gated",
                                           "gate set by first"}))
      << "no step runs for a path no route matches";
}

TEST(RouterPatternTest, RefusesMalformedPatterns) {
  Router router;
  RouteOptions open{.auth = false};
  EXPECT_THROW(router.Add(Method::kGet, "relative", Echo(), open), std::invalid_argument);
  EXPECT_THROW(router.Add(Method::kGet, "/a/{id", Echo(), open), std::invalid_argument);
  EXPECT_THROW(router.Add(Method::kGet, "/a//b", Echo(), open), std::invalid_argument);
}

}  // namespace
}  // namespace vigil::http
