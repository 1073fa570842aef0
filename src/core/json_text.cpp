#include "core/json_text.hpp"

#include <charconv>
#include <cmath>

namespace vigil::core {

namespace {

void AppendString(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run = 0;  // start of the run of bytes that need no escaping
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xf]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

template <typename T>
void AppendNumber(T n, std::string& out) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, end);
}

}  // namespace

void AppendJsonText(const boost::json::value& v, std::string& out) {
  switch (v.kind()) {
    case boost::json::kind::null: out += "null"; return;
    case boost::json::kind::bool_: out += v.get_bool() ? "true" : "false"; return;
    case boost::json::kind::int64: AppendNumber(v.get_int64(), out); return;
    case boost::json::kind::uint64: AppendNumber(v.get_uint64(), out); return;
    case boost::json::kind::double_:
      if (std::isfinite(v.get_double())) {
        AppendNumber(v.get_double(), out);
      } else {
        out += "null";
      }
      return;
    case boost::json::kind::string: AppendString(v.get_string(), out); return;
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

}  // namespace vigil::core
