// Small, total accessors over Boost.JSON values: a missing or mistyped member yields the fallback.
// Used where the shape was validated before (the fold reads events that passed validation).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil {

std::string_view StringOr(const boost::json::object& o, std::string_view key,
                          std::string_view fallback = {});
std::optional<double> NumberOf(const boost::json::value& v);
double NumberOr(const boost::json::object& o, std::string_view key, double fallback);
int64_t IntOr(const boost::json::object& o, std::string_view key, int64_t fallback);
bool BoolOr(const boost::json::object& o, std::string_view key, bool fallback);
// The member if it is an object, else an empty object.
const boost::json::object& ObjectOr(const boost::json::object& o, std::string_view key);

// A timestamp as JSON: ISO-8601 string, or null.
boost::json::value IsoOrNull(std::optional<int64_t> ms);

}  // namespace vigil
