// If-None-Match (RFC 9110 section 13.1.2) against the ETags vigil sends: "*", lists, weak
// comparison, optional whitespace, malformed members, and commas inside a quoted tag.
#include "http/conditional.hpp"

#include <gtest/gtest.h>

namespace vigil::http {
namespace {

constexpr std::string_view kTag = "\"12-9f3a01bc\"";  // a progress ETag: strong, quoted

TEST(IfNoneMatchTest, TheSameTagMatches) {
  EXPECT_TRUE(IfNoneMatchMatches("\"12-9f3a01bc\"", kTag));
}

TEST(IfNoneMatchTest, AnotherTagDoesNotMatch) {
  EXPECT_FALSE(IfNoneMatchMatches("\"13-9f3a01bc\"", kTag));
  EXPECT_FALSE(IfNoneMatchMatches("\"12-9f3a01b\"", kTag)) << "a prefix is another tag";
  EXPECT_FALSE(IfNoneMatchMatches("\"12-9f3a01bcd\"", kTag));
  EXPECT_FALSE(IfNoneMatchMatches("\"12-9F3A01BC\"", kTag)) << "tags are compared byte for byte";
  EXPECT_FALSE(IfNoneMatchMatches("\"\"", kTag));
}

TEST(IfNoneMatchTest, AnEmptyHeaderMatchesNothing) {
  EXPECT_FALSE(IfNoneMatchMatches("", kTag));
  EXPECT_FALSE(IfNoneMatchMatches("   ", kTag));
}

TEST(IfNoneMatchTest, StarMatchesAnyTag) {
  EXPECT_TRUE(IfNoneMatchMatches("*", kTag));
  EXPECT_TRUE(IfNoneMatchMatches(" \t* ", kTag)) << "surrounding whitespace is not part of it";
  EXPECT_TRUE(IfNoneMatchMatches("*", "W/\"anything\""));
}

TEST(IfNoneMatchTest, StarIsNotAMemberOfAList) {
  // "*" stands alone (If-None-Match = "*" / #entity-tag); in a list it is a malformed member.
  EXPECT_FALSE(IfNoneMatchMatches("*, \"12-9f3a01bc\"", kTag));
  EXPECT_FALSE(IfNoneMatchMatches("**", kTag));
}

TEST(IfNoneMatchTest, AnyMemberOfAListMatches) {
  EXPECT_TRUE(IfNoneMatchMatches("\"12-9f3a01bc\", \"a\"", kTag)) << "first";
  EXPECT_TRUE(IfNoneMatchMatches("\"a\", \"b\", \"12-9f3a01bc\"", kTag)) << "last";
  EXPECT_TRUE(IfNoneMatchMatches("\"a\",\"12-9f3a01bc\",\"b\"", kTag)) << "no spaces";
  EXPECT_FALSE(IfNoneMatchMatches("\"a\", \"b\", \"c\"", kTag));
}

TEST(IfNoneMatchTest, SpacesAndTabsAroundMembersAreIgnored) {
  EXPECT_TRUE(IfNoneMatchMatches("  \"12-9f3a01bc\"  ", kTag));
  EXPECT_TRUE(IfNoneMatchMatches("\"a\" ,\t\"12-9f3a01bc\"\t", kTag));
  EXPECT_TRUE(IfNoneMatchMatches("\"a\"\t,\t \t\"12-9f3a01bc\"", kTag));
}

TEST(IfNoneMatchTest, TheComparisonIsWeak) {
  // RFC 9110 13.1.2: If-None-Match uses the weak comparison: W/"x" and "x" match each other.
  EXPECT_TRUE(IfNoneMatchMatches("W/\"12-9f3a01bc\"", kTag));
  EXPECT_TRUE(IfNoneMatchMatches("\"a\", W/\"12-9f3a01bc\"", kTag));
  EXPECT_TRUE(IfNoneMatchMatches("\"12-9f3a01bc\"", "W/\"12-9f3a01bc\"")) << "a weak ETag";
  EXPECT_TRUE(IfNoneMatchMatches("W/\"12-9f3a01bc\"", "W/\"12-9f3a01bc\""));
  EXPECT_FALSE(IfNoneMatchMatches("W/\"13-9f3a01bc\"", kTag));
}

TEST(IfNoneMatchTest, TheWeakPrefixIsCaseSensitive) {
  // weak = %s"W/": a lower-case w/ makes the member malformed.
  EXPECT_FALSE(IfNoneMatchMatches("w/\"12-9f3a01bc\"", kTag));
  EXPECT_FALSE(IfNoneMatchMatches("W /\"12-9f3a01bc\"", kTag));
}

TEST(IfNoneMatchTest, AMalformedMemberMatchesNothing) {
  EXPECT_FALSE(IfNoneMatchMatches("12-9f3a01bc", kTag)) << "unquoted";
  EXPECT_FALSE(IfNoneMatchMatches("\"12-9f3a01bc", kTag)) << "no closing quote";
  EXPECT_FALSE(IfNoneMatchMatches("12-9f3a01bc\"", kTag)) << "no opening quote";
  EXPECT_FALSE(IfNoneMatchMatches("W/", kTag));
  EXPECT_FALSE(IfNoneMatchMatches("W/12-9f3a01bc", kTag));
  EXPECT_FALSE(IfNoneMatchMatches("'12-9f3a01bc'", kTag)) << "single quotes";
}

TEST(IfNoneMatchTest, ParsingStopsAtTheFirstMalformedMember) {
  // What follows a malformed member cannot be told apart reliably: nothing after it matches.
  EXPECT_FALSE(IfNoneMatchMatches("junk, \"12-9f3a01bc\"", kTag));
  EXPECT_FALSE(IfNoneMatchMatches("\"a\", junk, \"12-9f3a01bc\"", kTag));
  EXPECT_FALSE(IfNoneMatchMatches("\"a\" \"12-9f3a01bc\"", kTag)) << "members need a comma";
  EXPECT_FALSE(IfNoneMatchMatches("\"a\"; \"12-9f3a01bc\"", kTag));
  // A member that matched before it still counts.
  EXPECT_TRUE(IfNoneMatchMatches("\"12-9f3a01bc\", junk", kTag));
}

TEST(IfNoneMatchTest, ACommaInsideQuotesIsPartOfTheTag) {
  // etagc includes ",": the list is split between tags, never inside one.
  EXPECT_TRUE(IfNoneMatchMatches("\"a,b\"", "\"a,b\""));
  EXPECT_FALSE(IfNoneMatchMatches("\"a,b\"", "\"a\""));
  EXPECT_FALSE(IfNoneMatchMatches("\"a,b\"", "\"b\""));
  EXPECT_TRUE(IfNoneMatchMatches("\"x, y\", \"a,b\"", "\"a,b\""));
  EXPECT_TRUE(IfNoneMatchMatches("\"a,b\", \"12-9f3a01bc\"", kTag));
  EXPECT_FALSE(IfNoneMatchMatches("\"a, \"12-9f3a01bc\"\"", kTag))
      << "a quote ends the tag: what follows is malformed";
}

TEST(IfNoneMatchTest, ATrailingCommaIsHarmless) {
  EXPECT_TRUE(IfNoneMatchMatches("\"12-9f3a01bc\",", kTag));
  EXPECT_FALSE(IfNoneMatchMatches("\"a\",", kTag));
  EXPECT_FALSE(IfNoneMatchMatches("\"a\", ", kTag));
}

// If-Match compares strongly: a weak member never matches, even the same opaque tag.
TEST(IfMatchTest, MatchesOnlyTheCurrentStrongTagOrAStar) {
  EXPECT_TRUE(IfMatchMatches(kTag, kTag));
  EXPECT_TRUE(IfMatchMatches("*", kTag));
  EXPECT_TRUE(IfMatchMatches(std::string("\"other\", ").append(kTag), kTag));
  EXPECT_FALSE(IfMatchMatches(std::string("W/").append(kTag), kTag));
  EXPECT_FALSE(IfMatchMatches("\"other\"", kTag));
  EXPECT_FALSE(IfMatchMatches(std::string(kTag).append(", garbage"), "\"x\"")) << "malformed";
  EXPECT_EQ(FirstTag(std::string("W/\"a\", ").append(kTag)), "\"a\"");
  EXPECT_EQ(FirstTag("*"), "");
  EXPECT_EQ(FirstTag("nonsense"), "");
}

}  // namespace
}  // namespace vigil::http
