#include "http/rate_limit.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.hpp"
#include "http/message.hpp"

namespace vigil::http {
namespace {

constexpr int64_t kStartMs = 1'700'000'000'000;
constexpr char kAlice[] = "u:alice";

// Time is the limiter's argument: each test moves it by hand.
class RateLimiterTest : public ::testing::Test {
 protected:
  // Admits requests of the default budget at `now_` until one is refused; returns that refusal.
  RateLimiter::Decision Flood(RateLimiter& limiter) {
    for (int i = 0; i < 10'000; ++i) {
      RateLimiter::Decision d = limiter.Admit(Budget::kDefault, kAlice, now_);
      if (!d.allowed) return d;
      limiter.Charge(Budget::kDefault, kAlice, now_, false);
    }
    ADD_FAILURE() << "never refused";
    return {};
  }

  int64_t now_ = kStartMs;
};

// A client that floods again the moment each penalty ends waits twice as long each time: the
// first refusal waits for the next token, then one window, two, four... up to the cap.
TEST_F(RateLimiterTest, BackOffDoublesWhileTheClientFloodsAgainAfterEachPenalty) {
  RateLimiter limiter({.max_requests = 5, .window_seconds = 60});
  std::vector<int> waits;
  RateLimiter::Decision first = Flood(limiter);
  waits.push_back(first.retry_after_s);
  RateLimiter::Decision second = Flood(limiter);  // at once: it did not wait
  waits.push_back(second.retry_after_s);
  for (int episode = 0; episode < 5; ++episode) {
    now_ += int64_t{waits.back()} * 1000;  // the penalty is over: flood again
    waits.push_back(Flood(limiter).retry_after_s);
  }
  EXPECT_EQ(waits, (std::vector<int>{12, 60, 120, 240, 300, 300, 300}));
}

TEST_F(RateLimiterTest, BackOffDoublesWithAShortWindowToo) {
  RateLimiter limiter({.max_requests = 5, .window_seconds = 5});
  std::vector<int> waits{Flood(limiter).retry_after_s, Flood(limiter).retry_after_s};
  for (int episode = 0; episode < 8; ++episode) {
    now_ += int64_t{waits.back()} * 1000;
    waits.push_back(Flood(limiter).retry_after_s);
  }
  EXPECT_EQ(waits, (std::vector<int>{1, 5, 10, 20, 40, 80, 160, 300, 300, 300}));
}

// Requests refused during a penalty belong to its episode: they say how much of it is left and
// neither lengthen it nor raise the level.
TEST_F(RateLimiterTest, RefusalsDuringAPenaltyDoNotEscalateIt) {
  RateLimiter limiter({.max_requests = 5, .window_seconds = 60});
  Flood(limiter);
  ASSERT_EQ(Flood(limiter).retry_after_s, 60);
  for (int s = 1; s < 60; ++s) {
    now_ = kStartMs + s * 1000;
    RateLimiter::Decision d = limiter.Admit(Budget::kDefault, kAlice, now_);
    ASSERT_FALSE(d.allowed) << s;
    EXPECT_EQ(d.retry_after_s, 60 - s);
  }
  now_ = kStartMs + 60'000;
  EXPECT_TRUE(limiter.Admit(Budget::kDefault, kAlice, now_).allowed) << "the penalty is over";
  EXPECT_EQ(Flood(limiter).retry_after_s, 120) << "the next episode is the next level";
}

// Quiet means a whole window without a refused request, counted from the end of the last
// penalty: then the level starts again from the bottom.
TEST_F(RateLimiterTest, AQuietWindowAfterThePenaltyForgives) {
  // Two episodes: the second penalty (120 s) ends at kStartMs + 180 s.
  auto two_episodes = [this](RateLimiter& limiter) {
    now_ = kStartMs;
    Flood(limiter);
    EXPECT_EQ(Flood(limiter).retry_after_s, 60);
    now_ += 60'000;
    EXPECT_EQ(Flood(limiter).retry_after_s, 120);
    return now_ + 120'000;
  };

  // Within budget after the penalty (admitted requests are no refusal), but the window is not
  // over yet: the next refusal is still the next level.
  RateLimiter soon({.max_requests = 5, .window_seconds = 60});
  now_ = two_episodes(soon) + 59'999;
  ASSERT_TRUE(soon.Admit(Budget::kDefault, kAlice, now_).allowed);
  EXPECT_EQ(Flood(soon).retry_after_s, 240);

  RateLimiter quiet({.max_requests = 5, .window_seconds = 60});
  now_ = two_episodes(quiet) + 60'000;  // a whole quiet window
  EXPECT_EQ(Flood(quiet).retry_after_s, 12) << "forgiven: the next token, as at first";
  EXPECT_EQ(Flood(quiet).retry_after_s, 60);
}

TEST_F(RateLimiterTest, WithoutBackOffEveryRefusalWaitsForTheNextToken) {
  RateLimiter limiter({.max_requests = 5, .window_seconds = 60, .backoff = false});
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Flood(limiter).retry_after_s, 12) << i;
    now_ += 12'000;
  }
}

TEST_F(RateLimiterTest, BudgetsAndPrincipalsHaveTheirOwnLevels) {
  RateLimiter limiter({.max_requests = 5, .window_seconds = 60});
  Flood(limiter);
  ASSERT_EQ(Flood(limiter).retry_after_s, 60);
  EXPECT_TRUE(limiter.Admit(Budget::kRead, kAlice, now_).allowed);
  RateLimiter::Decision bob = limiter.Admit(Budget::kDefault, "u:bob", now_);
  EXPECT_TRUE(bob.allowed);
  EXPECT_EQ(bob.remaining, 5);
}

// The read budget is 50 here (5 × 10), the conditional ceiling 250 (5 × 50).
class ConditionalTest : public RateLimiterTest {
 protected:
  // Spends the read budget with unconditional reads until one is refused.
  void SpendReads() {
    for (int i = 0; i < 1000; ++i) {
      RateLimiter::Decision d = limiter_.Admit(Budget::kRead, kAlice, now_);
      if (!d.allowed) return;
      limiter_.Charge(Budget::kRead, kAlice, now_, false);
    }
    ADD_FAILURE() << "never refused";
  }

  RateLimiter limiter_{{.max_requests = 5, .window_seconds = 60}};
};

TEST_F(ConditionalTest, APollIsAdmittedWhenTheReadBudgetIsSpent) {
  EXPECT_EQ(limiter_.ConditionalLimit(Budget::kRead), 250);
  SpendReads();
  ASSERT_FALSE(limiter_.Admit(Budget::kRead, kAlice, now_).allowed);
  for (int i = 0; i < 200; ++i) {
    RateLimiter::Decision d = limiter_.Admit(Budget::kRead, kAlice, now_, /*conditional=*/true);
    ASSERT_TRUE(d.allowed) << i;
    EXPECT_TRUE(d.conditional) << "paid for: a 304 is not charged";
    EXPECT_EQ(d.limit, 50) << "the headers describe the read budget";
    EXPECT_EQ(d.remaining, 0);
  }
}

TEST_F(ConditionalTest, AnAnswerThatIsNotA304NeedsTheBudget) {
  // With budget left, it costs one read and the conditional token is given back.
  RateLimiter::Decision admitted = limiter_.Admit(Budget::kRead, kAlice, now_, true);
  ASSERT_TRUE(admitted.conditional);
  RateLimiter::Decision charged = limiter_.Charge(Budget::kRead, kAlice, now_, true);
  EXPECT_TRUE(charged.allowed);
  EXPECT_EQ(charged.remaining, 49);

  // Spent: refused after all, with a wait, and it counts as a refusal of the budget.
  SpendReads();  // the first refusal: the next token
  ASSERT_TRUE(limiter_.Admit(Budget::kRead, kAlice, now_, true).allowed);
  RateLimiter::Decision refused = limiter_.Charge(Budget::kRead, kAlice, now_, true);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_s, 60) << "a further episode: a penalty of one window";
  EXPECT_FALSE(limiter_.Admit(Budget::kRead, kAlice, now_).allowed);

  // A penalty does not stop a poll, but its answer must be a 304 to be given.
  now_ += 30'000;
  ASSERT_TRUE(limiter_.Admit(Budget::kRead, kAlice, now_, true).allowed);
  RateLimiter::Decision during = limiter_.Charge(Budget::kRead, kAlice, now_, true);
  EXPECT_FALSE(during.allowed);
  EXPECT_EQ(during.retry_after_s, 30) << "what is left of the penalty";
}

// Made-up ETags beyond the budget are refused; each still takes a conditional token, so the
// ceiling bounds the work they cause. Past the ceiling a conditional request is an ordinary one.
TEST_F(ConditionalTest, TheCeilingBoundsAFloodOfConditionalRequests) {
  SpendReads();
  int admitted = 0;
  for (int i = 0; i < 1000; ++i) {
    RateLimiter::Decision d = limiter_.Admit(Budget::kRead, kAlice, now_, true);
    if (!d.allowed) break;
    ++admitted;
    ASSERT_TRUE(d.conditional);
    EXPECT_FALSE(limiter_.Charge(Budget::kRead, kAlice, now_, true).allowed);
  }
  EXPECT_EQ(admitted, 250);
  EXPECT_FALSE(limiter_.Admit(Budget::kRead, kAlice, now_, true).allowed);

  // The ceiling refills with the window, like the budget: a fifth of it in a fifth of a window.
  now_ += 12'000;
  RateLimiter::Decision d = limiter_.Admit(Budget::kRead, kAlice, now_, true);
  EXPECT_TRUE(d.allowed);
  EXPECT_TRUE(d.conditional);
}

TEST_F(ConditionalTest, PastTheCeilingA304CostsARead) {
  for (int i = 0; i < 250; ++i)
    ASSERT_TRUE(limiter_.Admit(Budget::kRead, kAlice, now_, true).conditional);
  RateLimiter::Decision d = limiter_.Admit(Budget::kRead, kAlice, now_, true);
  ASSERT_TRUE(d.allowed) << "the read budget is untouched";
  EXPECT_FALSE(d.conditional) << "so the answer is charged, whatever it is";
}

// A WebSocket subscribe is admitted and charged at once.
TEST_F(RateLimiterTest, SpendTakesATokenOrRefusesAsAdmitDoes) {
  RateLimiter limiter({.max_requests = 5, .window_seconds = 60});
  for (int i = 0; i < 5; ++i) {
    RateLimiter::Decision d = limiter.Spend(Budget::kDefault, kAlice, now_);
    ASSERT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.remaining, 4 - i);
  }
  RateLimiter::Decision refused = limiter.Spend(Budget::kDefault, kAlice, now_);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_s, 12) << "the first refusal waits for the next token";
  EXPECT_EQ(limiter.Status(Budget::kDefault, kAlice, now_).remaining, 0) << "a refusal is free";
  EXPECT_EQ(Flood(limiter).retry_after_s, 60) << "and it counts as an episode";
}

TEST(RateLimitKeyTest, APrincipalIsChargedByNameAndAnyoneElseByAddress) {
  Request request;
  request.remote_address = "203.0.113.7";
  EXPECT_EQ(RateLimitKey(request), "a:203.0.113.7");
  request.principal.subject = "alice";
  EXPECT_EQ(RateLimitKey(request), "u:alice");
}

// The steps around the buckets for one request: its admission (the router's) and the charge by
// its answer (the server's hook). The default budget is 5 here, the read budget 50.
class RequestChargeTest : public ::testing::Test {
 protected:
  static Request Get(Method method = Method::kGet, bool if_none_match = false) {
    Request request;
    request.method = method;
    request.path = "/polled";
    request.principal.subject = "alice";
    if (if_none_match) request.headers.emplace_back("if-none-match", "\"1-0000abcd\"");
    return request;
  }
  static Response Answer(int status) {
    Response response;
    response.status = status;
    response.body = status == 200 ? "the body" : "";
    return response;
  }
  // Admits a GET to a route of `budget` and answers it with `status`; the answer as sent.
  Response Exchange(Budget budget, int status, bool conditional = false) {
    Request request = Get(Method::kGet, conditional);
    if (auto refused = AdmitRequest(*limiter_, budget, conditional, clock_.NowMs(), request)) {
      return *refused;
    }
    Response response = Answer(status);
    charge_(request.rate, request, response);
    return response;
  }
  int Remaining(Budget budget) {
    return limiter_->Status(budget, kAlice, clock_.NowMs()).remaining;
  }

  ManualClock clock_{kStartMs};
  std::shared_ptr<RateLimiter> limiter_ =
      std::make_shared<RateLimiter>(RateLimitOptions{.max_requests = 5, .window_seconds = 60});
  AnswerHook charge_ = ChargeOnAnswer(limiter_, clock_);
};

TEST_F(RequestChargeTest, AdmissionSaysWhomToChargeButChargesNothing) {
  Request request = Get();
  ASSERT_FALSE(AdmitRequest(*limiter_, Budget::kRead, false, clock_.NowMs(), request));
  EXPECT_EQ(request.rate.key, kAlice);
  EXPECT_EQ(request.rate.budget, static_cast<int>(Budget::kRead));
  EXPECT_EQ(request.rate.limit, 50);
  EXPECT_EQ(request.rate.remaining, 50);
  EXPECT_FALSE(request.rate.conditional);
  EXPECT_EQ(Remaining(Budget::kRead), 50);
}

TEST_F(RequestChargeTest, AnUnlimitedRouteIsLeftAlone) {
  Request request = Get();
  EXPECT_FALSE(AdmitRequest(*limiter_, Budget::kNone, false, clock_.NowMs(), request));
  EXPECT_TRUE(request.rate.key.empty()) << "nothing for the server to charge";
}

TEST_F(RequestChargeTest, OnlyAGetOrHeadWithIfNoneMatchOnAConditionalRouteIsAPoll) {
  struct Case {
    Method method;
    bool if_none_match;
    bool conditional_route;
    bool poll;
  };
  for (const Case& c :
       {Case{Method::kGet, true, true, true}, Case{Method::kHead, true, true, true},
        Case{Method::kGet, false, true, false}, Case{Method::kPost, true, true, false},
        Case{Method::kGet, true, false, false}}) {
    Request request = Get(c.method, c.if_none_match);
    ASSERT_FALSE(
        AdmitRequest(*limiter_, Budget::kRead, c.conditional_route, clock_.NowMs(), request));
    EXPECT_EQ(request.rate.conditional, c.poll)
        << MethodName(c.method) << " " << c.if_none_match << " " << c.conditional_route;
  }
}

TEST_F(RequestChargeTest, EveryAnswerCostsATokenAndASpentBudgetIsA429BeforeTheHandler) {
  for (int i = 0; i < 5; ++i) {
    Request request = Get();
    ASSERT_FALSE(AdmitRequest(*limiter_, Budget::kDefault, false, clock_.NowMs(), request));
    Response response = Answer(i == 0 ? 304 : 200);
    charge_(request.rate, request, response);
    EXPECT_EQ(response.status, i == 0 ? 304 : 200) << "the answer is given as it was";
    EXPECT_EQ(request.rate.remaining, 4 - i) << "a 304 to a plain request is charged too";
    EXPECT_GT(request.rate.reset_epoch_s, kStartMs / 1000);
  }
  Request request = Get();
  std::optional<Response> refused =
      AdmitRequest(*limiter_, Budget::kDefault, false, clock_.NowMs(), request);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 429);
  EXPECT_EQ(refused->Get("Content-Type"), "application/problem+json");
  EXPECT_EQ(refused->Get("Retry-After"), "12");
  EXPECT_EQ(refused->Get("X-RateLimit-Limit"), "5");
  EXPECT_EQ(refused->Get("X-RateLimit-Remaining"), "0");
  EXPECT_FALSE(refused->Get("X-RateLimit-Reset").empty());
  EXPECT_TRUE(request.rate.key.empty()) << "a refusal is not charged again";
}

TEST_F(RequestChargeTest, A304ToAPollIsFree) {
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(Exchange(Budget::kRead, 304, /*conditional=*/true).status, 304) << i;
  }
  EXPECT_EQ(Remaining(Budget::kRead), 50);
}

TEST_F(RequestChargeTest, APollsOtherAnswerCostsAReadOrIsRefusedWhenTheBudgetCannotPay) {
  EXPECT_EQ(Exchange(Budget::kRead, 200, true).body, "the body");
  EXPECT_EQ(Remaining(Budget::kRead), 49);
  while (Exchange(Budget::kRead, 200).status == 200) {
  }
  Request request = Get(Method::kGet, true);
  ASSERT_FALSE(AdmitRequest(*limiter_, Budget::kRead, true, clock_.NowMs(), request))
      << "a poll is admitted when the budget is spent";
  Response response = Answer(200);
  charge_(request.rate, request, response);
  EXPECT_EQ(response.status, 429) << "a stale If-None-Match buys no body beyond the budget";
  EXPECT_NE(response.body, "the body");
  EXPECT_EQ(response.Get("Retry-After"), "60") << "a further episode: a penalty of one window";
  EXPECT_EQ(request.rate.remaining, 0) << "for the X-RateLimit-* headers the server writes";
}

// Each budget is a multiple of RATE_LIMIT_MAX_REQUESTS, and never less than one request.
TEST(RateLimiterBudgetTest, BudgetsAreMultiplesOfTheDefault) {
  RateLimiter limiter({.max_requests = 60, .window_seconds = 60});
  EXPECT_EQ(limiter.Limit(Budget::kDefault), 60);
  EXPECT_EQ(limiter.Limit(Budget::kRead), 600);
  EXPECT_EQ(limiter.Limit(Budget::kReport), 1200);
  EXPECT_EQ(limiter.Limit(Budget::kStream), 30);
  EXPECT_EQ(limiter.Limit(Budget::kAuth), 10);
  EXPECT_EQ(limiter.ConditionalLimit(Budget::kRead), 3000);

  RateLimiter tiny({.max_requests = 1, .window_seconds = 60});
  EXPECT_EQ(tiny.Limit(Budget::kStream), 1);
  EXPECT_EQ(tiny.Limit(Budget::kAuth), 1);
}

// Admit only asks; Charge takes the token. The decision describes the bucket after it: what is
// left, and when it is full again (X-RateLimit-Reset).
TEST_F(RateLimiterTest, RemainingAndResetDescribeTheBucket) {
  RateLimiter limiter({.max_requests = 5, .window_seconds = 60});
  RateLimiter::Decision admitted = limiter.Admit(Budget::kDefault, kAlice, now_);
  EXPECT_TRUE(admitted.allowed);
  EXPECT_EQ(admitted.limit, 5);
  EXPECT_EQ(admitted.remaining, 5) << "admitting charges nothing";
  EXPECT_EQ(admitted.reset_epoch_s, kStartMs / 1000) << "full now";
  EXPECT_EQ(admitted.retry_after_s, 0);

  RateLimiter::Decision charged = limiter.Charge(Budget::kDefault, kAlice, now_, false);
  EXPECT_EQ(charged.remaining, 4);
  EXPECT_EQ(charged.reset_epoch_s, kStartMs / 1000 + 12) << "one token: a fifth of the window";
  for (int i = 0; i < 3; ++i) limiter.Charge(Budget::kDefault, kAlice, now_, false);
  RateLimiter::Decision status = limiter.Status(Budget::kDefault, kAlice, now_);
  EXPECT_EQ(status.remaining, 1);
  EXPECT_EQ(status.reset_epoch_s, kStartMs / 1000 + 48);
  EXPECT_EQ(limiter.Status(Budget::kDefault, kAlice, now_).remaining, 1) << "Status is free";
}

TEST_F(RateLimiterTest, TheBucketRefillsAtItsRateUpToTheBudget) {
  RateLimiter limiter({.max_requests = 5, .window_seconds = 60});  // a token every 12 s
  for (int i = 0; i < 5; ++i) limiter.Charge(Budget::kDefault, kAlice, now_, false);
  EXPECT_EQ(limiter.Status(Budget::kDefault, kAlice, now_).remaining, 0);
  now_ += 11'999;
  EXPECT_EQ(limiter.Status(Budget::kDefault, kAlice, now_).remaining, 0);
  now_ += 1;
  EXPECT_EQ(limiter.Status(Budget::kDefault, kAlice, now_).remaining, 1);
  now_ += 25'000;
  EXPECT_EQ(limiter.Status(Budget::kDefault, kAlice, now_).remaining, 3);
  now_ += 3'600'000;
  EXPECT_EQ(limiter.Status(Budget::kDefault, kAlice, now_).remaining, 5) << "never above it";
}

// Two requests admitted on the last token are both charged; the debt is waited off.
TEST_F(RateLimiterTest, RequestsThatRacedForTheLastTokenAreWaitedOff) {
  RateLimiter limiter({.max_requests = 5, .window_seconds = 60});
  for (int i = 0; i < 4; ++i) limiter.Charge(Budget::kDefault, kAlice, now_, false);
  ASSERT_TRUE(limiter.Admit(Budget::kDefault, kAlice, now_).allowed);
  ASSERT_TRUE(limiter.Admit(Budget::kDefault, kAlice, now_).allowed);
  limiter.Charge(Budget::kDefault, kAlice, now_, false);
  EXPECT_EQ(limiter.Charge(Budget::kDefault, kAlice, now_, false).remaining, 0)
      << "never shown below zero";
  RateLimiter::Decision refused = limiter.Admit(Budget::kDefault, kAlice, now_);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_s, 24) << "two tokens to earn back: one owed, one to spend";
}

TEST_F(RateLimiterTest, ADisabledLimiterOrAnUnlimitedRouteAdmitsEverything) {
  RateLimiter off({.enabled = false, .max_requests = 1, .window_seconds = 60});
  RateLimiter on({.max_requests = 1, .window_seconds = 60});
  for (int i = 0; i < 100; ++i) {
    RateLimiter::Decision d = off.Admit(Budget::kDefault, kAlice, now_);
    ASSERT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.limit, 0) << "no limit to describe";
    off.Charge(Budget::kDefault, kAlice, now_, false);
    ASSERT_TRUE(on.Admit(Budget::kNone, kAlice, now_).allowed) << i;
    on.Charge(Budget::kNone, kAlice, now_, false);
  }
  Response response;
  SetRateLimitHeaders(off.Admit(Budget::kDefault, kAlice, now_), response);
  EXPECT_TRUE(response.headers.empty()) << "no X-RateLimit-* headers when not limited";
}

TEST_F(RateLimiterTest, TheHeadersAndThe429SayWhatIsLeftAndHowLongToWait) {
  RateLimiter limiter({.max_requests = 5, .window_seconds = 60});
  for (int i = 0; i < 2; ++i) limiter.Charge(Budget::kDefault, kAlice, now_, false);
  Response ok;
  SetRateLimitHeaders(limiter.Status(Budget::kDefault, kAlice, now_), ok);
  EXPECT_EQ(ok.Get("X-RateLimit-Limit"), "5");
  EXPECT_EQ(ok.Get("X-RateLimit-Remaining"), "3");
  EXPECT_EQ(ok.Get("X-RateLimit-Reset"), std::to_string(kStartMs / 1000 + 24));

  RateLimiter::Decision refused = Flood(limiter);
  Request request;
  request.path = "/api/v1/investigations";
  Response response = RateLimited(limiter, Budget::kDefault, refused, request);
  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(response.Get("Retry-After"), std::to_string(refused.retry_after_s));
  EXPECT_NE(response.body.find("rate_limited"), std::string::npos) << response.body;
  EXPECT_NE(response.body.find("5 requests per 60 s for default requests; retry after 12 s"),
            std::string::npos)
      << response.body;
}

}  // namespace
}  // namespace vigil::http
