// JSON text as vigil writes it everywhere (responses, the stored log, frames).
//
// Boost.JSON 1.81 writes doubles in scientific form ("5E-1", "0E0"): valid JSON, but not what
// anyone reading a risk score expects. This writer prints the shortest decimal that round-trips
// (0.5, 0, 0.825), integers as integers, NaN and infinities as null, and strings escaped as
// RFC 8259 requires (UTF-8 is passed through).
#pragma once

#include <string>

#include <boost/json/value.hpp>

namespace vigil::core {

std::string ToJsonText(const boost::json::value& value);
void AppendJsonText(const boost::json::value& value, std::string& out);

}  // namespace vigil::core
