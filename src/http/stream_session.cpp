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
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace vigil::http::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using Clock = std::chrono::steady_clock;
using SteadyTime = Clock::time_point;

// A stream's wake-up: callable from any thread. On the connection's thread it runs `on_wake` at
// once; from any other it posts it there (at most one post in flight). Once the stream's loop
// ended (or the server closed the executor) it does nothing.
class StreamWake : public std::enable_shared_from_this<StreamWake> {
 public:
  explicit StreamWake(IoExecutor& executor) : executor_(executor) {}

  void Wake() {
    if (executor_.InThisThread()) {
      if (on_wake) on_wake();
      return;
    }
    {
      std::lock_guard lock(mu_);
      if (posted_) return;
      posted_ = true;
    }
    executor_.Post([self = shared_from_this()] { self->Fire(); });
  }
  // A wake function for the stream that does not keep this alive.
  std::function<void()> Function() {
    return [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->Wake();
    };
  }

  std::function<void()> on_wake;  // Only on the connection's thread; empty once the loop ended.

 private:
  void Fire() {
    {
      std::lock_guard lock(mu_);
      posted_ = false;
    }
    if (on_wake) on_wake();
  }

  IoExecutor& executor_;
  std::mutex mu_;
  bool posted_ = false;  // Guarded by mu_
};

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

// The end of a stream's loop: the reader stops at its next completion, wake-ups do nothing any
// more, and the stream hears why it ended.
void End(bool& finished, StreamWake& wake, CloseOnce& closer, const StreamEnv& env,
         std::string_view what, const std::string& reason) {
  finished = true;
  wake.on_wake = nullptr;
  closer.Close(reason);
  env.log->debug("{} {} ended: {}", what, env.request_id, reason);
}

// Clears the wake-up's action when the loop's frame goes, also when it is destroyed unfinished
// (the server stopping): the action points into the frame.
struct WakeGuard {
  StreamWake& wake;
  ~WakeGuard() { wake.on_wake = nullptr; }
};

// An SSE connection: the socket, its state, and one step of its loop (Pump), which both the loop
// and a wake-up on the connection's thread run. Everything here is on the connection's thread.
struct SseConnection {
  enum class Next {
    kWait,   // nothing more now: wait for a wake-up or out.wake_at
    kPoll,   // poll again now (a replay's next page; a wake-up came during the poll)
    kWrite,  // the socket did not take everything: write `buffers` with the deadline
    kStop,   // the stream is done, the client went, or the send failed
  };

  SseConnection(beast::tcp_stream s, const asio::any_io_executor& executor,
                std::shared_ptr<Stream> b)
      : stream(std::move(s)), timer(executor), body(std::move(b)) {}

  // Polls the stream and sends what it gives with one non-blocking send. A wake-up that comes
  // meanwhile (from inside the stream) only sets `woken`: the loop polls again.
  Next Pump() {
    if (client_gone) return Next::kStop;
    pumping = true;
    struct Scope {
      bool& pumping;
      ~Scope() { pumping = false; }
    } scope{pumping};
    woken = false;  // this poll sees whatever the wake-up was for
    out.frames.clear();
    out.done = false;
    out.more = false;
    out.wake_at = SteadyTime::max();
    body->Poll(Clock::now(), out);
    if (!out.frames.empty()) {
      buffers.clear();
      for (const auto& frame : out.frames) buffers.push_back(asio::buffer(*frame));
      beast::error_code ec;
      const size_t sent = stream.socket().write_some(buffers, ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
      if (ec) {
        error = ec;
        return Next::kStop;
      }
      if (sent < asio::buffer_size(buffers)) {
        // The rest waits for the socket; the frames stay in `out` until it is written.
        beast::buffers_suffix<std::vector<asio::const_buffer>> rest(buffers);
        rest.consume(sent);
        buffers.assign(rest.begin(), rest.end());
        return Next::kWrite;
      }
      body->Sent(Clock::now());
    }
    if (out.done || client_gone) return Next::kStop;
    if (out.more || woken) return Next::kPoll;
    return Next::kWait;
  }

  // A wake-up on the connection's thread. Runs inside whatever woke it (the hub's fan-out to
  // every stream on this thread), so nothing escapes from here: a stream that fails ends.
  void OnWake() {
    if (!parked || pumping) {
      woken = true;  // the loop polls again before it waits
      return;
    }
    Next next;
    try {
      next = Pump();
    } catch (const std::exception& e) {
      failure = std::string("internal error: ") + e.what();
      next = Next::kStop;
    }
    if (next == Next::kWait && out.wake_at >= timer.expiry()) return;  // still waiting: done
    parked = false;
    pending = next;
    timer.cancel();  // the loop takes over from `pending`
  }

  beast::tcp_stream stream;
  asio::steady_timer timer;
  std::shared_ptr<Stream> body;
  Stream::Output out;  // reused: its vector keeps its capacity from one poll to the next
  std::vector<asio::const_buffer> buffers;
  std::optional<Next> pending;  // what a wake-up's pump left for the loop
  beast::error_code error;      // the send's, when it failed
  std::string failure;          // why a wake-up's poll failed
  bool parked = false;          // the loop waits on the timer
  bool pumping = false;         // inside Pump
  bool woken = false;           // a wake-up came while the loop was not waiting
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
  bool woken = false;  // a wake-up came since the last poll
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
        conn->woken = true;  // poll: the message may have produced something to send
        conn->timer.cancel();
        ReadMessages(std::move(conn), std::move(body));
      });
}

}  // namespace

asio::awaitable<void> RunEventStream(beast::tcp_stream stream, std::shared_ptr<Stream> body,
                                     StreamEnv env) {
  CloseOnce closer(body);
  auto executor = co_await asio::this_coro::executor;
  auto conn = std::make_shared<SseConnection>(std::move(stream), executor, body);
  conn->stream.expires_never();
  beast::error_code ec;
  conn->stream.socket().non_blocking(true, ec);
  auto wake = std::make_shared<StreamWake>(*env.executor);
  WakeGuard guard{*wake};
  wake->on_wake = [c = conn.get()] { c->OnWake(); };
  body->Start(wake->Function(), env.executor);
  WatchForClose(conn);

  std::string reason = "done";
  for (;;) {
    using Next = SseConnection::Next;
    Next next = conn->pending.value_or(Next::kPoll);
    conn->pending.reset();
    if (next == Next::kPoll) next = conn->Pump();
    if (next == Next::kWrite) {
      conn->stream.expires_after(env.settings.write_timeout);
      co_await asio::async_write(conn->stream, conn->buffers, Redirect(ec));
      conn->stream.expires_never();
      if (ec) {
        reason = ec == beast::error::timeout ? "write timed out" : "write failed: " + ec.message();
        break;
      }
      conn->body->Sent(Clock::now());
      // A wake-up may have come while the write waited: poll again (unless that was the end).
      next = conn->out.done || conn->client_gone ? Next::kStop : Next::kPoll;
    }
    if (next == Next::kStop) {
      if (!conn->failure.empty()) {
        reason = conn->failure;
      } else if (conn->error) {
        reason = "write failed: " + conn->error.message();
      } else if (!conn->out.done) {
        reason = "client closed";
      }
      break;
    }
    // A wake-up (or the client leaving) since the pump that left `pending` found no waiting loop.
    if (next == Next::kPoll || conn->woken || conn->client_gone) continue;
    conn->parked = true;
    conn->timer.expires_at(conn->out.wake_at);
    co_await conn->timer.async_wait(Redirect(ec));
    conn->parked = false;
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
  auto wake = std::make_shared<StreamWake>(*env.executor);
  WakeGuard guard{*wake};
  wake->on_wake = [c = conn.get()] {
    c->woken = true;
    c->timer.cancel();
  };
  body->Start(wake->Function(), env.executor);
  ReadMessages(conn, body);

  std::string reason = "done";
  bool done = false;
  for (;;) {
    Stream::Output out;
    conn->woken = false;
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
    if (!out.frames.empty() || conn->woken) continue;
    conn->timer.expires_at(out.wake_at);
    co_await conn->timer.async_wait(Redirect(ec));
  }
  End(conn->finished, *wake, closer, env, "websocket", reason);
  if (done) co_await conn->ws.async_close(websocket::close_code::normal, Redirect(ec));
  beast::get_lowest_layer(conn->ws).socket().close(ec);
}

}  // namespace vigil::http::detail
