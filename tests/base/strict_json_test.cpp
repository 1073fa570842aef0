#include "base/strict_json.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <string>

namespace vigil {
namespace {

// The refusal's field and message, or "ok".
std::string Refusal(std::string_view text) {
  auto parsed = ParseStrictJson(text);
  if (parsed) return "ok";
  EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
  return parsed.error().field + " | " + parsed.error().message;
}

TEST(StrictJsonTest, ParsesWhatBoostJsonParses) {
  const std::string text =
      R"({"a":[1,-2,18446744073709551615,-9223372036854775808,1.5,-2e-3,true,false,null],)"
      R"("s":"x\"y\u00e9","o":{"k":{}},"e":[]})";
  auto parsed = ParseStrictJson(text);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(boost::json::serialize(*parsed),
            R"({"a":[1,-2,18446744073709551615,-9223372036854775808,1.5E0,-2E-3,true,false,null],)"
            R"("s":"x\"yé","o":{"k":{}},"e":[]})");
  EXPECT_TRUE(ParseStrictJson("[]").has_value());
  EXPECT_TRUE(ParseStrictJson("  \"text\"  ").has_value());
}

TEST(StrictJsonTest, RefusesDuplicateMemberNamesByPath) {
  EXPECT_EQ(Refusal(R"({"events":[{"a":1}],"events":[]})"),
            "events | 'events' is given twice; a member name may appear once");
  EXPECT_EQ(Refusal(R"({"settings":{"n":1,"m":2,"n":3}})"),
            "settings.n | 'settings.n' is given twice; a member name may appear once");
  EXPECT_EQ(Refusal(R"({"events":[{},{"data":{"x":1,"x":1}}]})"),
            "events[1].data.x | 'events[1].data.x' is given twice; a member name may appear once");
  // Names that differ only by escaping are the same name.
  EXPECT_NE(Refusal(R"({"ab":1,"\u0061b":2})"), "ok");
  // The same name in sibling objects, or in an object and its child, is fine.
  EXPECT_EQ(Refusal(R"({"a":{"a":1},"b":[{"a":1},{"a":2}]})"), "ok");
}

// Past the first sixteen names the search is by set: a duplicate far in is still found, and a
// large object of distinct names still parses.
TEST(StrictJsonTest, FindsDuplicatesInLargeObjects) {
  std::string text = "{";
  for (int i = 0; i < 1000; ++i)
    text += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  EXPECT_EQ(Refusal(text + "\"last\":0}"), "ok");
  EXPECT_EQ(Refusal(text + "\"k3\":0}"), "k3 | 'k3' is given twice; a member name may appear once");
  EXPECT_EQ(Refusal(text + "\"k999\":0}"),
            "k999 | 'k999' is given twice; a member name may appear once");
}

TEST(StrictJsonTest, RefusesNumbersADoubleCannotHold) {
  EXPECT_EQ(Refusal(R"({"settings":{"n":1e309}})"),
            "settings.n | 'settings.n' is out of range; a number must be finite (at most about "
            "1.8e308)");
  EXPECT_NE(Refusal(R"({"n":-1e309})"), "ok");
  EXPECT_NE(Refusal(R"({"n":[0,1,2E+400]})").find("n[2] |"), std::string::npos);
  EXPECT_EQ(Refusal(R"({"n":123456789012345678901234567890})"),
            "n | 'n' is an integer beyond 64 bits (from -2^63 to 2^64-1 are kept exactly); send a "
            "larger one as a string");
  EXPECT_NE(Refusal(R"({"n":18446744073709551616})"), "ok");  // 2^64
  EXPECT_NE(Refusal(R"({"n":-9223372036854775809})"), "ok");  // -2^63 - 1
  // Fractions and exponents are doubles: rounded as doubles are, and fine while finite.
  EXPECT_EQ(Refusal(R"({"n":1e308,"m":1.0000000000000000000001,"u":1e-400})"), "ok");
}

TEST(StrictJsonTest, RefusesWhatIsNotJson) {
  EXPECT_NE(Refusal(R"({"a":1,})"), "ok");
  EXPECT_NE(Refusal(R"({"a":1} x)"), "ok");
  EXPECT_NE(Refusal(R"({"a":NaN})"), "ok");
  EXPECT_NE(Refusal(R"({"a":1 // comment
  })"),
            "ok");
  EXPECT_NE(Refusal("{\"a\":\"\xff\"}"), "ok");
  std::string deep(40, '[');
  EXPECT_NE(Refusal(deep + std::string(40, ']')), "ok");
  EXPECT_EQ(Refusal(std::string(32, '[') + std::string(32, ']')), "ok");
}

}  // namespace
}  // namespace vigil
