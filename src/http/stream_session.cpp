#include "http/stream_session.hpp"

#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <optional>
#include <string>
#include <vector>

namespace vigil::http::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using Clock = std::chrono::steady_clock;
using SteadyTime = Clock::time_point;

// A stream's wake-up: callable from any thread; on the connection's thread it cancels the timer
// the stream's loop waits on. At most one wake-up is in flight at a time.
class StreamWake : public std::enable_shared_from_this<StreamWake> {
 public:
  StreamWake(asio::any_io_executor executor, std::shared_ptr<WakeRegistry> registry)
      : executor_(std::move(executor)), registry_(std::move(registry)) {}
  ~StreamWake() { registry_->Remove(this); }

  // False when the server is stopping.
  bool Register() {
    if (registry_->Add(this)) return true;
    Disable();
    return false;
  }
  void Wake() {
    std::lock_guard lock(mu_);
    if (!executor_ || posted_) return;
    posted_ = true;
    asio::post(*executor_, [self = shared_from_this()] { self->Fire(); });
  }
  void Disable() {
    std::lock_guard lock(mu_);
    executor_.reset();
  }
  // A wake function for the stream that does not keep this alive.
  std::function<void()> Function() {
    return [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->Wake();
    };
  }

  asio::steady_timer* timer = nullptr;  // Only on the connection's thread.

 private:
  void Fire() {
    {
      std::lock_guard lock(mu_);
      posted_ = false;
    }
    if (timer) timer->cancel();
  }

  std::mutex mu_;
  std::optional<asio::any_io_executor> executor_;  // Guarded by mu_; empty once disabled
  bool posted_ = false;                            // Guarded by mu_
  std::shared_ptr<WakeRegistry> registry_;
};

bool WakeRegistry::Add(StreamWake* wake) {
  std::lock_guard lock(mu_);
  if (closed_) return false;
  wakes_.insert(wake);
  return true;
}

void WakeRegistry::Remove(StreamWake* wake) {
  std::lock_guard lock(mu_);
  wakes_.erase(wake);
}

void WakeRegistry::CloseAll() {
  std::lock_guard lock(mu_);
  closed_ = true;
  for (StreamWake* wake : wakes_) wake->Disable();
  wakes_.clear();
}

namespace {

auto Redirect(beast::error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

// Tells the stream it is closed exactly once, also when the coroutine is destroyed with its
// io_context (the server stopping).
class CloseOnce {
 public:
  explicit CloseOnce(std::shared_ptr<Stream> body) : body_(std::move(body)) {}
  ~CloseOnce() { Close("server stopping"); }
  void Close(std::string_view reason) {
    if (!body_) return;
    std::shared_ptr<Stream> body = std::move(body_);
    body->Closed(reason);
  }

 private:
  std::shared_ptr<Stream> body_;
};

// The end of a stream's loop: the reader stops at its next completion, no wake-up is posted any
// more, and the stream hears why it ended.
void End(bool& finished, StreamWake& wake, CloseOnce& closer, const StreamEnv& env,
         std::string_view what, const std::string& reason) {
  finished = true;
  wake.timer = nullptr;
  wake.Disable();
  closer.Close(reason);
  env.log->debug("{} {} ended: {}", what, env.request_id, reason);
}

struct SseConnection {
  SseConnection(beast::tcp_stream s, const asio::any_io_executor& executor)
      : stream(std::move(s)), timer(executor) {}
  beast::tcp_stream stream;
  asio::steady_timer timer;
  bool client_gone = false;
  bool finished = false;
  std::array<char, 512> sink;
};

// Reads and discards what the client sends, to notice at once when it goes away.
void WatchForClose(std::shared_ptr<SseConnection> conn) {
  auto& socket = conn->stream.socket();
  socket.async_read_some(asio::buffer(conn->sink),
                         [conn = std::move(conn)](beast::error_code ec, size_t) mutable {
                           if (conn->finished) return;
                           if (ec) {
                             conn->client_gone = true;
                             conn->timer.cancel();
                             return;
                           }
                           WatchForClose(std::move(conn));
                         });
}

struct WsConnection {
  WsConnection(beast::tcp_stream s, const asio::any_io_executor& executor)
      : ws(std::move(s)), timer(executor), write_deadline(executor) {}
  websocket::stream<beast::tcp_stream> ws;
  asio::steady_timer timer;
  // Closes the socket when one write waits longer than the write timeout: a client that never
  // reads must not hold the connection (WebSocket timeouts only watch what it sends).
  asio::steady_timer write_deadline;
  bool client_gone = false;
  bool finished = false;
  beast::flat_buffer in;
};

void ReadMessages(std::shared_ptr<WsConnection> conn, std::shared_ptr<Stream> body) {
  auto& ws = conn->ws;
  auto& in = conn->in;
  ws.async_read(
      in, [conn = std::move(conn), body = std::move(body)](beast::error_code ec, size_t) mutable {
        if (conn->finished) return;
        if (ec) {
          conn->client_gone = true;
          conn->timer.cancel();
          return;
        }
        if (conn->ws.got_text()) {
          std::string text = beast::buffers_to_string(conn->in.data());
          body->OnMessage(text);
        } else {
          body->OnMessage("");  // binary messages are not part of the protocol
        }
        conn->in.consume(conn->in.size());
        conn->timer.cancel();  // poll: the message may have produced something to send
        ReadMessages(std::move(conn), std::move(body));
      });
}

}  // namespace

asio::awaitable<void> RunEventStream(beast::tcp_stream stream, std::shared_ptr<Stream> body,
                                     StreamEnv env) {
  CloseOnce closer(body);
  auto executor = co_await asio::this_coro::executor;
  auto conn = std::make_shared<SseConnection>(std::move(stream), executor);
  conn->stream.expires_never();
  auto wake = std::make_shared<StreamWake>(executor, env.wakes);
  if (!wake->Register()) co_return;
  wake->timer = &conn->timer;
  body->Start(wake->Function());
  WatchForClose(conn);

  std::string reason = "done";
  std::vector<asio::const_buffer> buffers;
  Stream::Output out;  // reused: its vector keeps its capacity from one poll to the next
  beast::error_code ec;
  conn->stream.socket().non_blocking(true, ec);
  for (;;) {
    bool waited = false;  // the last write had to wait for the socket
    out.frames.clear();
    out.done = false;
    out.more = false;
    out.wake_at = SteadyTime::max();
    body->Poll(Clock::now(), out);
    if (!out.frames.empty()) {
      buffers.clear();
      for (const auto& frame : out.frames) buffers.push_back(asio::buffer(*frame));
      // Most writes fit in the socket's buffer at once: one send, no asynchronous operation and
      // no timer. Only what does not fit waits, with the write deadline.
      size_t sent = conn->stream.socket().write_some(buffers, ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
      waited = !ec && sent < asio::buffer_size(buffers);
      if (waited) {
        beast::buffers_suffix<std::vector<asio::const_buffer>> rest(buffers);
        rest.consume(sent);
        conn->stream.expires_after(env.settings.write_timeout);
        co_await asio::async_write(conn->stream, rest, Redirect(ec));
        conn->stream.expires_never();
      }
      if (ec) {
        reason = ec == beast::error::timeout ? "write timed out" : "write failed: " + ec.message();
        break;
      }
      body->Sent(Clock::now());
    }
    if (out.done) break;
    if (conn->client_gone) {
      reason = "client closed";
      break;
    }
    // A write that did not wait ran with no other handler in between, so a wake-up that came
    // meanwhile is still posted and will cancel the wait below: polling again would find
    // nothing. After a write that waited, it may have been spent already.
    if (out.more || waited) continue;
    conn->timer.expires_at(out.wake_at);
    co_await conn->timer.async_wait(Redirect(ec));
  }
  End(conn->finished, *wake, closer, env, "stream", reason);
  conn->stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  conn->stream.socket().close(ec);
}

asio::awaitable<void> RunWebSocket(beast::tcp_stream stream,
                                   beast::http::request<beast::http::string_body> request,
                                   std::shared_ptr<Stream> body, StreamEnv env) {
  CloseOnce closer(body);
  auto executor = co_await asio::this_coro::executor;
  stream.expires_never();
  auto conn = std::make_shared<WsConnection>(std::move(stream), executor);
  websocket::stream_base::timeout timeouts;
  timeouts.handshake_timeout = std::chrono::seconds(30);
  timeouts.idle_timeout = env.settings.ws_idle_timeout;
  timeouts.keep_alive_pings = true;
  conn->ws.set_option(timeouts);
  conn->ws.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(beast::http::field::server, "vigil"); }));
  conn->ws.read_message_max(env.settings.ws_message_limit);
  beast::error_code ec;
  co_await conn->ws.async_accept(request, Redirect(ec));
  if (ec) {
    env.log->debug("websocket {}: handshake failed: {}", env.request_id, ec.message());
    closer.Close("handshake failed");
    co_return;
  }
  conn->ws.text(true);
  auto wake = std::make_shared<StreamWake>(executor, env.wakes);
  if (!wake->Register()) co_return;
  wake->timer = &conn->timer;
  body->Start(wake->Function());
  ReadMessages(conn, body);

  std::string reason = "done";
  bool done = false;
  for (;;) {
    Stream::Output out;
    body->Poll(Clock::now(), out);
    bool failed = false;
    for (const auto& frame : out.frames) {
      conn->write_deadline.expires_after(env.settings.write_timeout);
      conn->write_deadline.async_wait(
          [weak = std::weak_ptr<WsConnection>(conn)](beast::error_code e) {
            auto c = weak.lock();
            if (e || !c) return;  // the write finished in time
            beast::error_code ignored;
            beast::get_lowest_layer(c->ws).socket().close(ignored);
          });
      co_await conn->ws.async_write(asio::buffer(*frame), Redirect(ec));
      conn->write_deadline.cancel();
      if (ec) {
        reason = "write failed: " + ec.message();
        failed = true;
        break;
      }
    }
    if (failed) break;
    if (!out.frames.empty()) body->Sent(Clock::now());
    if (out.done) {
      done = true;
      break;
    }
    if (conn->client_gone) {
      reason = "client closed";
      break;
    }
    if (!out.frames.empty()) continue;
    conn->timer.expires_at(out.wake_at);
    co_await conn->timer.async_wait(Redirect(ec));
  }
  End(conn->finished, *wake, closer, env, "websocket", reason);
  if (done) co_await conn->ws.async_close(websocket::close_code::normal, Redirect(ec));
  beast::get_lowest_layer(conn->ws).socket().close(ec);
}

}  // namespace vigil::http::detail
