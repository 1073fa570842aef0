// Result<T> and Error: how every layer of vigil reports failure.
//
// An Error's code is chosen by what the caller should do next, not by where the failure happened:
//   kInvalidArgument   fix the request (HTTP 400)
//   kUnauthenticated   present credentials (401)
//   kPermissionDenied  do not retry with these credentials (403)
//   kNotFound          the thing does not exist for this caller (404)
//   kMethodNotAllowed  use another method on this path (405)
//   kConflict          the request is illegal in the current state: re-read and decide (409)
//   kStaleVersion      the resource changed since it was read: re-read and retry (409)
//   kPreconditionFailed  the request's If-Match names no current version: re-read and retry (412)
//   kPayloadTooLarge   send less (413)
//   kHeadersTooLarge   send fewer or smaller header fields (431)
//   kUnsupportedMedia  send JSON (415)
//   kRateLimited       wait, then retry (429)
//   kUnavailable       retry the same call later (503)
//   kInternal          a bug; retrying may not help (500)
// The one table from code to HTTP status lives in http/problem.cpp.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <utility>

namespace vigil {

enum class ErrorCode {
  kInvalidArgument,
  kUnauthenticated,
  kPermissionDenied,
  kNotFound,
  kMethodNotAllowed,
  kConflict,
  kStaleVersion,
  kPreconditionFailed,
  kPayloadTooLarge,
  kHeadersTooLarge,
  kUnsupportedMedia,
  kRateLimited,
  kUnavailable,
  kInternal,
};

// Stable, machine-readable name of a code ("invalid_argument", ...); used in problem `type`s.
const char* ErrorCodeName(ErrorCode code);

struct Error;
// The whole story, for a log line or the command line: the message, then the cause if any.
std::string Describe(const Error& error);

// What the client is told and what only the log is: `message` is written for the client (it is
// the problem's `detail`, except for kInternal: see ClientMessage); `cause` is what
// failed inside — a library's message, a file path, a table name — for the server's log and the
// command line, and is never shown to an HTTP client.
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;  // human-readable, for the client
  std::string field;  // the offending input, e.g. "events[3].data.tool_execution_id"; may be empty
  boost::json::object extra;  // further members for the problem body (e.g. "allowed": [...])
  std::string cause;          // for the log only; may be empty

  Error() = default;
  Error(ErrorCode c, std::string m, std::string f = {})
      : code(c), message(std::move(m)), field(std::move(f)) {}
};

template <typename T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> Fail(ErrorCode code, std::string message, std::string field = {}) {
  return tl::unexpected<Error>(Error(code, std::move(message), std::move(field)));
}
inline tl::unexpected<Error> Fail(Error e) { return tl::unexpected<Error>(std::move(e)); }

// What a client is told of an error, over any transport (a problem's `detail`, a stream's error
// frame): its message, except for kInternal, whose message is not written for clients: then a
// fixed sentence, and whoever answers logs the error (Describe) under the request's id.
std::string_view ClientMessage(const Error& error);

// kInternal (a bug) with `cause` for the log; the client is told nothing of it.
inline Error InternalError(std::string cause) {
  Error error(ErrorCode::kInternal, "internal error");
  error.cause = std::move(cause);
  return error;
}

}  // namespace vigil
