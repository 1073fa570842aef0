// Conditional requests (RFC 9110 section 13): If-None-Match and If-Match against an entity tag.
#pragma once

#include <string_view>

namespace vigil::http {

// Whether an If-None-Match header value matches `etag` (which is a quoted strong tag, e.g.
// "\"12-9f3a01bc\""). The header may be "*", or a comma-separated list of tags, each strong or weak
// (W/"..."); the comparison is weak, as RFC 9110 requires for If-None-Match. A malformed member
// matches nothing.
bool IfNoneMatchMatches(std::string_view header, std::string_view etag);

// Whether an If-Match header value matches `etag`, the current strong tag: "*" matches any; a
// list matches when one of its members is `etag` itself. The comparison is strong (RFC 9110
// section 13.1.1): a weak member never matches. A malformed member matches nothing.
bool IfMatchMatches(std::string_view header, std::string_view etag);

// The first member of an entity-tag list, with its quotes (without the W/ of a weak one); empty
// when the list starts with no well-formed member (or is "*").
std::string_view FirstTag(std::string_view header);

}  // namespace vigil::http
