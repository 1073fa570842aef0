// If-None-Match parsing: never crashes, and a header made of the tag alone always matches.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/conditional.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t split = input.find('\n');
  std::string_view header = input.substr(0, split);
  std::string etag =
      split == std::string_view::npos ? "\"1-abcdef01\"" : std::string(input.substr(split + 1));
  (void)vigil::http::IfNoneMatchMatches(header, etag);
  (void)vigil::http::IfNoneMatchMatches(header, "\"1-abcdef01\"");
  if (!etag.empty() && etag.find_first_of(",\" \t") == std::string::npos) {
    std::string quoted = "\"" + etag + "\"";
    if (!vigil::http::IfNoneMatchMatches(quoted, quoted)) std::abort();
  }
  return 0;
}
