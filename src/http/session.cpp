// The per-connection coroutine (session.hpp). Everything here runs on the connection's I/O thread;
// the Session owns its socket, deadline, parser and buffers, and reaches other threads only
// through its response slot (response_slot.hpp) and the server core's atomics.
#include "http/session.hpp"

#include <spdlog/logger.h>

#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/url/parse.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "http/deadline.hpp"
#include "http/io_executor.hpp"
#include "http/problem.hpp"
#include "http/request_parser.hpp"
#include "http/response_head.hpp"
#include "http/response_slot.hpp"
#include "http/server_core.hpp"
#include "http/stream_session.hpp"

namespace vigil::http::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

// After answering a request whose body we did not read (413, 400), we read and discard what the
// client is still sending for a little while before closing; closing a socket with unread data
// resets the connection, and the client might never see the answer.
constexpr std::chrono::seconds kDrainTime{2};
constexpr size_t kDrainBytes = 4 << 20;
constexpr size_t kReadChunk = 4096;

Method ToMethod(bhttp::verb verb) {
  switch (verb) {
    case bhttp::verb::get:
      return Method::kGet;
    case bhttp::verb::head:
      return Method::kHead;
    case bhttp::verb::post:
      return Method::kPost;
    case bhttp::verb::put:
      return Method::kPut;
    case bhttp::verb::patch:
      return Method::kPatch;
    case bhttp::verb::delete_:
      return Method::kDelete;
    case bhttp::verb::options:
      return Method::kOptions;
    default:
      return Method::kOther;
  }
}

// Whether `target` is an absolute path of unreserved and sub-delimiting characters only: no
// percent-encoding to decode, no query to split, nothing a URL parser would refuse.
bool IsPlainPath(std::string_view target) {
  // One table lookup per character (a search of the punctuation per character showed up in
  // profiles of the 304 path).
  static constexpr auto kPlain = [] {
    std::array<bool, 256> plain{};
    for (int c = 'a'; c <= 'z'; ++c) plain[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) plain[c] = true;
    for (int c = '0'; c <= '9'; ++c) plain[c] = true;
    for (char c : std::string_view("/-._~!$&'()*+,;=:@"))
      plain[static_cast<unsigned char>(c)] = true;
    return plain;
  }();
  if (target.empty() || target.front() != '/') return false;
  for (char c : target) {
    if (!kPlain[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

bool IsHttpError(const beast::error_code& ec) {
  return &ec.category() == &bhttp::make_error_code(bhttp::error::bad_target).category();
}

// What the session remembers of a request for writing its answer and logging it, independent of
// the slot (which the handler may have released).
struct Exchange {
  Method method = Method::kGet;
  std::string path;
  RateLimitState rate;     // Request::rate
  std::string_view route;  // the router's pattern
  std::string request_id;
  unsigned version = 11;
  bool keep_alive = false;
  std::chrono::steady_clock::time_point start;
};

class Session {
 public:
  Session(ServerCore& impl, tcp::socket socket, size_t context)
      : impl_(impl),
        socket_(std::move(socket)),
        deadline_(socket_),
        sessions_(&impl.sessions[context]),
        executor_(impl.executors[context].get()) {
    ++*sessions_;
    beast::error_code ec;
    tcp::endpoint remote = socket_.remote_endpoint(ec);
    if (!ec) remote_ = remote.address().to_string();
    // Writes are tried at once, without the scheduler (see Write); they must not block.
    socket_.non_blocking(true, ec);
  }
  ~Session() { --*sessions_; }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  asio::awaitable<void> Run() {
    std::string failure;
    try {
      while (co_await ServeOne()) {
      }
    } catch (const std::exception& e) {
      failure = e.what();
    } catch (...) {
      failure = "unknown exception";
    }
    if (!failure.empty()) {
      // The last resort, logged once: by Problem when the client is still owed an answer (a 500),
      // here otherwise.
      if (!owes_answer_) {
        impl_.log->error("connection from {}: request {}: {}", remote_, exchange_.request_id,
                         failure);
      } else {
        Request request;
        request.path = exchange_.path;
        request.request_id = exchange_.request_id;
        request.remote_address = remote_;
        exchange_.keep_alive = false;
        try {
          co_await Write(Problem(InternalError(failure), request));
        } catch (...) {
          // Nothing more can be done for this connection.
        }
      }
    }
    if (!handed_off_) co_await Close(/*drain=*/false);
  }

 private:
  using Token = asio::redirect_error_t<asio::use_awaitable_t<>>;
  Token Redirect(beast::error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

  // Serves one request; false when the connection is to be closed.
  asio::awaitable<bool> ServeOne() {
    const ServerOptions& options = impl_.options;
    beast::error_code ec;

    // Between keep-alive requests the idle timeout applies until the next request begins.
    if (served_ > 0 && buffer_.size() == 0) {
      // The answer was sent just now, without the scheduler; the client cannot have sent its next
      // request yet. With other connections on this thread, serve what is ready of theirs first:
      // the read below (asio reads at once, before asking epoll) then mostly finds the request
      // instead of EAGAIN. Alone, there is nothing to wait for: the read fails and epoll waits.
      if (*sessions_ > 1) co_await asio::post(socket_.get_executor(), asio::use_awaitable);
      deadline_.Arm(options.idle_timeout);
      size_t n = co_await socket_.async_read_some(buffer_.prepare(kReadChunk), Redirect(ec));
      deadline_.Disarm(ec);
      if (ec) co_return false;  // Closed, reset or idle: nothing is owed.
      buffer_.commit(n);
    }

    parser_.emplace();
    parser_->headers.reserve(8);  // one allocation for a request's usual fields
    parser_->header_limit(static_cast<uint32_t>(options.header_limit));
    parser_->body_limit(options.body_limit);
    // What is buffered already is parsed here: a keep-alive request usually arrived whole with the
    // read above, and async_read_header would answer it through the scheduler (net::post) at the
    // cost of one more pass of the reactor. It reads only when the header is incomplete.
    if (buffer_.size() > 0) {
      size_t used = parser_->Put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == bhttp::error::need_more) ec = {};
    }
    // One deadline for the whole request, as long as it takes to arrive (header and body).
    std::optional<Deadline::Clock::time_point> read_deadline;
    auto request_deadline = [&] {
      if (!read_deadline) read_deadline = Deadline::Clock::now() + options.read_timeout;
      return *read_deadline;
    };
    // The rest of the header, read as async_read_header would, but through Put, which refuses a
    // folded field line before Beast joins it. (Beast parses a header only once it is whole, so
    // the bytes are all in the buffer when Put looks at them.)
    while (!ec && !parser_->is_header_done()) {
      deadline_.ArmUntil(request_deadline());
      size_t n = co_await socket_.async_read_some(buffer_.prepare(kReadChunk), Redirect(ec));
      deadline_.Disarm(ec);
      if (ec == asio::error::eof) {
        ec = buffer_.size() > 0 ? bhttp::error::partial_message : bhttp::error::end_of_stream;
      }
      if (ec) break;
      buffer_.commit(n);
      size_t used = parser_->Put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == bhttp::error::need_more) ec = {};
    }
    if (!ec && !parser_->is_done()) {
      deadline_.ArmUntil(request_deadline());
      if (parser_->version >= 11 && EqualsIgnoreCase(parser_->Header("expect"), "100-continue")) {
        bhttp::response<bhttp::empty_body> go_on{bhttp::status::continue_, 11};
        co_await bhttp::async_write(socket_, go_on, Redirect(ec));
      }
      if (!ec) co_await bhttp::async_read(socket_, buffer_, *parser_, Redirect(ec));
      deadline_.Disarm(ec);
    }
    if (ec) co_return co_await AnswerReadError(ec);

    RequestParser& parsed = *parser_;
    exchange_ = Exchange{};
    exchange_.start = std::chrono::steady_clock::now();
    exchange_.method = ToMethod(parsed.method);
    exchange_.version = parsed.version;
    exchange_.keep_alive = parsed.keep_alive();
    exchange_.request_id = impl_.NextRequestId();
    ++served_;

    // The request is built in the slot that will own it while a handler holds it.
    auto slot = std::make_shared<ResponseSlot>(impl_.pending);
    Request& request = slot->request;
    request.method = exchange_.method;
    request.target = std::move(parsed.target);
    request.request_id = exchange_.request_id;
    request.remote_address = remote_;
    if (IsPlainPath(request.target)) {
      // Nothing to decode and no query: the common case, without a URL parser.
      request.path = request.target;
    } else if (auto url = boost::urls::parse_origin_form(request.target); url) {
      request.path = url->path();
      for (auto param : url->params()) request.query.emplace_back(param.key, param.value);
    } else {
      request.path = request.target.substr(0, request.target.find('?'));
      exchange_.path = request.path;
      exchange_.keep_alive = false;
      owes_answer_ = true;
      co_await Write(
          Problem(Error(ErrorCode::kInvalidArgument, "malformed request target"), request));
      co_return false;
    }
    if (parsed.headers.size() > impl_.options.header_fields_limit) {
      exchange_.path = request.path;
      exchange_.keep_alive = false;
      owes_answer_ = true;
      co_await Write(Problem(
          Error(ErrorCode::kHeadersTooLarge,
                "at most " + std::to_string(impl_.options.header_fields_limit) + " header fields"),
          request));
      co_return false;
    }
    // A WebSocket upgrade is completed by Beast from the request itself, should the handler
    // accept it.
    upgrade_.reset();
    if (!parsed.Header("upgrade").empty()) {
      bhttp::request<bhttp::string_body> message = parsed.ToMessage();
      if (boost::beast::websocket::is_upgrade(message)) upgrade_.emplace(std::move(message));
    }
    request.headers = std::move(parsed.headers);
    request.body = std::move(parsed.body);
    parser_.reset();

    owes_answer_ = true;
    if (std::optional<Response> now = Dispatch(impl_.dispatcher, slot)) {
      exchange_.route = slot->request.route;
      exchange_.rate = slot->request.rate;
      if (exchange_.route.empty()) exchange_.path = slot->request.path;  // for the log line
      Charge(slot->request, *now);
      slot.reset();
      co_return co_await Write(std::move(*now));
    }
    auto [response, answered] = co_await AsyncAwait(std::move(slot), asio::use_awaitable);
    if (answered) {
      exchange_.route = answered->request.route;
      exchange_.rate = answered->request.rate;
      if (exchange_.route.empty()) exchange_.path = answered->request.path;
      Charge(answered->request, response);
    }
    answered.reset();
    co_return co_await Write(std::move(response));
  }

  // A request could not be read. Answers when the client is owed one; false: close.
  asio::awaitable<bool> AnswerReadError(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
        ec == beast::error::timeout || !IsHttpError(ec)) {
      // The client went away or stalled; there is no one to answer.
      if (ec != bhttp::error::end_of_stream) {
        impl_.log->debug("connection from {} dropped: {}", remote_, ec.message());
      }
      co_return false;
    }
    Error error(ErrorCode::kInvalidArgument, parser_ ? parser_->Describe(ec) : "malformed request");
    if (ec == bhttp::error::body_limit) {
      error = Error(ErrorCode::kPayloadTooLarge,
                    "request body exceeds " + std::to_string(impl_.options.body_limit) + " bytes");
    } else if (ec == bhttp::error::header_limit) {
      error =
          Error(ErrorCode::kHeadersTooLarge,
                "request header exceeds " + std::to_string(impl_.options.header_limit) + " bytes");
    }
    Request request;
    exchange_ = Exchange{};
    exchange_.start = std::chrono::steady_clock::now();
    exchange_.request_id = impl_.NextRequestId();
    exchange_.keep_alive = false;
    if (parser_) {  // The start line is known even when the fields were refused.
      exchange_.method = ToMethod(parser_->method);
      exchange_.version = parser_->version;
      std::string_view target = parser_->target;
      exchange_.path = std::string(target.substr(0, target.find('?')));
    }
    request.method = exchange_.method;
    request.path = exchange_.path;
    request.request_id = exchange_.request_id;
    owes_answer_ = true;
    co_await Write(Problem(error, request));
    co_await Close(/*drain=*/true);
    co_return false;
  }

  // Charges an admitted request for its answer, once, while the request is still held (the
  // answer may be replaced by a 429: ServerOptions::on_answer).
  void Charge(const Request& request, Response& response) {
    if (!exchange_.rate.key.empty() && impl_.options.on_answer) {
      impl_.options.on_answer(exchange_.rate, request, response);
    }
  }

  // Writes the answer to the current exchange and logs it; false: close the connection.
  // A stream (SSE, WebSocket) takes the connection over: it ends with the stream.
  asio::awaitable<bool> Write(Response response) {
    if (response.stream) co_return co_await WriteStream(std::move(response));
    int status = response.status;
    if (status < 100 || status > 999) {
      Request request;
      request.path = exchange_.path;
      request.request_id = exchange_.request_id;
      response = Problem(InternalError("handler answered invalid status " + std::to_string(status)),
                         request);
      status = response.status;
    }
    // The head is written into one buffer and sent with the body in one gather write.
    std::string& head = head_;
    head.clear();
    const std::string_view full = response.Body();  // `response` lives until the write is done
    const bool keep_alive = AppendResponseHead({.status = status,
                                                .headers = response.headers,
                                                .request_id = exchange_.request_id,
                                                .rate = exchange_.rate,
                                                .version = exchange_.version,
                                                .keep_alive = exchange_.keep_alive,
                                                .content_length = full.size()},
                                               head, *impl_.log);
    // HEAD announces the length of the body GET would send, and sends none.
    size_t bytes = 0;
    std::string_view body;
    if (StatusHasBody(status) && exchange_.method != Method::kHead) {
      bytes = full.size();
      body = full;
    }

    beast::error_code ec;
    owes_answer_ = false;
    std::array<asio::const_buffer, 2> buffers{asio::buffer(head), asio::buffer(body)};
    // One non-blocking send, at once: an answer that fits the socket's buffer (every 304) is done
    // without the scheduler. asio's async_write would send just the same, speculatively, but
    // then post its completion, which costs one more pass of the reactor (epoll_wait, timeout 0).
    size_t sent = socket_.write_some(buffers, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      ec = {};
      sent = 0;
    }
    if (!ec && sent < head.size() + body.size()) {
      beast::buffers_suffix<std::array<asio::const_buffer, 2>> rest(buffers);
      rest.consume(sent);
      deadline_.Arm(impl_.options.read_timeout);
      co_await asio::async_write(socket_, rest, Redirect(ec));
      deadline_.Disarm(ec);
    }
    LogExchange(status, bytes, ec);
    co_return !ec && keep_alive;
  }

  void LogExchange(int status, size_t bytes, const beast::error_code& ec) {
    const auto took = std::chrono::steady_clock::now() - exchange_.start;
    const double ms = std::chrono::duration<double, std::milli>(took).count();
    if (impl_.options.request_metrics) {
      impl_.options.request_metrics->Observe(
          exchange_.method, exchange_.route, status,
          std::chrono::duration_cast<std::chrono::nanoseconds>(took).count());
    }
    impl_.log->info("{} {} {} {} {:.1f}ms {}{}", MethodName(exchange_.method),
                    exchange_.route.empty() ? exchange_.path : exchange_.route, status, bytes, ms,
                    exchange_.request_id, ec ? " (write failed: " + ec.message() + ")" : "");
  }

  // Hands the connection to a stream. For SSE: the head (no Content-Length: the body ends when
  // the connection does), then the stream's frames. For a WebSocket: the upgrade.
  asio::awaitable<bool> WriteStream(Response response) {
    std::shared_ptr<Stream> body = std::move(response.stream);
    StreamEnv env{impl_.options.stream, executor_, impl_.log, exchange_.request_id};
    owes_answer_ = false;
    if (body->kind() == Stream::Kind::kWebSocket) {
      if (!upgrade_) {
        Request request;
        request.path = exchange_.path;
        request.request_id = exchange_.request_id;
        exchange_.keep_alive = false;
        co_return co_await Write(Problem(
            Error(ErrorCode::kInvalidArgument, "this resource needs a WebSocket upgrade request"),
            request));
      }
      LogExchange(101, 0, {});
      handed_off_ = true;
      co_await RunWebSocket(HandOff(), std::move(*upgrade_), std::move(body), std::move(env));
      co_return false;
    }
    // The stream's status is 200; its body ends with the connection.
    std::string& head = head_;
    head.clear();
    AppendResponseHead({.status = 200,
                        .headers = response.headers,
                        .request_id = exchange_.request_id,
                        .rate = exchange_.rate,
                        .version = exchange_.version,
                        .keep_alive = exchange_.keep_alive,
                        .content_length = std::nullopt},
                       head, *impl_.log);
    beast::error_code ec;
    deadline_.Arm(impl_.options.read_timeout);
    co_await asio::async_write(socket_, asio::buffer(head), Redirect(ec));
    deadline_.Disarm(ec);
    LogExchange(200, 0, ec);
    if (ec || exchange_.method == Method::kHead) {
      body->Closed(ec ? "write failed" : "HEAD");
      co_return false;
    }
    handed_off_ = true;
    co_await RunEventStream(HandOff(), std::move(body), std::move(env));
    co_return false;
  }

  // The socket, for a stream session (which keeps its own deadlines with beast::tcp_stream).
  beast::tcp_stream HandOff() {
    beast::error_code ignored;
    socket_.non_blocking(false, ignored);  // back to what Beast expects of a socket
    return beast::tcp_stream(std::move(socket_));
  }

  asio::awaitable<void> Close(bool drain) {
    beast::error_code ec;
    if (!socket_.is_open()) co_return;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (drain && !ec) {
      deadline_.Arm(kDrainTime);
      std::array<char, 8192> sink;
      size_t drained = 0;
      while (drained < kDrainBytes) {
        size_t n = co_await socket_.async_read_some(asio::buffer(sink), Redirect(ec));
        if (ec) break;
        drained += n;
      }
      deadline_.Disarm(ec);
    }
    socket_.close(ec);
  }

  ServerCore& impl_;
  tcp::socket socket_;
  Deadline deadline_;     // declared after socket_, which it watches and outlives
  int* sessions_;         // open connections on this I/O thread, this one included
  IoExecutor* executor_;  // this I/O thread
  beast::flat_buffer buffer_;
  std::optional<RequestParser> parser_;
  std::optional<bhttp::request<bhttp::string_body>> upgrade_;  // the request, when an upgrade
  bool handed_off_ = false;  // socket_ was moved to a stream session
  std::string remote_;
  std::string head_;  // the response head being written; its capacity is reused
  Exchange exchange_;
  bool owes_answer_ = false;  // a request was read and no answer has begun
  uint64_t served_ = 0;
};

}  // namespace

asio::awaitable<void> RunSession(ServerCore& impl, tcp::socket socket, size_t context) {
  Session session(impl, std::move(socket), context);
  co_await session.Run();
}

}  // namespace vigil::http::detail
