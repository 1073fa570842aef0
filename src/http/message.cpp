#include "http/message.hpp"

#include <algorithm>

namespace vigil::http {

std::string_view MethodName(Method m) {
  switch (m) {
    case Method::kGet:
      return "GET";
    case Method::kHead:
      return "HEAD";
    case Method::kPost:
      return "POST";
    case Method::kPut:
      return "PUT";
    case Method::kPatch:
      return "PATCH";
    case Method::kDelete:
      return "DELETE";
    case Method::kOptions:
      return "OPTIONS";
    case Method::kOther:
      return "OTHER";
  }
  return "OTHER";
}

std::string_view FirstHeader(const std::vector<std::pair<std::string, std::string>>& headers,
                             std::string_view lower_name) {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return {};
}

std::string_view Request::Header(std::string_view lower_name) const {
  return FirstHeader(headers, lower_name);
}

bool Request::HasHeader(std::string_view lower_name) const {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& header) { return header.first == lower_name; });
}

std::optional<std::string_view> Request::Query(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return std::string_view(value);
  }
  return std::nullopt;
}

void Response::Set(std::string_view name, std::string value) {
  auto it = std::find_if(headers.begin(), headers.end(),
                         [&](const auto& h) { return EqualsIgnoreCase(h.first, name); });
  if (it == headers.end()) {
    if (headers.empty()) headers.reserve(6);  // one allocation for a response's usual headers
    headers.emplace_back(std::string(name), std::move(value));
    return;
  }
  it->second = std::move(value);
  // Set replaces: drop any further copies so the header ends up with exactly one value.
  headers.erase(std::remove_if(std::next(it), headers.end(),
                               [&](const auto& h) { return EqualsIgnoreCase(h.first, name); }),
                headers.end());
}

std::string_view Response::Get(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return {};
}

Response JsonResponse(int status, std::string body) {
  Response response;
  response.status = status;
  response.headers.reserve(6);
  response.headers.emplace_back("Content-Type", "application/json");
  response.body = std::move(body);
  return response;
}

}  // namespace vigil::http
