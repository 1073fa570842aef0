// The one writer of response heads (response_head.hpp): pure functions, no state, no Beast.
#include "http/response_head.hpp"

#include <spdlog/logger.h>

#include <array>
#include <cstdint>
#include <cstdio>

namespace vigil::http {
namespace {

using namespace std::string_view_literals;  // the head is appended with known lengths, no strlen

constexpr std::string_view kSecurityHeaders =
    "X-Content-Type-Options: nosniff\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n";

// X-RateLimit-* of a limited request, written straight into the head (every limited answer
// carries them, a 304 included).
void AppendRateLimitHeaders(const RateLimitState& r, std::string& head) {
  if (r.key.empty() || r.limit == 0) return;
  char buf[128];
  int n = std::snprintf(buf, sizeof buf,
                        "X-RateLimit-Limit: %d\r\nX-RateLimit-Remaining: %d\r\n"
                        "X-RateLimit-Reset: %lld\r\n",
                        r.limit, r.remaining, static_cast<long long>(r.reset_epoch_s));
  head.append(buf, static_cast<size_t>(n));
}

}  // namespace

// The head is written by hand into one buffer, sent with the body in one gather write: Beast's
// serializer costs more than the rest of a 304 put together.
bool AppendResponseHead(const ResponseHead& in, std::string& head, spdlog::logger& log) {
  bool keep_alive = in.keep_alive;
  head += "HTTP/1.1 "sv;
  head += std::to_string(in.status);
  head += ' ';
  head += ReasonPhrase(in.status);
  head += "\r\n"sv;
  bool has_server = false;
  bool has_request_id = false;
  bool has_security = false;
  for (auto& [name, value] : in.headers) {
    if (EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "transfer-encoding"))
      continue;
    if (EqualsIgnoreCase(name, "connection")) {
      if (EqualsIgnoreCase(value, "close")) keep_alive = false;
      continue;
    }
    if (!IsWritableHeader(name, value)) {
      log.error("request {}: dropped malformed response header \"{}\"", in.request_id, name);
      continue;
    }
    has_server = has_server || EqualsIgnoreCase(name, "server");
    has_security = has_security || EqualsIgnoreCase(name, "content-security-policy");
    has_request_id = has_request_id || EqualsIgnoreCase(name, "x-request-id");
    head.append(name).append(": "sv).append(value).append("\r\n"sv);
  }
  if (!has_server) head += "Server: vigil\r\n"sv;
  if (!has_security) head += kSecurityHeaders;
  AppendRateLimitHeaders(in.rate, head);
  if (!has_request_id) head.append("X-Request-Id: "sv).append(in.request_id).append("\r\n"sv);
  if (in.content_length) {
    if (StatusHasBody(in.status)) {
      head.append("Content-Length: "sv).append(std::to_string(*in.content_length)).append("\r\n"sv);
    }
    if (!keep_alive && in.version >= 11) head += "Connection: close\r\n"sv;
    if (keep_alive && in.version < 11) head += "Connection: keep-alive\r\n"sv;
  }
  head += "\r\n"sv;
  return keep_alive;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 102:
      return "Processing";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 203:
      return "Non-Authoritative Information";
    case 204:
      return "No Content";
    case 205:
      return "Reset Content";
    case 206:
      return "Partial Content";
    case 207:
      return "Multi-Status";
    case 208:
      return "Already Reported";
    case 226:
      return "IM Used";
    case 300:
      return "Multiple Choices";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 305:
      return "Use Proxy";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 402:
      return "Payment Required";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 407:
      return "Proxy Authentication Required";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";  // RFC 9110's name (Beast still says "Payload Too Large")
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 421:
      return "Misdirected Request";
    case 422:
      return "Unprocessable Content";  // RFC 9110's name (Beast: "Unprocessable Entity")
    case 423:
      return "Locked";
    case 424:
      return "Failed Dependency";
    case 426:
      return "Upgrade Required";
    case 428:
      return "Precondition Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 444:
      return "Connection Closed Without Response";
    case 451:
      return "Unavailable For Legal Reasons";
    case 499:
      return "Client Closed Request";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    case 506:
      return "Variant Also Negotiates";
    case 507:
      return "Insufficient Storage";
    case 508:
      return "Loop Detected";
    case 510:
      return "Not Extended";
    case 511:
      return "Network Authentication Required";
    case 599:
      return "Network Connect Timeout Error";
    default:
      return "<unknown-status>";
  }
}

// A table, not find_first_of: that searches the set per character.
bool IsWritableHeader(std::string_view name, std::string_view value) {
  enum : uint8_t { kBadInValue = 1, kBadInName = 2 };
  static constexpr auto kBad = [] {
    std::array<uint8_t, 256> bad{};
    bad['\r'] = bad['\n'] = kBadInValue | kBadInName;
    bad[' '] = bad[':'] = kBadInName;
    return bad;
  }();
  if (name.empty()) return false;
  for (char c : name) {
    if (kBad[static_cast<unsigned char>(c)] & kBadInName) return false;
  }
  for (char c : value) {
    if (kBad[static_cast<unsigned char>(c)] & kBadInValue) return false;
  }
  return true;
}

}  // namespace vigil::http
