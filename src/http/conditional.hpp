// Conditional requests (RFC 9110 section 13): If-None-Match against an entity tag.
#pragma once

#include <string_view>

namespace vigil::http {

// Whether an If-None-Match header value matches `etag` (which is a quoted strong tag, e.g.
// "\"12-9f3a01bc\""). The header may be "*", or a comma-separated list of tags, each strong or weak
// (W/"..."); the comparison is weak, as RFC 9110 requires for If-None-Match. A malformed member
// matches nothing.
bool IfNoneMatchMatches(std::string_view header, std::string_view etag);

}  // namespace vigil::http
