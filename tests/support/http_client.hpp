// A small blocking HTTP/1.1 client for tests.
//
// Keeps one keep-alive connection and reconnects transparently when the server has closed it.
// Every operation has a deadline (10 s by default), so a test never hangs on a silent server: a
// request that fails or times out comes back with status 0 and `error` saying why.
// Not thread-safe; use one client per thread.
#pragma once

#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil::test {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResult {
  int status = 0;                              // 0: no answer (see error)
  std::map<std::string, std::string> headers;  // lower-case names; repeats joined with ", "
  std::string body;
  std::string error;  // why there is no answer; empty otherwise

  // The body parsed as JSON; a test failure (and null) when it is not JSON.
  boost::json::value Json() const;
  // The header's value (name in any case), or empty.
  std::string Header(std::string_view name) const;
};

// A blocking socket connected to 127.0.0.1:port, whose sends and reads give up after 10 s; -1
// when it cannot connect.
int ConnectLoopback(uint16_t port);

// Sends `bytes` as they are on a new connection to 127.0.0.1 and returns everything the server
// sends until it closes (or 10 s pass): for what HttpClient would not send or would parse away.
// With `then_shut_write`, the client then says it will send nothing more (a half close), so a
// server that reads on after an answer sees the end at once.
std::string RawExchange(uint16_t port, const std::string& bytes, bool then_shut_write = false);

class HttpClient {
 public:
  HttpClient(std::string host, uint16_t port,
             std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResult Request(std::string method, std::string target, std::string body = "",
                     Headers headers = {});
  HttpResult Get(std::string target, Headers headers = {});
  HttpResult Post(std::string target, std::string body, Headers headers = {});

  // How many TCP connections this client has opened so far (1 after many keep-alive requests).
  int connections() const;
  // Closes the connection; the next request opens a new one.
  void Close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::test
