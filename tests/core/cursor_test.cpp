#include "core/cursor.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

namespace vigil::core {
namespace {

TEST(FormatEventId, WritesTimestampUnpaddedAndSequenceWithSixDigits) {
  EXPECT_EQ(FormatEventId({1730668800000, 127}), "1730668800000_000127");
  EXPECT_EQ(FormatEventId({1730668800000, 0}), "1730668800000_000000");
  EXPECT_EQ(FormatEventId({1730668800000, 999999}), "1730668800000_999999");
  EXPECT_EQ(FormatEventId({5, 1}), "5_000001");
  EXPECT_EQ(FormatEventId({0, 0}), "0_000000");
}

TEST(ParseEventId, ReadsWhatFormatWrites) {
  auto id = ParseEventId("1730668800000_000127");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->ts_ms, 1730668800000);
  EXPECT_EQ(id->seq, 127);
}

TEST(ParseEventId, RoundTripsRepresentativeIds) {
  const EventId ids[] = {{0, 0},
                         {1, 999999},
                         {1730668800000, 0},
                         {1730668800000, 42},
                         {999'999'999'999'999, 999999}};  // the largest 15-digit timestamp
  for (EventId id : ids) {
    std::string text = FormatEventId(id);
    auto back = ParseEventId(text);
    ASSERT_TRUE(back.has_value()) << text;
    EXPECT_EQ(*back, id) << text;
    EXPECT_EQ(FormatEventId(*back), text);
  }
}

TEST(ParseEventId, RejectsMalformedInput) {
  const char* bad[] = {
      "",                         // empty
      "_",                        // nothing either side
      "1730668800000",            // no underscore
      "1730668800000000127",      // no underscore
      "_000127",                  // no timestamp
      "1730668800000_",           // no sequence
      "1730668800000_000_127",    // two underscores
      "1730668800000__000127",    // two underscores
      "-1730668800000_000127",    // sign on timestamp
      "+1730668800000_000127",    // sign on timestamp
      "1730668800000_-00127",     // sign on sequence
      "1730668800000_+00127",     // sign on sequence
      " 1730668800000_000127",    // leading space
      "1730668800000_000127 ",    // trailing space
      "1730668800000 _000127",    // space before underscore
      "1730668800000_ 00127",     // space in sequence
      "1730668800000_00127",      // 5-digit sequence
      "1730668800000_0000127",    // 7-digit sequence
      "1730668800000_00012a",     // letter in sequence
      "17306688000a0_000127",     // letter in timestamp
      "0x10_000127",              // hex
      "1234567890123456_000127",  // 16-digit timestamp
      "1730668800000_000127x",    // trailing garbage
      "1730668800000_000127\n",   // trailing newline
      "1730668800000_000127_",    // trailing underscore
      "1730668800000.5_000127",   // decimal point
  };
  for (const char* text : bad) {
    EXPECT_FALSE(ParseEventId(text).has_value()) << "'" << text << "'";
  }
}

TEST(ParseEventId, AcceptsFifteenDigitTimestamp) {
  auto id = ParseEventId("123456789012345_000001");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->ts_ms, 123456789012345);
  EXPECT_EQ(id->seq, 1);
}

TEST(ParseEventId, RejectsEmbeddedNul) {
  std::string text("1730668800000_000127");
  text[3] = '\0';
  EXPECT_FALSE(ParseEventId(text).has_value());
}

TEST(EventIdOrder, SameMillisecondOrdersBySequence) {
  EventId a{1000, 1}, b{1000, 2};
  EXPECT_LT(a, b);
  EXPECT_GT(b, a);
  EXPECT_NE(a, b);
  EXPECT_EQ(a, (EventId{1000, 1}));
}

TEST(EventIdOrder, MillisecondDominatesSequence) {
  EventId a{1000, 999999}, b{1001, 0};
  EXPECT_LT(a, b);
  EXPECT_TRUE((a <=> b) < 0);
  EXPECT_TRUE((b <=> a) > 0);
  EXPECT_TRUE((a <=> a) == 0);
}

TEST(EventIdOrder, IsZeroOnlyForTheEmptyId) {
  EXPECT_TRUE(EventId{}.IsZero());
  EXPECT_FALSE((EventId{0, 1}).IsZero());
  EXPECT_FALSE((EventId{1, 0}).IsZero());
}

TEST(NextEventId, FirstEventOfAnEmptyLogStartsAtSequenceZero) {
  EXPECT_EQ(NextEventId(EventId{}, 1730668800000), (EventId{1730668800000, 0}));
}

TEST(NextEventId, SameMillisecondIncrementsSequence) {
  EventId last{1000, 0};
  EventId next = NextEventId(last, 1000);
  EXPECT_EQ(next, (EventId{1000, 1}));
  EXPECT_EQ(NextEventId(next, 1000), (EventId{1000, 2}));
}

TEST(NextEventId, NewMillisecondResetsSequence) {
  EXPECT_EQ(NextEventId({1000, 57}, 1001), (EventId{1001, 0}));
  EXPECT_EQ(NextEventId({1000, 57}, 5000), (EventId{5000, 0}));
}

TEST(NextEventId, ClockSteppingBackKeepsTimestampAndIncrementsSequence) {
  EventId last{5000, 3};
  EventId next = NextEventId(last, 4000);
  EXPECT_EQ(next, (EventId{5000, 4}));
  EXPECT_GT(next, last);
  EXPECT_EQ(NextEventId(next, 0), (EventId{5000, 5}));
}

TEST(NextEventId, SequenceOverflowMovesToNextMillisecond) {
  EventId last{5000, kMaxSequence};
  EventId next = NextEventId(last, 5000);
  EXPECT_EQ(next, (EventId{5001, 0}));
  EXPECT_GT(next, last);
  // Also when the clock is behind.
  EXPECT_EQ(NextEventId(last, 10), (EventId{5001, 0}));
  // And the next call at the (now past) real time continues from there.
  EXPECT_EQ(NextEventId(next, 5000), (EventId{5001, 1}));
  EXPECT_EQ(NextEventId(next, 5001), (EventId{5001, 1}));
}

TEST(NextEventId, BurstOfAMillionInOneMillisecondStaysOrdered) {
  EventId last{};
  for (int i = 0; i < 1'000'001; ++i) {
    EventId next = NextEventId(last, 7000);
    ASSERT_GT(next, last);
    last = next;
  }
  // 1'000'000 ids fill 7000_000000..7000_999999; the next one spills over.
  EXPECT_EQ(last, (EventId{7001, 0}));
}

TEST(NextEventId, PropertyRandomClockGivesStrictlyIncreasingRoundTrippingIds) {
  std::mt19937 rng(20241103);
  std::uniform_int_distribution<int> step(-50, 50);  // the clock jumps back and forth
  std::uniform_int_distribution<int> stall(0, 3);    // and sometimes stands still
  int64_t now = 1730668800000;
  EventId last{};
  std::string last_text;
  for (int i = 0; i < 100'000; ++i) {
    if (stall(rng) != 0) now += step(rng);
    EventId next = NextEventId(last, now);
    ASSERT_GT(next, last) << "at " << i;
    ASSERT_GE(next.ts_ms, now < last.ts_ms ? last.ts_ms : now) << "at " << i;
    ASSERT_GE(next.seq, 0);
    ASSERT_LE(next.seq, kMaxSequence);
    std::string text = FormatEventId(next);
    auto parsed = ParseEventId(text);
    ASSERT_TRUE(parsed.has_value()) << text;
    ASSERT_EQ(*parsed, next) << text;
    // All these timestamps have 13 digits, so string order must match numeric order.
    ASSERT_EQ(text.size(), 20u) << text;
    if (!last_text.empty()) ASSERT_LT(last_text, text) << "at " << i;
    last = next;
    last_text = std::move(text);
  }
}

TEST(EventIdOrder, LexicographicOrderMatchesNumericForEqualLengthTimestamps) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int64_t> ts(1'000'000'000'000, 9'999'999'999'999);
  std::uniform_int_distribution<int32_t> seq(0, kMaxSequence);
  std::uniform_int_distribution<int> near(-2, 2);
  for (int i = 0; i < 20'000; ++i) {
    EventId a{ts(rng), seq(rng)};
    EventId b;
    switch (i % 3) {
      case 0:
        b = {ts(rng), seq(rng)};
        break;  // unrelated
      case 1:
        b = {a.ts_ms, seq(rng)};
        break;  // same millisecond
      default:
        b = {a.ts_ms + near(rng), seq(rng)};
        break;  // neighbouring milliseconds
    }
    std::string sa = FormatEventId(a), sb = FormatEventId(b);
    ASSERT_EQ(sa.size(), sb.size());
    EXPECT_EQ(a < b, sa < sb) << sa << " vs " << sb;
    EXPECT_EQ(a == b, sa == sb) << sa << " vs " << sb;
  }
}

}  // namespace
}  // namespace vigil::core

namespace vigil::core {
namespace {

TEST(CursorStrictnessTest, OneSpellingPerId) {
  EXPECT_FALSE(ParseEventId("01730668800000_000001").has_value());
  EXPECT_TRUE(ParseEventId("0_000001").has_value());
  EXPECT_TRUE(ParseEventId("1730668800000_000001").has_value());
}

}  // namespace
}  // namespace vigil::core
