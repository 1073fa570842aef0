// The request parser: Beast's HTTP/1.1 grammar and limits (basic_parser), with what it reads kept
// the way a Request holds it — the target, and the fields as lower-case names and values in
// order — instead of in a beast::http::fields container first: no allocation per field for the
// container, and no copy from it into the Request.
//
// Included by the server only: it brings Boost.Beast.
#pragma once

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil::http {

class RequestParser final : public boost::beast::http::basic_parser<true> {
 public:
  using string_view = boost::beast::string_view;
  using error_code = boost::beast::error_code;

  boost::beast::http::verb method = boost::beast::http::verb::unknown;
  unsigned version = 11;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;

  // The first field with this lower-case name, or empty.
  std::string_view Header(std::string_view lower_name) const;

  // The request as a Beast message, for the WebSocket handshake (which Beast completes from it).
  boost::beast::http::request<boost::beast::http::string_body> ToMessage() const;

 private:
  void on_request_impl(boost::beast::http::verb m, string_view, string_view t, int v,
                       error_code&) override;
  void on_response_impl(int, string_view, int, error_code&) override {}
  void on_field_impl(boost::beast::http::field, string_view name, string_view value,
                     error_code&) override;
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override;
  size_t on_body_impl(string_view data, error_code&) override;
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  size_t on_chunk_body_impl(std::uint64_t, string_view data, error_code&) override;
  void on_finish_impl(error_code&) override {}
};

}  // namespace vigil::http
