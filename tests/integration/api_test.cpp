// HTTP integration tests: a real `vigil serve` on 127.0.0.1 (port 0) with a real SQLite file,
// spoken to over real sockets.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/vigil_process.hpp"

namespace vigil::test {
namespace {

namespace json = boost::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

class ApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(MakeTempDir());
    VigilOptions options;
    options.db_path = *dir_ + "/vigil.db";
    server_ = VigilProcess::Start(options).release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    client_ = std::make_unique<HttpClient>("127.0.0.1", server_->port());
    alice_ = Auth(TestToken("alice", {"read", "dev"}));
    bob_ = Auth(TestToken("bob", {"read", "dev"}));
  }

  static Headers Auth(const std::string& token) {
    return {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
  }
  static Headers With(Headers h, std::string name, std::string value) {
    h.emplace_back(std::move(name), std::move(value));
    return h;
  }

  // Creates an investigation with a two-phase plan and returns its id.
  std::string Create(const Headers& who, std::string name = "test investigation") {
    json::object body{
        {"name", name},
        {"entities", json::array{json::object{{"type", "ip"}, {"value", "203.0.113.7"}}}},
        {"plan",
         json::object{
             {"phases",
              json::array{
                  json::object{{"name", "network"},
                               {"tools", json::array{json::object{{"tool_name", "ip_reputation"},
                                                                  {"agent_type", "network"}}}}},
                  json::object{
                      {"name", "device"},
                      {"tools", json::array{json::object{{"tool_name", "device_fingerprint"},
                                                         {"agent_type", "device"}}}}}}}}}};
    HttpResult r = client_->Post("/api/v1/investigations", json::serialize(body), who);
    EXPECT_EQ(r.status, 201) << r.body;
    std::string id(r.Json().at("investigation_id").as_string());
    EXPECT_EQ(r.Header("location"), "/api/v1/investigations/" + id);
    return id;
  }

  HttpResult Report(const std::string& id, const json::array& events, const Headers& who) {
    return client_->Post("/api/v1/investigations/" + id + "/events",
                         json::serialize(json::object{{"events", events}}), who);
  }

  // Appends `n` error_logged events in batches of `batch`; returns their ids in order.
  std::vector<std::string> AppendMany(const std::string& id, int n, int batch = 500) {
    std::vector<std::string> ids;
    for (int done = 0; done < n;) {
      json::array events;
      for (int i = 0; i < batch && done < n; ++i, ++done) {
        events.push_back(json::object{
            {"event_type", "error_logged"},
            {"data",
             json::object{{"error", json::object{{"code", "E" + std::to_string(done)},
                                                 {"message", "event " + std::to_string(done)},
                                                 {"severity", "warning"}}}}}});
      }
      HttpResult r = Report(id, events, alice_);
      EXPECT_EQ(r.status, 200) << r.body;
      json::value r_json = r.Json();  // keeps the array alive for the loop
      for (const auto& item : r_json.at("events").as_array()) {
        ids.emplace_back(item.at("event_id").as_string());
      }
    }
    return ids;
  }

  static std::string* dir_;
  static VigilProcess* server_;
  std::unique_ptr<HttpClient> client_;
  Headers alice_, bob_;
};

std::string* ApiTest::dir_ = nullptr;
VigilProcess* ApiTest::server_ = nullptr;

void ExpectProblem(const HttpResult& r, int status, std::string_view field = {}) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(r.Header("content-type"), "application/problem+json") << r.body;
  json::object body = r.Json().as_object();
  EXPECT_EQ(body.at("status").as_int64(), status);
  EXPECT_TRUE(body.at("type").as_string().starts_with("urn:vigil:problem:"));
  EXPECT_FALSE(body.at("detail").as_string().empty());
  if (!field.empty()) {
    ASSERT_TRUE(body.contains("field")) << r.body;
    EXPECT_EQ(body.at("field").as_string(), field) << r.body;
  }
}

TEST_F(ApiTest, HealthNeedsNoToken) {
  EXPECT_EQ(client_->Get("/healthz").status, 200);
  EXPECT_EQ(client_->Get("/readyz").status, 200);
}

TEST_F(ApiTest, MetricsAreForAdmins) {
  Create(alice_);
  ExpectProblem(client_->Get("/metrics"), 401);
  ExpectProblem(client_->Get("/metrics", alice_), 403);
  HttpResult r = client_->Get("/metrics", Auth(TestToken("root", {"admin"})));
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.Header("content-type").find("text/plain"), std::string::npos);
  EXPECT_NE(r.body.find("# TYPE vigil_events_appended_total counter"), std::string::npos);
  EXPECT_EQ(r.body.find("vigil_events_appended_total 0\n"), std::string::npos)
      << "an investigation was created, so at least one event was appended";
  EXPECT_NE(r.body.find("vigil_hot_investigations "), std::string::npos);
  // Requests by route pattern and status class, never by path or id.
  EXPECT_NE(
      r.body.find("vigil_http_requests_total{method=\"POST\",route=\"/api/v1/investigations\","
                  "status=\"2xx\"} 1\n"),
      std::string::npos)
      << r.body;
  EXPECT_NE(
      r.body.find("vigil_http_request_duration_seconds_bucket{method=\"GET\",route=\"/metrics\","
                  "status=\"4xx\",le=\"+Inf\"} 2\n"),
      std::string::npos)
      << "the 401 and the 403 before this request";
  EXPECT_NE(r.body.find("vigil_commit_seconds_count "), std::string::npos);
  EXPECT_NE(r.body.find("vigil_node_info{node_id=\""), std::string::npos);
  EXPECT_EQ(r.body.find("inv_"), std::string::npos) << "no investigation id in any label";
}

TEST_F(ApiTest, ApiNeedsAValidToken) {
  ExpectProblem(client_->Get("/api/v1/investigations"), 401);
  ExpectProblem(client_->Get("/api/v1/investigations", {{"Authorization", "Bearer nonsense"}}),
                401);
}

TEST_F(ApiTest, UnknownPathIs404AndWrongMethodIs405) {
  ExpectProblem(client_->Get("/api/v1/nothing-here", alice_), 404);
  HttpResult r = client_->Request("DELETE", "/api/v1/investigations", "", alice_);
  ExpectProblem(r, 405);
  EXPECT_NE(r.Header("allow").find("GET"), std::string::npos);
}

TEST_F(ApiTest, CreateReturnsTheInvestigation) {
  std::string id = Create(alice_, "Account takeover");
  HttpResult r = client_->Get("/api/v1/investigations/" + id, alice_);
  ASSERT_EQ(r.status, 200);
  json::object inv = r.Json().as_object();
  EXPECT_EQ(inv.at("name").as_string(), "Account takeover");
  EXPECT_EQ(inv.at("owner").as_string(), "alice");
  EXPECT_EQ(inv.at("state").as_string(), "created");
  EXPECT_EQ(inv.at("status").as_string(), "pending");
  EXPECT_EQ(inv.at("lifecycle_stage").as_string(), "draft");
  EXPECT_EQ(inv.at("version").as_int64(), 1);
  EXPECT_EQ(inv.at("entities").as_array()[0].at("id").as_string(), "ip:203.0.113.7");
}

TEST_F(ApiTest, ReadRoleCannotCreate) {
  ExpectProblem(client_->Post("/api/v1/investigations", R"({"name":"x"})",
                              Auth(TestToken("carol", {"read"}))),
                403);
}

TEST_F(ApiTest, InvalidCreateNamesTheField) {
  ExpectProblem(client_->Post("/api/v1/investigations", R"({"name":""})", alice_), 400, "name");
  ExpectProblem(client_->Post("/api/v1/investigations", R"({"name":"x","colour":"red"})", alice_),
                400, "colour");
  ExpectProblem(client_->Post("/api/v1/investigations", "{not json", alice_), 400);
}

// A number a double cannot hold was stored as null (1e309) or rounded (a 30-digit integer); a
// member name given twice was read as its last value. Both are refused, naming the value, and
// nothing is stored.
TEST_F(ApiTest, NumbersOutOfRangeAndDuplicateMembersAreRefusedAndStoreNothing) {
  Headers strict = Auth(TestToken("strict-json", {"read", "dev"}));
  auto listed = [&] {
    return client_->Get("/api/v1/investigations", strict).Json().at("items").as_array().size();
  };
  ExpectProblem(
      client_->Post("/api/v1/investigations", R"({"name":"x","settings":{"n":1e309}})", strict),
      400, "settings.n");
  ExpectProblem(
      client_->Post("/api/v1/investigations",
                    R"({"name":"x","settings":{"n":123456789012345678901234567890}})", strict),
      400, "settings.n");
  ExpectProblem(client_->Post("/api/v1/investigations",
                              R"({"name":"x","entities":[{"type":"ip","value":"1.2.3.4",)"
                              R"("metadata":{"score":-1e400}}]})",
                              strict),
                400, "entities[0].metadata.score");
  ExpectProblem(client_->Post("/api/v1/investigations", R"({"name":"x","name":"y"})", strict), 400,
                "name");
  EXPECT_EQ(listed(), 0u);

  std::string id = Create(strict);
  const std::string events = "/api/v1/investigations/" + id + "/events";
  const size_t before = client_->Get(events, strict).Json().at("items").as_array().size();
  const std::string good =
      R"({"event_type":"error_logged","data":{"error":{"code":"E1","message":"m",)"
      R"("severity":"warning"}}})";
  const std::string bad = R"({"event_type":"no_such_type","data":{}})";
  ExpectProblem(
      client_->Post(events, R"({"events":[)" + bad + R"(],"events":[)" + good + "]}", strict), 400,
      "events");
  ExpectProblem(
      client_->Post(events,
                    R"({"events":[{"event_type":"error_logged","data":{"error":{"code":"E1",)"
                    R"("message":"m","severity":"warning","context":{"n":1e309}}}}]})",
                    strict),
      400, "events[0].data.error.context.n");
  ExpectProblem(
      client_->Post(events,
                    R"({"events":[{"event_type":"entity_discovered","data":{"entity":{)"
                    R"("type":"ip","value":"5.6.7.8","metadata":{"big":99999999999999999999}}}}]})",
                    strict),
      400, "events[0].data.entity.metadata.big");
  EXPECT_EQ(client_->Get(events, strict).Json().at("items").as_array().size(), before);
  // Integers up to 2^64-1 are kept exactly.
  HttpResult kept = client_->Post(
      events,
      R"({"events":[{"event_type":"error_logged","data":{"error":{"code":"E1","message":"m",)"
      R"("severity":"warning","context":{"max":18446744073709551615,"min":-9223372036854775808}}}}]})",
      strict);
  ASSERT_EQ(kept.status, 200) << kept.body;
  HttpResult log = client_->Get(events, strict);
  EXPECT_NE(log.body.find(R"("max":18446744073709551615)"), std::string::npos) << log.body;
  EXPECT_NE(log.body.find(R"("min":-9223372036854775808)"), std::string::npos) << log.body;
}

// The reported smuggling, on the wire to a real vigil: a create whose Transfer-Encoding is gzip
// and whose body is a second, complete create. One 400, and the second create never runs.
TEST_F(ApiTest, ARequestSmuggledThroughTransferEncodingIsNotServed) {
  const std::string token = TestToken("erin", {"read", "dev"});
  const std::string inner = R"({"name":"smuggled"})";
  const std::string smuggled =
      "POST /api/v1/investigations HTTP/1.1\r\nHost: x\r\n"
      "Authorization: Bearer " +
      token +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(inner.size()) +
      "\r\n\r\n" + inner;
  for (const std::string& framing :
       {std::string("Transfer-Encoding: gzip\r\n"),
        "Transfer-Encoding: gzip\r\nContent-Length: " + std::to_string(smuggled.size()) + "\r\n",
        std::string("Content-Length:\r\n 2\r\n")}) {
    std::string answer = RawExchange(
        server_->port(),
        "POST /api/v1/investigations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
            "\r\nContent-Type: application/json\r\n" + framing + "\r\n" + smuggled,
        true);
    EXPECT_EQ(answer.rfind("HTTP/1.1 400 ", 0), 0u) << framing << answer;
    EXPECT_EQ(answer.find("HTTP/1.1", 1), std::string::npos) << framing << answer;
  }
  HttpResult list = client_->Get("/api/v1/investigations", Auth(token));
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.Json().at("items").as_array().size(), 0u) << list.body;
}

TEST_F(ApiTest, LifecycleTransitionsAndIllegalOnesAre409) {
  std::string id = Create(alice_);
  std::string base = "/api/v1/investigations/" + id;
  EXPECT_EQ(client_->Post(base + "/start", "", alice_).status, 200);
  HttpResult bad = client_->Post(base + "/pause", "", alice_);  // queued cannot pause
  ExpectProblem(bad, 409);
  json::object problem = bad.Json().as_object();
  EXPECT_EQ(problem.at("current_state").as_string(), "queued");
  json::array allowed = problem.at("allowed").as_array();
  EXPECT_EQ(allowed.size(), 3u);
  EXPECT_EQ(
      client_->Post(base + "/transitions", R"({"to":"initializing","reason":"go"})", alice_).status,
      200);
  EXPECT_EQ(client_->Post(base + "/transitions", R"({"to":"running"})", alice_).status, 200);
  EXPECT_EQ(client_->Post(base + "/pause", R"({"reason":"lunch"})", alice_).status, 200);
  HttpResult resumed = client_->Post(base + "/resume", "", alice_);
  ASSERT_EQ(resumed.status, 200);
  EXPECT_EQ(resumed.Json().at("state").as_string(), "running");
  EXPECT_EQ(client_->Post(base + "/cancel", R"({"reason":"done"})", alice_).status, 200);
  ExpectProblem(client_->Post(base + "/resume", "", alice_), 409);

  // Every transition is an event that records who and why.
  HttpResult feed = client_->Get(base + "/events?event_type=status_change", alice_);
  ASSERT_EQ(feed.status, 200);
  json::array items = feed.Json().at("items").as_array();
  ASSERT_EQ(items.size(), 6u);
  EXPECT_EQ(items[3].at("data").at("from").as_string(), "running");
  EXPECT_EQ(items[3].at("data").at("to").as_string(), "paused");
  EXPECT_EQ(items[3].at("data").at("reason").as_string(), "lunch");
  EXPECT_EQ(items[3].at("actor").as_string(), "alice");
}

// Moves a new investigation to running through the API; returns its base path.
std::string StartRun(HttpClient& client, const std::string& id, const Headers& who) {
  std::string base = "/api/v1/investigations/" + id;
  EXPECT_EQ(client.Post(base + "/start", "", who).status, 200);
  EXPECT_EQ(client.Post(base + "/transitions", R"({"to":"initializing"})", who).status, 200);
  EXPECT_EQ(client.Post(base + "/transitions", R"({"to":"running"})", who).status, 200);
  return base;
}

// Issue 13, seed 004: a failed investigation that will not be retried is closed as cancelled.
TEST_F(ApiTest, AFailedInvestigationCanBeCancelled) {
  for (std::string how : {"/cancel", "/transitions"}) {
    std::string base = StartRun(*client_, Create(alice_), alice_);
    HttpResult failed =
        client_->Post(base + "/transitions", R"({"to":"failed","reason":"agent lost"})", alice_);
    ASSERT_EQ(failed.status, 200) << failed.body;
    EXPECT_EQ(failed.Json().at("allowed_transitions"), json::parse(R"(["retrying","cancelled"])"));
    HttpResult cancelled = client_->Post(
        base + how, how == "/cancel" ? R"({"reason":"no retry"})" : R"({"to":"cancelled"})",
        alice_);
    ASSERT_EQ(cancelled.status, 200) << how << ": " << cancelled.body;
    EXPECT_EQ(cancelled.Json().at("state"), json::value("cancelled"));
    EXPECT_EQ(cancelled.Json().at("status"), json::value("cancelled"));
    EXPECT_TRUE(cancelled.Json().at("allowed_transitions").as_array().empty());
    // Closed for good.
    ExpectProblem(client_->Post(base + "/retry", "", alice_), 409, "to");
    HttpResult progress = client_->Get(base + "/progress", alice_);
    ASSERT_EQ(progress.status, 200);
    EXPECT_EQ(progress.Json().at("state"), json::value("cancelled"));
    EXPECT_EQ(progress.Header("x-recommended-interval"), "");
  }
}

// Issue 12: a UI that polls /progress can show why a run failed (seed 001, story 5, scenario 3).
TEST_F(ApiTest, TheReasonOfAFailureIsInProgressErrors) {
  std::string id = Create(alice_);
  std::string base = StartRun(*client_, id, alice_);
  HttpResult failed = client_->Post(
      base + "/transitions", R"({"to":"failed","reason":"the reputation feed is down"})", alice_);
  ASSERT_EQ(failed.status, 200) << failed.body;
  std::string event_id(failed.Json().at("last_event_id").as_string());
  HttpResult p = client_->Get(base + "/progress", alice_);
  ASSERT_EQ(p.status, 200);
  json::value progress = p.Json();
  EXPECT_EQ(progress.at("status"), json::value("failed"));
  ASSERT_EQ(progress.at("errors").as_array().size(), 1u) << p.body;
  const json::value& error = progress.at("errors").at(0);
  EXPECT_EQ(error.at("id"), json::value(event_id));
  EXPECT_EQ(error.at("code"), json::value("RUN_FAILED"));
  EXPECT_EQ(error.at("message"), json::value("the reputation feed is down"));
  EXPECT_EQ(error.at("severity"), json::value("critical"));
  EXPECT_EQ(error.at("context"), json::parse(R"({"from":"running","actor":"alice"})"));
  // A failure reported as an event says why in the same place.
  std::string other = Create(alice_);
  std::string other_base = StartRun(*client_, other, alice_);
  ASSERT_EQ(Report(other,
                   json::array{json::object{{"event_type", "status_change"},
                                            {"actor", "runner"},
                                            {"data", {{"to", "failed"}, {"reason", "crashed"}}}}},
                   alice_)
                .status,
            200);
  json::value other_progress = client_->Get(other_base + "/progress", alice_).Json();
  EXPECT_EQ(other_progress.at("errors").at(0).at("message"), json::value("crashed"));
  EXPECT_EQ(other_progress.at("errors").at(0).at("context").at("actor"), json::value("runner"));
}

// Issue 14: findings are objects on the wire; one reported as a string is {"finding": s}.
TEST_F(ApiTest, StringFindingsAreReadBackAsObjects) {
  std::string id = Create(alice_);
  std::string base = StartRun(*client_, id, alice_);
  json::array events{
      json::object{{"event_type", "tool_queued"},
                   {"data",
                    {{"tool_execution_id", "t1"},
                     {"tool_name", "ip_reputation"},
                     {"agent_type", "network"}}}},
      json::object{
          {"event_type", "tool_complete"},
          {"data",
           {{"tool_execution_id", "t1"},
            {"result",
             {{"findings", json::array{"Finding 1", json::object{{"finding", "Finding 2"},
                                                                 {"severity", "high"}}}}}}}}}};
  HttpResult r = Report(id, events, alice_);
  ASSERT_EQ(r.status, 200) << r.body;
  const json::value want =
      json::parse(R"([{"finding":"Finding 1"},{"finding":"Finding 2","severity":"high"}])");

  HttpResult feed = client_->Get(base + "/events?event_type=tool_complete", alice_);
  ASSERT_EQ(feed.status, 200);
  EXPECT_EQ(feed.Json().at("items").at(0).at("data").at("result").at("findings"), want);
  HttpResult p = client_->Get(base + "/progress", alice_);
  ASSERT_EQ(p.status, 200);
  json::value progress = p.Json();
  EXPECT_EQ(progress.at("tool_executions").at(0).at("result").at("findings"), want);
  EXPECT_EQ(progress.at("agent_statuses").at(0).at("findings_count"), json::value(2));

  // Anything else is not a finding.
  HttpResult bad = Report(
      id,
      json::array{json::object{
          {"event_type", "tool_complete"},
          {"data",
           {{"tool_execution_id", "t1"}, {"result", {{"findings", json::array{"ok", 42}}}}}}}},
      alice_);
  ExpectProblem(bad, 400, "events[0].data.result.findings[1]");
}

TEST_F(ApiTest, ProgressFollowsReportedEvents) {
  std::string id = Create(alice_);
  std::string base = "/api/v1/investigations/" + id;
  client_->Post(base + "/start", "", alice_);
  json::array events{
      json::object{{"event_type", "status_change"}, {"data", {{"to", "initializing"}}}},
      json::object{{"event_type", "status_change"}, {"data", {{"to", "running"}}}},
      json::object{{"event_type", "phase_change"},
                   {"data", {{"phase_id", "network"}, {"status", "in_progress"}}}},
      json::object{{"event_type", "tool_queued"},
                   {"actor", "network_agent"},
                   {"data",
                    {{"tool_execution_id", "x1"},
                     {"tool_name", "ip_reputation"},
                     {"agent_type", "network"}}}},
      json::object{{"event_type", "tool_started"}, {"data", {{"tool_execution_id", "x1"}}}},
      json::object{{"event_type", "tool_complete"},
                   {"data", {{"tool_execution_id", "x1"}, {"result", {{"risk_score", 0.8}}}}}},
      json::object{
          {"event_type", "risk_updated"},
          {"data", {{"overall", 0.7}, {"by_agent", {{"network", 0.8}}}, {"confidence", 0.5}}}},
  };
  HttpResult r = Report(id, events, alice_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("appended").as_int64(), 7);

  HttpResult p = client_->Get(base + "/progress", alice_);
  ASSERT_EQ(p.status, 200);
  json::object progress = p.Json().as_object();
  EXPECT_EQ(progress.at("status").as_string(), "running");
  EXPECT_EQ(progress.at("total_tools").as_int64(), 2);
  EXPECT_EQ(progress.at("completed_tools").as_int64(), 1);
  EXPECT_EQ(progress.at("completion_percent").as_int64(), 50);
  EXPECT_EQ(progress.at("current_phase").as_string(), "network");
  EXPECT_DOUBLE_EQ(progress.at("risk_metrics").at("overall").as_double(), 0.7);
  EXPECT_EQ(progress.at("version").as_int64(), 9);
  EXPECT_EQ(p.Header("cache-control"), "private, no-cache");
  EXPECT_EQ(p.Header("x-recommended-interval"), "1000");

  HttpResult tools = client_->Get(base + "/tools?status=completed", alice_);
  ASSERT_EQ(tools.status, 200);
  EXPECT_EQ(tools.Json().at("items").as_array().size(), 1u);
  EXPECT_EQ(
      client_->Get(base + "/tools?agent_type=device", alice_).Json().at("items").as_array().size(),
      0u);
}

TEST_F(ApiTest, ProgressAnswers304UntilSomethingChanges) {
  std::string id = Create(alice_);
  std::string url = "/api/v1/investigations/" + id + "/progress";
  HttpResult first = client_->Get(url, alice_);
  ASSERT_EQ(first.status, 200);
  std::string etag = first.Header("etag");
  ASSERT_FALSE(etag.empty());

  HttpResult same = client_->Get(url, With(alice_, "If-None-Match", etag));
  EXPECT_EQ(same.status, 304);
  EXPECT_TRUE(same.body.empty());
  EXPECT_EQ(same.Header("etag"), etag);
  EXPECT_EQ(same.Header("cache-control"), "private, no-cache");
  // Lists, weak tags and * match as RFC 9110 says.
  EXPECT_EQ(client_->Get(url, With(alice_, "If-None-Match", "\"x\", W/" + etag)).status, 304);
  EXPECT_EQ(client_->Get(url, With(alice_, "If-None-Match", "*")).status, 304);
  EXPECT_EQ(client_->Get(url, With(alice_, "If-None-Match", "\"other\"")).status, 200);

  // The investigation resource changes with the same version, and answers 304 the same way.
  std::string resource = "/api/v1/investigations/" + id;
  EXPECT_EQ(client_->Get(resource, With(alice_, "If-None-Match", etag)).status, 304);

  client_->Post("/api/v1/investigations/" + id + "/start", "", alice_);
  EXPECT_EQ(client_->Get(resource, With(alice_, "If-None-Match", etag)).status, 200);
  HttpResult changed = client_->Get(url, With(alice_, "If-None-Match", etag));
  EXPECT_EQ(changed.status, 200);
  EXPECT_NE(changed.Header("etag"), etag);
}

TEST_F(ApiTest, PagingTenThousandEventsReturnsEachExactlyOnceInOrder) {
  std::string id = Create(alice_);
  std::vector<std::string> appended = AppendMany(id, 10'000);
  ASSERT_EQ(appended.size(), 10'000u);
  for (int limit : {1, 7, 100, 1000}) {
    std::vector<std::string> seen;
    std::string cursor;
    for (;;) {
      std::string url = "/api/v1/investigations/" + id + "/events?limit=" + std::to_string(limit) +
                        (cursor.empty() ? "" : "&since=" + cursor);
      HttpResult r = client_->Get(url, alice_);
      ASSERT_EQ(r.status, 200) << r.body;
      json::object page = r.Json().as_object();
      const json::array& items = page.at("items").as_array();
      ASSERT_LE(items.size(), static_cast<size_t>(limit));
      for (const auto& item : items) seen.emplace_back(item.at("event_id").as_string());
      if (!page.at("has_more").as_bool()) {
        if (!items.empty()) {
          EXPECT_EQ(page.at("next_cursor").as_string(), seen.back());
        }
        break;
      }
      cursor = std::string(page.at("next_cursor").as_string());
      ASSERT_EQ(cursor, seen.back());
    }
    // The created event comes first, then the 10,000 in the order they were acknowledged.
    ASSERT_EQ(seen.size(), 10'001u) << "limit " << limit;
    EXPECT_EQ(std::vector<std::string>(seen.begin() + 1, seen.end()), appended)
        << "limit " << limit;
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end(), [](const auto& a, const auto& b) {
      return a.size() != b.size() ? a.size() < b.size() : a < b;
    }));
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), seen.size());
  }
}

TEST_F(ApiTest, SameCursorTwiceGivesIdenticalPagesAnd304) {
  std::string id = Create(alice_);
  std::vector<std::string> ids = AppendMany(id, 50);
  std::string url = "/api/v1/investigations/" + id + "/events?limit=10&since=" + ids[9];
  HttpResult a = client_->Get(url, alice_);
  HttpResult b = client_->Get(url, alice_);
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.Json().at("items"), b.Json().at("items"));
  EXPECT_EQ(a.Header("etag"), b.Header("etag"));
  EXPECT_EQ(a.Json().at("etag").as_string(), a.Header("etag"));
  EXPECT_EQ(client_->Get(url, With(alice_, "If-None-Match", a.Header("etag"))).status, 304);
  // Another page has another tag; a change to the log changes every tag.
  std::string other = "/api/v1/investigations/" + id + "/events?limit=10&since=" + ids[19];
  EXPECT_NE(client_->Get(other, alice_).Header("etag"), a.Header("etag"));
  AppendMany(id, 1);
  EXPECT_EQ(client_->Get(url, With(alice_, "If-None-Match", a.Header("etag"))).status, 200);
}

TEST_F(ApiTest, CaughtUpFeedHasNullCursorAndNoMore) {
  std::string id = Create(alice_);
  std::vector<std::string> ids = AppendMany(id, 3);
  HttpResult r =
      client_->Get("/api/v1/investigations/" + id + "/events?since=" + ids.back(), alice_);
  ASSERT_EQ(r.status, 200);
  json::object page = r.Json().as_object();
  EXPECT_TRUE(page.at("items").as_array().empty());
  EXPECT_TRUE(page.at("next_cursor").is_null());
  EXPECT_FALSE(page.at("has_more").as_bool());
  EXPECT_EQ(page.at("poll_after_seconds").as_int64(), 5);  // created: idle interval
}

TEST_F(ApiTest, MalformedAndExpiredCursorsAre400) {
  std::string id = Create(alice_);
  std::string base = "/api/v1/investigations/" + id + "/events";
  ExpectProblem(client_->Get(base + "?since=abc", alice_), 400, "since");
  ExpectProblem(client_->Get(base + "?since=123_45", alice_), 400, "since");
  HttpResult expired = client_->Get(base + "?since=1000000000000_000000", alice_);
  ExpectProblem(expired, 400, "since");
  EXPECT_NE(expired.Json().at("detail").as_string().find("expired"), std::string::npos);
  EXPECT_EQ(client_->Get(base + "?since=0_000000", alice_).status, 200);  // from the start
  ExpectProblem(client_->Get(base + "?limit=0", alice_), 400, "limit");
  ExpectProblem(client_->Get(base + "?limit=1001", alice_), 400, "limit");
  ExpectProblem(client_->Get(base + "?event_type=bogus", alice_), 400, "event_type");
}

TEST_F(ApiTest, AnotherUsersInvestigationIs404OnEveryPath) {
  std::string id = Create(alice_);
  std::string missing = "inv_00000000000000000000ffff";
  Headers admin = Auth(TestToken("root", {"admin"}));
  struct Call {
    const char* method;
    std::string suffix;
    std::string body;
  };
  std::vector<Call> calls = {
      {"GET", "", ""},
      {"GET", "/progress", ""},
      {"GET", "/events", ""},
      {"GET", "/tools", ""},
      {"POST", "/events", R"({"events":[{"event_type":"risk_updated","data":{"overall":0.1}}]})"},
      {"POST", "/transitions", R"({"to":"queued"})"},
      {"POST", "/start", ""},
      {"POST", "/pause", ""},
      {"POST", "/resume", ""},
      {"POST", "/cancel", ""},
      {"POST", "/retry", ""},
      {"GET", "/runs/current/stream", ""},
  };
  for (const Call& c : calls) {
    HttpResult theirs =
        client_->Request(c.method, "/api/v1/investigations/" + id + c.suffix, c.body, bob_);
    HttpResult nobody =
        client_->Request(c.method, "/api/v1/investigations/" + missing + c.suffix, c.body, bob_);
    SCOPED_TRACE(std::string(c.method) + " " + c.suffix);
    ExpectProblem(theirs, 404);
    ExpectProblem(nobody, 404);
    json::object a = theirs.Json().as_object(), b = nobody.Json().as_object();
    EXPECT_EQ(a.at("detail"), b.at("detail"));
    EXPECT_EQ(a.at("type"), b.at("type"));
  }
  // Bob's list does not show it; an admin sees it, on every read.
  EXPECT_EQ(client_->Get("/api/v1/investigations", bob_).body.find(id), std::string::npos);
  for (const Call& c : calls) {
    if (std::string(c.method) != "GET" || c.suffix == "/runs/current/stream") continue;
    EXPECT_EQ(client_->Get("/api/v1/investigations/" + id + c.suffix, admin).status, 200)
        << c.suffix;
  }
  // Alice herself, with a token that only reads, may not change it: 403 on every write, before
  // anything is looked at.
  Headers alice_reads = Auth(TestToken("alice", {"read"}));
  for (const Call& c : calls) {
    if (std::string(c.method) != "POST") continue;
    SCOPED_TRACE(c.suffix);
    ExpectProblem(
        client_->Request(c.method, "/api/v1/investigations/" + id + c.suffix, c.body, alice_reads),
        403);
  }
  // And nothing Bob tried changed it.
  EXPECT_EQ(client_->Get("/api/v1/investigations/" + id, alice_).Json().at("version").as_int64(),
            1);
}

TEST_F(ApiTest, ABatchWithOneBadEventAppendsNothing) {
  std::string id = Create(alice_);
  std::string base = "/api/v1/investigations/" + id;
  ASSERT_EQ(client_->Post(base + "/start", "", alice_).status, 200);
  ASSERT_EQ(client_->Post(base + "/transitions", R"({"to":"initializing"})", alice_).status, 200);
  json::array shape_error{
      json::object{{"event_type", "risk_updated"}, {"data", {{"overall", 0.2}}}},
      json::object{{"event_type", "risk_updated"}, {"data", {{"overall", 7}}}},
  };
  ExpectProblem(Report(id, shape_error, alice_), 400, "events[1].data.overall");
  json::array unknown{json::object{{"event_type", "tool_exploded"}, {"data", json::object()}}};
  HttpResult u = Report(id, unknown, alice_);
  ExpectProblem(u, 400, "events[0].event_type");
  EXPECT_NE(u.Json().at("detail").as_string().find("tool_complete"), std::string::npos);
  json::array state_error{
      json::object{{"event_type", "risk_updated"}, {"data", {{"overall", 0.2}}}},
      json::object{{"event_type", "tool_started"}, {"data", {{"tool_execution_id", "nope"}}}},
  };
  ExpectProblem(Report(id, state_error, alice_), 409, "events[1].data.tool_execution_id");
  HttpResult after = client_->Get(base + "/events", alice_);
  EXPECT_EQ(after.Json().at("items").as_array().size(), 3u);  // created and two transitions
  EXPECT_EQ(client_->Get(base + "/progress", alice_).Json().at("version").as_int64(), 3);
}

TEST_F(ApiTest, IdempotencyKeysAppendOnce) {
  std::string id = Create(alice_);
  json::array events{
      json::object{{"event_type", "risk_updated"}, {"key", "k1"}, {"data", {{"overall", 0.2}}}},
      json::object{{"event_type", "risk_updated"}, {"key", "k2"}, {"data", {{"overall", 0.3}}}},
  };
  HttpResult first = Report(id, events, alice_);
  ASSERT_EQ(first.status, 200);
  HttpResult again = Report(id, events, alice_);
  ASSERT_EQ(again.status, 200);
  json::object body = again.Json().as_object();
  EXPECT_EQ(body.at("appended").as_int64(), 0);
  EXPECT_EQ(body.at("duplicates").as_int64(), 2);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_TRUE(body.at("events").as_array()[i].at("duplicate").as_bool());
    EXPECT_EQ(body.at("events").as_array()[i].at("event_id"),
              first.Json().at("events").as_array()[i].at("event_id"));
  }
  // A repeated key inside one batch is a duplicate of the first.
  json::array twice{
      json::object{{"event_type", "risk_updated"}, {"key", "k3"}, {"data", {{"overall", 0.4}}}},
      json::object{{"event_type", "risk_updated"}, {"key", "k3"}, {"data", {{"overall", 0.4}}}},
  };
  HttpResult t = Report(id, twice, alice_);
  EXPECT_EQ(t.Json().at("appended").as_int64(), 1);
  EXPECT_EQ(client_->Get("/api/v1/investigations/" + id + "/events", alice_)
                .Json()
                .at("items")
                .as_array()
                .size(),
            4u);
}

TEST_F(ApiTest, ListIsNewestFirstFilteredAndPaged) {
  Headers dave = Auth(TestToken("dave", {"read", "dev"}));
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(Create(dave, "case " + std::to_string(i)));
  client_->Post("/api/v1/investigations/" + ids[1] + "/start", "", dave);
  std::vector<std::string> seen;
  std::string cursor;
  do {
    HttpResult r = client_->Get(
        "/api/v1/investigations?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor), dave);
    ASSERT_EQ(r.status, 200) << r.body;
    json::value r_json = r.Json();  // keeps the array alive for the loop
    for (const auto& item : r_json.at("items").as_array()) {
      seen.emplace_back(item.at("investigation_id").as_string());
    }
    cursor = r.Json().at("next_cursor").is_null()
                 ? ""
                 : std::string(r.Json().at("next_cursor").as_string());
  } while (!cursor.empty());
  // Each exactly once, newest first (investigations created in the same millisecond may come in
  // either order).
  ASSERT_EQ(seen.size(), ids.size());
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()),
            std::set<std::string>(ids.begin(), ids.end()));
  std::vector<std::string> created;
  for (const std::string& id : seen) {
    created.emplace_back(
        client_->Get("/api/v1/investigations/" + id, dave).Json().at("created_at").as_string());
  }
  EXPECT_TRUE(std::is_sorted(created.rbegin(), created.rend()));
  HttpResult pending = client_->Get("/api/v1/investigations?status=queued", dave);
  ASSERT_EQ(pending.Json().at("items").as_array().size(), 1u);
  EXPECT_EQ(pending.Json().at("items").as_array()[0].at("investigation_id").as_string(), ids[1]);
  ExpectProblem(client_->Get("/api/v1/investigations?status=sleepy", dave), 400, "status");
}

// If-Match on every write to an investigation: the current tag (of /progress) lets the write
// through; any other is 412 with both versions, and nothing is written.
TEST_F(ApiTest, IfMatchWritesOnlyAgainstTheCurrentVersion) {
  const std::string id = Create(alice_);
  const std::string base = "/api/v1/investigations/" + id;
  auto progress = [&] {
    HttpResult r = client_->Get(base + "/progress", alice_);
    EXPECT_EQ(r.status, 200) << r.body;
    return std::pair(r.Header("etag"), r.Json().at("version").as_int64());
  };
  const json::array one{
      json::object{{"event_type", "risk_updated"}, {"data", json::object{{"overall", 0.5}}}}};
  auto [tag, version] = progress();

  HttpResult ok = Report(id, one, With(alice_, "If-Match", tag));
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_NE(ok.Header("etag"), tag) << "the answer names the version it made";
  EXPECT_EQ(ok.Header("etag"), progress().first);

  HttpResult stale = Report(id, one, With(alice_, "If-Match", tag));
  ExpectProblem(stale, 412, "If-Match");
  EXPECT_EQ(stale.Json().at("current_version").as_int64(), version + 1) << stale.body;
  EXPECT_EQ(stale.Json().at("submitted_version").as_int64(), version) << stale.body;
  EXPECT_EQ(progress().second, version + 1) << "nothing was written";

  const std::string current = progress().first;
  ExpectProblem(Report(id, one, With(alice_, "If-Match", "W/" + current)), 412, "If-Match");
  HttpResult unknown = Report(id, one, With(alice_, "If-Match", "\"not-a-version\""));
  ExpectProblem(unknown, 412, "If-Match");
  EXPECT_TRUE(unknown.Json().at("submitted_version").is_null()) << unknown.body;
  EXPECT_EQ(Report(id, one, With(alice_, "If-Match", "\"1-00000000\", " + current)).status, 200)
      << "a list matches when one member is current";
  EXPECT_EQ(Report(id, one, With(alice_, "If-Match", "*")).status, 200);

  // Transitions too.
  ExpectProblem(client_->Post(base + "/start", "{}", With(alice_, "If-Match", current)), 412,
                "If-Match");
  HttpResult started =
      client_->Post(base + "/start", "{}", With(alice_, "If-Match", progress().first));
  EXPECT_EQ(started.status, 200) << started.body;
  EXPECT_EQ(started.Header("etag"), progress().first);
  ExpectProblem(Report(id, one, With(bob_, "If-Match", "*")), 404);
}

// Two writers that read the same version and write with its tag at once: exactly one wins; the
// check and the write are one step.
TEST_F(ApiTest, OfWritersWithTheSameIfMatchExactlyOneWins) {
  const std::string id = Create(alice_);
  const std::string path = "/api/v1/investigations/" + id;
  HttpResult read = client_->Get(path + "/progress", alice_);
  ASSERT_EQ(read.status, 200);
  const std::string tag = read.Header("etag");
  const int64_t version = read.Json().at("version").as_int64();
  constexpr int kWriters = 8;
  std::vector<int> status(kWriters, 0);
  std::vector<std::thread> writers;
  for (int i = 0; i < kWriters; ++i) {
    writers.emplace_back([&, i] {
      HttpClient client("127.0.0.1", server_->port());
      json::array one{json::object{{"event_type", "risk_updated"},
                                   {"data", json::object{{"overall", 0.1 * i}}}}};
      status[i] = client
                      .Post(path + "/events", json::serialize(json::object{{"events", one}}),
                            With(alice_, "If-Match", tag))
                      .status;
    });
  }
  for (std::thread& t : writers) t.join();
  EXPECT_EQ(std::count(status.begin(), status.end(), 200), 1);
  EXPECT_EQ(std::count(status.begin(), status.end(), 412), kWriters - 1);
  HttpResult after = client_->Get(path + "/progress", alice_);
  EXPECT_EQ(after.Json().at("version").as_int64(), version + 1);
}

}  // namespace
}  // namespace vigil::test
