#include "api/handler_util.hpp"

#include <charconv>

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

Result<size_t> LimitParam(const http::Request& req, size_t fallback, size_t max) {
  auto text = req.Query("limit");
  if (!text) return fallback;
  size_t n = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
  if (ec != std::errc() || end != text->data() + text->size() || n < 1 || n > max) {
    return Fail(ErrorCode::kInvalidArgument,
                "'limit' must be an integer from 1 to " + std::to_string(max), "limit");
  }
  return n;
}

http::Response Json(int status, std::string body) {
  http::Response res = http::JsonResponse(status, std::move(body));
  res.Set("Cache-Control", "no-store");
  return res;
}

}  // namespace vigil::api
