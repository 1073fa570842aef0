// What every handler does the same way: answer errors as problems, check roles, read JSON bodies,
// send JSON.
#pragma once

#include <boost/json/value.hpp>
#include <string>

#include "base/result.hpp"
#include "http/message.hpp"
#include "http/problem.hpp"

namespace vigil::api {

inline void RespondError(const http::Request& req, const http::Responder& respond,
                         const Error& error) {
  respond(http::Problem(error, req));
}

// kPermissionDenied unless the principal may write (role dev or admin).
Result<void> RequireWriter(const http::Request& req);

// The body as JSON, refusing a Content-Type other than JSON.
Result<boost::json::value> JsonBody(const http::Request& req);

// The query parameter "limit" as an integer from 1 to `max`; `fallback` when absent.
Result<size_t> LimitParam(const http::Request& req, size_t fallback, size_t max);

// 200 (or `status`) with a JSON body and `Cache-Control: no-store` unless set otherwise.
http::Response Json(int status, std::string body);

}  // namespace vigil::api
