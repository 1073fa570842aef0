// Browser sessions and one-time sign-in codes (http/sessions.hpp), with the clock in the test's
// hands: open, look up, expire, close, the bound on how many are kept; and the cookie parser.
#include "http/sessions.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

namespace vigil::http {
namespace {

constexpr int64_t kNowMs = 1'800'000'000'000;
constexpr int64_t kNowS = kNowMs / 1000;

bool IsHexId(const std::string& id) {
  return id.size() == 64 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

class SessionsTest : public ::testing::Test {
 protected:
  ManualClock clock_{kNowMs};
};

TEST_F(SessionsTest, AnOpenedSessionNamesItsToken) {
  Sessions sessions(clock_);
  std::string a = sessions.Open("token-a", kNowS + 3600);
  std::string b = sessions.Open("token-b", kNowS + 3600);
  EXPECT_TRUE(IsHexId(a)) << a;
  EXPECT_NE(a, b);
  EXPECT_EQ(sessions.Token(a), "token-a");
  EXPECT_EQ(sessions.Token(b), "token-b");
  EXPECT_EQ(sessions.size(), 2u);
}

TEST_F(SessionsTest, AnUnknownIdHasNoToken) {
  Sessions sessions(clock_);
  std::string id = sessions.Open("token", kNowS + 3600);
  EXPECT_EQ(sessions.Token(""), std::nullopt);
  EXPECT_EQ(sessions.Token("not-a-session"), std::nullopt);
  EXPECT_EQ(sessions.Token(id.substr(0, 63)), std::nullopt) << "a prefix is another id";
  EXPECT_EQ(sessions.Token(id + "0"), std::nullopt);
}

TEST_F(SessionsTest, ASessionEndsWhenItsTokenExpires) {
  Sessions sessions(clock_);
  std::string id = sessions.Open("token", kNowS + 60);
  clock_.Advance(59'999);
  EXPECT_EQ(sessions.Token(id), "token") << "a millisecond before";
  clock_.Advance(1);
  EXPECT_EQ(sessions.Token(id), std::nullopt) << "at the expiry";
}

TEST_F(SessionsTest, ASessionOpenedAlreadyExpiredIsNeverValid) {
  Sessions sessions(clock_);
  EXPECT_EQ(sessions.Token(sessions.Open("token", kNowS)), std::nullopt);
  EXPECT_EQ(sessions.Token(sessions.Open("token", kNowS - 1)), std::nullopt);
}

TEST_F(SessionsTest, CloseEndsOneSession) {
  Sessions sessions(clock_);
  std::string a = sessions.Open("token-a", kNowS + 3600);
  std::string b = sessions.Open("token-b", kNowS + 3600);
  sessions.Close(a);
  EXPECT_EQ(sessions.Token(a), std::nullopt);
  EXPECT_EQ(sessions.Token(b), "token-b");
  EXPECT_EQ(sessions.size(), 1u);
  sessions.Close(a);  // again: nothing happens
  sessions.Close("unknown");
  EXPECT_EQ(sessions.size(), 1u);
}

// At the bound, expired sessions make room first; then the ones closest to expiring.
TEST_F(SessionsTest, AtTheBoundTheSessionsClosestToExpiringMakeRoom) {
  Sessions sessions(clock_, /*max_sessions=*/3);
  std::string late = sessions.Open("late", kNowS + 300);
  std::string soon = sessions.Open("soon", kNowS + 100);
  std::string mid = sessions.Open("mid", kNowS + 200);
  std::string next = sessions.Open("next", kNowS + 400);
  EXPECT_EQ(sessions.size(), 3u);
  EXPECT_EQ(sessions.Token(soon), std::nullopt) << "the one closest to expiring went";
  EXPECT_EQ(sessions.Token(late), "late");
  EXPECT_EQ(sessions.Token(mid), "mid");
  EXPECT_EQ(sessions.Token(next), "next");

  clock_.Set((kNowS + 250) * 1000);  // "mid" has expired; the others are live
  std::string last = sessions.Open("last", kNowS + 500);
  EXPECT_EQ(sessions.size(), 3u);
  EXPECT_EQ(sessions.Token(last), "last");
  EXPECT_EQ(sessions.Token(late), "late") << "an expired one made room, not a live one";
  EXPECT_EQ(sessions.Token(next), "next");
}

TEST_F(SessionsTest, ACodeIsRedeemedOnce) {
  Sessions sessions(clock_);
  std::string code = sessions.LoginCode("token", 60);
  EXPECT_TRUE(IsHexId(code)) << code;
  EXPECT_EQ(sessions.Redeem(code), "token");
  EXPECT_EQ(sessions.Redeem(code), std::nullopt) << "single use";
}

TEST_F(SessionsTest, ACodeExpiresAfterItsTtl) {
  Sessions sessions(clock_);
  std::string fresh = sessions.LoginCode("token", 60);
  std::string stale = sessions.LoginCode("token", 60);
  clock_.Advance(59'999);
  EXPECT_EQ(sessions.Redeem(fresh), "token");
  clock_.Advance(1);
  EXPECT_EQ(sessions.Redeem(stale), std::nullopt);
  clock_.Set(kNowMs);
  EXPECT_EQ(sessions.Redeem(stale), std::nullopt) << "an expired code is used up by the attempt";
}

TEST_F(SessionsTest, CodesAndSessionsAreNotInterchangeable) {
  Sessions sessions(clock_);
  std::string code = sessions.LoginCode("token", 60);
  std::string id = sessions.Open("token", kNowS + 60);
  EXPECT_EQ(sessions.Token(code), std::nullopt) << "a code is not a session";
  EXPECT_EQ(sessions.Redeem(id), std::nullopt) << "a session is not a code";
  EXPECT_EQ(sessions.Redeem("unknown"), std::nullopt);
  EXPECT_EQ(sessions.size(), 1u) << "codes are not counted as sessions";
  EXPECT_EQ(sessions.Redeem(code), "token") << "the failed attempts did not use it";
  EXPECT_EQ(sessions.Token(id), "token");
}

TEST_F(SessionsTest, CodesAreBoundedLikeSessions) {
  Sessions sessions(clock_, /*max_sessions=*/2);
  std::string first = sessions.LoginCode("first", 30);
  std::string second = sessions.LoginCode("second", 60);
  std::string third = sessions.LoginCode("third", 90);
  EXPECT_EQ(sessions.Redeem(first), std::nullopt) << "the one closest to expiring went";
  EXPECT_EQ(sessions.Redeem(second), "second");
  EXPECT_EQ(sessions.Redeem(third), "third");
  EXPECT_EQ(sessions.size(), 0u);
}

TEST(RandomIdTest, IsSixtyFourHexDigitsAndDoesNotRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = RandomId();
    ASSERT_TRUE(IsHexId(id)) << id;
    ASSERT_TRUE(seen.insert(id).second) << "repeated: " << id;
  }
}

TEST(CookieValueTest, FindsTheNamedCookie) {
  EXPECT_EQ(CookieValue("vigil_session=abc", "vigil_session"), "abc");
  EXPECT_EQ(CookieValue("a=1; vigil_session=abc; b=2", "vigil_session"), "abc");
  EXPECT_EQ(CookieValue("a=1;vigil_session=abc", "vigil_session"), "abc");
  EXPECT_EQ(CookieValue("a=1; b=2", "vigil_session"), "");
  EXPECT_EQ(CookieValue("", "vigil_session"), "");
}

TEST(CookieValueTest, TakesTheFirstOfTwo) {
  EXPECT_EQ(CookieValue("vigil_session=one; vigil_session=two", "vigil_session"), "one");
}

TEST(CookieValueTest, MatchesTheWholeName) {
  EXPECT_EQ(CookieValue("xvigil_session=evil; vigil_session=abc", "vigil_session"), "abc");
  EXPECT_EQ(CookieValue("vigil_session_old=evil", "vigil_session"), "");
  EXPECT_EQ(CookieValue("VIGIL_SESSION=abc", "vigil_session"), "") << "names are case-sensitive";
}

TEST(CookieValueTest, TrimsWhitespaceAndQuotes) {
  EXPECT_EQ(CookieValue("a=1;  \tvigil_session \t=abc \t; b=2", "vigil_session"), "abc");
  EXPECT_EQ(CookieValue("vigil_session=\"abc\"", "vigil_session"), "abc");
  EXPECT_EQ(CookieValue("vigil_session=\"", "vigil_session"), "\"") << "one quote is a value";
  EXPECT_EQ(CookieValue("vigil_session=", "vigil_session"), "");
}

TEST(CookieValueTest, SkipsPairsWithoutAnEqualsSign) {
  EXPECT_EQ(CookieValue("vigil_session; vigil_session=abc", "vigil_session"), "abc");
  EXPECT_EQ(CookieValue(";;; vigil_session=abc ;", "vigil_session"), "abc");
}

}  // namespace
}  // namespace vigil::http
