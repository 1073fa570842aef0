#include "app/tail.hpp"

#include <signal.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "base/result.hpp"
#include "core/cursor.hpp"

namespace vigil::app {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using Millis = std::chrono::milliseconds;

constexpr auto kConnectTimeout = std::chrono::seconds(10);   // resolve, connect, send the request
constexpr auto kResponseTimeout = std::chrono::seconds(30);  // the status line and headers
// The server sends a heartbeat after every 30 quiet seconds (SSE_HEARTBEAT_INTERVAL_SECONDS'
// default): three missed, and a margin for a busy server, mean it is gone.
constexpr auto kSilenceLimit = std::chrono::seconds(3 * 30 + 10);
constexpr Millis kDefaultBackoff{1000};  // until the server's retry: hint arrives
constexpr Millis kMaxBackoff{30'000};
constexpr auto kMaxRetryAfter = std::chrono::seconds(3600);
constexpr size_t kMaxLine = size_t{16} << 20;      // one data line: an event is far smaller
constexpr size_t kMaxErrorBody = size_t{1} << 20;  // a problem+json body
constexpr char kFromStart[] = "0_000000";          // a resume id that means "the whole log"

void Notice(const std::string& text) { std::fprintf(stderr, "vigil tail: %s\n", text.c_str()); }

std::string Seconds(Millis d) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", static_cast<double>(d.count()) / 1000.0);
  return text;
}

// SIGINT and SIGTERM should end the process at once; a parent may have left them ignored or
// blocked, and both survive exec. Nothing of ours needs cleaning up: the kernel closes the socket.
void RestoreDefaultSignals() {
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigprocmask(SIG_UNBLOCK, &signals, nullptr);
}

struct Endpoint {
  std::string host;       // without brackets, for the resolver
  std::string port;       // "80" when the URL has none
  std::string authority;  // for the Host header, as written in the URL
  std::string prefix;     // the URL's path without a trailing '/'; usually empty
};

// http://HOST[:PORT][/PREFIX]; https is not spoken here (put a proxy in front if needed).
Result<Endpoint> ParseUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.size() < kScheme.size() ||
      !std::equal(kScheme.begin(), kScheme.end(), url.begin(), [](char a, char b) {
        return a == std::tolower(static_cast<unsigned char>(b));
      })) {
    return Fail(ErrorCode::kInvalidArgument,
                "--url must start with http:// (got '" + std::string(url) + "')", "url");
  }
  std::string_view rest = url.substr(kScheme.size());
  if (rest.find_first_of("?#@") != std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument,
                "--url takes a scheme, host, port and path only (got '" + std::string(url) + "')",
                "url");
  }
  Endpoint e;
  size_t slash = rest.find('/');
  e.authority = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) e.prefix = std::string(rest.substr(slash));
  while (!e.prefix.empty() && e.prefix.back() == '/') e.prefix.pop_back();
  std::string_view authority = e.authority;
  std::string_view port;
  if (authority.starts_with('[')) {  // [::1]:8080
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return Fail(ErrorCode::kInvalidArgument, "--url has an unclosed '[': " + e.authority, "url");
    }
    e.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') {
      return Fail(ErrorCode::kInvalidArgument, "--url has junk after ']': " + e.authority, "url");
    }
    if (!after.empty()) port = after.substr(1);
  } else {
    size_t colon = authority.rfind(':');
    e.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (e.host.empty()) return Fail(ErrorCode::kInvalidArgument, "--url has no host", "url");
  unsigned number = 80;
  if (!port.empty()) {
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (ec != std::errc() || end != port.data() + port.size() || number == 0 || number > 65535) {
      return Fail(ErrorCode::kInvalidArgument, "--url has an invalid port: " + e.authority, "url");
    }
  }
  e.port = std::to_string(number);
  return e;
}

// Investigation ids are plain today; encoding everything else keeps an odd one from changing the
// route.
std::string EncodePathSegment(std::string_view segment) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : segment) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

// One Server-Sent Events frame, as far as vigil uses the format.
struct SseFrame {
  bool has_id = false;
  std::string id;
  std::string event;
  std::string data;  // data lines joined with '\n'
};

// Splits the bytes of a stream into frames, however the reads cut them. Lines end in LF or CRLF
// (a lone CR, which the format also allows, is never sent by vigil); a comment line (":") is
// skipped; a frame ends at an empty line.
class SseParser {
 public:
  // Calls on_frame(const SseFrame&) for each completed frame until it returns false; remembers a
  // retry: hint. False when a line outgrows kMaxLine or on_frame asked to stop.
  template <typename OnFrame>
  bool Feed(std::string_view bytes, OnFrame&& on_frame) {
    while (!bytes.empty()) {
      size_t newline = bytes.find('\n');
      if (newline == std::string_view::npos) {
        line_.append(bytes);
        return line_.size() <= kMaxLine;
      }
      line_.append(bytes.substr(0, newline));
      bytes.remove_prefix(newline + 1);
      if (!line_.empty() && line_.back() == '\r') line_.pop_back();
      bool go_on = Line(line_, on_frame);
      line_.clear();
      if (!go_on) return false;
    }
    return true;
  }

  std::optional<Millis> retry() const { return retry_; }

 private:
  template <typename OnFrame>
  bool Line(std::string_view line, OnFrame& on_frame) {
    if (line.empty()) {
      bool go_on = true;
      if (frame_.has_id || !frame_.event.empty() || data_lines_ > 0) go_on = on_frame(frame_);
      frame_ = SseFrame();
      data_lines_ = 0;
      return go_on;
    }
    if (line.front() == ':') return true;
    size_t colon = line.find(':');
    std::string_view field = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
    if (value.starts_with(' ')) value.remove_prefix(1);
    if (field == "data") {
      if (data_lines_++ > 0) frame_.data.push_back('\n');
      frame_.data.append(value);
    } else if (field == "event") {
      frame_.event = std::string(value);
    } else if (field == "id") {
      frame_.has_id = true;
      frame_.id = std::string(value);
    } else if (field == "retry") {
      int ms = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
      if (ec == std::errc() && end == value.data() + value.size() && ms > 0) {
        retry_ = std::min(Millis(ms), kMaxBackoff);
      }
    }
    return true;
  }

  std::string line_;
  SseFrame frame_;
  int data_lines_ = 0;
  std::optional<Millis> retry_;
};

std::string StringMember(const json::value& v, std::string_view key) {
  if (!v.is_object()) return {};
  const json::value* member = v.as_object().if_contains(key);
  if (member == nullptr) return {};
  if (member->is_string()) return std::string(member->as_string());
  if (member->is_null()) return {};
  return json::serialize(*member);
}

json::value ParseOrNull(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return nullptr;
  return v;
}

// How one connection ended, and so what the loop in Run does next.
enum class Next {
  kExitOk,      // done: caught_up without --follow, or end
  kExitError,   // the server refused, or stdout failed; the reason is printed
  kResumeNow,   // the server asked us to reconnect (reconnect frame)
  kRetryLater,  // the connection failed or dropped: back off, then resume
};

struct Outcome {
  Next next;
  std::string why;  // for kResumeNow and kRetryLater: what happened, for the notice
  std::optional<Millis> retry_after;  // a 503's Retry-After
  bool connected = false;             // the server answered 200: the backoff starts over
};

class Tailer {
 public:
  Tailer(const TailOptions& options, Endpoint endpoint)
      : options_(options), endpoint_(std::move(endpoint)) {
    if (!options_.since.empty()) {
      resume_id_ = options_.since;
      last_ = core::ParseEventId(options_.since);
    } else {
      resume_id_ = kFromStart;
    }
    // tail prints events only, so the server need not build progress frames for it.
    target_ = endpoint_.prefix + "/api/v1/investigations/" +
              EncodePathSegment(options_.investigation_id) + "/runs/current/stream?progress=false";
  }

  int Run() {
    Millis delay = kDefaultBackoff;
    for (;;) {
      Outcome outcome = Connect();
      if (outcome.connected) delay = base_delay_;
      switch (outcome.next) {
        case Next::kExitOk:
          return 0;
        case Next::kExitError:
          return 1;
        case Next::kResumeNow:
          Notice(outcome.why + "; resuming after " + resume_id_);
          continue;
        case Next::kRetryLater:
          break;
      }
      if (!options_.follow) {
        Notice(outcome.why + (last_ ? "; to go on, run again with --since " + resume_id_ : ""));
        return 1;
      }
      Millis wait = outcome.retry_after.value_or(delay);
      Notice(outcome.why + "; reconnecting in " + Seconds(wait) + " (after " + resume_id_ + ")");
      // The backoff itself: nothing else to wait for. SIGINT still ends the process at once.
      std::this_thread::sleep_for(wait);
      delay = std::min(delay * 2, kMaxBackoff);
    }
  }

 private:
  // Runs the operation just started on ioc_ to its end; the tcp_stream's expiry bounds it.
  void Drain() {
    ioc_.restart();
    ioc_.run();
  }

  // One connection: resolve, connect, request, then frames until the stream ends.
  Outcome Connect() {
    beast::error_code ec;
    tcp::resolver resolver(ioc_);
    tcp::resolver::results_type addresses;
    bool resolved = false;
    resolver.async_resolve(endpoint_.host, endpoint_.port,
                           [&](beast::error_code e, tcp::resolver::results_type r) {
                             ec = e;
                             addresses = std::move(r);
                             resolved = true;
                           });
    ioc_.restart();
    ioc_.run_for(kConnectTimeout);
    if (!resolved) {
      resolver.cancel();
      Drain();
      return Retry("cannot resolve " + endpoint_.host + ": timed out");
    }
    if (ec) return Retry("cannot resolve " + endpoint_.host + ": " + ec.message());

    beast::tcp_stream stream(ioc_);
    stream.expires_after(kConnectTimeout);
    stream.async_connect(addresses, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    Drain();
    if (ec) return Retry("cannot connect to " + endpoint_.authority + ": " + Describe(ec));

    bhttp::request<bhttp::empty_body> request(bhttp::verb::get, target_, 11);
    request.set(bhttp::field::host, endpoint_.authority);
    request.set(bhttp::field::user_agent, "vigil-tail");
    request.set(bhttp::field::accept, "text/event-stream");
    request.set("Last-Event-ID", resume_id_);
    if (!options_.token.empty()) {
      request.set(bhttp::field::authorization, "Bearer " + options_.token);
    }
    stream.expires_after(kConnectTimeout);
    bhttp::async_write(stream, request, [&](beast::error_code e, size_t) { ec = e; });
    Drain();
    if (ec) return Retry("cannot send the request: " + Describe(ec));

    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(kMaxErrorBody);
    stream.expires_after(kResponseTimeout);
    bhttp::async_read_header(stream, buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
    Drain();
    if (ec) return Retry("no answer from the server: " + Describe(ec));
    const int status = parser.get().result_int();
    if (status != 200) return Refused(stream, buffer, parser, status);
    std::string_view type = parser.get()[bhttp::field::content_type];
    if (!type.starts_with("text/event-stream")) {
      Notice("the server answered " + std::string(type) + ", not an event stream; is --url " +
             options_.url + " a vigil server?");
      return {Next::kExitError};
    }

    // Bytes of the stream may have arrived with the headers.
    SseParser sse;
    std::optional<Outcome> stop;
    auto on_frame = [&](const SseFrame& frame) {
      stop = OnFrame(frame);
      return !stop.has_value();
    };
    auto feed = [&](std::string_view bytes) -> std::optional<Outcome> {
      bool ok = sse.Feed(bytes, on_frame);
      if (sse.retry()) base_delay_ = *sse.retry();
      if (stop) {
        stop->connected = true;
        return stop;
      }
      if (!ok) return Outcome{Next::kRetryLater, "a line of the stream is too long", {}, true};
      return std::nullopt;
    };
    auto head = buffer.data();
    if (auto done = feed({static_cast<const char*>(head.data()), head.size()})) return *done;
    buffer.consume(buffer.size());

    char bytes[16 << 10];
    for (;;) {
      size_t n = 0;
      stream.expires_after(kSilenceLimit);
      stream.async_read_some(asio::buffer(bytes), [&](beast::error_code e, size_t got) {
        ec = e;
        n = got;
      });
      Drain();
      if (auto done = feed({bytes, n})) return *done;
      if (ec == asio::error::eof) {
        return {Next::kRetryLater, "the server closed the stream", {}, true};
      }
      if (ec == beast::error::timeout) {
        return {
            Next::kRetryLater, "the server sent nothing for " + Seconds(kSilenceLimit), {}, true};
      }
      if (ec) return {Next::kRetryLater, "the stream broke: " + ec.message(), {}, true};
    }
  }

  static std::string Describe(const beast::error_code& ec) {
    if (ec == beast::error::timeout) return "timed out";
    return ec.message();
  }

  static Outcome Retry(std::string why) { return {Next::kRetryLater, std::move(why)}; }

  // A status other than 200: the problem's detail, and whether trying again can help.
  Outcome Refused(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                  bhttp::response_parser<bhttp::string_body>& parser, int status) {
    beast::error_code ec;
    stream.expires_after(kResponseTimeout);
    bhttp::async_read(stream, buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
    Drain();
    std::string detail =
        ec ? std::string() : StringMember(ParseOrNull(parser.get().body()), "detail");
    if (detail.empty()) detail = std::string(parser.get().reason());
    std::string why = "the server answered " + std::to_string(status) + ": " + detail;
    if (status >= 500 || status == 429) {  // 503 above all: too many streams open
      Outcome outcome{Next::kRetryLater, std::move(why)};
      std::string_view after = parser.get()[bhttp::field::retry_after];
      int seconds = 0;
      auto [end, parse_ec] = std::from_chars(after.data(), after.data() + after.size(), seconds);
      if (!after.empty() && parse_ec == std::errc() && end == after.data() + after.size() &&
          seconds >= 0) {
        outcome.retry_after = std::min<Millis>(std::chrono::seconds(seconds), kMaxRetryAfter);
      }
      return outcome;
    }
    if (status == 401 && options_.token.empty()) why += " (set VIGIL_TOKEN or pass --token)";
    Notice(why);
    return {Next::kExitError};
  }

  // What a frame means; nullopt: read on.
  std::optional<Outcome> OnFrame(const SseFrame& f) {
    const std::string& name = f.event;
    if (name == "heartbeat" || name == "progress" || name == "snapshot") return std::nullopt;
    if (name == "caught_up") {
      if (options_.follow) return std::nullopt;
      return Outcome{Next::kExitOk};
    }
    if (name == "end") {
      json::value data = ParseOrNull(f.data);
      if (options_.follow) {
        std::string reason = StringMember(data, "reason");
        std::string status = StringMember(data, "status");
        Notice("the run ended: " + reason + (status == reason ? "" : " (status " + status + ")"));
      }
      return Outcome{Next::kExitOk};
    }
    if (name == "reconnect") {
      json::value data = ParseOrNull(f.data);
      std::string reason = StringMember(data, "code");
      if (reason.empty()) reason = StringMember(data, "reason");
      return Outcome{Next::kResumeNow, "the server asked to reconnect (" + reason + ")"};
    }
    if (name == "error") {
      json::value data = ParseOrNull(f.data);
      std::string code = StringMember(data, "code");
      std::string why =
          "the server reported an error: " + StringMember(data, "message") + " (" + code + ")";
      if (code == "unavailable" || code == "internal") return Outcome{Next::kRetryLater, why};
      Notice(why);
      return Outcome{Next::kExitError};
    }
    if (name == "reset") {
      json::value data = ParseOrNull(f.data);
      std::optional<core::EventId> id = core::ParseEventId(f.id);
      if (!id) return Outcome{Next::kRetryLater, "the server sent a reset with no usable id"};
      Notice("cannot resume after " + resume_id_ + " (" + StringMember(data, "reason") +
             "); continuing after " + f.id + ", the events in between are not shown");
      last_ = id;
      resume_id_ = f.id;
      return std::nullopt;
    }
    // Every other frame with an id is a domain event, including types newer than this client.
    if (!f.has_id) return std::nullopt;
    std::optional<core::EventId> id = core::ParseEventId(f.id);
    if (!id) {
      Notice("skipped an event with a malformed id '" + f.id + "'");
      return std::nullopt;
    }
    if (last_ && *id <= *last_) return std::nullopt;  // printed before a resume
    if (!Print(f)) {
      Notice("cannot write to stdout");
      return Outcome{Next::kExitError};
    }
    last_ = id;
    resume_id_ = f.id;
    return std::nullopt;
  }

  // One line per event, flushed, so a pipe sees it at once.
  bool Print(const SseFrame& f) {
    std::string line;
    json::value event = options_.json ? json::value() : ParseOrNull(f.data);
    if (options_.json || !event.is_object()) {
      line = f.data;
    } else {
      std::string actor = StringMember(event, "actor");
      const json::value* data = event.as_object().if_contains("data");
      line = StringMember(event, "timestamp") + "  " + StringMember(event, "event_type") + "  " +
             (actor.empty() ? "-" : actor) + "  " + (data ? json::serialize(*data) : "{}");
    }
    line.push_back('\n');
    return std::fwrite(line.data(), 1, line.size(), stdout) == line.size() &&
           std::fflush(stdout) == 0;
  }

  const TailOptions& options_;
  const Endpoint endpoint_;
  std::string target_;
  asio::io_context ioc_;
  std::string resume_id_;              // sent as Last-Event-ID
  std::optional<core::EventId> last_;  // nothing at or before it is printed
  Millis base_delay_ = kDefaultBackoff;
};

}  // namespace

int Tail(const TailOptions& options) {
  RestoreDefaultSignals();
  if (options.investigation_id.empty()) {
    Notice("an investigation id is required");
    return 2;
  }
  if (!options.since.empty() && !core::ParseEventId(options.since)) {
    Notice("--since: '" + options.since + "' is not an event id (like 1730668800000_000127)");
    return 2;
  }
  auto endpoint = ParseUrl(options.url);
  if (!endpoint) {
    Notice(endpoint.error().message);
    return 2;
  }
  return Tailer(options, std::move(*endpoint)).Run();
}

}  // namespace vigil::app
