// application/problem+json (RFC 9457): the one place vigil turns an Error into a response.
//   {"type": "urn:vigil:problem:<code>", "title": "...", "status": 400, "detail": "...",
//    "field": "events[2].event_type", "instance": "/api/v1/...", "request_id": "...", ...extra}
#pragma once

#include <string_view>

#include "core/result.hpp"
#include "http/message.hpp"

namespace vigil::http {

// The one table from error code to HTTP status.
int HttpStatus(ErrorCode code);

Response Problem(const Error& error, const Request& request);

}  // namespace vigil::http
