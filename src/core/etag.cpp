#include "core/etag.hpp"

#include <charconv>

namespace vigil::core {

namespace {
// The decimal digits of n, written into `buffer`.
std::string_view Decimal(int64_t n, char (&buffer)[24]) {
  const char* end = std::to_chars(buffer, buffer + sizeof buffer, n).ptr;
  return std::string_view(buffer, static_cast<size_t>(end - buffer));
}
}  // namespace

void TagHasher::Mix(std::string_view bytes) {
  for (unsigned char c : bytes) {
    h_ ^= c;
    h_ *= 1099511628211ull;
  }
}

TagHasher& TagHasher::Add(std::string_view part) {
  // The length first, in a fixed byte order, so that the same parts hash alike on every machine.
  char length[8];
  for (int i = 0; i < 8; ++i) {
    length[i] = static_cast<char>((uint64_t{part.size()} >> (8 * i)) & 0xff);
  }
  Mix(std::string_view(length, sizeof length));
  Mix(part);
  return *this;
}

TagHasher& TagHasher::Add(int64_t number) {
  char digits[24];
  return Add(Decimal(number, digits));
}

TagHash TagHasher::Hash32() const {
  return {.value = (h_ ^ (h_ >> 32)) & 0xffffffffu, .hex_digits = 8};
}

TagHash TagHasher::Hash64() const { return {.value = h_, .hex_digits = 16}; }

std::string StrongETag(TagHash hash, const TagSpelling& spelling) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string tag;
  tag.reserve(2 + spelling.prefix.size() + 21 + hash.hex_digits + spelling.suffix.size());
  tag += '"';
  tag += spelling.prefix;
  if (spelling.version) {
    char digits[24];
    tag += Decimal(*spelling.version, digits);
    tag += '-';
  }
  for (int shift = 4 * (hash.hex_digits - 1); shift >= 0; shift -= 4) {
    tag += kHex[(hash.value >> shift) & 0xf];
  }
  tag += spelling.suffix;
  tag += '"';
  return tag;
}

std::optional<int64_t> TagVersion(std::string_view tag) {
  if (tag.size() < 4 || tag.front() != '"' || tag.back() != '"') return std::nullopt;
  tag = tag.substr(1, tag.size() - 2);
  const size_t dash = tag.find('-');
  if (dash == 0 || dash == std::string_view::npos || dash > 18) return std::nullopt;
  int64_t version = 0;
  for (char c : tag.substr(0, dash)) {
    if (c < '0' || c > '9') return std::nullopt;
    version = version * 10 + (c - '0');
  }
  return version;
}

}  // namespace vigil::core
