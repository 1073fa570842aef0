// The listener and the I/O threads, and Server's public API (start, port, stop) over the server
// core (http/server_core.hpp).
//
// Shape (after Beast's awaitable and advanced servers), one role per file:
//   Threads    one io_context per I/O thread, each run by its thread alone (concurrency hint 1):
//              a connection lives on one context for its whole life, so it needs no strand, and
//              the scheduler skips the locking a shared context needs. Here.
//   Listener   one coroutine accepting on the first context, handing sockets round-robin to all.
//              Here.
//   Session    one coroutine per connection: read a request, dispatch it, await the answer, write
//              it, repeat while keep-alive (http/session.cpp), with its lazy deadline
//              (http/deadline.hpp) and its parser (http/request_parser.cpp).
//   Pending    the answer to a dispatched request arrives through a ResponseSlot
//              (http/response_slot.hpp).
//   Streams    SSE and WebSocket sessions, once a session hands its socket over
//              (http/stream_session.cpp), on the thread's IoExecutor (http/io_executor.hpp).
//
// Lifetime: the io_contexts (and with them every suspended session) are destroyed in Stop, after
// the I/O threads have been joined. A Responder may outlive the server; it then does nothing.
// Start and Stop are serialized by the core's mutex; Stop must not be called from an I/O thread.
#include "http/server.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <chrono>
#include <exception>
#include <random>
#include <string>
#include <utility>

#include "http/io_executor.hpp"
#include "http/response_slot.hpp"
#include "http/server_core.hpp"
#include "http/session.hpp"

namespace vigil::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace detail {
namespace {

// Connections accepted at once, without waiting, after each one the listener is woken for.
constexpr int kAcceptBurst = 64;

std::shared_ptr<spdlog::logger> HttpLogger() {
  std::shared_ptr<spdlog::logger> logger = spdlog::get("http");
  return logger ? logger : spdlog::default_logger();
}

}  // namespace

ServerCore::ServerCore(ServerOptions o, Dispatcher d)
    : options(std::move(o)),
      dispatcher(std::move(d)),
      log(HttpLogger()),
      pending(std::make_shared<PendingResponses>(log)),
      request_id_base(std::random_device()() * uint64_t{0x100000000} + std::random_device()()) {
  if (options.threads <= 0) {
    options.threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  }
  for (int i = 0; i < options.threads; ++i) {
    ios.push_back(std::make_unique<asio::io_context>(1));
    executors.push_back(std::make_unique<detail::IoExecutor>(*ios.back()));
  }
  sessions.assign(ios.size(), 0);
}

asio::awaitable<void> ServerCore::Listen() {
  for (;;) {
    beast::error_code ec;
    const size_t context = NextContext();
    tcp::socket socket = co_await acceptor->async_accept(
        *ios[context], asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
    if (ec) {
      // Out of descriptors and the like: say so, pause briefly instead of spinning, keep going.
      log->warn("accept failed: {}", ec.message());
      asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    Spawn(std::move(socket), context);
    // Take what else is waiting now, without a trip through the scheduler for each: a burst of
    // connections (clients reconnecting together) is not queued behind every other handler.
    for (int i = 0; i < kAcceptBurst; ++i) {
      const size_t more_context = NextContext();
      tcp::socket more(*ios[more_context]);
      acceptor->accept(more, ec);
      if (ec) break;
      Spawn(std::move(more), more_context);
    }
  }
}

void ServerCore::Spawn(tcp::socket socket, size_t context) {
  beast::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  auto executor = socket.get_executor();
  asio::co_spawn(executor, RunSession(*this, std::move(socket), context),
                 [log = log](std::exception_ptr e) {
                   if (!e) return;
                   try {
                     std::rethrow_exception(e);
                   } catch (const std::exception& ex) {
                     log->error("connection ended by an exception: {}", ex.what());
                   } catch (...) {
                     log->error("connection ended by an unknown exception");
                   }
                 });
}

void ServerCore::RunThread(size_t context) {
  pthread_setname_np(pthread_self(), "vigil-io");
  asio::io_context& io = *ios[context];
  detail::IoExecutor::ThisThread is(*executors[context]);
  for (;;) {
    try {
      io.run();
      return;
    } catch (const std::exception& e) {
      log->error("I/O thread caught: {}", e.what());
    } catch (...) {
      log->error("I/O thread caught an unknown exception");
    }
  }
}

}  // namespace detail

struct Server::Impl : detail::ServerCore {
  using ServerCore::ServerCore;
};

Server::Server(ServerOptions options, Dispatcher dispatcher)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(dispatcher))) {}

Server::~Server() { Stop(); }

Result<void> Server::Start() {
  Impl& impl = *impl_;
  std::lock_guard lock(impl.mu);
  if (impl.state != detail::ServerCore::State::kNew) {
    return Fail(ErrorCode::kInternal, "the server was already started");
  }
  const std::string where = impl.options.address + ":" + std::to_string(impl.options.port);

  beast::error_code ec;
  tcp::endpoint endpoint;
  asio::ip::address address = asio::ip::make_address(impl.options.address, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, impl.options.port);
  } else {
    tcp::resolver resolver(*impl.ios.front());
    auto results = resolver.resolve(impl.options.address, std::to_string(impl.options.port),
                                    tcp::resolver::passive, ec);
    if (ec || results.empty()) {
      return Fail(ErrorCode::kInvalidArgument, "cannot resolve listen address " +
                                                   impl.options.address + ": " +
                                                   (ec ? ec.message() : "no addresses"));
    }
    endpoint = results.begin()->endpoint();
  }

  tcp::acceptor& acceptor = impl.acceptor.emplace(*impl.ios.front());
  auto fail = [&](const char* step) {
    impl.acceptor.reset();
    return Fail(ErrorCode::kUnavailable,
                "cannot listen on " + where + ": " + step + ": " + ec.message());
  };
  if (acceptor.open(endpoint.protocol(), ec)) return fail("open");
  if (acceptor.set_option(asio::socket_base::reuse_address(true), ec)) return fail("reuse");
  if (acceptor.bind(endpoint, ec)) return fail("bind");
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec)) return fail("listen");
  acceptor.non_blocking(true, ec);  // the listener drains bursts with accept() (see Listen)
  impl.port = acceptor.local_endpoint(ec).port();

  for (auto& io : impl.ios) impl.work.push_back(asio::make_work_guard(*io));
  asio::co_spawn(*impl.ios.front(), impl.Listen(), [log = impl.log](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log->error("the listener stopped: {}", ex.what());
    } catch (...) {
      log->error("the listener stopped");
    }
  });
  for (size_t i = 0; i < impl.ios.size(); ++i) {
    impl.threads.emplace_back([&impl, i] { impl.RunThread(i); });
  }
  impl.state = detail::ServerCore::State::kRunning;
  impl.log->info("listening on {}:{} with {} I/O threads", endpoint.address().to_string(),
                 impl.port.load(), impl.options.threads);
  return {};
}

uint16_t Server::port() const { return impl_->port.load(); }

void Server::Stop() {
  Impl& impl = *impl_;
  std::lock_guard lock(impl.mu);
  if (impl.state == detail::ServerCore::State::kStopped) return;
  const bool was_running = impl.state == detail::ServerCore::State::kRunning;
  impl.state = detail::ServerCore::State::kStopped;
  if (impl.ios.empty()) return;
  impl.work.clear();
  for (auto& io : impl.ios) io->stop();
  for (std::thread& thread : impl.threads) {
    if (thread.joinable()) thread.join();
  }
  impl.threads.clear();
  // No I/O thread runs now: the acceptor and the sessions can be torn down from here.
  impl.acceptor.reset();
  impl.pending->AbandonAll();
  for (auto& executor : impl.executors) executor->Close();  // posts from other threads drop
  impl.ios.clear();  // Destroys every suspended session; their sockets close.
  if (was_running) impl.log->info("stopped listening on port {}", impl.port.load());
}

}  // namespace vigil::http
