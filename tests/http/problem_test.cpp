#include "http/problem.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <boost/json/parse.hpp>
#include <sstream>

namespace vigil::http {
namespace {

TEST(HttpStatusTest, OneStatusPerCode) {
  EXPECT_EQ(HttpStatus(ErrorCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatus(ErrorCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatus(ErrorCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatus(ErrorCode::kNotFound), 404);
  EXPECT_EQ(HttpStatus(ErrorCode::kMethodNotAllowed), 405);
  EXPECT_EQ(HttpStatus(ErrorCode::kConflict), 409);
  EXPECT_EQ(HttpStatus(ErrorCode::kStaleVersion), 409);
  EXPECT_EQ(HttpStatus(ErrorCode::kPayloadTooLarge), 413);
  EXPECT_EQ(HttpStatus(ErrorCode::kUnsupportedMedia), 415);
  EXPECT_EQ(HttpStatus(ErrorCode::kRateLimited), 429);
  EXPECT_EQ(HttpStatus(ErrorCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatus(ErrorCode::kInternal), 500);
}

Request SomeRequest() {
  Request request;
  request.path = "/api/v1/investigations/inv-1/events";
  request.request_id = "00000000000000ab";
  return request;
}

TEST(ProblemTest, BodyCarriesEveryMember) {
  Response response =
      Problem(Error(ErrorCode::kInvalidArgument, "event_type is unknown", "events[2].event_type"),
              SomeRequest());
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.Get("Content-Type"), "application/problem+json");
  boost::json::value body = boost::json::parse(response.body);
  EXPECT_EQ(body, boost::json::parse(R"({
    "type": "urn:vigil:problem:invalid_argument",
    "title": "Bad Request",
    "status": 400,
    "detail": "event_type is unknown",
    "field": "events[2].event_type",
    "instance": "/api/v1/investigations/inv-1/events",
    "request_id": "00000000000000ab"
  })"));
}

TEST(ProblemTest, FieldIsOmittedWhenEmpty) {
  Response response = Problem(Error(ErrorCode::kStaleVersion, "changed"), SomeRequest());
  EXPECT_EQ(response.status, 409);
  boost::json::object body = boost::json::parse(response.body).as_object();
  EXPECT_FALSE(body.contains("field"));
  EXPECT_EQ(body.at("type"), "urn:vigil:problem:stale_version");
  EXPECT_EQ(body.at("title"), "Conflict");
}

// The "http" logger, writing into a string for the test's life.
class CapturedLog {
 public:
  CapturedLog() {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    spdlog::drop("http");
    spdlog::register_logger(std::make_shared<spdlog::logger>("http", sink));
  }
  ~CapturedLog() { spdlog::drop("http"); }
  std::string Text() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

// A 5xx shows the client nothing from inside (SQLite's text, file paths): the log has the cause,
// once, under the request id the client is given.
TEST(ProblemTest, ServerErrorsKeepTheirCauseForTheLog) {
  CapturedLog log;
  Error internal(ErrorCode::kInternal, "write failed: /var/lib/vigil/vigil.db: disk I/O error");
  Response response = Problem(internal, SomeRequest());
  EXPECT_EQ(response.status, 500);
  boost::json::object body = boost::json::parse(response.body).as_object();
  EXPECT_EQ(body.at("detail"),
            "internal error; the server's log has its cause under this request_id");
  EXPECT_EQ(body.at("request_id"), "00000000000000ab");
  EXPECT_EQ(response.body.find("/var/lib"), std::string::npos) << response.body;

  Error unavailable(ErrorCode::kUnavailable, "the database cannot take this request now");
  unavailable.cause = "append events: database or disk is full";
  response = Problem(unavailable, SomeRequest());
  EXPECT_EQ(response.status, 503);
  body = boost::json::parse(response.body).as_object();
  EXPECT_EQ(body.at("detail"), "the database cannot take this request now");
  EXPECT_EQ(response.body.find("disk is full"), std::string::npos) << response.body;

  const std::string text = log.Text();
  EXPECT_NE(text.find("request 00000000000000ab: 500 internal"), std::string::npos) << text;
  EXPECT_NE(text.find("/var/lib/vigil/vigil.db: disk I/O error"), std::string::npos) << text;
  EXPECT_NE(text.find("request 00000000000000ab: 503 unavailable"), std::string::npos) << text;
  EXPECT_NE(text.find("database or disk is full"), std::string::npos) << text;
  // A client error is the client's business, not the log's.
  Problem(Error(ErrorCode::kInvalidArgument, "bad"), SomeRequest());
  EXPECT_EQ(log.Text(), text);
}

TEST(ProblemTest, ExtraMembersAreAddedButNeverReplaceStandardOnes) {
  Error error(ErrorCode::kConflict, "illegal transition");
  error.extra["allowed"] = boost::json::array{"paused", "cancelled"};
  error.extra["status"] = 200;
  Response response = Problem(error, SomeRequest());
  boost::json::object body = boost::json::parse(response.body).as_object();
  EXPECT_EQ(body.at("allowed"), (boost::json::array{"paused", "cancelled"}));
  EXPECT_EQ(body.at("status"), 409);
  EXPECT_EQ(response.status, 409);
}

// "Retry the same call later" says when: every 503, whatever made it.
TEST(ProblemTest, EveryUnavailableAnswerCarriesRetryAfter) {
  for (const char* why : {"database or disk is full", "the store is not answering",
                          "vigil is shutting down", "too many open streams for this user"}) {
    Response response = Problem(Error(ErrorCode::kUnavailable, why), SomeRequest());
    EXPECT_EQ(response.status, 503);
    EXPECT_EQ(response.Get("Retry-After"), std::to_string(kUnavailableRetryAfterSeconds)) << why;
    EXPECT_EQ(response.Get("Content-Type"), "application/problem+json");
  }
  EXPECT_GE(kUnavailableRetryAfterSeconds, 1);
  EXPECT_LE(kUnavailableRetryAfterSeconds, 5);

  // A caller that knows better replaces it: one header, its value.
  Response response = Problem(Error(ErrorCode::kUnavailable, "x"), SomeRequest());
  response.Set("Retry-After", "30");
  int count = 0;
  for (const auto& [name, value] : response.headers) count += EqualsIgnoreCase(name, "retry-after");
  EXPECT_EQ(count, 1);
  EXPECT_EQ(response.Get("Retry-After"), "30");

  // Other problems have none of their own (a 429's comes from the rate limiter).
  for (ErrorCode code : {ErrorCode::kInvalidArgument, ErrorCode::kNotFound, ErrorCode::kConflict,
                         ErrorCode::kRateLimited, ErrorCode::kInternal}) {
    EXPECT_EQ(Problem(Error(code, "x"), SomeRequest()).Get("Retry-After"), "");
  }
}

TEST(ProblemTest, TitlesFollowTheStatus) {
  auto title = [](ErrorCode code) {
    Response r = Problem(Error(code, "x"), SomeRequest());
    return std::string(boost::json::parse(r.body).at("title").as_string());
  };
  EXPECT_EQ(title(ErrorCode::kUnauthenticated), "Unauthorized");
  EXPECT_EQ(title(ErrorCode::kPermissionDenied), "Forbidden");
  EXPECT_EQ(title(ErrorCode::kNotFound), "Not Found");
  EXPECT_EQ(title(ErrorCode::kPayloadTooLarge), "Content Too Large");
  EXPECT_EQ(title(ErrorCode::kRateLimited), "Too Many Requests");
  EXPECT_EQ(title(ErrorCode::kUnavailable), "Service Unavailable");
  EXPECT_EQ(title(ErrorCode::kInternal), "Internal Server Error");
}

}  // namespace
}  // namespace vigil::http
