// The request parser: Beast's HTTP/1.1 grammar and limits (basic_parser), with what it reads kept
// the way a Request holds it — the target, and the fields as lower-case names and values in
// order — instead of in a beast::http::fields container first: no allocation per field for the
// container, and no copy from it into the Request.
//
// Framing is decided strictly (RFC 9112), because a request whose body length two parsers read
// differently can smuggle a second request past a proxy:
//   * Transfer-Encoding, if present, must be exactly `chunked`, in one field, in HTTP/1.1; any
//     other coding or list (`gzip`, `identity`, `chunked, identity`, `xchunked`) is refused,
//     not ignored (§6.1). With Content-Length beside it, Beast refuses the request already.
//   * A field line folded onto the next (obs-fold: a line that begins with a space or tab) is
//     refused, not joined (§5.2), and so is a space-led line after the request line (§2.2).
// A refused request sets `framing_error` (what the client is told) and fails with a Beast HTTP
// error; the server answers 400 and closes the connection.
//
// Included by the session (session.cpp) and the parser's fuzz target only: it brings Boost.Beast.
#pragma once

#include <boost/asio/buffer.hpp>
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
  std::string framing_error;  // why the framing was refused; empty when it was not

  // put(), but first refuses a complete header that folds a field line (see above). Call it
  // instead of put() until the header is done.
  size_t Put(boost::asio::const_buffer buffer, error_code& ec);

  // What to tell the client about a request this parser refused with `ec`.
  std::string Describe(const error_code& ec) const;

  // The first field with this lower-case name, or empty.
  std::string_view Header(std::string_view lower_name) const;

  // The request as a Beast message, for the WebSocket handshake (which Beast completes from it).
  boost::beast::http::request<boost::beast::http::string_body> ToMessage() const;

 private:
  int transfer_encoding_fields_ = 0;
  std::string transfer_encoding_;  // the last Transfer-Encoding field's value

  void on_request_impl(boost::beast::http::verb m, string_view, string_view t, int v,
                       error_code&) override;
  void on_response_impl(int, string_view, int, error_code&) override {}
  void on_field_impl(boost::beast::http::field, string_view name, string_view value,
                     error_code&) override;
  void on_header_impl(error_code& ec) override;
  void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override;
  size_t on_body_impl(string_view data, error_code&) override;
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  size_t on_chunk_body_impl(std::uint64_t, string_view data, error_code&) override;
  void on_finish_impl(error_code&) override {}
};

}  // namespace vigil::http
