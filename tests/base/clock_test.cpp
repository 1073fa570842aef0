#include "base/clock.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

namespace vigil {
namespace {

struct Known {
  int64_t ms;
  const char* iso;
};

// Values cross-checked with Python's datetime.
constexpr Known kKnown[] = {
    {0, "1970-01-01T00:00:00.000Z"},
    {1, "1970-01-01T00:00:00.001Z"},
    {999, "1970-01-01T00:00:00.999Z"},
    {1000, "1970-01-01T00:00:01.000Z"},
    {86'400'000, "1970-01-02T00:00:00.000Z"},
    {1730668800000, "2024-11-03T21:20:00.000Z"},
    {1730668800123, "2024-11-03T21:20:00.123Z"},
    {1709210096789, "2024-02-29T12:34:56.789Z"},  // leap day
    {951782400000, "2000-02-29T00:00:00.000Z"},   // leap day of a 400-year century
    {1677628800000, "2023-03-01T00:00:00.000Z"},  // day after Feb 28 in a common year
    {1735689599999, "2024-12-31T23:59:59.999Z"},  // last ms of a leap year
    {4107542400000, "2100-03-01T00:00:00.000Z"},  // 2100 is not a leap year
    {-1, "1969-12-31T23:59:59.999Z"},
    {-2203891200000, "1900-03-01T00:00:00.000Z"},
};

TEST(FormatIsoMs, KnownInstants) {
  for (const Known& k : kKnown) EXPECT_EQ(FormatIsoMs(k.ms), k.iso) << k.ms;
}

TEST(ParseIsoMs, KnownInstants) {
  for (const Known& k : kKnown) {
    auto ms = ParseIsoMs(k.iso);
    ASSERT_TRUE(ms.has_value()) << k.iso;
    EXPECT_EQ(*ms, k.ms) << k.iso;
  }
}

TEST(ParseIsoMs, AcceptsMissingMillisecondsAndOffsetZero) {
  EXPECT_EQ(ParseIsoMs("2024-11-03T21:20:00Z"), std::optional<int64_t>(1730668800000));
  EXPECT_EQ(ParseIsoMs("2024-11-03T21:20:00+00:00"), std::optional<int64_t>(1730668800000));
  EXPECT_EQ(ParseIsoMs("2024-11-03T21:20:00.123+00:00"), std::optional<int64_t>(1730668800123));
}

TEST(ParseIsoMs, RejectsGarbage) {
  const char* bad[] = {
      "",
      "garbage",
      "2024",
      "2024-11-03",
      "2024-11-03T21:20",
      "2024-11-03T21:20:00",        // no zone
      "2024-11-03T21:20:00.123",    // no zone
      "2024-11-03T21:20:00+01:00",  // only UTC
      "2024-11-03T21:20:00-00:00",
      "2024-11-03T21:20:00z",
      "2024-11-03T21:20:00ZZ",
      "2024-11-03T21:20:00.12Z",  // two-digit fraction
      "2024-11-03T21:20:00.Z",
      "2024-11-03T21:20:00.1234Z",  // four-digit fraction
      "2024/11/03T21:20:00Z",
      "2024-11-03X21:20:00Z",
      "2024-13-03T21:20:00Z",  // month 13
      "2024-00-03T21:20:00Z",  // month 0
      "2024-11-00T21:20:00Z",  // day 0
      "2024-11-32T21:20:00Z",  // day 32
      "2024-11-03T24:00:00Z",  // hour 24
      "2024-11-03T21:60:00Z",  // minute 60
      "2024-11-03T21:20:61Z",  // second 61
      "2024-1a-03T21:20:00Z",
      "+024-11-03T21:20:00Z",
      " 2024-11-03T21:20:00Z",
      "2024-11-03T21:20:00Z ",
  };
  for (const char* text : bad) EXPECT_FALSE(ParseIsoMs(text).has_value()) << "'" << text << "'";
}

TEST(ParseIsoMs, IsTheInverseOfFormatForRandomInstants) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> dist(0, 253'402'300'799'999);  // through 9999-12-31
  for (int i = 0; i < 20'000; ++i) {
    int64_t ms = dist(rng);
    std::string iso = FormatIsoMs(ms);
    ASSERT_EQ(iso.size(), 24u) << iso;
    auto back = ParseIsoMs(iso);
    ASSERT_TRUE(back.has_value()) << iso;
    ASSERT_EQ(*back, ms) << iso;
  }
}

TEST(ManualClock, MovesOnlyWhenTold) {
  ManualClock clock(1000);
  EXPECT_EQ(clock.NowMs(), 1000);
  const Clock::SteadyTime start = clock.SteadyNow();
  const int64_t start_ns = clock.MonotonicNs();
  clock.Advance(250);
  EXPECT_EQ(clock.NowMs(), 1250);
  EXPECT_EQ(clock.SteadyNow() - start, std::chrono::milliseconds(250)) << "time passed for both";
  EXPECT_EQ(clock.MonotonicNs() - start_ns, 250'000'000);
  clock.Set(10);  // the wall clock may step back
  EXPECT_EQ(clock.NowMs(), 10);
  EXPECT_EQ(clock.SteadyNow() - start, std::chrono::milliseconds(250)) << "monotonic time did not";
}

TEST(SystemClock, IsAfter2024AndMonotonic) {
  SystemClock clock;
  EXPECT_GT(clock.NowMs(), 1704067200000);  // 2024-01-01
  const Clock::SteadyTime a = clock.SteadyNow();
  const int64_t a_ns = clock.MonotonicNs();
  EXPECT_LE(a, clock.SteadyNow());
  EXPECT_LE(a_ns, clock.MonotonicNs());
}

}  // namespace
}  // namespace vigil
