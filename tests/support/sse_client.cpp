#include "support/sse_client.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstring>

namespace vigil::test {

using Clock = std::chrono::steady_clock;

std::unique_ptr<SseClient> SseClient::Open(uint16_t port, const std::string& target,
                                           const Options& options) {
  std::unique_ptr<SseClient> c(new SseClient());
  c->fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->fd_ < 0) {
    ADD_FAILURE() << "socket: " << std::strerror(errno);
    return nullptr;
  }
  if (options.receive_buffer > 0) {
    ::setsockopt(c->fd_, SOL_SOCKET, SO_RCVBUF, &options.receive_buffer,
                 sizeof options.receive_buffer);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(c->fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ADD_FAILURE() << "connect: " << std::strerror(errno);
    return nullptr;
  }
  std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  request += "Accept: text/event-stream\r\n";
  for (const auto& [name, value] : options.headers) request += name + ": " + value + "\r\n";
  request += "\r\n";
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n = ::send(c->fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      ADD_FAILURE() << "send: " << std::strerror(errno);
      return nullptr;
    }
    sent += static_cast<size_t>(n);
  }
  const auto deadline = Clock::now() + options.timeout;
  size_t end;
  while ((end = c->buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!c->Fill(deadline)) {
      ADD_FAILURE() << "no response head from the server";
      return nullptr;
    }
  }
  std::string head = c->buffer_.substr(0, end);
  c->buffer_.erase(0, end + 4);
  size_t line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  if (status_line.size() >= 12) c->status_ = std::atoi(status_line.c_str() + 9);
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t next = head.find("\r\n", pos);
    if (next == std::string::npos) next = head.size();
    std::string line = head.substr(pos, next - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      size_t v = colon + 1;
      while (v < line.size() && line[v] == ' ') ++v;
      c->headers_[name] = line.substr(v);
    }
    pos = next + 2;
  }
  if (c->status_ != 200) {
    size_t length = std::strtoul(c->Header("content-length").c_str(), nullptr, 10);
    while (c->buffer_.size() < length && c->Fill(deadline)) {
    }
    c->body_ = c->buffer_.substr(0, length);
  }
  return c;
}

SseClient::~SseClient() { Close(); }

void SseClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::string SseClient::Header(const std::string& lower_name) const {
  auto it = headers_.find(lower_name);
  return it == headers_.end() ? "" : it->second;
}

bool SseClient::Fill(Clock::time_point deadline) {
  if (fd_ < 0) return false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    char chunk[16384];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }
}

std::optional<SseFrame> SseClient::Next(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    size_t end = buffer_.find("\n\n");
    if (end != std::string::npos) {
      std::string block = buffer_.substr(0, end);
      buffer_.erase(0, end + 2);
      SseFrame frame;
      bool any = false;
      size_t pos = 0;
      while (pos <= block.size()) {
        size_t next = block.find('\n', pos);
        if (next == std::string::npos) next = block.size();
        std::string line = block.substr(pos, next - pos);
        pos = next + 1;
        if (line.empty() || line[0] == ':') continue;
        size_t colon = line.find(':');
        std::string field = line.substr(0, colon);
        std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
        if (!value.empty() && value[0] == ' ') value.erase(0, 1);
        any = true;
        if (field == "id") {
          frame.id = value;
        } else if (field == "event") {
          frame.event = value;
        } else if (field == "data") {
          if (!frame.data.empty()) frame.data += "\n";
          frame.data += value;
        } else if (field == "retry") {
          frame.retry = std::atoi(value.c_str());
        }
      }
      if (!any) continue;
      if (frame.event.empty() && !frame.retry) frame.event = "message";
      return frame;
    }
    if (!Fill(deadline)) return std::nullopt;
  }
}

std::optional<SseFrame> SseClient::NextEvent(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return std::nullopt;
    std::optional<SseFrame> f = Next(left);
    if (!f) return f;
    if (f->event.empty() || f->event == "heartbeat" || f->event == "progress") continue;
    return f;
  }
}

}  // namespace vigil::test
