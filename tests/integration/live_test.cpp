// Live delivery end to end: a real `vigil serve`, real sockets, SSE and WebSocket clients.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/api_calls.hpp"
#include "support/http_client.hpp"
#include "support/sse_client.hpp"
#include "support/vigil_process.hpp"
#include "support/ws_client.hpp"

namespace vigil::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// A server with its clients' helpers.
class Live {
 public:
  using Env = std::vector<std::pair<std::string, std::string>>;
  explicit Live(Env env = {}) {
    dir_ = MakeTempDir();
    VigilOptions options;
    options.db_path = dir_ + "/vigil.db";
    options.env = std::move(env);
    server_ = VigilProcess::Start(options);
    alice_ = BearerJson(TestToken("alice", {"read", "dev"}));
    bob_ = BearerJson(TestToken("bob", {"read", "dev"}));
    admin_ = BearerJson(TestToken("root", {"admin"}));
  }

  uint16_t port() const { return server_->port(); }
  bool ok() const { return server_ != nullptr; }

  std::string Create(const Headers& who) {
    HttpClient c("127.0.0.1", port());
    return CreateInvestigation(c, who, "live test");
  }

  // Reports `n` error_logged events in batches of `batch`; returns their ids.
  std::vector<std::string> Report(HttpClient& c, const std::string& id, int n, int batch = 100,
                                  size_t pad = 0) {
    return ReportErrors(c, id, alice_, 0, n, batch, "", pad);
  }

  // The whole log, as /events items.
  std::vector<json::value> Log(const std::string& id) {
    HttpClient c("127.0.0.1", port());
    return ReadLog(c, id, alice_);
  }

  std::unique_ptr<SseClient> Stream(const std::string& id, const Headers& who,
                                    std::optional<std::string> last_event_id = std::nullopt,
                                    std::string query = "", int receive_buffer = 0) {
    SseClient::Options o;
    o.headers = {who.front()};
    if (last_event_id) o.headers.emplace_back("Last-Event-ID", *last_event_id);
    o.receive_buffer = receive_buffer;
    return SseClient::Open(port(), "/api/v1/investigations/" + id + "/runs/current/stream" + query,
                           o);
  }

  // A counter or gauge from /metrics; -1 when absent.
  int64_t Metric(const std::string& name) {
    HttpClient c("127.0.0.1", port());
    HttpResult r = c.Get("/metrics", admin_);
    size_t at = r.body.find("\n" + name + " ");
    if (at == std::string::npos) return -1;
    return std::atoll(r.body.c_str() + at + name.size() + 2);
  }

  // Waits until `pred` holds (checked every few ms) or the deadline passes.
  template <typename Pred>
  static bool WaitFor(Pred pred, std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(5ms);
    }
    return pred();
  }

  Headers alice_, bob_, admin_;

 private:
  std::string dir_;
  std::unique_ptr<VigilProcess> server_;
};

class LiveTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    live_ = new Live(
        Live::Env{{"SSE_HEARTBEAT_INTERVAL_SECONDS", "1"}, {"SSE_PROGRESS_INTERVAL_MS", "100"}});
  }
  static void TearDownTestSuite() {
    delete live_;
    live_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(live_->ok()); }
  static Live* live_;
};
Live* LiveTest::live_ = nullptr;

// Reads domain events (frames with an id) until `n` have come; returns them.
std::vector<SseFrame> ReadEvents(SseClient& s, size_t n, std::chrono::milliseconds each = 10s) {
  std::vector<SseFrame> out;
  while (out.size() < n) {
    auto f = s.NextEvent(each);
    if (!f) break;
    if (f->id && f->event != "snapshot" && f->event != "reset") out.push_back(*f);
  }
  return out;
}

// The next frame named `event`, skipping others, within 5 s.
std::optional<SseFrame> NextNamed(SseClient& s, const std::string& event) {
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto f = s.Next(std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now()));
    if (!f || f->event == event) return f;
  }
  return std::nullopt;
}

void ExpectSameAsLog(const std::vector<SseFrame>& frames, const std::vector<json::value>& log,
                     size_t from = 0) {
  ASSERT_EQ(frames.size(), log.size() - from);
  for (size_t i = 0; i < frames.size(); ++i) {
    json::value got = json::parse(frames[i].data);
    EXPECT_EQ(got, log[from + i]) << "frame " << i;
    EXPECT_EQ(*frames[i].id, log[from + i].at("event_id").as_string());
    EXPECT_EQ(frames[i].event, log[from + i].at("event_type").as_string());
  }
}

TEST_F(LiveTest, FreshStreamStartsWithASnapshotThenGoesLive) {
  std::string id = live_->Create(live_->alice_);
  auto s = live_->Stream(id, live_->alice_);
  ASSERT_TRUE(s);
  ASSERT_EQ(s->status(), 200) << s->body();
  EXPECT_EQ(s->Header("content-type"), "text/event-stream; charset=utf-8");
  EXPECT_EQ(s->Header("cache-control"), "no-cache");
  EXPECT_EQ(s->Header("x-accel-buffering"), "no");
  EXPECT_EQ(s->Header("content-length"), "");

  auto retry = s->Next();
  ASSERT_TRUE(retry && retry->retry) << "the first frame is a retry: hint";
  EXPECT_GE(*retry->retry, 2000);
  EXPECT_LE(*retry->retry, 4000);

  auto snapshot = s->NextEvent();
  ASSERT_TRUE(snapshot);
  EXPECT_EQ(snapshot->event, "snapshot");
  json::value progress = json::parse(snapshot->data);
  EXPECT_EQ(progress.at("investigation_id").as_string(), id);
  ASSERT_TRUE(snapshot->id);
  EXPECT_EQ(*snapshot->id, progress.at("last_event_id").as_string());

  HttpClient c("127.0.0.1", live_->port());
  live_->Report(c, id, 25, 5);
  std::vector<SseFrame> frames = ReadEvents(*s, 25);
  std::vector<json::value> log = live_->Log(id);
  ExpectSameAsLog(frames, log, 1);  // everything after investigation_created, in order

  // A coalesced progress follows the changes, without an id.
  std::optional<SseFrame> f = NextNamed(*s, "progress");
  ASSERT_TRUE(f) << "no progress event";
  EXPECT_FALSE(f->id);
  EXPECT_EQ(json::parse(f->data).at("investigation_id").as_string(), id);
}

TEST_F(LiveTest, ResumeReplaysFromTheLogThenCatchesUp) {
  std::string id = live_->Create(live_->alice_);
  HttpClient c("127.0.0.1", live_->port());
  std::vector<std::string> ids = live_->Report(c, id, 40, 10);
  std::vector<json::value> log = live_->Log(id);

  // Header form: after the 10th reported event.
  auto s = live_->Stream(id, live_->alice_, ids[9]);
  ASSERT_TRUE(s && s->status() == 200);
  std::vector<SseFrame> replay = ReadEvents(*s, 30);
  ExpectSameAsLog(replay, log, 11);
  auto caught_up = s->NextEvent();
  ASSERT_TRUE(caught_up);
  EXPECT_EQ(caught_up->event, "caught_up");
  EXPECT_FALSE(caught_up->id);
  EXPECT_EQ(json::parse(caught_up->data).at("last_event_id").as_string(), ids.back());
  // Then live.
  live_->Report(c, id, 3, 3);
  std::vector<SseFrame> more = ReadEvents(*s, 3);
  ExpectSameAsLog(more, live_->Log(id), 41);

  // Query form, from the very start.
  auto all = SseClient::Open(
      live_->port(), "/api/v1/investigations/" + id + "/runs/current/stream?last_event_id=0_000000",
      {.headers = {live_->alice_.front()}});
  ASSERT_TRUE(all && all->status() == 200);
  ExpectSameAsLog(ReadEvents(*all, 44), live_->Log(id));

  // The header wins over the query (what a browser sends when it reconnects).
  auto both = SseClient::Open(
      live_->port(), "/api/v1/investigations/" + id + "/runs/current/stream?last_event_id=0_000000",
      {.headers = {live_->alice_.front(), {"Last-Event-ID", ids[38]}}});
  ASSERT_TRUE(both && both->status() == 200);
  std::vector<SseFrame> tail = ReadEvents(*both, 4);
  ASSERT_EQ(tail.size(), 4u);
  EXPECT_EQ(*tail[0].id, ids[39]);
}

TEST_F(LiveTest, AnUnusableResumeIdGetsAResetWithAFreshSnapshot) {
  std::string id = live_->Create(live_->alice_);
  std::string other = live_->Create(live_->alice_);
  HttpClient c("127.0.0.1", live_->port());
  std::vector<std::string> ids = live_->Report(c, id, 5, 5);
  // More events than this one's: ids with a higher sequence exist in the other log only.
  std::vector<std::string> other_ids = live_->Report(c, other, 8, 8);
  // Ids are per investigation: the same id can be in both logs when both were written in the
  // same millisecond. Take one of the other's that is not also one of this one's.
  std::string others;
  for (const std::string& o : other_ids) {
    if (std::find(ids.begin(), ids.end(), o) == ids.end()) others = o;
  }
  ASSERT_FALSE(others.empty());
  const std::string bad[] = {"garbage", "1_1", others, "99999999999999_000000",
                             "1000_000000"};  // malformed, other's, ahead, expired
  for (const std::string& resume : bad) {
    auto s = live_->Stream(id, live_->alice_, resume);
    ASSERT_TRUE(s && s->status() == 200) << resume;
    auto f = s->NextEvent();
    ASSERT_TRUE(f) << resume;
    EXPECT_EQ(f->event, "reset") << resume;
    json::value data = json::parse(f->data);
    EXPECT_FALSE(data.at("reason").as_string().empty());
    EXPECT_EQ(data.at("progress").at("last_event_id").as_string(), ids.back()) << resume;
    ASSERT_TRUE(f->id);
    EXPECT_EQ(*f->id, ids.back()) << "a reset moves the resume point to its snapshot";
    // And live from there, without a gap.
    std::vector<std::string> next = live_->Report(c, id, 1, 1);
    std::vector<SseFrame> frames = ReadEvents(*s, 1);
    ASSERT_EQ(frames.size(), 1u) << resume;
    EXPECT_EQ(*frames[0].id, next[0]);
    ids.push_back(next[0]);
  }
}

// Disconnects at random points while a producer reports: the concatenation of everything
// received equals the log, exactly.
TEST_F(LiveTest, RandomDisconnectsUnderLoadLoseAndRepeatNothing) {
  for (int round = 0; round < 5; ++round) {
    std::string id = live_->Create(live_->alice_);
    std::atomic<bool> done{false};
    const int total = 400;
    std::thread producer([&] {
      HttpClient c("127.0.0.1", live_->port());
      std::mt19937 rng(round);
      for (int sent = 0; sent < total;) {
        int batch = std::min(total - sent, 1 + static_cast<int>(rng() % 4));
        live_->Report(c, id, batch, batch);
        sent += batch;
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 2000));  // a pace, not a sync
      }
      done = true;
    });
    std::mt19937 rng(1000 + round);
    std::vector<SseFrame> got;
    std::string last = "0_000000";
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done && got.size() == static_cast<size_t>(total) + 1) break;
      auto s = live_->Stream(id, live_->alice_, last);
      ASSERT_TRUE(s && s->status() == 200);
      size_t want = 1 + rng() % 30;
      for (size_t n = 0; n < want;) {
        auto f = s->NextEvent(done ? 2s : 10s);
        if (!f) break;
        if (f->event == "caught_up" && done && got.size() == static_cast<size_t>(total) + 1) break;
        if (!f->id || f->event == "snapshot" || f->event == "reset") {
          ASSERT_NE(f->event, "reset") << "a valid resume id must never be reset";
          continue;
        }
        got.push_back(*f);
        last = *f->id;
        ++n;
      }
    }
    producer.join();
    std::vector<json::value> log = live_->Log(id);
    ASSERT_EQ(log.size(), static_cast<size_t>(total) + 1);
    ExpectSameAsLog(got, log);
  }
}

TEST_F(LiveTest, HeartbeatsKeepAQuietStreamAliveWithoutAnId) {
  std::string id = live_->Create(live_->alice_);
  auto s = live_->Stream(id, live_->alice_);
  ASSERT_TRUE(s && s->status() == 200);
  std::optional<SseFrame> f = NextNamed(*s, "heartbeat");
  ASSERT_TRUE(f) << "no heartbeat within 5 s (interval: 1 s)";
  EXPECT_FALSE(f->id);
  EXPECT_TRUE(json::parse(f->data).as_object().contains("timestamp"));
}

TEST_F(LiveTest, ATerminalStateEndsTheStream) {
  std::string id = live_->Create(live_->alice_);
  auto s = live_->Stream(id, live_->alice_);
  ASSERT_TRUE(s && s->status() == 200);
  ASSERT_TRUE(s->NextEvent());  // snapshot
  HttpClient c("127.0.0.1", live_->port());
  HttpResult r =
      c.Post("/api/v1/investigations/" + id + "/cancel", R"({"reason":"done"})", live_->alice_);
  ASSERT_EQ(r.status, 200) << r.body;
  std::vector<std::string> seen;
  std::optional<SseFrame> f;
  while ((f = s->Next(10s))) {
    if (f->event.empty() || f->event == "heartbeat") continue;
    seen.push_back(f->event);
    if (f->event == "status_change") {
      EXPECT_EQ(json::parse(f->data).at("data").at("to").as_string(), "cancelled");
    }
    if (f->event == "end") {
      json::value data = json::parse(f->data);
      EXPECT_EQ(data.at("reason").as_string(), "cancelled");
      EXPECT_EQ(data.at("status").as_string(), "cancelled");
    }
  }
  EXPECT_TRUE(s->closed()) << "the server closes after end";
  ASSERT_GE(seen.size(), 3u);
  EXPECT_EQ(seen[seen.size() - 3], "status_change");
  EXPECT_EQ(seen[seen.size() - 2], "progress");
  EXPECT_EQ(seen.back(), "end");

  // Following a finished investigation: its snapshot, then end at once.
  auto again = live_->Stream(id, live_->alice_);
  ASSERT_TRUE(again && again->status() == 200);
  EXPECT_EQ(again->NextEvent()->event, "snapshot");
  EXPECT_EQ(again->NextEvent()->event, "end");
  EXPECT_FALSE(again->Next(5s));
  EXPECT_TRUE(again->closed());
}

TEST_F(LiveTest, OthersAndUnknownsGet404BeforeAnyStream) {
  std::string id = live_->Create(live_->alice_);
  auto theirs = live_->Stream(id, live_->bob_);
  auto unknown = live_->Stream("inv_000000000000000000000000", live_->alice_);
  ASSERT_TRUE(theirs && unknown);
  EXPECT_EQ(theirs->status(), 404);
  EXPECT_EQ(theirs->Header("content-type"), "application/problem+json");
  EXPECT_EQ(unknown->status(), 404);
  // The same answer as for an id that does not exist, apart from the id and request id.
  json::object a = json::parse(theirs->body()).as_object();
  json::object b = json::parse(unknown->body()).as_object();
  EXPECT_EQ(a.at("type"), b.at("type"));
  EXPECT_EQ(a.at("title"), b.at("title"));

  auto run =
      SseClient::Open(live_->port(), "/api/v1/investigations/" + id + "/runs/run_nope/stream",
                      {.headers = {live_->alice_.front()}});
  ASSERT_TRUE(run);
  EXPECT_EQ(run->status(), 404);
  auto anonymous =
      SseClient::Open(live_->port(), "/api/v1/investigations/" + id + "/runs/current/stream", {});
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status(), 401);
  auto bad = live_->Stream(id, live_->alice_, std::nullopt, "?progress=maybe");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status(), 400);
}

TEST_F(LiveTest, MetricsCountOpenStreams) {
  std::string id = live_->Create(live_->alice_);
  int64_t before = live_->Metric("vigil_sse_streams_open");
  {
    auto s = live_->Stream(id, live_->alice_);
    ASSERT_TRUE(s && s->status() == 200);
    ASSERT_TRUE(s->NextEvent());
    EXPECT_TRUE(
        Live::WaitFor([&] { return live_->Metric("vigil_sse_streams_open") == before + 1; }));
  }
  EXPECT_TRUE(Live::WaitFor([&] { return live_->Metric("vigil_sse_streams_open") == before; }))
      << "a client that goes away is noticed and its stream closed";
  EXPECT_GT(live_->Metric("vigil_sse_streams_total"), 0);
  // A HEAD of the stream answers its head and ends: it never was an open stream.
  HttpClient head_client("127.0.0.1", live_->port());
  HttpResult head = head_client.Request(
      "HEAD", "/api/v1/investigations/" + id + "/runs/current/stream", "", {live_->alice_.front()});
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(Live::WaitFor([&] { return live_->Metric("vigil_sse_streams_open") == before; }));
  HttpClient c("127.0.0.1", live_->port());
  HttpResult r = c.Get("/metrics", live_->admin_);
  EXPECT_NE(r.body.find("vigil_live_delivery_seconds_bucket{le=\"0.05\"}"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Limits, duration and slow readers: a server with small settings.

TEST(LiveLimitsTest, StreamsEndAtTheirMaximumDurationWithAReconnectEvent) {
  Live live(Live::Env{{"SSE_MAX_DURATION_SECONDS", "1"}});
  ASSERT_TRUE(live.ok());
  std::string id = live.Create(live.alice_);
  auto s = live.Stream(id, live.alice_);
  ASSERT_TRUE(s && s->status() == 200);
  std::optional<SseFrame> f, last;
  while ((f = s->Next(10s))) last = f;
  ASSERT_TRUE(last);
  EXPECT_EQ(last->event, "reconnect");
  EXPECT_FALSE(last->id);
  json::value data = json::parse(last->data);
  EXPECT_EQ(data.at("reason").as_string(), "max_duration");
  EXPECT_TRUE(s->closed());
}

TEST(LiveLimitsTest, StreamsPerUserAreLimited) {
  Live live(Live::Env{{"LIVE_MAX_STREAMS_PER_USER", "2"}});
  ASSERT_TRUE(live.ok());
  std::string id = live.Create(live.alice_);
  auto a = live.Stream(id, live.alice_);
  auto b = live.Stream(id, live.alice_);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->status(), 200);
  EXPECT_EQ(b->status(), 200);
  auto c = live.Stream(id, live.alice_);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->status(), 503);
  EXPECT_EQ(c->Header("retry-after"), "5");
  EXPECT_EQ(c->Header("content-type"), "application/problem+json");
  a.reset();  // one closes: room again
  EXPECT_TRUE(Live::WaitFor([&] {
    auto d = live.Stream(id, live.alice_);
    return d && d->status() == 200;
  }));
}

TEST(LiveLimitsTest, ASlowReaderIsCutAndResumesWithoutLossWhileAFastOneKeepsUp) {
  // A queue deep enough that a reader that keeps reading is never cut, even on a busy machine,
  // and far shorter than the log, so that one that does not read at all surely is. The write
  // timeout is long, so that on a machine slow enough for the report to take longer than the
  // default 30 s, the slow reader is still cut by its queue (with a reconnect frame), not
  // dropped for a stalled write.
  Live live(Live::Env{{"LIVE_QUEUE_MAX_EVENTS", "256"}, {"STREAM_WRITE_TIMEOUT_SECONDS", "300"}});
  ASSERT_TRUE(live.ok());
  std::string id = live.Create(live.alice_);
  const int total = 3000;
  const size_t pad = 4000;  // 12 MB in all: far more than the socket buffers hold
  auto slow = live.Stream(id, live.alice_, "0_000000", "", /*receive_buffer=*/4096);
  auto fast = live.Stream(id, live.alice_, "0_000000");
  ASSERT_TRUE(slow && fast && slow->status() == 200 && fast->status() == 200);
  std::vector<SseFrame> fast_got;
  bool fast_cut = false;
  std::thread reader([&] {
    while (fast_got.size() < static_cast<size_t>(total) + 1) {
      auto f = fast->NextEvent(30s);
      if (!f) break;
      if (f->event == "reconnect") fast_cut = true;
      if (f->id && f->event != "snapshot") fast_got.push_back(*f);
    }
  });
  HttpClient c("127.0.0.1", live.port());
  live.Report(c, id, total, 20, pad);
  reader.join();
  EXPECT_FALSE(fast_cut);
  std::vector<json::value> log = live.Log(id);
  ExpectSameAsLog(fast_got, log);
  EXPECT_GE(live.Metric("vigil_live_slow_subscribers_cut_total"), 1);

  // The slow reader now reads: what was written before the cut, then reconnect, then the end.
  std::vector<SseFrame> slow_got;
  std::optional<SseFrame> f, last;
  while ((f = slow->NextEvent(30s))) {
    last = f;
    if (f->id) slow_got.push_back(*f);
  }
  ASSERT_TRUE(last);
  EXPECT_EQ(last->event, "reconnect");
  EXPECT_EQ(json::parse(last->data).at("code").as_string(), "slow_consumer");
  ASSERT_LT(slow_got.size(), log.size());
  // It resumes from its last event and completes the log without loss.
  auto resumed = live.Stream(id, live.alice_, *slow_got.back().id);
  ASSERT_TRUE(resumed && resumed->status() == 200);
  std::vector<SseFrame> rest = ReadEvents(*resumed, log.size() - slow_got.size(), 30s);
  slow_got.insert(slow_got.end(), rest.begin(), rest.end());
  ExpectSameAsLog(slow_got, log);
}

// ---------------------------------------------------------------------------------------------
// WebSocket.

std::vector<std::pair<std::string, std::string>> WsAuth(const Headers& who) {
  return {who.front()};
}

json::object Receive(WsClient& ws, std::chrono::milliseconds timeout = 10s) {
  auto text = ws.Receive(timeout);
  if (!text) {
    ADD_FAILURE() << "no WebSocket message";
    return {};
  }
  return json::parse(*text).as_object();
}

// The next message that is not a progress.
json::object ReceiveNotProgress(WsClient& ws) {
  for (;;) {
    json::object m = Receive(ws);
    if (m.empty() || m.at("type") != "progress") return m;
  }
}

TEST_F(LiveTest, WebSocketSubscribesResumesAndUnsubscribes) {
  std::string a = live_->Create(live_->alice_);
  std::string b = live_->Create(live_->alice_);
  HttpClient c("127.0.0.1", live_->port());
  std::vector<std::string> a_ids = live_->Report(c, a, 10, 10);

  auto ws = WsClient::Open(live_->port(), "/api/v1/ws", WsAuth(live_->alice_));
  ASSERT_TRUE(ws);
  // a: resume after its 5th event; b: fresh.
  ASSERT_TRUE(ws->Send(json::serialize(
      json::object{{"type", "subscribe"}, {"investigation_id", a}, {"after", a_ids[4]}})));
  for (int i = 5; i < 10; ++i) {
    json::object m = Receive(*ws);
    EXPECT_EQ(m.at("type"), "event");
    EXPECT_EQ(m.at("investigation_id"), json::value(a));
    EXPECT_EQ(m.at("id"), json::value(a_ids[i]));
    EXPECT_EQ(m.at("data").at("event_id"), json::value(a_ids[i]));
  }
  json::object caught_up = Receive(*ws);
  EXPECT_EQ(caught_up.at("type"), "caught_up");
  EXPECT_EQ(caught_up.at("data").at("last_event_id"), json::value(a_ids.back()));
  EXPECT_EQ(Receive(*ws).at("type"), "progress");

  ASSERT_TRUE(ws->Send(json::serialize(
      json::object{{"type", "subscribe"}, {"investigation_id", b}, {"after", nullptr}})));
  json::object snapshot = ReceiveNotProgress(*ws);
  EXPECT_EQ(snapshot.at("type"), "snapshot");
  EXPECT_EQ(snapshot.at("investigation_id"), json::value(b));
  EXPECT_EQ(snapshot.at("data").at("investigation_id"), json::value(b));

  // Live on both, over the one socket.
  std::string next_a = live_->Report(c, a, 1, 1)[0];
  json::object m = ReceiveNotProgress(*ws);
  EXPECT_EQ(m.at("type"), "event");
  EXPECT_EQ(m.at("id"), json::value(next_a));
  std::string next_b = live_->Report(c, b, 1, 1)[0];
  m = ReceiveNotProgress(*ws);
  EXPECT_EQ(m.at("investigation_id"), json::value(b));
  EXPECT_EQ(m.at("id"), json::value(next_b));

  // Unsubscribed from a: only b's events come.
  ASSERT_TRUE(ws->Send(R"({"type":"unsubscribe","investigation_id":")" + a + "\"}"));
  EXPECT_EQ(ReceiveNotProgress(*ws).at("type"), "unsubscribed");
  live_->Report(c, a, 1, 1);
  std::string last_b = live_->Report(c, b, 1, 1)[0];
  m = ReceiveNotProgress(*ws);
  EXPECT_EQ(m.at("investigation_id"), json::value(b));
  EXPECT_EQ(m.at("id"), json::value(last_b));

  ASSERT_TRUE(ws->Send(R"({"type":"ping"})"));
  EXPECT_EQ(ReceiveNotProgress(*ws).at("type"), "pong");
}

TEST_F(LiveTest, WebSocketKeepsOthersInvestigationsHiddenAndTheSocketOpen) {
  std::string theirs = live_->Create(live_->alice_);
  auto ws = WsClient::Open(live_->port(), "/api/v1/ws", WsAuth(live_->bob_));
  ASSERT_TRUE(ws);
  ASSERT_TRUE(ws->Send(R"({"type":"subscribe","investigation_id":")" + theirs + "\"}"));
  json::object hidden = Receive(*ws);
  ASSERT_TRUE(
      ws->Send(R"({"type":"subscribe","investigation_id":"inv_000000000000000000000000"})"));
  json::object missing = Receive(*ws);
  EXPECT_EQ(hidden.at("type"), "error");
  EXPECT_EQ(hidden.at("data").at("code"), "not_found");
  EXPECT_EQ(missing.at("data").at("code"), "not_found");
  // The socket stays open and usable.
  ASSERT_TRUE(ws->Send(R"({"type":"ping"})"));
  EXPECT_EQ(Receive(*ws).at("type"), "pong");

  // Bad messages are answered with the field at fault.
  ASSERT_TRUE(ws->Send("not json"));
  EXPECT_EQ(Receive(*ws).at("data").at("code"), "invalid_argument");
  ASSERT_TRUE(ws->Send(R"({"type":"dance"})"));
  EXPECT_EQ(Receive(*ws).at("data").at("field"), "type");
  ASSERT_TRUE(ws->Send(R"({"type":"subscribe"})"));
  EXPECT_EQ(Receive(*ws).at("data").at("field"), "investigation_id");
  ASSERT_TRUE(ws->Send(R"({"type":"subscribe","investigation_id":"x","after":5})"));
  EXPECT_EQ(Receive(*ws).at("data").at("field"), "after");

  // Without a token there is no socket.
  int status = 0;
  EXPECT_FALSE(WsClient::Open(live_->port(), "/api/v1/ws", {}, &status));
  EXPECT_EQ(status, 401);
}

}  // namespace
}  // namespace vigil::test
