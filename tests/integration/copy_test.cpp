// `vigil copy` with the real binary, end to end: a SQLite store made by a real `vigil serve`
// (investigations created and events reported over HTTP) is copied into a PostgreSQL database of
// the test server (tests/CMakeLists.txt), which a `vigil serve` then serves: /events pages,
// /progress ETags and versions are the same, and a client resumes its stream with the
// Last-Event-ID it had before the move.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "support/api_calls.hpp"
#include "support/http_client.hpp"
#include "support/postgres/test_database.hpp"
#include "support/sse_client.hpp"
#include "support/vigil_process.hpp"

namespace vigil::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

struct Ran {
  int code = -1;
  std::string output;  // stdout and stderr
};

// Runs the real binary with `args` (already quoted for the shell) to its end.
Ran RunVigil(const std::string& args) {
  Ran ran;
  const std::string command = std::string(VIGIL_BINARY) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return ran;
  std::array<char, 4096> buffer;
  size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    ran.output.append(buffer.data(), n);
  const int status = pclose(pipe);
  ran.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return ran;
}

// A batch of one event with the idempotency key "k-1".
std::string KeyedBatch() {
  json::object event = ErrorLoggedEvent(999);
  event["key"] = "k-1";
  return json::serialize(json::object{{"events", json::array{event}}});
}

// Everything a client can see of the investigations: each /events page (limit 40, walked by
// next_cursor) and /progress, with status, ETag and body.
using View = std::map<std::string, std::string>;

View ViewOf(HttpClient& client, const Headers& who, const std::vector<std::string>& ids) {
  View view;
  for (const std::string& id : ids) {
    const std::string base = "/api/v1/investigations/" + id;
    HttpResult progress = client.Get(base + "/progress", who);
    EXPECT_EQ(progress.status, 200) << progress.body;
    view[base + "/progress"] = progress.Header("ETag") + "\n" + progress.body;
    std::string target = base + "/events?limit=40";
    for (int page = 0; page < 100; ++page) {
      HttpResult r = client.Get(target, who);
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) break;
      view[target] = r.Header("ETag") + "\n" + r.body;
      json::value v = r.Json();
      if (!v.at("has_more").as_bool()) break;
      target = base + "/events?limit=40&since=" + std::string(v.at("next_cursor").as_string());
    }
  }
  return view;
}

TEST(CopyToPostgresTest, ASqliteStoreServedFromPostgresAnswersTheSameAndStreamsResume) {
  const std::string dir = MakeTempDir();
  const std::string sqlite = dir + "/vigil.db";
  const std::string postgres =
      MakePostgresDatabase("vigil_copy_" + std::filesystem::path(dir).filename().string());
  ASSERT_FALSE(postgres.empty());
  const Headers alice = BearerJson(TestToken("alice", {"read", "dev"}));

  // Before: one machine, SQLite, written over HTTP.
  std::vector<std::string> ids;
  std::vector<std::string> reported;
  View before;
  {
    auto server = VigilProcess::Start({.db_path = sqlite});
    ASSERT_NE(server, nullptr);
    HttpClient client("127.0.0.1", server->port());
    for (const char* name : {"first", "second", "third"}) {
      ids.push_back(CreateInvestigation(client, alice, name));
      ASSERT_FALSE(ids.back().empty());
    }
    reported = ReportErrors(client, ids[0], alice, 1, 120, 50);
    ASSERT_EQ(reported.size(), 120u);
    ASSERT_EQ(ReportErrors(client, ids[1], alice, 1, 7, 7, "someone_else").size(), 7u);
    // An event with an idempotency key: after the move, a retry of it is still a duplicate.
    HttpResult keyed =
        client.Post("/api/v1/investigations/" + ids[2] + "/events", KeyedBatch(), alice);
    ASSERT_EQ(keyed.status, 200) << keyed.body;
    before = ViewOf(client, alice, ids);
  }
  ASSERT_GE(before.size(), 3u + 4u);

  // The move: migrate the new database, copy into it; a second copy is refused.
  Ran migrated = RunVigil("migrate --db '" + postgres + "'");
  ASSERT_EQ(migrated.code, 0) << migrated.output;
  Ran copied = RunVigil("copy --from '" + sqlite + "' --to '" + postgres + "' --batch-events 33");
  ASSERT_EQ(copied.code, 0) << copied.output;
  EXPECT_NE(copied.output.find("copied 3 investigations and 131 events"), std::string::npos)
      << copied.output;
  EXPECT_EQ(copied.output.find(postgres), std::string::npos) << "the password is not shown";
  Ran again = RunVigil("copy --from '" + sqlite + "' --to '" + postgres + "'");
  EXPECT_EQ(again.code, 1) << again.output;
  EXPECT_NE(again.output.find("not empty"), std::string::npos) << again.output;
  Ran same = RunVigil("copy --from '" + sqlite + "' --to 'sqlite:" + sqlite + "'");
  EXPECT_EQ(same.code, 2) << same.output;

  // After: the same store served from PostgreSQL.
  auto server = VigilProcess::Start({.db_path = postgres});
  ASSERT_NE(server, nullptr);
  HttpClient client("127.0.0.1", server->port());
  View after = ViewOf(client, alice, ids);
  EXPECT_EQ(after, before);
  // An ETag a poller kept from before the move is still current.
  const std::string progress = "/api/v1/investigations/" + ids[0] + "/progress";
  const std::string etag = before[progress].substr(0, before[progress].find('\n'));
  ASSERT_FALSE(etag.empty());
  Headers conditional = alice;
  conditional.emplace_back("If-None-Match", etag);
  EXPECT_EQ(client.Get(progress, conditional).status, 304);

  // A stream resumes after the id its client last saw on SQLite: the rest of the log, then what
  // is reported now.
  SseClient::Options options;
  options.headers = {{"Authorization", alice[0].second}, {"Last-Event-ID", reported[99]}};
  auto stream = SseClient::Open(
      server->port(), "/api/v1/investigations/" + ids[0] + "/runs/current/stream", options);
  ASSERT_NE(stream, nullptr);
  ASSERT_EQ(stream->status(), 200) << stream->body();
  for (size_t i = 100; i < reported.size(); ++i) {
    auto frame = stream->NextEvent(10s);
    ASSERT_TRUE(frame.has_value()) << "event " << i;
    EXPECT_EQ(frame->id.value_or(""), reported[i]) << frame->event << " " << frame->data;
  }
  auto caught_up = stream->NextEvent(10s);
  ASSERT_TRUE(caught_up.has_value());
  EXPECT_EQ(caught_up->event, "caught_up") << caught_up->data;
  std::vector<std::string> more = ReportErrors(client, ids[0], alice, 121, 3, 3);
  ASSERT_EQ(more.size(), 3u);
  EXPECT_GT(more.front(), reported.back());
  for (const std::string& id : more) {
    auto frame = stream->NextEvent(10s);
    ASSERT_TRUE(frame.has_value());
    EXPECT_EQ(frame->id.value_or(""), id);
  }

  // The idempotency key came along: a retry is recognised, not appended.
  HttpResult retried =
      client.Post("/api/v1/investigations/" + ids[2] + "/events", KeyedBatch(), alice);
  ASSERT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(retried.Json().at("duplicates").as_int64(), 1) << retried.body;
}

}  // namespace
}  // namespace vigil::test
