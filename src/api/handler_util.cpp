#include "api/handler_util.hpp"

#include "core/input.hpp"

namespace vigil::api {

Result<void> RequireWriter(const http::Request& req) {
  if (!req.principal.can_write) {
    return Fail(ErrorCode::kPermissionDenied, "this action needs the dev or admin role");
  }
  return {};
}

Result<boost::json::value> JsonBody(const http::Request& req) {
  std::string_view type = req.Header("content-type");
  if (!req.body.empty() && !type.empty() && type.find("json") == std::string_view::npos) {
    return Fail(ErrorCode::kUnsupportedMedia, "send the body as application/json", "content-type");
  }
  return core::ParseJsonBody(req.body);
}

http::Response Json(int status, std::string body) {
  http::Response res = http::JsonResponse(status, std::move(body));
  res.Set("Cache-Control", "no-store");
  return res;
}

}  // namespace vigil::api
