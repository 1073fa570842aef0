#include "http/problem.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

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
