#include "http/request_parser.hpp"

#include <boost/beast/http/error.hpp>
#include <cstring>

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

// Whether the header at the start of `data` folds a line: some CRLF of it is followed by a space
// or a tab. Looks only as far as the header's end (an empty line); a header not yet complete is
// not judged (Beast waits for the whole header before it parses any of it).
bool FoldsALine(std::string_view data) {
  const char* p = data.data();
  const char* const end = p + data.size();
  while (true) {
    const void* lf = std::memchr(p, '\n', static_cast<size_t>(end - p));
    if (lf == nullptr) return false;
    p = static_cast<const char*>(lf) + 1;
    if (p == end) return false;
    if (*p == ' ' || *p == '\t') return true;
    if (*p == '\r' || *p == '\n') return false;  // the empty line: the header ends here
  }
}

}  // namespace

size_t RequestParser::Put(boost::asio::const_buffer buffer, error_code& ec) {
  if (!is_header_done() &&
      FoldsALine(std::string_view(static_cast<const char*>(buffer.data()), buffer.size()))) {
    framing_error = "a header field line is folded onto the next line (obs-fold); send it on one";
    ec = boost::beast::http::error::bad_value;
    return 0;
  }
  return put(buffer, ec);
}

std::string RequestParser::Describe(const error_code& ec) const {
  namespace bhttp = boost::beast::http;
  if (!framing_error.empty()) return framing_error;
  // Beast refuses a second Transfer-Encoding after chunked, and Content-Length beside
  // Transfer-Encoding in either order (naming the field it met second).
  if (ec == bhttp::error::bad_transfer_encoding ||
      (ec == bhttp::error::bad_content_length && transfer_encoding_fields_ > 0)) {
    return "Transfer-Encoding must be 'chunked' alone, in one field, and not beside "
           "Content-Length";
  }
  if (ec == bhttp::error::bad_content_length || ec == bhttp::error::multiple_content_length) {
    return "malformed or conflicting Content-Length";
  }
  return "malformed request";
}

void RequestParser::on_header_impl(error_code& ec) {
  if (transfer_encoding_fields_ == 0) return;
  // Beast applies chunked only when it is the final coding, and ignores any other coding: the
  // body would then be framed by Content-Length, or read as the next request. Refuse instead.
  if (transfer_encoding_fields_ > 1 || !EqualsIgnoreCase(transfer_encoding_, "chunked")) {
    framing_error =
        "Transfer-Encoding must be exactly 'chunked', in one field; other codings are not accepted";
  } else if (version < 11) {
    framing_error = "Transfer-Encoding is not accepted in HTTP/1.0";
  } else {
    return;
  }
  ec = boost::beast::http::error::bad_transfer_encoding;
}

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
  auto& [lower, text] = headers.emplace_back(Lower(name), std::string(value.data(), value.size()));
  if (lower == "transfer-encoding") {
    ++transfer_encoding_fields_;
    transfer_encoding_ = text;
  }
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
