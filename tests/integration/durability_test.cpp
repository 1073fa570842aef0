// Acknowledged writes survive kill -9, and vigil refuses a database it was not migrated for.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/vigil_process.hpp"

namespace vigil::test {
namespace {

namespace json = boost::json;

TEST(DurabilityTest, KillNineDuringReportsLosesNoAcknowledgedEvent) {
  std::string dir = MakeTempDir();
  VigilOptions options;
  options.db_path = dir + "/vigil.db";
  auto server = VigilProcess::Start(options);
  std::vector<std::pair<std::string, std::string>> auth = {
      {"Authorization", "Bearer " + TestToken("alice", {"read", "dev"})},
      {"Content-Type", "application/json"}};
  HttpClient client("127.0.0.1", server->port());
  HttpResult created = client.Post("/api/v1/investigations", R"({"name":"durable"})", auth);
  ASSERT_EQ(created.status, 201);
  std::string id(created.Json().at("investigation_id").as_string());

  // Two writers report as fast as they can; every acknowledged event id is remembered.
  std::atomic<bool> stop{false};
  std::atomic<int> acknowledged_batches{0};
  std::vector<std::vector<std::string>> acked(2);
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      HttpClient c("127.0.0.1", server->port());
      for (int n = 0; !stop; ++n) {
        json::array events;
        for (int i = 0; i < 5; ++i) {
          events.push_back(json::object{
              {"event_type", "risk_updated"},
              {"key", "w" + std::to_string(w) + "-" + std::to_string(n) + "-" + std::to_string(i)},
              {"data", {{"overall", 0.5}}}});
        }
        HttpResult r;
        try {
          r = c.Post("/api/v1/investigations/" + id + "/events",
                     json::serialize(json::object{{"events", events}}), auth);
        } catch (const std::exception&) {
          return;  // the server is gone
        }
        if (r.status != 200) return;
        json::value r_json = r.Json();  // keeps the array alive for the loop
        for (const auto& item : r_json.at("events").as_array()) {
          acked[w].emplace_back(item.at("event_id").as_string());
        }
        ++acknowledged_batches;
      }
    });
  }
  // Kill once a good number of batches were acknowledged (a condition, with a deadline).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (acknowledged_batches < 200 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_GE(acknowledged_batches.load(), 200);
  server->Kill(SIGKILL);
  server->Wait();
  stop = true;
  for (auto& t : writers) t.join();

  // Restart on the same file: every acknowledged event is there.
  auto restarted = VigilProcess::Start(options);
  HttpClient reader("127.0.0.1", restarted->port());
  std::set<std::string> stored;
  std::string cursor;
  for (;;) {
    HttpResult page = reader.Get("/api/v1/investigations/" + id + "/events?limit=1000" +
                                     (cursor.empty() ? "" : "&since=" + cursor),
                                 auth);
    ASSERT_EQ(page.status, 200) << page.body;
    json::value page_json = page.Json();  // keeps the array alive for the loop
    for (const auto& item : page_json.at("items").as_array()) {
      stored.emplace(item.at("event_id").as_string());
    }
    if (!page.Json().at("has_more").as_bool()) break;
    cursor = std::string(page.Json().at("next_cursor").as_string());
  }
  size_t total = 0;
  for (const auto& ids : acked) {
    for (const std::string& id : ids) {
      ++total;
      EXPECT_TRUE(stored.contains(id)) << "acknowledged event " << id << " was lost";
    }
  }
  EXPECT_GE(total, 1000u);
  // The snapshot was rebuilt from the log and agrees with it.
  HttpResult progress = reader.Get("/api/v1/investigations/" + id + "/progress", auth);
  EXPECT_EQ(progress.Json().at("version").as_int64(), static_cast<int64_t>(stored.size()));
}

// Runs `vigil serve` on a database nobody migrated; it must exit and say what to run.
// A write the database cannot take now (here: another process holds its write lock past vigil's
// busy timeout) is a 503 that says when to retry; once the lock is gone, writes succeed again.
TEST(DurabilityTest, AWriteTheDatabaseCannotTakeIs503WithRetryAfter) {
  std::string dir = MakeTempDir();
  VigilOptions options;
  options.db_path = dir + "/vigil.db";
  auto server = VigilProcess::Start(options);
  ASSERT_TRUE(server);
  const Headers alice = {{"Authorization", "Bearer " + TestToken("alice", {"read", "dev"})},
                         {"Content-Type", "application/json"}};
  HttpClient client("127.0.0.1", server->port(), std::chrono::seconds(30));
  ASSERT_EQ(client.Post("/api/v1/investigations", R"({"name":"before"})", alice).status, 201);

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(options.db_path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  HttpResult refused = client.Post("/api/v1/investigations", R"({"name":"locked out"})", alice);
  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(db);

  ASSERT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.Json().at("type"), "urn:vigil:problem:unavailable");
  ASSERT_FALSE(refused.Header("retry-after").empty());
  EXPECT_GE(std::stoi(refused.Header("retry-after")), 1);
  EXPECT_EQ(client.Post("/api/v1/investigations", R"({"name":"after"})", alice).status, 201);
}

TEST(DurabilityTest, ServeRefusesAnUnmigratedDatabase) {
  std::string dir = MakeTempDir();
  std::string db = dir + "/never-migrated.db";
  std::string log = dir + "/serve.log";
  std::string command = std::string("VIGIL_JWT_SECRET=") + kTestJwtSecret + " timeout 20 " +
                        VIGIL_BINARY + " serve --listen 127.0.0.1:0 --db " + db + " > " + log +
                        " 2>&1";
  int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  std::ifstream in(log);
  std::string output((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(output.find("vigil migrate --db " + db), std::string::npos) << output;
  EXPECT_FALSE(std::filesystem::exists(db)) << "serve must not create the database";
}

}  // namespace
}  // namespace vigil::test
