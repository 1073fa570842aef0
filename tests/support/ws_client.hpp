// A WebSocket client for tests: connect with headers, send text, receive text with a deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vigil::test {

class WsClient {
 public:
  // Connects to ws://127.0.0.1:port/target. Null when the upgrade fails; then `*status` (when
  // given) is the HTTP status the server answered with (0 when there was none).
  static std::unique_ptr<WsClient> Open(
      uint16_t port, const std::string& target,
      const std::vector<std::pair<std::string, std::string>>& headers, int* status = nullptr);
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  bool Send(const std::string& text);
  // The next text message, or nullopt when the socket closed or nothing came within `timeout`.
  std::optional<std::string> Receive(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool closed() const;

 private:
  WsClient();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::test
