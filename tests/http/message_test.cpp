#include "http/message.hpp"

#include <gtest/gtest.h>

namespace vigil::http {
namespace {

TEST(MethodNameTest, NamesEveryMethod) {
  EXPECT_EQ(MethodName(Method::kGet), "GET");
  EXPECT_EQ(MethodName(Method::kHead), "HEAD");
  EXPECT_EQ(MethodName(Method::kPost), "POST");
  EXPECT_EQ(MethodName(Method::kPut), "PUT");
  EXPECT_EQ(MethodName(Method::kPatch), "PATCH");
  EXPECT_EQ(MethodName(Method::kDelete), "DELETE");
  EXPECT_EQ(MethodName(Method::kOptions), "OPTIONS");
}

TEST(RequestTest, HeaderReturnsTheFirstWithThatName) {
  Request request;
  request.headers = {{"accept", "a"}, {"if-none-match", "\"v1\""}, {"accept", "b"}};
  EXPECT_EQ(request.Header("accept"), "a");
  EXPECT_EQ(request.Header("if-none-match"), "\"v1\"");
  EXPECT_EQ(request.Header("authorization"), "");
}

TEST(RequestTest, HasHeaderDistinguishesAbsentFromEmpty) {
  Request request;
  request.headers = {{"x-requested-with", ""}, {"accept", "a"}};
  EXPECT_TRUE(request.HasHeader("x-requested-with"));
  EXPECT_EQ(request.Header("x-requested-with"), "");
  EXPECT_TRUE(request.HasHeader("accept"));
  EXPECT_FALSE(request.HasHeader("authorization"));
}

TEST(RequestTest, QueryDistinguishesAbsentFromEmpty) {
  Request request;
  request.query = {{"since", "1_000001"}, {"flag", ""}, {"since", "later"}};
  EXPECT_EQ(request.Query("since"), "1_000001");
  ASSERT_TRUE(request.Query("flag").has_value());
  EXPECT_EQ(*request.Query("flag"), "");
  EXPECT_FALSE(request.Query("limit").has_value());
}

TEST(ResponseTest, SetReplacesCaseInsensitively) {
  Response response;
  response.Set("ETag", "\"1\"");
  response.headers.emplace_back("etag", "\"dup\"");
  response.Set("Etag", "\"2\"");
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.Get("ETAG"), "\"2\"");
  EXPECT_EQ(response.Get("etag"), "\"2\"");
  EXPECT_EQ(response.Get("Cache-Control"), "");
}

TEST(ResponseTest, JsonResponseSetsContentType) {
  Response response = JsonResponse(201, R"({"ok":true})");
  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(response.Get("content-type"), "application/json");
  EXPECT_EQ(response.body, R"({"ok":true})");
}

}  // namespace
}  // namespace vigil::http
