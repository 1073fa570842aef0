// application/problem+json (RFC 9457): the one place vigil turns an Error into a response.
//   {"type": "urn:vigil:problem:<code>", "title": "...", "status": 400, "detail": "...",
//    "field": "events[2].event_type", "instance": "/api/v1/...", "request_id": "...", ...extra}
#pragma once

#include <string_view>

#include "base/result.hpp"
#include "http/message.hpp"

namespace vigil::http {

// The one table from error code to HTTP status.
int HttpStatus(ErrorCode code);

// Retry-After of every 503 (kUnavailable): the store cannot be written now, the server is
// stopping, a stream limit is reached. Long enough not to hammer a struggling server, short
// enough that a client resumes soon after it recovers.
inline constexpr int kUnavailableRetryAfterSeconds = 5;

// The answer for `error`. A 5xx is also logged here, once, with the request id and the error's
// cause; the client gets the request id to quote, and never the cause. A 500's detail is always
// the same sentence (its message is for the log: a 500 is a bug, and what the code was doing when
// it failed is nobody else's business). A 503 carries Retry-After (kUnavailableRetryAfterSeconds);
// a caller that knows better replaces it with Response::Set.
Response Problem(const Error& error, const Request& request);

// Logs an internal error once, under the id of the request it happened in (`what`: the error as
// Describe tells it), for answers that are not a Problem (a stream's error frame).
void LogInternalError(std::string_view request_id, std::string_view what);

}  // namespace vigil::http
