// The request parser's framing decisions, against a reference model of RFC 9112 framing written
// here as plainly as the RFC states it.
//
// The input is a request as it comes off the wire. The model finds the header, and says either
// "must be refused" (a folded line, a Transfer-Encoding other than one lone `chunked` in
// HTTP/1.1, Transfer-Encoding beside Content-Length, a malformed or conflicting Content-Length),
// or how the body is framed (chunked, or N bytes). The parser may refuse more than the model
// does (it checks the whole grammar: methods, targets, field names), but:
//   * whatever the model refuses, the parser must refuse;
//   * whatever the parser accepts, it must frame as the model does, and a Content-Length body
//     it reads must be exactly the N bytes after the header.
// A disagreement aborts: that request would be read one way by vigil and another by a proxy.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/request_parser.hpp"

namespace {

struct Framing {
  bool refuse = false;
  bool chunked = false;
  uint64_t length = 0;
};

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// 1*DIGIT that fits 64 bits.
std::optional<uint64_t> Decimal(std::string_view s) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

// The model. `header` is everything before the empty line (request line and field lines).
Framing Model(std::string_view header) {
  std::vector<std::string_view> lines;
  for (size_t start = 0;;) {
    size_t end = header.find("\r\n", start);
    lines.push_back(header.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 2;
  }
  Framing f;
  const bool http11 = lines[0].ends_with(" HTTP/1.1");
  int te_fields = 0;
  std::string_view te;
  std::optional<uint64_t> length;
  bool has_length = false;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) return {.refuse = true};  // §5.2
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // the parser refuses it; no framing
    std::string_view name = line.substr(0, colon);
    std::string_view value = TrimOws(line.substr(colon + 1));
    if (IEquals(name, "transfer-encoding")) {
      ++te_fields;
      te = value;
    } else if (IEquals(name, "content-length")) {
      has_length = true;
      // §8.6: a list of identical values may be read as one.
      for (size_t start = 0;;) {
        size_t comma = value.find(',', start);
        auto v = Decimal(TrimOws(value.substr(start, comma - start)));
        if (!v || (length && *length != *v)) return {.refuse = true};
        length = v;
        if (comma == std::string_view::npos) break;
        start = comma + 1;
      }
    }
  }
  if (te_fields > 0) {  // §6.1, §6.3
    if (te_fields > 1 || !IEquals(te, "chunked") || has_length || !http11) return {.refuse = true};
    f.chunked = true;
    return f;
  }
  f.length = length.value_or(0);
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t end = input.find("\r\n\r\n");
  if (end == std::string_view::npos || end == 0) return 0;  // no complete header: nothing to judge

  vigil::http::RequestParser parser;
  parser.header_limit(8192);
  parser.body_limit(1 << 20);
  boost::beast::error_code ec;
  const size_t used = parser.Put(boost::asio::const_buffer(input.data(), input.size()), ec);
  if (ec && ec != boost::beast::http::error::need_more) return 0;  // refused: always allowed
  if (!parser.is_header_done()) return 0;  // e.g. past the header limit, still reading

  const Framing model = Model(input.substr(0, end));
  if (model.refuse) std::abort();                       // accepted what must be refused
  if (parser.chunked() != model.chunked) std::abort();  // framed differently
  if (model.chunked) return 0;
  const auto parsed_length = parser.content_length();
  if (parsed_length.value_or(0) != model.length) std::abort();

  // Read the body as the server would, and check it is exactly the N bytes after the header.
  size_t offset = used;
  while (!ec && !parser.is_done() && offset < input.size()) {
    offset +=
        parser.put(boost::asio::const_buffer(input.data() + offset, input.size() - offset), ec);
    if (ec == boost::beast::http::error::need_more) break;
  }
  if (parser.is_done() && parser.body != input.substr(end + 4, model.length)) std::abort();
  return 0;
}
