// Entity tags: the one way vigil names a version of what it serves (the investigation's tag, an
// /events page's tag, a web UI file's tag).
//
// A tag is a hash of the parts that tell two versions apart, spelled
//   "<prefix><version>-<hex><suffix>"   e.g. "62-9e64eed9", "e16-a02a0fcb", "0123456789abcdef-gz"
// with every piece but the hash optional. The hash only has to tell versions apart, not resist
// anyone: FNV-1a, 64 bits, over the parts, each framed by its length so that ("ab", "c") and
// ("a", "bc") differ; 8 hex digits (folded to 32 bits) or 16.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::core {

// A hash and how many hex digits spell it.
struct TagHash {
  uint64_t value = 0;
  int hex_digits = 16;  // 8 or 16
};

class TagHasher {
 public:
  TagHasher& Add(std::string_view part);
  // Its decimal digits, as one part: Add(42) is Add("42").
  TagHasher& Add(int64_t number);

  TagHash Hash32() const;  // 8 hex digits
  TagHash Hash64() const;  // 16 hex digits

 private:
  void Mix(std::string_view bytes);
  uint64_t h_ = 14695981039346656037ull;
};

struct TagSpelling {
  std::string_view prefix;         // before the version: "e" for an /events page
  std::optional<int64_t> version;  // "<version>-" before the hash
  std::string_view suffix;         // after the hash: "-gz" for a gzip variant
};

// The strong tag, quotes included: "\"<prefix><version>-<hex><suffix>\"".
std::string StrongETag(TagHash hash, const TagSpelling& spelling = {});

// The version a tag of an investigation (no prefix: "\"62-9e64eed9\"") was made for; nullopt
// for a tag of another spelling.
std::optional<int64_t> TagVersion(std::string_view tag);

}  // namespace vigil::core
