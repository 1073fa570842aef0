#include "http/response_head.hpp"

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <boost/beast/http/status.hpp>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace vigil::http {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kSecurity =
    "X-Content-Type-Options: nosniff\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n";

class ResponseHeadTest : public ::testing::Test {
 protected:
  ResponseHeadTest()
      : log_("response_head_test", std::make_shared<spdlog::sinks::ostream_sink_st>(log_text_)) {}

  struct Head {
    std::string text;
    bool keep_alive;
  };

  // A head for a plain answer of `length` bytes to an HTTP/`version` request.
  Head Plain(int status, const Headers& headers, std::optional<size_t> length = 0,
             bool keep_alive = true, unsigned version = 11) {
    Head head;
    head.keep_alive = AppendResponseHead({.status = status,
                                          .headers = headers,
                                          .request_id = "0123456789abcde",
                                          .rate = rate_,
                                          .version = version,
                                          .keep_alive = keep_alive,
                                          .content_length = length},
                                         head.text, log_);
    return head;
  }
  Head Stream(const Headers& headers, bool keep_alive = true, unsigned version = 11) {
    return Plain(200, headers, std::nullopt, keep_alive, version);
  }

  std::ostringstream log_text_;
  spdlog::logger log_;
  RateLimitState rate_;
};

TEST_F(ResponseHeadTest, APlainAnswerByteForByte) {
  const Head head = Plain(200, {{"Content-Type", "application/json"}, {"ETag", "\"7\""}}, 12);
  EXPECT_EQ(head.text, std::string("HTTP/1.1 200 OK\r\n"
                                   "Content-Type: application/json\r\n"
                                   "ETag: \"7\"\r\n"
                                   "Server: vigil\r\n") +
                           std::string(kSecurity) +
                           "X-Request-Id: 0123456789abcde\r\n"
                           "Content-Length: 12\r\n"
                           "\r\n");
  EXPECT_TRUE(head.keep_alive);
}

TEST_F(ResponseHeadTest, AppendsToWhatTheBufferHolds) {
  std::string out = "kept";
  AppendResponseHead(
      {.status = 204, .headers = {}, .request_id = "r", .rate = rate_, .content_length = 0}, out,
      log_);
  EXPECT_EQ(out.rfind("keptHTTP/1.1 204 No Content\r\n", 0), 0u) << out;
}

TEST_F(ResponseHeadTest, TheStatusLineHasTheReasonOfTheStatus) {
  EXPECT_EQ(Plain(304, {}).text.rfind("HTTP/1.1 304 Not Modified\r\n", 0), 0u);
  EXPECT_EQ(Plain(412, {}).text.rfind("HTTP/1.1 412 Precondition Failed\r\n", 0), 0u);
  EXPECT_EQ(Plain(429, {}).text.rfind("HTTP/1.1 429 Too Many Requests\r\n", 0), 0u);
  EXPECT_EQ(Plain(101, {}).text.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u);
  // A code without a reason gets Beast's text, as the head always had.
  EXPECT_EQ(Plain(299, {}).text.rfind("HTTP/1.1 299 <unknown-status>\r\n", 0), 0u);
}

TEST_F(ResponseHeadTest, EveryReasonIsBeastsForEveryCodeButWhereRfc9110RenamedIt) {
  // The table replaced Beast's obsolete_reason in the head, and is the problem `title` too.
  namespace bhttp = boost::beast::http;
  for (int status = 100; status <= 999; ++status) {
    if (status == 413 || status == 422) continue;
    EXPECT_EQ(ReasonPhrase(status),
              bhttp::obsolete_reason(bhttp::int_to_status(static_cast<unsigned>(status))))
        << status;
  }
  EXPECT_EQ(ReasonPhrase(413), "Content Too Large");
  EXPECT_EQ(ReasonPhrase(422), "Unprocessable Content");
  EXPECT_EQ(Plain(413, {}).text.rfind("HTTP/1.1 413 Content Too Large\r\n", 0), 0u)
      << "the status line and a 413 problem's title say the same";
}

TEST_F(ResponseHeadTest, TheServersHeadersFollowTheHandlersInAFixedOrder) {
  rate_ = {.key = "u:alice", .limit = 600, .remaining = 599, .reset_epoch_s = 1700000060};
  const std::string text = Plain(200, {{"B", "2"}, {"A", "1"}}, 3, false).text;
  const std::vector<std::string_view> order = {"HTTP/1.1 200 OK\r\n",
                                               "B: 2\r\n",
                                               "A: 1\r\n",
                                               "Server: vigil\r\n",
                                               "X-Content-Type-Options: nosniff\r\n",
                                               "Referrer-Policy: no-referrer\r\n",
                                               "Content-Security-Policy: ",
                                               "X-RateLimit-Limit: 600\r\n",
                                               "X-RateLimit-Remaining: 599\r\n",
                                               "X-RateLimit-Reset: 1700000060\r\n",
                                               "X-Request-Id: 0123456789abcde\r\n",
                                               "Content-Length: 3\r\n",
                                               "Connection: close\r\n",
                                               "\r\n"};
  size_t at = 0;
  for (std::string_view part : order) {
    size_t found = text.find(part, at);
    ASSERT_NE(found, std::string::npos) << part << " after " << at << " in " << text;
    at = found + part.size();
  }
  EXPECT_EQ(at, text.size()) << text;
}

TEST_F(ResponseHeadTest, RateLimitHeadersOnlyForALimitedRequest) {
  rate_ = {.key = "", .limit = 600, .remaining = 1};
  EXPECT_EQ(Plain(200, {}).text.find("X-RateLimit"), std::string::npos);
  rate_ = {.key = "u:alice", .limit = 0};
  EXPECT_EQ(Plain(200, {}).text.find("X-RateLimit"), std::string::npos);
  rate_ = {.key = "u:alice", .limit = 10, .remaining = 0, .reset_epoch_s = 5};
  EXPECT_NE(Plain(304, {}).text.find("X-RateLimit-Limit: 10\r\nX-RateLimit-Remaining: 0\r\n"
                                     "X-RateLimit-Reset: 5\r\n"),
            std::string::npos);
}

TEST_F(ResponseHeadTest, TheHandlersServerAndRequestIdAreNotRepeated) {
  const std::string text = Plain(200, {{"server", "other"}, {"X-REQUEST-ID", "mine"}}).text;
  EXPECT_EQ(text.find("Server: vigil"), std::string::npos) << text;
  EXPECT_EQ(text.find("0123456789abcde"), std::string::npos) << text;
  EXPECT_NE(text.find("server: other\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("X-REQUEST-ID: mine\r\n"), std::string::npos) << text;
}

TEST_F(ResponseHeadTest, AHandlersContentSecurityPolicyReplacesTheSecurityHeaders) {
  const Headers own = {{"Content-Security-Policy", "default-src 'self'"},
                       {"X-Content-Type-Options", "nosniff"},
                       {"Referrer-Policy", "no-referrer"}};
  for (const Head& head : {Plain(200, own, 5), Stream(own)}) {
    EXPECT_EQ(head.text.find("default-src 'none'"), std::string::npos) << head.text;
    EXPECT_NE(head.text.find("Content-Security-Policy: default-src 'self'\r\n"), std::string::npos)
        << head.text;
    size_t first = head.text.find("X-Content-Type-Options");
    EXPECT_EQ(head.text.find("X-Content-Type-Options", first + 1), std::string::npos) << head.text;
  }
  // Without one, plain answers and streams alike get the API's.
  for (const Head& head : {Plain(200, {}, 5), Stream({})}) {
    EXPECT_NE(head.text.find(kSecurity), std::string::npos) << head.text;
  }
}

TEST_F(ResponseHeadTest, MalformedHeadersAreDroppedAndLogged) {
  const Headers headers = {{"", "empty name"},
                           {"Has Space", "x"},
                           {"Has:Colon", "x"},
                           {"Line\r\nBreak", "x"},
                           {"X-Value", "a\r\nInjected: yes"},
                           {"X-Lf", "a\nb"},
                           {"X-Fine", "tab\tand  spaces, \"quotes\": colons"}};
  for (const Head& head : {Plain(200, headers), Stream(headers)}) {
    EXPECT_EQ(head.text.find("Injected"), std::string::npos) << head.text;
    EXPECT_EQ(head.text.find("Has"), std::string::npos) << head.text;
    EXPECT_EQ(head.text.find("X-Lf"), std::string::npos) << head.text;
    EXPECT_EQ(head.text.find("empty name"), std::string::npos) << head.text;
    EXPECT_NE(head.text.find("X-Fine: tab\tand  spaces, \"quotes\": colons\r\n"), std::string::npos)
        << head.text;
  }
  EXPECT_NE(log_text_.str().find("request 0123456789abcde: dropped malformed response header "
                                 "\"X-Value\""),
            std::string::npos)
      << log_text_.str();
  EXPECT_TRUE(IsWritableHeader("X-A", ""));
  EXPECT_FALSE(IsWritableHeader("X A", "v"));
  EXPECT_FALSE(IsWritableHeader("X-A", "v\r"));
}

TEST_F(ResponseHeadTest, TheServerFramesTheBodyNotTheHandler) {
  const Headers framing = {
      {"Content-Length", "999"}, {"transfer-encoding", "chunked"}, {"Connection", "keep-alive"}};
  for (const Head& head : {Plain(200, framing, 4), Stream(framing)}) {
    EXPECT_EQ(head.text.find("999"), std::string::npos) << head.text;
    EXPECT_EQ(head.text.find("chunked"), std::string::npos) << head.text;
    EXPECT_EQ(head.text.find("Connection"), std::string::npos) << head.text;
  }
  EXPECT_NE(Plain(200, framing, 4).text.find("Content-Length: 4\r\n"), std::string::npos);
}

TEST_F(ResponseHeadTest, ConnectionFollowsTheVersionAndKeepAlive) {
  auto connection = [](const std::string& text) {
    size_t at = text.find("Connection: ");
    return at == std::string::npos ? std::string() : text.substr(at, text.find('\r', at) - at);
  };
  EXPECT_EQ(connection(Plain(200, {}, 0, true, 11).text), "");
  EXPECT_EQ(connection(Plain(200, {}, 0, false, 11).text), "Connection: close");
  EXPECT_EQ(connection(Plain(200, {}, 0, true, 10).text), "Connection: keep-alive");
  EXPECT_EQ(connection(Plain(200, {}, 0, false, 10).text), "");
  // A handler's Connection: close ends a connection the request would have kept.
  const Head closed = Plain(200, {{"connection", "Close"}}, 0, true, 11);
  EXPECT_FALSE(closed.keep_alive);
  EXPECT_EQ(connection(closed.text), "Connection: close");
  const Head closed_10 = Plain(200, {{"Connection", "close"}}, 0, true, 10);
  EXPECT_FALSE(closed_10.keep_alive);
  EXPECT_EQ(connection(closed_10.text), "");
  EXPECT_FALSE(Plain(200, {}, 0, false).keep_alive);
}

TEST_F(ResponseHeadTest, ContentLengthUnlessTheStatusHasNoBody) {
  EXPECT_NE(Plain(200, {}, 0).text.find("Content-Length: 0\r\n"), std::string::npos);
  EXPECT_NE(Plain(404, {}, 42).text.find("Content-Length: 42\r\n"), std::string::npos);
  EXPECT_NE(Plain(500, {}, 7).text.find("Content-Length: 7\r\n"), std::string::npos);
  for (int status : {100, 101, 204, 304}) {
    EXPECT_EQ(Plain(status, {}, 42).text.find("Content-Length"), std::string::npos) << status;
    EXPECT_FALSE(StatusHasBody(status)) << status;
  }
  // Without a length to write, the connection rules still apply.
  EXPECT_NE(Plain(304, {}, 0, false).text.find("Connection: close\r\n"), std::string::npos);
  EXPECT_TRUE(StatusHasBody(200));
  EXPECT_TRUE(StatusHasBody(205));
}

TEST_F(ResponseHeadTest, AStreamHasNeitherLengthNorConnection) {
  const Head head = Stream({{"Content-Type", "text/event-stream; charset=utf-8"}}, false);
  EXPECT_EQ(head.text, std::string("HTTP/1.1 200 OK\r\n"
                                   "Content-Type: text/event-stream; charset=utf-8\r\n"
                                   "Server: vigil\r\n") +
                           std::string(kSecurity) +
                           "X-Request-Id: 0123456789abcde\r\n"
                           "\r\n");
  EXPECT_EQ(Stream({}, true, 10).text.find("Connection"), std::string::npos);
}

}  // namespace
}  // namespace vigil::http
