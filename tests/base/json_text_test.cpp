#include "base/json_text.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <limits>

namespace vigil {
namespace {

namespace json = boost::json;

TEST(JsonTextTest, DoublesAreShortestDecimals) {
  EXPECT_EQ(ToJsonText(json::value(0.5)), "0.5");
  EXPECT_EQ(ToJsonText(json::value(0.0)), "0.0");
  EXPECT_EQ(ToJsonText(json::value(1.0)), "1.0");
  EXPECT_EQ(ToJsonText(json::value(1e21)), "1e+21");
  EXPECT_EQ(ToJsonText(json::value(0.825)), "0.825");
  EXPECT_EQ(ToJsonText(json::value(0.1 + 0.2)), "0.30000000000000004");
  EXPECT_EQ(ToJsonText(json::value(std::numeric_limits<double>::infinity())), "null");
  EXPECT_EQ(ToJsonText(json::value(std::nan(""))), "null");
}

TEST(JsonTextTest, IntegersStringsAndNesting) {
  json::value v =
      json::parse(R"({"a":[1,-2,18446744073709551615,true,null],"b":"x\"y\\z\n\u0001é"})");
  std::string text = ToJsonText(v);
  EXPECT_EQ(text, "{\"a\":[1,-2,18446744073709551615,true,null],\"b\":\"x\\\"y\\\\z\\n\\u0001é\"}");
  EXPECT_EQ(json::parse(text), v);  // round trip
}

TEST(JsonTextTest, RoundTripsWhatBoostWrites) {
  json::value v =
      json::parse(R"({"risk":{"overall":0.7,"by_agent":{"net":1e-7}},"n":[1.5e300,-0.25]})");
  EXPECT_EQ(json::parse(ToJsonText(v)), v);
}

}  // namespace
}  // namespace vigil
