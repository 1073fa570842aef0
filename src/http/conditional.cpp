#include "http/conditional.hpp"

namespace vigil::http {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls `match(tag, weak)` for each member of an entity-tag list until it returns true. Stops at
// the first malformed member. `tag` includes its quotes, not the W/ of a weak one.
template <typename Match>
bool AnyTag(std::string_view header, Match match) {
  std::string_view rest = header;
  while (true) {
    rest = Trim(rest);
    if (rest.empty()) return false;
    const bool weak = rest.size() >= 2 && rest[0] == 'W' && rest[1] == '/';
    if (weak) rest.remove_prefix(2);
    if (rest.empty() || rest.front() != '"') return false;
    size_t close = rest.find('"', 1);
    if (close == std::string_view::npos) return false;
    if (match(rest.substr(0, close + 1), weak)) return true;
    rest = Trim(rest.substr(close + 1));
    if (rest.empty()) return false;
    if (rest.front() != ',') return false;
    rest.remove_prefix(1);
  }
}

}  // namespace

bool IfNoneMatchMatches(std::string_view header, std::string_view etag) {
  header = Trim(header);
  if (header == "*") return true;
  std::string_view opaque = etag.substr(etag.starts_with("W/") ? 2 : 0);
  return AnyTag(header, [&](std::string_view tag, bool) { return tag == opaque; });
}

bool IfMatchMatches(std::string_view header, std::string_view etag) {
  header = Trim(header);
  if (header == "*") return true;
  if (etag.starts_with("W/")) return false;
  return AnyTag(header, [&](std::string_view tag, bool weak) { return !weak && tag == etag; });
}

std::string_view FirstTag(std::string_view header) {
  std::string_view first;
  AnyTag(header, [&](std::string_view tag, bool) {
    first = tag;
    return true;
  });
  return first;
}

}  // namespace vigil::http
