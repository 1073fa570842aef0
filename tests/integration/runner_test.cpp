// The built-in simulated runner drives an investigation to the end through the public API's path,
// and honours pause and resume made by its owner.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <thread>

#include "support/http_client.hpp"
#include "support/vigil_process.hpp"

namespace vigil::test {
namespace {

namespace json = boost::json;

// Polls `url` until `done(progress)` holds or the deadline passes; returns the last progress.
json::object WaitForProgress(HttpClient& client, const std::string& url,
                             const std::vector<std::pair<std::string, std::string>>& auth,
                             const std::function<bool(const json::object&)>& done,
                             std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  json::object last;
  std::string etag;
  while (std::chrono::steady_clock::now() < deadline) {
    auto headers = auth;
    if (!etag.empty()) headers.emplace_back("If-None-Match", etag);
    HttpResult r = client.Get(url, headers);
    if (r.status == 200) {
      last = r.Json().as_object();
      etag = r.Header("etag");
      if (done(last)) return last;
    }
    std::this_thread::yield();
  }
  return last;
}

TEST(RunnerTest, SimulatedInvestigationRunsToCompletionAndHonoursPause) {
  std::string dir = MakeTempDir();
  VigilOptions options;
  options.db_path = dir + "/vigil.db";
  options.extra_args = {"--demo-speed", "25"};
  auto server = VigilProcess::Start(options);
  HttpClient client("127.0.0.1", server->port());
  std::vector<std::pair<std::string, std::string>> auth = {
      {"Authorization", "Bearer " + TestToken("alice", {"read", "dev"})},
      {"Content-Type", "application/json"}};
  const char* body = R"({"name": "simulated", "runner": "simulated",
    "entities": [{"type": "ip", "value": "203.0.113.9"}],
    "plan": {"phases": [
      {"name": "network", "tools": [{"tool_name": "ip_reputation", "agent_type": "network"},
                                    {"tool_name": "vpn_detection", "agent_type": "network"}]},
      {"name": "device", "tools": [{"tool_name": "device_fingerprint", "agent_type": "device"}]}]}})";
  HttpResult created = client.Post("/api/v1/investigations", body, auth);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id(created.Json().at("investigation_id").as_string());
  std::string base = "/api/v1/investigations/" + id;
  ASSERT_EQ(client.Post(base + "/start", "", auth).status, 200);

  // Pause as soon as a tool has started; the runner must stop moving it.
  json::object running = WaitForProgress(
      client, base + "/progress", auth,
      [](const json::object& p) { return p.at("running_tools").as_int64() > 0; },
      std::chrono::seconds(30));
  ASSERT_GT(running.at("running_tools").as_int64(), 0);
  HttpResult paused = client.Post(base + "/pause", "", auth);
  ASSERT_EQ(paused.status, 200) << paused.body;
  EXPECT_EQ(paused.Json().at("state").as_string(), "paused");
  ASSERT_EQ(client.Post(base + "/resume", "", auth).status, 200);

  json::object done = WaitForProgress(
      client, base + "/progress", auth,
      [](const json::object& p) { return p.at("status").as_string() == "completed"; },
      std::chrono::seconds(60));
  ASSERT_EQ(done.at("status").as_string(), "completed");
  EXPECT_EQ(done.at("completion_percent").as_int64(), 100);
  EXPECT_EQ(done.at("total_tools").as_int64(), 3);
  EXPECT_EQ(done.at("completed_tools").as_int64() + done.at("failed_tools").as_int64(), 3);
  for (const auto& phase : done.at("phases").as_array()) {
    EXPECT_EQ(phase.at("status").as_string(), "completed");
  }
  EXPECT_FALSE(done.at("risk_metrics").at("last_calculated").is_null());
  EXPECT_FALSE(done.at("started_at").is_null());
  EXPECT_FALSE(done.at("completed_at").is_null());
  EXPECT_FALSE(done.at("ice_connected").as_bool());
  EXPECT_GT(done.at("peak_tools_per_second").as_double(), 0.0);

  // The pause is in the log, between the runner's own events.
  HttpResult transitions = client.Get(base + "/events?event_type=status_change&limit=100", auth);
  std::vector<std::string> path;
  json::value transitions_json = transitions.Json();  // keeps the array alive for the loop
  for (const auto& e : transitions_json.at("items").as_array()) {
    path.emplace_back(e.at("data").at("to").as_string());
  }
  std::vector<std::string> expected = {"queued",  "initializing", "running",  "paused",
                                       "running", "completing",   "completed"};
  EXPECT_EQ(path, expected);
}

}  // namespace
}  // namespace vigil::test
