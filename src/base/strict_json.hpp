// Strict JSON: what vigil accepts from clients, parsed in one pass.
//
// Boost.JSON's own parser accepts two things a client must not be able to send, because they
// change a document's meaning without an error:
//   * a member name twice in one object ({"events": [...], "events": [...]}): the last one wins
//     there, while a proxy or an auditing tool in front of vigil may read the first;
//   * a number a double cannot hold: 1e309 becomes infinity (stored, then written as null), and
//     an integer beyond 64 bits is rounded (123456789012345678901234567890 comes back as
//     1.2345678901234568e+29).
// ParseStrictJson refuses both, naming the value at fault as a path into the document
// ("settings.n", "events[0].data.error.context.x"). Integers from -2^63 to 2^64-1 are kept
// exactly; numbers with a fraction or an exponent are doubles and must be finite.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <string_view>

#include "base/result.hpp"

namespace vigil {

// The document in `text`, or kInvalidArgument: not JSON, nested deeper than `max_depth`, a
// duplicate member name, or a number out of range (with the path in Error::field).
Result<boost::json::value> ParseStrictJson(std::string_view text, size_t max_depth = 32);

}  // namespace vigil
