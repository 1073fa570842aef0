// A log older than EVENT_FEED_CURSOR_EXPIRY_DAYS, served by a real `vigil serve`: every cursor
// vigil handed out for it pages and resumes; only positions that are no event of it expire.
//
// The old log is written into the test's own SQLite file before the server starts, by the same
// engine the server runs, with a clock set 40 days back: the rows are what vigil itself wrote then.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "core/input.hpp"
#include "engine/await.hpp"
#include "engine/engine.hpp"
#include "store/open.hpp"
#include "support/api_calls.hpp"
#include "support/http_client.hpp"
#include "support/sse_client.hpp"
#include "support/vigil_process.hpp"
#include "support/ws_client.hpp"

namespace vigil::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr int64_t kDayMs = 86'400'000;
constexpr int kOldEvents = 250;

core::Principal Alice() {
  core::Principal p;
  p.subject = "alice";
  p.can_read = p.can_write = true;
  return p;
}

// Writes an investigation of alice's with `n` error_logged events, all `age_ms` old, into the
// database at `path`; returns its id and the ids of its whole log.
std::pair<std::string, std::vector<std::string>> WriteOldLog(const std::string& path, int n,
                                                             int64_t age_ms) {
  std::pair<std::string, std::vector<std::string>> out;
  EXPECT_TRUE(store::MigrateStore(path));
  auto store = store::OpenStore(path);
  EXPECT_TRUE(store) << store.error().message;
  if (!store) return out;
  ManualClock clock(SystemClock().NowMs() - age_ms);
  engine::Engine engine(**store, clock);
  engine.Start();
  auto data = core::ParseCreateRequest(json::parse(R"({"name": "an old case"})"), {});
  auto created = engine::Await<engine::SnapshotPtr>(
      [&](auto done) { engine.Create(Alice(), *data, std::move(done)); });
  EXPECT_TRUE(created) << created.error().message;
  if (!created) return out;
  out.first = (*created)->id();
  out.second.push_back(core::FormatEventId((*created)->investigation().last_event_id));
  for (int i = 0; i < n; ++i) {
    clock.Advance(10);
    core::EventInput e;
    e.type = core::EventType::kErrorLogged;
    e.data = {{"error",
               {{"code", "E" + std::to_string(i)},
                {"message", "event " + std::to_string(i)},
                {"severity", "warning"}}}};
    auto r = engine::Await<engine::ReportOutcome>(
        [&](auto done) { engine.Report(Alice(), out.first, {e}, std::move(done)); });
    EXPECT_TRUE(r) << r.error().message;
    if (!r) return out;
    out.second.push_back(core::FormatEventId(r->items[0].event_id));
  }
  return out;
}

class OldLogTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(MakeTempDir());
    VigilOptions options;
    options.db_path = *dir_ + "/vigil.db";
    // The newest 50 events in memory, the older ones only in the store: both paths are taken.
    options.env = {{"RECENT_EVENTS_PER_INVESTIGATION", "50"}};
    auto [id, ids] = WriteOldLog(options.db_path, kOldEvents, 40 * kDayMs);
    id_ = new std::string(id);
    ids_ = new std::vector<std::string>(ids);
    server_ = VigilProcess::Start(options).release();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete ids_;
    delete id_;
    delete dir_;
  }

  void SetUp() override {
    ASSERT_TRUE(server_);
    ASSERT_EQ(ids_->size(), size_t{kOldEvents} + 1);
    client_ = std::make_unique<HttpClient>("127.0.0.1", server_->port());
    alice_ = BearerJson(TestToken("alice", {"read", "dev"}));
  }

  std::string Events(const std::string& query = "") const {
    return "/api/v1/investigations/" + *id_ + "/events" + query;
  }
  std::unique_ptr<SseClient> Stream(const std::string& last_event_id) const {
    SseClient::Options o;
    o.headers = {alice_.front(), {"Last-Event-ID", last_event_id}};
    return SseClient::Open(server_->port(),
                           "/api/v1/investigations/" + *id_ + "/runs/current/stream", o);
  }

  static std::string* dir_;
  static std::string* id_;
  static std::vector<std::string>* ids_;
  static VigilProcess* server_;
  std::unique_ptr<HttpClient> client_;
  Headers alice_;
};

std::string* OldLogTest::dir_ = nullptr;
std::string* OldLogTest::id_ = nullptr;
std::vector<std::string>* OldLogTest::ids_ = nullptr;
VigilProcess* OldLogTest::server_ = nullptr;

// Issue 10: page 1 answered 200, and its next_cursor 400 "cursor expired".
TEST_F(OldLogTest, TheWholeLogPagesWithEachPagesNextCursor) {
  std::vector<std::string> got;
  std::string query = "?limit=100";
  for (int page = 0; page < 10; ++page) {
    HttpResult r = client_->Get(Events(query), alice_);
    ASSERT_EQ(r.status, 200) << query << ": " << r.body;
    json::value body = r.Json();
    for (const auto& item : body.at("items").as_array()) {
      got.emplace_back(item.at("event_id").as_string());
    }
    if (!body.at("has_more").as_bool()) break;
    query = "?limit=100&since=" + std::string(body.at("next_cursor").as_string());
  }
  EXPECT_EQ(got, *ids_);
  // A caught-up poll with the last page's cursor is fine too.
  HttpResult tail = client_->Get(Events("?since=" + ids_->back()), alice_);
  ASSERT_EQ(tail.status, 200) << tail.body;
  EXPECT_TRUE(tail.Json().at("items").as_array().empty());
}

TEST_F(OldLogTest, ProgressLastEventIdIsAUsableCursor) {
  HttpResult progress = client_->Get("/api/v1/investigations/" + *id_ + "/progress", alice_);
  ASSERT_EQ(progress.status, 200) << progress.body;
  std::string last(progress.Json().at("last_event_id").as_string());
  EXPECT_EQ(last, ids_->back());
  HttpResult r = client_->Get(Events("?since=" + last), alice_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.Json().at("items").as_array().empty());
  EXPECT_FALSE(r.Json().at("has_more").as_bool());
  // And any event of the log, however old, even with a filter on the types.
  r = client_->Get(Events("?since=" + (*ids_)[7] + "&event_type=error_logged&limit=3"), alice_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("items").at(0).at("event_id"), json::value((*ids_)[8]));
}

TEST_F(OldLogTest, AnOldCursorThatIsNoEventIsExpiredWithWhereToStartAgain) {
  core::EventId third = *core::ParseEventId((*ids_)[3]);
  const std::string made_up[] = {
      core::FormatEventId({third.ts_ms, third.seq + 17}),  // between two events of the log
      core::FormatEventId({third.ts_ms - kDayMs, 0}),      // before the log began
      "1000000000000_000000",
  };
  for (const std::string& since : made_up) {
    HttpResult r = client_->Get(Events("?since=" + since), alice_);
    ASSERT_EQ(r.status, 400) << since << ": " << r.body;
    EXPECT_EQ(r.Header("content-type"), "application/problem+json");
    json::value problem = r.Json();
    EXPECT_EQ(problem.at("type"), json::value("urn:vigil:problem:invalid_argument"));
    EXPECT_EQ(problem.at("field"), json::value("since"));
    std::string detail(problem.at("detail").as_string());
    EXPECT_NE(detail.find("cursor expired"), std::string::npos) << detail;
    EXPECT_NE(detail.find("0_000000"), std::string::npos) << "where to start again: " << detail;
  }
  // The start of the log is never expired.
  EXPECT_EQ(client_->Get(Events("?since=0_000000"), alice_).status, 200);
}

TEST_F(OldLogTest, SomeoneElsesInvestigationIs404WhateverTheCursor) {
  Headers bob = BearerJson(TestToken("bob", {"read", "dev"}));
  EXPECT_EQ(client_->Get(Events("?since=" + (*ids_)[3]), bob).status, 404);
  EXPECT_EQ(client_->Get(Events("?since=1000000000000_000000"), bob).status, 404);
}

TEST_F(OldLogTest, SseResumesAfterAnOldEvent) {
  for (int from : {kOldEvents - 5, 10}) {  // in memory; in the store only
    auto s = Stream((*ids_)[from]);
    ASSERT_TRUE(s && s->status() == 200);
    for (int i = from + 1; i <= kOldEvents; ++i) {
      auto f = s->NextEvent();
      ASSERT_TRUE(f) << "after " << from;
      ASSERT_NE(f->event, "reset") << f->data;
      EXPECT_EQ(f->event, "error_logged");
      ASSERT_TRUE(f->id);
      EXPECT_EQ(*f->id, (*ids_)[i]);
    }
    auto caught_up = s->NextEvent();
    ASSERT_TRUE(caught_up);
    EXPECT_EQ(caught_up->event, "caught_up");
    EXPECT_EQ(json::parse(caught_up->data).at("last_event_id"), json::value(ids_->back()));
  }
}

TEST_F(OldLogTest, SseGivesAnOldIdThatIsNoEventAResetSayingItExpired) {
  core::EventId third = *core::ParseEventId((*ids_)[3]);
  auto s = Stream(core::FormatEventId({third.ts_ms, third.seq + 17}));
  ASSERT_TRUE(s && s->status() == 200);
  auto f = s->NextEvent();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->event, "reset");
  std::string reason(json::parse(f->data).at("reason").as_string());
  EXPECT_NE(reason.find("cursor expired"), std::string::npos) << reason;
  ASSERT_TRUE(f->id);
  EXPECT_EQ(*f->id, ids_->back());
}

TEST_F(OldLogTest, WebSocketResumesAfterAnOldEvent) {
  auto ws = WsClient::Open(server_->port(), "/api/v1/ws", {alice_.front()});
  ASSERT_TRUE(ws);
  ASSERT_TRUE(ws->Send(json::serialize(json::object{
      {"type", "subscribe"}, {"investigation_id", *id_}, {"after", (*ids_)[kOldEvents - 2]}})));
  for (int i = kOldEvents - 1; i <= kOldEvents; ++i) {
    auto text = ws->Receive();
    ASSERT_TRUE(text);
    json::value m = json::parse(*text);
    ASSERT_EQ(m.at("type"), json::value("event")) << *text;
    EXPECT_EQ(m.at("id"), json::value((*ids_)[i]));
  }
  auto text = ws->Receive();
  ASSERT_TRUE(text);
  EXPECT_EQ(json::parse(*text).at("type"), json::value("caught_up")) << *text;
}

}  // namespace
}  // namespace vigil::test
