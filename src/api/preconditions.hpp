// If-Match on every write to an investigation (RFC 9110 section 13.1.1): the write is made against
// the version the client read, or not at all.
//
// Without the header the write goes ahead as it is. With it, the investigation's current strong
// tag (the ETag of /progress and GET /investigations/{id}) must be one it names, or "*": otherwise
// 412, with `current_version` and `submitted_version` (the version its first tag was made for;
// null for a tag of another spelling). A match passes the current version on to the engine,
// which checks it again in the same step as the write, so a write that lands in between still
// gets 412, never a lost update.
#pragma once

#include <functional>
#include <optional>

#include "api/api.hpp"

namespace vigil::api {

// A write made against `expected` (nullopt: no If-Match); it answers through `respond`.
using VersionedWrite = std::function<void(std::optional<int64_t> expected)>;

// Checks the request's If-Match on investigation req.path_params[0], then runs `write`.
void WithIfMatch(const ApiContext& ctx, const http::Request& req, const http::Responder& respond,
                 VersionedWrite write);

// The answer to a failed write: a stale version is 412 when it came from If-Match (409 when it
// came from a body's `version`).
Error WriteError(const http::Request& req, Error error);

}  // namespace vigil::api
