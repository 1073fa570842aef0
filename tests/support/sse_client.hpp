// A blocking Server-Sent Events client for tests: one connection, one GET, then frames one by
// one. Every read has a deadline, so a silent server fails a test instead of hanging it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vigil::test {

struct SseFrame {
  std::optional<std::string> id;  // the id: field, when present
  std::string event;              // "message" when the frame had no event: field
  std::string data;               // data: lines joined with "\n"
  std::optional<int> retry;       // the retry: field, when present
};

class SseClient {
 public:
  struct Options {
    std::vector<std::pair<std::string, std::string>> headers;
    std::chrono::milliseconds timeout{10'000};  // connecting and reading the head
    int receive_buffer = 0;                     // SO_RCVBUF before connecting (0: the system's)
  };

  // Connects to 127.0.0.1:port, sends GET target and reads the response head (and, when the
  // status is not 200, the body). Null with a test failure when the connection fails.
  static std::unique_ptr<SseClient> Open(uint16_t port, const std::string& target,
                                         const Options& options);
  ~SseClient();
  SseClient(const SseClient&) = delete;
  SseClient& operator=(const SseClient&) = delete;

  int status() const { return status_; }
  std::string Header(const std::string& lower_name) const;
  const std::string& body() const { return body_; }  // of a non-200 answer

  // The next frame (retry-only frames included); nullopt when the server closed the stream
  // (closed() is then true) or nothing came within `timeout`.
  std::optional<SseFrame> Next(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // The next frame that is not a retry:, heartbeat or progress frame.
  std::optional<SseFrame> NextEvent(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool closed() const { return closed_; }
  void Close();

 private:
  SseClient() = default;
  // Reads more bytes into buffer_; false on EOF, error or deadline.
  bool Fill(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  int status_ = 0;
  std::map<std::string, std::string> headers_;
  std::string body_;
  std::string buffer_;
  bool closed_ = false;
};

}  // namespace vigil::test
