#include "core/etag.hpp"

#include <gtest/gtest.h>

#include <string>

namespace vigil::core {
namespace {

// Each kind of tag vigil sends, spelled as docs/api.md says.
TEST(ETagTest, TheInvestigationsTagIsVersionDashEightHex) {
  EXPECT_EQ(StrongETag({.value = 0x9e64eed9, .hex_digits = 8}, {.version = 62}), "\"62-9e64eed9\"");
  EXPECT_EQ(StrongETag({.value = 0x0000000f, .hex_digits = 8}, {.version = 1}), "\"1-0000000f\"")
      << "zero-padded to eight digits";
}

TEST(ETagTest, AnEventsPagesTagIsEVersionDashEightHex) {
  EXPECT_EQ(StrongETag({.value = 0xa02a0fcb, .hex_digits = 8}, {.prefix = "e", .version = 16}),
            "\"e16-a02a0fcb\"");
}

TEST(ETagTest, AFilesTagIsSixteenHexAndItsGzipVariantEndsInGz) {
  const TagHash h{.value = 0x0123456789abcdef, .hex_digits = 16};
  EXPECT_EQ(StrongETag(h), "\"0123456789abcdef\"");
  EXPECT_EQ(StrongETag(h, {.suffix = "-gz"}), "\"0123456789abcdef-gz\"");
  EXPECT_EQ(StrongETag({.value = 1, .hex_digits = 16}), "\"0000000000000001\"");
}

TEST(ETagTest, TheHashIsSpelledAtItsWidth) {
  TagHasher h;
  h.Add("x");
  EXPECT_EQ(StrongETag(h.Hash32()).size(), 2u + 8u);
  EXPECT_EQ(StrongETag(h.Hash64()).size(), 2u + 16u);
  EXPECT_LE(h.Hash32().value, 0xffffffffu);
}

TEST(ETagTest, PartsAreDelimited) {
  auto hash = [](std::initializer_list<std::string_view> parts) {
    TagHasher h;
    for (std::string_view p : parts) h.Add(p);
    return h.Hash64().value;
  };
  EXPECT_NE(hash({"ab", "c"}), hash({"a", "bc"}));
  EXPECT_NE(hash({"abc"}), hash({"ab", "c"}));
  EXPECT_NE(hash({"", "x"}), hash({"x", ""}));
  EXPECT_NE(hash({"x"}), hash({"x", ""}));
  EXPECT_NE(hash({}), hash({""}));
  // Bytes that could pass for a delimiter do not blur the boundary either.
  EXPECT_NE(hash({"a\xff", "b"}), hash({"a",
                                        "\xff"
                                        "b"}));
}

TEST(ETagTest, ANumberIsHashedAsItsDecimalDigits) {
  EXPECT_EQ(TagHasher().Add(int64_t{1795320011820}).Hash64().value,
            TagHasher().Add("1795320011820").Hash64().value);
  EXPECT_EQ(TagHasher().Add(-7).Hash64().value, TagHasher().Add("-7").Hash64().value);
}

// The same parts give the same tag on every machine and in every build: a tag a client holds
// stays current until what it names changes.
TEST(ETagTest, ValuesAreStable) {
  EXPECT_EQ(TagHasher().Hash64().value, 0xcbf29ce484222325u) << "FNV-1a's offset basis";
  EXPECT_EQ(StrongETag(TagHasher().Add("inv_6bd3d74c0d22fc780185e050").Add(1795320011820).Hash32(),
                       {.version = 1}),
            "\"1-2680be9b\"");
  EXPECT_EQ(StrongETag(TagHasher().Add("<svg/>").Hash64()), "\"4c3ada93cc3f6654\"");
  EXPECT_EQ(StrongETag(TagHasher().Add("\"16-de8f10e9\"").Add("0_000000").Add(100).Add("").Hash32(),
                       {.prefix = "e", .version = 16}),
            "\"e16-6a74a513\"");
}

TEST(TagVersionTest, ReadsTheVersionOfAnInvestigationsTag) {
  EXPECT_EQ(TagVersion(StrongETag({0x9e64eed9, 8}, {.version = 62})), 62);
  EXPECT_EQ(TagVersion("\"0-00000000\""), 0);
  EXPECT_EQ(TagVersion(StrongETag({1, 8}, {.prefix = "e", .version = 3})), std::nullopt)
      << "an /events page's tag is not an investigation's";
  EXPECT_EQ(TagVersion("\"0123456789abcdef\""), std::nullopt);
  EXPECT_EQ(TagVersion("62-9e64eed9"), std::nullopt) << "unquoted";
  EXPECT_EQ(TagVersion("\"-1\""), std::nullopt);
}

}  // namespace
}  // namespace vigil::core
