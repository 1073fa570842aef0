#include "base/json_text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <type_traits>

#include "base/clock.hpp"

namespace vigil {

namespace {

// Bytes that must be escaped in a JSON string: control characters, '"' and '\\'.
constexpr bool NeedsEscape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

void AppendString(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  const char* p = s.data();
  const char* end = p + s.size();
  while (p != end) {
    // Copy the longest run that needs no escaping in one go (most strings are one run).
    const char* run = p;
    while (p != end && !NeedsEscape(static_cast<unsigned char>(*p))) ++p;
    out.append(run, static_cast<size_t>(p - run));
    if (p == end) break;
    unsigned char c = static_cast<unsigned char>(*p++);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xf]);
    }
  }
  out.push_back('"');
}

template <typename T>
void AppendNumber(T n, std::string& out) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, end);
  if constexpr (std::is_floating_point_v<T>) {
    // A float stays a float on the wire: 0.0, not 0, so that one field has one JSON type.
    if (std::find_if(buf, end, [](char c) { return c == '.' || c == 'e'; }) == end) out += ".0";
  }
}

}  // namespace

void AppendJsonText(const boost::json::value& v, std::string& out) {
  switch (v.kind()) {
    case boost::json::kind::null:
      out += "null";
      return;
    case boost::json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      return;
    case boost::json::kind::int64:
      AppendNumber(v.get_int64(), out);
      return;
    case boost::json::kind::uint64:
      AppendNumber(v.get_uint64(), out);
      return;
    case boost::json::kind::double_:
      if (std::isfinite(v.get_double())) {
        AppendNumber(v.get_double(), out);
      } else {
        out += "null";
      }
      return;
    case boost::json::kind::string:
      AppendString(v.get_string(), out);
      return;
    case boost::json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : v.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        AppendJsonText(item, out);
      }
      out.push_back(']');
      return;
    }
    case boost::json::kind::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& kv : v.get_object()) {
        if (!first) out.push_back(',');
        first = false;
        AppendString(kv.key(), out);
        out.push_back(':');
        AppendJsonText(kv.value(), out);
      }
      out.push_back('}');
      return;
    }
  }
}

std::string ToJsonText(const boost::json::value& value) {
  std::string out;
  out.reserve(256);
  AppendJsonText(value, out);
  return out;
}

}  // namespace vigil

namespace vigil {

JsonWriter& JsonWriter::Key(std::string_view key) {
  Separate();
  AppendString(key, out_);
  out_.push_back(':');
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view s) {
  Separate();
  AppendString(s, out_);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Int(int64_t n) {
  Separate();
  AppendNumber(n, out_);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Double(double d) {
  Separate();
  if (std::isfinite(d)) {
    AppendNumber(d, out_);
  } else {
    out_ += "null";
  }
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Bool(bool b) {
  Separate();
  out_ += b ? "true" : "false";
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Null() {
  Separate();
  out_ += "null";
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Value(const boost::json::value& v) {
  Separate();
  AppendJsonText(v, out_);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Raw(std::string_view json_text) {
  Separate();
  out_.append(json_text);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Iso(int64_t epoch_ms) { return String(FormatIsoMs(epoch_ms)); }

JsonWriter& JsonWriter::IsoOrNull(std::optional<int64_t> epoch_ms) {
  return epoch_ms ? Iso(*epoch_ms) : Null();
}

}  // namespace vigil
