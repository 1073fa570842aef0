#include "http_client.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <cctype>
#include <limits>
#include <optional>

namespace vigil::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

HttpResult Failed(std::string why) {
  HttpResult result;
  result.error = std::move(why);
  return result;
}

}  // namespace

int ConnectLoopback(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{.tv_sec = 10, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

std::string RawExchange(uint16_t port, const std::string& bytes, bool then_shut_write) {
  int fd = ConnectLoopback(port);
  std::string received;
  if (fd < 0) return received;
  if (!bytes.empty()) (void)!send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  if (then_shut_write) shutdown(fd, SHUT_WR);
  char chunk[4096];
  for (;;) {
    ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) break;
    received.append(chunk, static_cast<size_t>(n));
  }
  close(fd);
  return received;
}

boost::json::value HttpResult::Json() const {
  boost::json::error_code ec;
  boost::json::value value = boost::json::parse(body, ec);
  if (ec) {
    ADD_FAILURE() << "response body is not JSON (" << ec.message() << "): " << body;
    return nullptr;
  }
  return value;
}

std::string HttpResult::Header(std::string_view name) const {
  auto it = headers.find(Lower(name));
  return it == headers.end() ? std::string() : it->second;
}

// Blocking calls are asynchronous operations run to completion on a private io_context; the
// tcp_stream's deadline ends every one of them.
struct HttpClient::Impl {
  std::string host;
  uint16_t port;
  std::chrono::milliseconds timeout;
  asio::io_context io;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  int connections = 0;

  template <typename Start>
  beast::error_code Run(Start&& start) {
    beast::error_code result = asio::error::would_block;
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    io.restart();
    io.run();
    return result;
  }

  beast::error_code Connect() {
    Disconnect();
    beast::error_code ec;
    tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(host, std::to_string(port), ec);
    if (ec) return ec;
    stream.emplace(io);
    stream->expires_after(timeout);
    ec = Run([&](auto handler) { stream->async_connect(endpoints, std::move(handler)); });
    if (ec) {
      Disconnect();
      return ec;
    }
    ++connections;
    return {};
  }

  void Disconnect() {
    if (!stream) return;
    beast::error_code ec;
    stream->socket().shutdown(tcp::socket::shutdown_both, ec);
    stream->socket().close(ec);
    stream.reset();
    buffer.clear();
  }
};

HttpClient::HttpClient(std::string host, uint16_t port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
  impl_->timeout = timeout;
}

HttpClient::~HttpClient() { impl_->Disconnect(); }

int HttpClient::connections() const { return impl_->connections; }

void HttpClient::Close() { impl_->Disconnect(); }

HttpResult HttpClient::Request(std::string method, std::string target, std::string body,
                               Headers headers) {
  Impl& impl = *impl_;
  bhttp::request<bhttp::string_body> request;
  request.version(11);
  bhttp::verb verb = bhttp::string_to_verb(method);
  if (verb == bhttp::verb::unknown) {
    request.method_string(method);
  } else {
    request.method(verb);
  }
  request.target(target);
  request.set(bhttp::field::host, impl.host + ":" + std::to_string(impl.port));
  request.set(bhttp::field::user_agent, "vigil-test");
  const bool has_body = !body.empty();
  request.body() = std::move(body);
  if (has_body || verb == bhttp::verb::post || verb == bhttp::verb::put ||
      verb == bhttp::verb::patch) {
    request.content_length(request.body().size());
  }
  for (auto& [name, value] : headers) request.set(name, value);

  // A kept-alive connection may have been closed by the server in the meantime; then the request
  // is sent again on a new one, once.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool fresh = !impl.stream.has_value();
    if (fresh) {
      if (beast::error_code ec = impl.Connect()) {
        return Failed("connect to " + impl.host + ":" + std::to_string(impl.port) + ": " +
                      ec.message());
      }
    }
    impl.stream->expires_after(impl.timeout);
    beast::error_code write_ec = impl.Run(
        [&](auto handler) { bhttp::async_write(*impl.stream, request, std::move(handler)); });

    // Read even when the write failed: the server may have answered early (413) and closed.
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(std::numeric_limits<uint64_t>::max());
    parser.skip(verb == bhttp::verb::head);
    beast::error_code read_ec;
    if (impl.stream) {
      impl.stream->expires_after(impl.timeout);
      read_ec = impl.Run([&](auto handler) {
        bhttp::async_read(*impl.stream, impl.buffer, parser, std::move(handler));
      });
    }
    if (read_ec) {
      const bool retry =
          !fresh && !parser.got_some() &&
          (read_ec == bhttp::error::end_of_stream || read_ec == asio::error::eof ||
           read_ec == asio::error::connection_reset || write_ec == asio::error::broken_pipe ||
           write_ec == asio::error::connection_reset);
      impl.Disconnect();
      if (retry) continue;
      return Failed(std::string(method) + " " + target + ": " +
                    (write_ec ? "write: " + write_ec.message() + "; " : "") +
                    "read: " + read_ec.message());
    }

    auto& response = parser.get();
    HttpResult result;
    result.status = static_cast<int>(response.result_int());
    for (const auto& field : response) {
      std::string name = Lower(field.name_string());
      auto [it, inserted] = result.headers.emplace(name, std::string(field.value()));
      if (!inserted) it->second += ", " + std::string(field.value());
    }
    result.body = std::move(response.body());
    if (!response.keep_alive() || write_ec) impl.Disconnect();
    return result;
  }
  return Failed(std::string(method) + " " + target + ": the server closed the connection twice");
}

HttpResult HttpClient::Get(std::string target, Headers headers) {
  return Request("GET", std::move(target), "", std::move(headers));
}

HttpResult HttpClient::Post(std::string target, std::string body, Headers headers) {
  return Request("POST", std::move(target), std::move(body), std::move(headers));
}

}  // namespace vigil::test
