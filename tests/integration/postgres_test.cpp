// The real `vigil migrate` and `vigil serve` on a PostgreSQL database of the test server
// (tests/CMakeLists.txt): what is reported over HTTP is read back, with the same ids, by the next
// vigil on the same database.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "support/api_calls.hpp"
#include "support/http_client.hpp"
#include "support/postgres/test_database.hpp"
#include "support/vigil_process.hpp"

namespace vigil::test {
namespace {

namespace json = boost::json;

std::vector<std::string> IdsOf(const std::vector<json::value>& items) {
  std::vector<std::string> ids;
  for (const json::value& item : items) ids.emplace_back(item.at("event_id").as_string());
  return ids;
}

TEST(PostgresIntegrationTest, AVigilRestartedOnTheSameDatabaseReadsTheSameEvents) {
  VigilOptions options;
  options.db_path =
      MakePostgresDatabase("vigil_it_" + std::filesystem::path(MakeTempDir()).filename().string());
  ASSERT_FALSE(options.db_path.empty());
  const Headers alice = BearerJson(TestToken("alice", {"read", "dev"}));

  std::string id;
  std::vector<std::string> reported;
  std::vector<json::value> before;
  {
    auto server = VigilProcess::Start(options);  // migrates first
    ASSERT_NE(server, nullptr);
    HttpClient client("127.0.0.1", server->port());
    id = CreateInvestigation(client, alice, "on postgres");
    ASSERT_FALSE(id.empty());
    // 300 events in batches of 150: each batch takes more than one pipeline of inserts.
    reported = ReportErrors(client, id, alice, 1, 300, 150);
    ASSERT_EQ(reported.size(), 300u);
    before = ReadLog(client, id, alice);
    // The URL's password is not in the log.
    const std::string log = server->ReadLog();
    const std::string url = options.db_path;
    const std::string password =
        url.substr(url.find(':', 14) + 1, url.find('@') - url.find(':', 14) - 1);
    ASSERT_FALSE(password.empty());
    EXPECT_EQ(log.find(password), std::string::npos) << log;
    EXPECT_NE(log.find("postgresql://postgres:***@127.0.0.1"), std::string::npos) << log;
  }
  ASSERT_EQ(before.size(), 301u) << "the creation and the reported events";

  auto server = VigilProcess::Start(options);  // migrating again changes nothing
  ASSERT_NE(server, nullptr);
  HttpClient client("127.0.0.1", server->port());
  std::vector<json::value> after = ReadLog(client, id, alice);
  EXPECT_EQ(after, before);
  std::vector<std::string> ids = IdsOf(after);
  EXPECT_EQ(std::vector(ids.end() - 300, ids.end()), reported);
  // And the log goes on after them.
  std::vector<std::string> more = ReportErrors(client, id, alice, 301, 5, 5);
  ASSERT_EQ(more.size(), 5u);
  EXPECT_GT(more.front(), reported.back());
  HttpResult progress = client.Get("/api/v1/investigations/" + id + "/progress", alice);
  ASSERT_EQ(progress.status, 200) << progress.body;
  EXPECT_EQ(progress.Json().at("version").as_int64(), 306) << "folded from the whole stored log";
}

}  // namespace
}  // namespace vigil::test
