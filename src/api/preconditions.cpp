#include "api/preconditions.hpp"

#include <string>
#include <utility>

#include "api/handler_util.hpp"
#include "core/etag.hpp"
#include "http/conditional.hpp"

namespace vigil::api {

void WithIfMatch(const ApiContext& ctx, const http::Request& req, const http::Responder& respond,
                 VersionedWrite write) {
  const std::string_view header = req.Header("if-match");
  if (header.empty()) return write(std::nullopt);
  ctx.engine.Get(req.principal, req.path_params[0],
                 [&req, respond, write = std::move(write)](Result<engine::SnapshotPtr> r) {
                   if (!r) return RespondError(req, respond, r.error());
                   const engine::Snapshot& s = **r;
                   const std::string_view header = req.Header("if-match");
                   if (http::IfMatchMatches(header, s.etag())) return write(s.version());
                   Error error(ErrorCode::kPreconditionFailed,
                               "If-Match names no current version of the investigation; it is "
                               "at version " +
                                   std::to_string(s.version()) + ": read it again",
                               "If-Match");
                   error.extra["current_version"] = s.version();
                   const std::optional<int64_t> submitted =
                       core::TagVersion(http::FirstTag(header));
                   error.extra["submitted_version"] =
                       submitted ? boost::json::value(*submitted) : boost::json::value(nullptr);
                   RespondError(req, respond, error);
                 });
}

Error WriteError(const http::Request& req, Error error) {
  if (error.code == ErrorCode::kStaleVersion && !req.Header("if-match").empty()) {
    error.code = ErrorCode::kPreconditionFailed;
    error.field = "If-Match";
  }
  return error;
}

}  // namespace vigil::api
