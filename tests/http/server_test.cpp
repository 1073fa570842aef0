#include "http/server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>

#include "http/router.hpp"
#include "http/stream.hpp"
#include "support/http_client.hpp"

namespace vigil::http {
namespace {

using test::ConnectLoopback;
using test::RawExchange;

using test::HttpClient;
using test::HttpResult;

// A thread that runs posted tasks in order: handlers answer from here, not from an I/O thread.
class Worker {
 public:
  Worker() : thread_([this] { Loop(); }) {}
  ~Worker() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void Post(std::function<void()> task) {
    {
      std::lock_guard lock(mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_all();
  }

 private:
  void Loop() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return done_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool done_ = false;
  std::thread thread_;
};

// An SSE stream that sends one frame and ends.
class OneFrameStream : public Stream {
 public:
  Kind kind() const override { return Kind::kServerSentEvents; }
  void Start(std::function<void()>, Executor*) override {}
  void Poll(SteadyTime, Output& out) override {
    out.frames.push_back(std::make_shared<const std::string>("data: one\n\n"));
    out.done = true;
  }
};

class ServerTest : public ::testing::Test {
 protected:
  ServerTest() {
    RouteOptions open{.auth = false};
    auto echo = [this](const Request& request, Responder respond) {
      // The request stays valid until the answer: read it on the worker thread.
      worker_.Post([&request, respond = std::move(respond)] {
        boost::json::object query, headers;
        for (const auto& [k, v] : request.query) query[k] = v;
        for (const auto& [k, v] : request.headers) headers[k] = v;
        respond(JsonResponse(
            200, boost::json::serialize(boost::json::object{{"method", MethodName(request.method)},
                                                            {"target", request.target},
                                                            {"path", request.path},
                                                            {"route", request.route},
                                                            {"query", query},
                                                            {"headers", headers},
                                                            {"body", request.body},
                                                            {"request_id", request.request_id},
                                                            {"remote", request.remote_address}})));
      });
    };
    router_.Add(Method::kGet, "/echo", echo, open);
    router_.Add(Method::kPost, "/echo", echo, open);
    router_.Add(Method::kGet, "/echo/{rest}", echo, open);
    router_.Add(
        Method::kGet, "/fixed",
        [this](const Request&, Responder respond) {
          worker_.Post([respond] { respond(JsonResponse(200, "\"hello world\"")); });
        },
        open);
    router_.Add(
        Method::kGet, "/not-modified",
        [this](const Request&, Responder respond) {
          worker_.Post([respond] {
            Response response = JsonResponse(304, "this body must not be sent");
            response.Set("ETag", "\"v7\"");
            respond(std::move(response));
          });
        },
        open);
    router_.Add(
        Method::kGet, "/shared",
        [this](const Request&, Responder respond) {
          Response response;
          response.headers.emplace_back("Content-Type", "text/plain");
          response.shared_body = shared_;
          response.body = "ignored when the body is shared";
          respond(std::move(response));
        },
        open);
    router_.Add(
        Method::kGet, "/no-content",
        [](const Request&, Responder respond) { respond(JsonResponse(204, "nor this one")); },
        open);
    router_.Add(
        Method::kGet, "/throw",
        [](const Request&, Responder) { throw std::runtime_error("handler bug"); }, open);
    router_.Add(
        Method::kGet, "/drop",
        [this](const Request&, Responder respond) {
          worker_.Post(
              [respond = std::move(respond)]() mutable { Responder dropped = std::move(respond); });
        },
        open);
    router_.Add(
        Method::kGet, "/events",
        [](const Request& request, Responder respond) {
          Response response;
          response.Set("Content-Type", "text/event-stream");
          if (request.Query("own-policy")) {
            response.Set("Content-Security-Policy", "default-src 'self'");
            response.Set("X-Content-Type-Options", "nosniff");
            response.Set("Referrer-Policy", "no-referrer");
          }
          response.stream = std::make_shared<OneFrameStream>();
          respond(std::move(response));
        },
        open);
    router_.Add(
        Method::kGet, "/hold",
        [this](const Request&, Responder respond) {
          std::lock_guard lock(held_mu_);
          held_ = std::move(respond);
          held_signal_.set_value();
        },
        open);
  }

  void StartServer(ServerOptions options = {}) {
    options.address = "127.0.0.1";
    options.port = 0;
    options.threads = 2;
    server_ = std::make_unique<Server>(options, [this](Request& request, Responder respond) {
      router_.Dispatch(request, std::move(respond));
    });
    auto started = server_->Start();
    ASSERT_TRUE(started.has_value()) << started.error().message;
    ASSERT_NE(server_->port(), 0);
    client_.emplace("127.0.0.1", server_->port());
  }

  Worker worker_;
  std::shared_ptr<const std::string> shared_ =
      std::make_shared<const std::string>("bytes loaded once, sent by every answer");
  Router router_;
  std::mutex held_mu_;
  Responder held_;
  std::promise<void> held_signal_;
  std::unique_ptr<Server> server_;
  std::optional<HttpClient> client_;
};

TEST_F(ServerTest, AnswersFromAnotherThread) {
  StartServer();
  HttpResult r = client_->Get("/echo/a%20b?x=1&y=a%20b&z=1+2&flag", {{"X-Custom", "Value"}});
  ASSERT_EQ(r.status, 200) << r.error << r.body;
  EXPECT_EQ(r.Header("Content-Type"), "application/json");
  EXPECT_EQ(r.Header("Server"), "vigil");
  boost::json::value body = r.Json();
  EXPECT_EQ(body.at("method"), "GET");
  EXPECT_EQ(body.at("target"), "/echo/a%20b?x=1&y=a%20b&z=1+2&flag");
  EXPECT_EQ(body.at("path"), "/echo/a b");
  EXPECT_EQ(body.at("route"), "/echo/{rest}");
  EXPECT_EQ(body.at("query"),
            (boost::json::object{{"x", "1"}, {"y", "a b"}, {"z", "1 2"}, {"flag", ""}}));
  EXPECT_EQ(body.at("headers").at("x-custom"), "Value");
  EXPECT_EQ(body.at("remote"), "127.0.0.1");
  EXPECT_FALSE(r.Header("X-Request-Id").empty());
  EXPECT_EQ(body.at("request_id").as_string(), r.Header("X-Request-Id"));
}

TEST_F(ServerTest, PostsABody) {
  StartServer();
  HttpResult r = client_->Post("/echo", R"({"a":1})", {{"Content-Type", "application/json"}});
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.Json().at("body"), R"({"a":1})");
}

// The request parser's paths that a plain body does not take.
TEST_F(ServerTest, ReadsAChunkedBody) {
  ServerOptions options;
  options.body_limit = 64;
  StartServer(options);
  std::string answer = RawExchange(
      server_->port(),
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
      "4\r\n{\"a\"\r\n3;ext=1\r\n:1}\r\n0\r\n\r\n");
  ASSERT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  EXPECT_NE(answer.find(R"("body":"{\"a\":1}")"), std::string::npos) << answer;
  // Chunks that add up to more than the body limit are refused like a long Content-Length.
  std::string chunks;
  for (int i = 0; i < 5; ++i) chunks += "10\r\n" + std::string(16, 'a') + "\r\n";
  answer = RawExchange(server_->port(),
                       "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                           chunks + "0\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer.substr(0, 200);
}

// Request smuggling (RFC 9112 §6.1): a Transfer-Encoding other than a lone, final `chunked` was
// ignored, so the body was framed by Content-Length or, without one, read as the next request.
// Each is refused with one 400, and the connection closed: nothing after it is read as a request.
TEST_F(ServerTest, RefusesEveryTransferEncodingButChunked) {
  StartServer();
  const std::string smuggled =
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n{\"a\":1}";
  struct Case {
    std::string head;  // the fields after Host
    std::string body;
  };
  const std::vector<Case> cases = {
      {"Transfer-Encoding: gzip\r\n", smuggled},
      {"Transfer-Encoding: gzip\r\nContent-Length: " + std::to_string(smuggled.size()) + "\r\n",
       smuggled},
      {"Transfer-Encoding: identity\r\n", smuggled},
      {"Transfer-Encoding: xchunked\r\n", smuggled},
      {"Transfer-Encoding: chunked, identity\r\n", smuggled},
      {"Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n" + smuggled},
      {"Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n" + smuggled},
      {"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n" + smuggled},
      {"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n" + smuggled},
      {"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "0\r\n\r\n" + smuggled},
      {"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n" + smuggled},
      {"Transfer-Encoding:\r\n", smuggled},
  };
  for (const Case& c : cases) {
    std::string answer = RawExchange(
        server_->port(), "POST /echo HTTP/1.1\r\nHost: x\r\n" + c.head + "\r\n" + c.body, true);
    EXPECT_EQ(answer.rfind("HTTP/1.1 400 ", 0), 0u) << c.head << answer;
    EXPECT_NE(answer.find("Connection: close\r\n"), std::string::npos) << c.head << answer;
    EXPECT_NE(answer.find("Transfer-Encoding"), std::string::npos) << c.head << answer;
    // One answer only: the smuggled request was not served.
    EXPECT_EQ(answer.find("HTTP/1.1", 1), std::string::npos) << c.head << answer;
  }
  // In HTTP/1.0 there is no chunked coding (RFC 9112 §6.1).
  std::string answer = RawExchange(
      server_->port(),
      "POST /echo HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled,
      true);
  EXPECT_EQ(answer.rfind("HTTP/1.1 400 ", 0), 0u) << answer;
  EXPECT_EQ(answer.find("HTTP/1.1", 1), std::string::npos) << answer;
  // The coding's name is case-insensitive (RFC 9112 §7): `Chunked` is chunked.
  answer = RawExchange(server_->port(),
                       "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n"
                       "Connection: close\r\n\r\n7\r\n{\"a\":1}\r\n0\r\n\r\n",
                       true);
  ASSERT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  EXPECT_NE(answer.find(R"("body":"{\"a\":1}")"), std::string::npos) << answer;
}

// Two lengths that disagree are refused, and the answer says which field is at fault.
TEST_F(ServerTest, RefusesConflictingContentLengths) {
  StartServer();
  std::string answer = RawExchange(
      server_->port(),
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\nContent-Length: 8\r\n\r\n{\"a\":1}",
      true);
  EXPECT_EQ(answer.rfind("HTTP/1.1 400 ", 0), 0u) << answer;
  EXPECT_NE(answer.find("conflicting Content-Length"), std::string::npos) << answer;
  EXPECT_EQ(answer.find("HTTP/1.1", 1), std::string::npos) << answer;
}

// Obsolete line folding (RFC 9112 §5.2) is refused, not joined: "Content-Length:\r\n 19" was read
// as a length of 19. So is a space-led line right after the request line (§2.2).
TEST_F(ServerTest, RefusesFoldedHeaderLines) {
  StartServer();
  const std::vector<std::string> heads = {
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n 7\r\n\r\n{\"a\":1}",
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\nX-A: b\r\n\tc\r\n\r\n{\"a\":1}",
      "GET /echo HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n",
      "GET /echo HTTP/1.1\r\n Host: x\r\n\r\n",
      "GET /echo HTTP/1.1\r\nHost: x\r\nX-A:\r\n\t\r\n\r\n",
  };
  for (const std::string& request : heads) {
    std::string answer = RawExchange(server_->port(), request, true);
    EXPECT_EQ(answer.rfind("HTTP/1.1 400 ", 0), 0u) << request << answer;
    EXPECT_NE(answer.find("obs-fold"), std::string::npos) << request << answer;
    EXPECT_NE(answer.find("Connection: close\r\n"), std::string::npos) << request << answer;
    EXPECT_EQ(answer.find("HTTP/1.1", 1), std::string::npos) << request << answer;
  }
  // The same header arriving a byte at a time is refused just the same (the check waits for the
  // whole header, as the parser does).
  int fd = ConnectLoopback(server_->port());
  ASSERT_GE(fd, 0);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  for (char c : heads.front()) ASSERT_EQ(send(fd, &c, 1, MSG_NOSIGNAL), 1);
  shutdown(fd, SHUT_WR);
  std::string answer;
  char chunk[4096];
  for (ssize_t n; (n = recv(fd, chunk, sizeof(chunk), 0)) > 0;) answer.append(chunk, size_t(n));
  close(fd);
  EXPECT_EQ(answer.rfind("HTTP/1.1 400 ", 0), 0u) << answer;
  // A value with inner spaces and tabs is not a fold.
  answer = RawExchange(server_->port(),
                       "GET /echo HTTP/1.1\r\nHost: x\r\nX-A: b \t c\r\nConnection: close\r\n\r\n");
  ASSERT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  EXPECT_NE(answer.find(R"("x-a":"b \t c")"), std::string::npos) << answer;
}

TEST_F(ServerTest, AnswersExpectContinueBeforeTheBody) {
  StartServer();
  int fd = ConnectLoopback(server_->port());
  ASSERT_GE(fd, 0);
  auto receive = [&](std::string_view until) {
    std::string got;
    char chunk[4096];
    while (got.find(until) == std::string::npos) {
      ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0) break;
      got.append(chunk, static_cast<size_t>(n));
    }
    return got;
  };
  const std::string head =
      "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 7\r\n"
      "Connection: close\r\n\r\n";
  ASSERT_EQ(send(fd, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
  // The client waits for the go-ahead before it sends the body.
  EXPECT_EQ(receive("\r\n\r\n").rfind("HTTP/1.1 100 Continue\r\n", 0), 0u);
  ASSERT_EQ(send(fd, R"({"a":1})", 7, MSG_NOSIGNAL), 7);
  std::string answer = receive("}");
  close(fd);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  EXPECT_NE(answer.find(R"("body":"{\"a\":1}")"), std::string::npos) << answer;
}

TEST_F(ServerTest, KeepsFieldNamesLowerCaseAndValuesAsSent) {
  StartServer();
  std::string answer = RawExchange(server_->port(),
                                   "GET /echo HTTP/1.1\r\nHost: x\r\nX-MiXeD-Case:  Value With "
                                   "Spaces\t\r\nConnection: close\r\n\r\n");
  ASSERT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  // Leading and trailing whitespace is not part of a value (RFC 9110, 5.5).
  EXPECT_NE(answer.find(R"("x-mixed-case":"Value With Spaces")"), std::string::npos) << answer;
}

TEST_F(ServerTest, KeepsTheConnectionAlive) {
  StartServer();
  std::set<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    HttpResult r = client_->Get("/echo");
    ASSERT_EQ(r.status, 200) << r.error;
    ids.insert(r.Header("X-Request-Id"));
  }
  EXPECT_EQ(client_->connections(), 1);
  EXPECT_EQ(ids.size(), 5u);
}

TEST_F(ServerTest, HonoursConnectionClose) {
  StartServer();
  HttpResult r = client_->Get("/fixed", {{"Connection", "close"}});
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.Header("Connection"), "close");
  ASSERT_EQ(client_->Get("/fixed").status, 200);
  EXPECT_EQ(client_->connections(), 2);
}

TEST_F(ServerTest, HeadSendsTheHeadersOnly) {
  StartServer();
  HttpResult head = client_->Request("HEAD", "/fixed");
  ASSERT_EQ(head.status, 200) << head.error;
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(head.Header("Content-Length"), "13");
  // Nothing stray was sent: the same connection serves the next request.
  HttpResult get = client_->Get("/fixed");
  ASSERT_EQ(get.status, 200) << get.error;
  EXPECT_EQ(get.body, "\"hello world\"");
  EXPECT_EQ(client_->connections(), 1);
}

TEST_F(ServerTest, SendsASharedBody) {
  StartServer();
  for (int i = 0; i < 2; ++i) {
    HttpResult r = client_->Get("/shared");
    ASSERT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.body, *shared_);
    EXPECT_EQ(r.Header("Content-Length"), std::to_string(shared_->size()));
  }
  HttpResult head = client_->Request("HEAD", "/shared");
  ASSERT_EQ(head.status, 200) << head.error;
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(head.Header("Content-Length"), std::to_string(shared_->size()));
  EXPECT_EQ(client_->connections(), 1) << "nothing stray was sent";
}

TEST_F(ServerTest, NotModifiedAndNoContentCarryNoBody) {
  StartServer();
  HttpResult r = client_->Get("/not-modified");
  ASSERT_EQ(r.status, 304) << r.error;
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.Header("ETag"), "\"v7\"");
  r = client_->Get("/no-content");
  ASSERT_EQ(r.status, 204) << r.error;
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.Header("Content-Length"), "");
  r = client_->Get("/fixed");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body, "\"hello world\"");
  EXPECT_EQ(client_->connections(), 1);
}

TEST_F(ServerTest, AStreamsHeadFollowsTheRulesOfEveryHead) {
  StartServer();
  auto count = [](const std::string& text, std::string_view what) {
    int n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  };
  std::string answer = RawExchange(server_->port(), "GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(answer.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << answer;
  const std::string head = answer.substr(0, answer.find("\r\n\r\n") + 4);
  EXPECT_NE(head.find("Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"),
            std::string::npos)
      << head;
  EXPECT_EQ(count(head, "Server: vigil\r\n"), 1) << head;
  EXPECT_EQ(count(head, "X-Request-Id: "), 1) << head;
  EXPECT_EQ(head.find("Content-Length"), std::string::npos) << head;
  EXPECT_EQ(answer.substr(head.size()), "data: one\n\n");

  // A stream that sets its own policy gets it alone, as a plain answer does.
  answer = RawExchange(server_->port(), "GET /events?own-policy=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(answer.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << answer;
  EXPECT_EQ(count(answer, "Content-Security-Policy"), 1) << answer;
  EXPECT_NE(answer.find("Content-Security-Policy: default-src 'self'\r\n"), std::string::npos)
      << answer;
  EXPECT_EQ(count(answer, "X-Content-Type-Options"), 1) << answer;
  EXPECT_NE(answer.find("data: one\n\n"), std::string::npos) << answer;
}

TEST_F(ServerTest, BodyOverTheLimitIs413) {
  ServerOptions options;
  options.body_limit = 1024;
  StartServer(options);
  EXPECT_EQ(client_->Post("/echo", std::string(1024, 'a')).status, 200);
  HttpResult r = client_->Post("/echo", std::string(4096, 'a'));
  ASSERT_EQ(r.status, 413) << r.error;
  EXPECT_EQ(r.Header("Content-Type"), "application/problem+json");
  EXPECT_EQ(r.Json().at("type"), "urn:vigil:problem:payload_too_large");
  EXPECT_EQ(r.Json().at("instance"), "/echo");
  // A much larger body still gets its answer rather than a reset connection.
  r = client_->Post("/echo", std::string(2 << 20, 'a'));
  ASSERT_EQ(r.status, 413) << r.error;
  // The client reconnects after the server closed.
  EXPECT_EQ(client_->Get("/fixed").status, 200);
}

TEST_F(ServerTest, TooLargeOrTooManyHeaderFieldsAre431) {
  StartServer();
  std::string big = RawExchange(server_->port(), "GET /fixed HTTP/1.1\r\nHost: x\r\nX-Big: " +
                                                     std::string(20000, 'a') + "\r\n\r\n");
  EXPECT_EQ(big.rfind("HTTP/1.1 431", 0), 0u) << big.substr(0, 200);
  EXPECT_NE(big.find("headers_too_large"), std::string::npos);
  std::string many = "GET /fixed HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 101; ++i) many += "X-F" + std::to_string(i) + ": v\r\n";
  std::string answer = RawExchange(server_->port(), many + "\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 431", 0), 0u) << answer.substr(0, 200);
  EXPECT_NE(answer.find("at most 100 header fields"), std::string::npos);
  // Just under both limits is fine.
  std::string fine = "GET /fixed HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
  for (int i = 0; i < 90; ++i) fine += "X-F" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(RawExchange(server_->port(), fine + "\r\n").rfind("HTTP/1.1 200", 0), 0u);
}

TEST_F(ServerTest, UnknownPathIs404) {
  StartServer();
  HttpResult r = client_->Get("/nowhere");
  ASSERT_EQ(r.status, 404) << r.error;
  EXPECT_EQ(r.Json().at("request_id").as_string(), r.Header("X-Request-Id"));
}

TEST_F(ServerTest, AHandlerThatThrowsOrDropsItsResponderGets500) {
  StartServer();
  HttpResult r = client_->Get("/throw");
  ASSERT_EQ(r.status, 500) << r.error;
  EXPECT_EQ(r.Json().at("type"), "urn:vigil:problem:internal");
  EXPECT_EQ(r.body.find("handler bug"), std::string::npos) << r.body;  // for the log only
  r = client_->Get("/drop");
  ASSERT_EQ(r.status, 500) << r.error;
  EXPECT_EQ(client_->Get("/fixed").status, 200);
}

TEST_F(ServerTest, MalformedRequestIs400AndCloses) {
  StartServer();
  std::string answer = RawExchange(server_->port(), "THIS IS NOT HTTP\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer;
  EXPECT_NE(answer.find("application/problem+json"), std::string::npos) << answer;
  EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
}

TEST_F(ServerTest, ReadTimeoutClosesASilentConnection) {
  ServerOptions options;
  options.read_timeout = std::chrono::seconds(1);
  StartServer(options);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(RawExchange(server_->port(), "GET /fixed HTTP/1.1\r\n"), "");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(ServerTest, SlowLorisClientsHoldNoThreadAndAreDropped) {
  ServerOptions options;
  options.read_timeout = std::chrono::seconds(1);
  StartServer(options);
  // Fifty clients each send half a request head and stall: more than there are I/O threads.
  std::vector<int> stalled;
  for (int i = 0; i < 50; ++i) {
    int fd = ConnectLoopback(server_->port());
    ASSERT_GE(fd, 0);
    const char partial[] = "GET /fixed HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    ASSERT_GT(send(fd, partial, sizeof(partial) - 1, MSG_NOSIGNAL), 0);
    stalled.push_back(fd);
  }
  // Nobody waits for them: a request of someone else is answered meanwhile.
  EXPECT_EQ(client_->Get("/fixed").status, 200);
  // And the server closes every one of them after the read timeout.
  for (int fd : stalled) {
    pollfd p{fd, POLLIN, 0};
    ASSERT_EQ(poll(&p, 1, 10'000), 1) << "a stalled client was not dropped";
    char buf[64];
    EXPECT_EQ(recv(fd, buf, sizeof buf, 0), 0) << "closed without an answer: nobody to answer";
    close(fd);
  }
}

TEST_F(ServerTest, StopIsIdempotent) {
  StartServer();
  ASSERT_EQ(client_->Get("/fixed").status, 200);
  server_->Stop();
  server_->Stop();
  HttpResult r = client_->Get("/fixed");
  EXPECT_EQ(r.status, 0);
  server_.reset();
}

TEST_F(ServerTest, StopsWithARequestInFlight) {
  StartServer();
  std::future<void> held = held_signal_.get_future();
  std::thread caller([port = server_->port()] {
    HttpClient client("127.0.0.1", port);
    EXPECT_EQ(client.Get("/hold").status, 0);  // The server goes away without an answer.
  });
  ASSERT_EQ(held.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  server_->Stop();
  caller.join();
  // Answering after the server stopped does nothing.
  std::lock_guard lock(held_mu_);
  held_(JsonResponse(200, "late"));
  held_ = nullptr;
}

TEST(ServerStartTest, APortInUseIsUnavailable) {
  Server first(ServerOptions{.port = 0, .threads = 1}, [](Request&, Responder) {});
  ASSERT_TRUE(first.Start().has_value());
  Server second(ServerOptions{.port = first.port(), .threads = 1}, [](Request&, Responder) {});
  auto started = second.Start();
  ASSERT_FALSE(started.has_value());
  EXPECT_EQ(started.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(started.error().message.find("cannot listen on 127.0.0.1:"), std::string::npos)
      << started.error().message;
}

TEST(ServerStartTest, StartsOnce) {
  Server server(ServerOptions{.port = 0, .threads = 1}, [](Request&, Responder) {});
  ASSERT_TRUE(server.Start().has_value());
  EXPECT_FALSE(server.Start().has_value());
}

}  // namespace
}  // namespace vigil::http
