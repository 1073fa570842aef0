#include "base/json_util.hpp"

#include "base/clock.hpp"

namespace vigil {

std::string_view StringOr(const boost::json::object& o, std::string_view key,
                          std::string_view fallback) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return fallback;
  return it->value().get_string();
}

std::optional<double> NumberOf(const boost::json::value& v) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return std::nullopt;
}

double NumberOr(const boost::json::object& o, std::string_view key, double fallback) {
  auto it = o.find(key);
  if (it == o.end()) return fallback;
  return NumberOf(it->value()).value_or(fallback);
}

int64_t IntOr(const boost::json::object& o, std::string_view key, int64_t fallback) {
  auto it = o.find(key);
  if (it == o.end()) return fallback;
  if (it->value().is_int64()) return it->value().get_int64();
  if (it->value().is_uint64()) return static_cast<int64_t>(it->value().get_uint64());
  if (it->value().is_double()) return static_cast<int64_t>(it->value().get_double());
  return fallback;
}

bool BoolOr(const boost::json::object& o, std::string_view key, bool fallback) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_bool()) return fallback;
  return it->value().get_bool();
}

const boost::json::object& ObjectOr(const boost::json::object& o, std::string_view key) {
  static const boost::json::object kEmpty;
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_object()) return kEmpty;
  return it->value().get_object();
}

boost::json::value IsoOrNull(std::optional<int64_t> ms) {
  if (!ms) return nullptr;
  return boost::json::value(FormatIsoMs(*ms));
}

}  // namespace vigil
