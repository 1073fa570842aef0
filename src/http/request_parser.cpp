#include "http/request_parser.hpp"

#include "http/message.hpp"

namespace vigil::http {
namespace {

// ASCII only (header names are tokens): no locale lookup per character.
std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

std::string_view RequestParser::Header(std::string_view lower_name) const {
  return FirstHeader(headers, lower_name);
}

boost::beast::http::request<boost::beast::http::string_body> RequestParser::ToMessage() const {
  boost::beast::http::request<boost::beast::http::string_body> message{method, target, version};
  for (const auto& [name, value] : headers) message.insert(name, value);
  message.body() = body;
  return message;
}

void RequestParser::on_request_impl(boost::beast::http::verb m, string_view, string_view t, int v,
                                    error_code&) {
  method = m;
  target.assign(t.data(), t.size());
  version = static_cast<unsigned>(v);
}

void RequestParser::on_field_impl(boost::beast::http::field, string_view name, string_view value,
                                  error_code&) {
  headers.emplace_back(Lower(name), std::string(value.data(), value.size()));
}

void RequestParser::on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) {
  // The parser has checked the length against the body limit already.
  if (length) body.reserve(static_cast<size_t>(*length));
}

size_t RequestParser::on_body_impl(string_view data, error_code&) {
  body.append(data.data(), data.size());
  return data.size();
}

size_t RequestParser::on_chunk_body_impl(std::uint64_t, string_view data, error_code&) {
  body.append(data.data(), data.size());
  return data.size();
}

}  // namespace vigil::http
