// Each node's cache of browser sessions (http/sessions.hpp), with the clock and the store in the
// test's hands: lookups trusted for the cache's lifetime, expiry, the bound; and the cookie parser.
#include "http/sessions.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
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

// A store of sessions in the test's hands: what the loader finds, and how often it is asked.
class SessionsTest : public ::testing::Test {
 protected:
  SessionLoader Loader() {
    return [this](std::string id, std::function<void(Result<std::optional<SessionEntry>>)> done) {
      ++asked_;
      if (down_) return done(Fail(ErrorCode::kUnavailable, "the store is down"));
      auto it = stored_.find(id);
      if (it == stored_.end()) return done(std::optional<SessionEntry>());
      done(it->second);
    };
  }
  // Load's answer, which the loader above gives at once.
  Result<std::optional<SessionEntry>> Load(Sessions& sessions, const std::string& id) {
    Result<std::optional<SessionEntry>> out = std::optional<SessionEntry>();
    sessions.Load(id, [&out](Result<std::optional<SessionEntry>> r) { out = std::move(r); });
    return out;
  }
  Sessions::Known Lookup(Sessions& sessions, const std::string& id, std::string* token = nullptr) {
    std::string ignored;
    return sessions.Lookup(id, token ? token : &ignored);
  }

  ManualClock clock_{kNowMs};
  std::map<std::string, SessionEntry> stored_;
  bool down_ = false;
  int asked_ = 0;
};

using Known = Sessions::Known;

// A cookie this node has not looked up is asked of the store; the answer is trusted for the
// cache's lifetime, then asked again — so a session ended elsewhere ends here within it.
TEST_F(SessionsTest, ALookupIsTrustedForTheCacheLifetimeThenAskedAgain) {
  Sessions sessions(clock_, std::chrono::milliseconds(5000), Loader());
  stored_["s"] = {"token", kNowS + 3600};
  EXPECT_EQ(Lookup(sessions, "s"), Known::kAsk);
  auto loaded = Load(sessions, "s");
  ASSERT_TRUE(loaded);
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->token, "token");
  std::string token;
  EXPECT_EQ(Lookup(sessions, "s", &token), Known::kValid);
  EXPECT_EQ(token, "token");
  EXPECT_EQ(asked_, 1);

  stored_.erase("s");  // signed out on another node
  clock_.Advance(5000);
  EXPECT_EQ(Lookup(sessions, "s"), Known::kValid) << "within the lifetime";
  clock_.Advance(1);
  EXPECT_EQ(Lookup(sessions, "s"), Known::kAsk) << "past it";
  auto gone = Load(sessions, "s");
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value());
  EXPECT_EQ(Lookup(sessions, "s"), Known::kEnded) << "what the store said is remembered too";
  EXPECT_EQ(asked_, 2);
}

TEST_F(SessionsTest, ASessionEndsWhenItsTokenExpires) {
  Sessions sessions(clock_, std::chrono::milliseconds(600'000), Loader());
  stored_["s"] = {"token", kNowS + 60};
  ASSERT_TRUE(Load(sessions, "s"));
  clock_.Advance(59'999);
  EXPECT_EQ(Lookup(sessions, "s"), Known::kValid) << "a millisecond before";
  clock_.Advance(1);
  EXPECT_EQ(Lookup(sessions, "s"), Known::kEnded) << "at the expiry";
  stored_["old"] = {"token", kNowS};
  auto expired = Load(sessions, "old");
  ASSERT_TRUE(expired);
  EXPECT_FALSE(expired->has_value()) << "an expired session is never valid";
}

// Remembered when opened here, ended here at once when closed here.
TEST_F(SessionsTest, RememberAndForgetActOnThisNodeAtOnce) {
  Sessions sessions(clock_, std::chrono::milliseconds(5000), Loader());
  sessions.Remember("s", {"token", kNowS + 3600});
  std::string token;
  EXPECT_EQ(Lookup(sessions, "s", &token), Known::kValid);
  EXPECT_EQ(token, "token");
  sessions.Forget("s");
  EXPECT_EQ(Lookup(sessions, "s"), Known::kEnded);
  EXPECT_EQ(asked_, 0);
}

// A store that cannot answer: the error reaches the caller, and nothing is remembered.
TEST_F(SessionsTest, AStoreThatCannotAnswerIsAnErrorAndNothingIsRemembered) {
  Sessions sessions(clock_, std::chrono::milliseconds(5000), Loader());
  down_ = true;
  auto failed = Load(sessions, "s");
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(Lookup(sessions, "s"), Known::kAsk);
}

// At the bound, stale and ended lookups make room first; then the oldest.
TEST_F(SessionsTest, AtTheBoundTheOldestLookupsMakeRoom) {
  Sessions sessions(clock_, std::chrono::milliseconds(5000), Loader(), /*max_sessions=*/3);
  sessions.Remember("a", {"a", kNowS + 3600});
  clock_.Advance(1);
  sessions.Remember("b", {"b", kNowS + 3600});
  clock_.Advance(1);
  sessions.Remember("c", {"c", kNowS + 3600});
  clock_.Advance(1);
  sessions.Remember("d", {"d", kNowS + 3600});
  EXPECT_EQ(sessions.size(), 3u);
  EXPECT_EQ(Lookup(sessions, "a"), Known::kAsk) << "the oldest went";
  EXPECT_EQ(Lookup(sessions, "d"), Known::kValid);
}

// Without a store: what this node remembers is all there is.
TEST_F(SessionsTest, WithoutALoaderMemoryIsAllThereIs) {
  Sessions sessions(clock_, std::chrono::milliseconds(5000));
  EXPECT_EQ(Lookup(sessions, "s"), Known::kEnded);
  sessions.Remember("s", {"token", kNowS + 60});
  clock_.Advance(10'000);
  EXPECT_EQ(Lookup(sessions, "s"), Known::kValid) << "nothing to ask again";
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
