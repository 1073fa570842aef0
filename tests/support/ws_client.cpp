#include "support/ws_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/websocket.hpp>

namespace vigil::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;

struct WsClient::Impl {
  asio::io_context io;
  websocket::stream<tcp::socket> ws{io};
  beast::flat_buffer buffer;
  bool closed = false;

  // Runs the io_context until `done` or the deadline; on the deadline, closes the socket.
  bool RunUntil(const bool& done, std::chrono::milliseconds timeout) {
    io.restart();
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done && std::chrono::steady_clock::now() < deadline) {
      io.run_one_until(deadline);
    }
    if (done) return true;
    beast::error_code ec;
    ws.next_layer().cancel(ec);
    io.restart();
    io.run();  // let the cancelled operation finish
    return false;
  }
};

WsClient::WsClient() : impl_(std::make_unique<Impl>()) {}
WsClient::~WsClient() = default;

std::unique_ptr<WsClient> WsClient::Open(
    uint16_t port, const std::string& target,
    const std::vector<std::pair<std::string, std::string>>& headers, int* status) {
  std::unique_ptr<WsClient> c(new WsClient());
  if (status) *status = 0;
  beast::error_code ec;
  c->impl_->ws.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return nullptr;
  c->impl_->ws.set_option(
      websocket::stream_base::decorator([headers](websocket::request_type& req) {
        for (const auto& [name, value] : headers) req.set(name, value);
      }));
  websocket::response_type res;
  bool done = false;
  // Host with the port, as browsers send it (the server compares it with Origin).
  const std::string host = "127.0.0.1:" + std::to_string(port);
  c->impl_->ws.async_handshake(res, host, target, [&](beast::error_code e) {
    ec = e;
    done = true;
  });
  if (!c->impl_->RunUntil(done, std::chrono::seconds(10)) || ec) {
    if (status) *status = static_cast<int>(res.result_int());
    return nullptr;
  }
  if (status) *status = static_cast<int>(res.result_int());
  return c;
}

bool WsClient::Send(const std::string& text) {
  beast::error_code ec;
  bool done = false;
  impl_->ws.text(true);
  impl_->ws.async_write(asio::buffer(text), [&](beast::error_code e, size_t) {
    ec = e;
    done = true;
  });
  return impl_->RunUntil(done, std::chrono::seconds(10)) && !ec;
}

std::optional<std::string> WsClient::Receive(std::chrono::milliseconds timeout) {
  if (impl_->closed) return std::nullopt;
  beast::error_code ec;
  bool done = false;
  impl_->buffer.clear();
  impl_->ws.async_read(impl_->buffer, [&](beast::error_code e, size_t) {
    ec = e;
    done = true;
  });
  if (!impl_->RunUntil(done, timeout)) return std::nullopt;
  if (ec) {
    impl_->closed = true;
    return std::nullopt;
  }
  return beast::buffers_to_string(impl_->buffer.data());
}

bool WsClient::closed() const { return impl_->closed; }

}  // namespace vigil::test
