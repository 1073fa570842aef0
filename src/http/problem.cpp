#include "http/problem.hpp"

#include <spdlog/spdlog.h>

#include <boost/json/object.hpp>
#include <string>
#include <utility>

#include "base/json_text.hpp"
#include "http/response_head.hpp"

namespace vigil::http {
namespace {

std::shared_ptr<spdlog::logger> HttpLog() {
  std::shared_ptr<spdlog::logger> logger = spdlog::get("http");
  return logger ? logger : spdlog::default_logger();
}

}  // namespace

int HttpStatus(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kUnauthenticated:
      return 401;
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kMethodNotAllowed:
      return 405;
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kStaleVersion:
      return 409;
    case ErrorCode::kPreconditionFailed:
      return 412;
    case ErrorCode::kPayloadTooLarge:
      return 413;
    case ErrorCode::kHeadersTooLarge:
      return 431;
    case ErrorCode::kUnsupportedMedia:
      return 415;
    case ErrorCode::kRateLimited:
      return 429;
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

void LogInternalError(std::string_view request_id, std::string_view what) {
  HttpLog()->error("request {}: {}", request_id, what);
}

Response Problem(const Error& error, const Request& request) {
  const int status = HttpStatus(error.code);
  boost::json::object body;
  body["type"] = std::string("urn:vigil:problem:") + ErrorCodeName(error.code);
  body["title"] = ReasonPhrase(status);  // the same for every problem of the status
  body["status"] = status;
  if (status >= 500) {
    HttpLog()->error("request {}: {} {} {} {}: {}", request.request_id, status,
                     ErrorCodeName(error.code), MethodName(request.method), request.path,
                     Describe(error));
  }
  body["detail"] = ClientMessage(error);
  if (!error.field.empty()) body["field"] = error.field;
  body["instance"] = request.path;
  body["request_id"] = request.request_id;
  // Extra members never replace the standard ones: `status` must stay the response's status.
  for (const auto& [key, value] : error.extra) {
    if (!body.contains(key)) body[key] = value;
  }

  Response response;
  response.status = status;
  response.headers.emplace_back("Content-Type", "application/problem+json");
  // "Retry the same call later" (api.md section 1.5) needs to say when.
  if (status == 503) {
    response.headers.emplace_back("Retry-After", std::to_string(kUnavailableRetryAfterSeconds));
  }
  response.body = ToJsonText(body);
  return response;
}

}  // namespace vigil::http
