// Several real `vigil serve` nodes on one PostgreSQL database of the test server
// (tests/CMakeLists.txt): what one node commits reaches the subscribers of the others, writers on
// every node append to one dense log, a subscriber of a killed node resumes on another, and a
// node whose listener the server ends resynchronizes. Every wait has a deadline.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/api_calls.hpp"
#include "support/http_client.hpp"
#include "support/postgres/test_database.hpp"
#include "support/sse_client.hpp"
#include "support/vigil_process.hpp"
#include "support/ws_client.hpp"

namespace vigil::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Three nodes (or as many as asked) on one new database.
class Nodes {
 public:
  // `extra_args` for every node, e.g. a head check far apart, so that only hints can deliver in
  // time.
  explicit Nodes(int count, std::vector<std::string> extra_args = {}) {
    options_.db_path = MakePostgresDatabase(
        "vigil_nodes_" + std::filesystem::path(MakeTempDir()).filename().string());
    if (options_.db_path.empty()) return;
    options_.extra_args = std::move(extra_args);
    for (int i = 0; i < count; ++i) {
      auto node = VigilProcess::Start(options_);
      if (!node) return;
      nodes_.push_back(std::move(node));
    }
  }
  bool ok(int count) const { return static_cast<int>(nodes_.size()) == count; }
  VigilProcess& operator[](size_t i) { return *nodes_[i]; }
  uint16_t port(size_t i) const { return nodes_[i]->port(); }
  const std::string& db() const { return options_.db_path; }

 private:
  VigilOptions options_;
  std::vector<std::unique_ptr<VigilProcess>> nodes_;
};

const Headers& Alice() {
  static const Headers alice = BearerJson(TestToken("alice", {"read", "dev"}));
  return alice;
}

std::unique_ptr<SseClient> Stream(uint16_t port, const std::string& id,
                                  std::optional<std::string> last_event_id = std::nullopt) {
  SseClient::Options o;
  o.headers = {Alice().front()};
  if (last_event_id) o.headers.emplace_back("Last-Event-ID", *last_event_id);
  return SseClient::Open(port, "/api/v1/investigations/" + id + "/runs/current/stream", o);
}

// The ids of the next events of `stream` until `want` came or the deadline passed.
std::vector<std::string> Ids(SseClient& stream, size_t want, Clock::time_point deadline) {
  std::vector<std::string> ids;
  while (ids.size() < want && Clock::now() < deadline) {
    auto frame = stream.NextEvent(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
    if (!frame) break;
    if (frame->id && frame->event != "snapshot") ids.push_back(*frame->id);
  }
  return ids;
}

// The next WebSocket message that is not a progress, or an empty object at the deadline.
json::object NextWsEvent(WsClient& ws, Clock::time_point deadline) {
  while (Clock::now() < deadline) {
    auto text =
        ws.Receive(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
    if (!text) return {};
    json::object m = json::parse(*text).as_object();
    if (m.at("type") != "progress") return m;
  }
  return {};
}

std::string Etag(uint16_t port, const std::string& id) {
  HttpClient c("127.0.0.1", port);
  HttpResult r = c.Get("/api/v1/investigations/" + id + "/progress", Alice());
  return r.status == 200 ? r.Header("etag") : "status " + std::to_string(r.status);
}

// An event id's place in the cursor order: (timestamp, sequence).
std::pair<int64_t, int64_t> Order(const std::string& id) {
  const size_t underscore = id.find('_');
  return {std::stoll(id.substr(0, underscore)), std::stoll(id.substr(underscore + 1))};
}

int64_t Percentile(std::vector<int64_t> values, double p) {
  if (values.empty()) return -1;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(p * values.size()))];
}

// A report on node A reaches an SSE subscriber on node B and a WebSocket subscriber on node C,
// by hints alone (the head check is a minute apart), and every node's /progress moves with it.
// Prints the delay from sending the report to A to reading the event on B.
TEST(NodesPostgresTest, AReportOnOneNodeReachesSubscribersOnTheOthers) {
  Nodes nodes(3, {"--head-check-interval-ms", "60000"});
  ASSERT_TRUE(nodes.ok(3));
  HttpClient a("127.0.0.1", nodes.port(0));
  const std::string id = CreateInvestigation(a, Alice(), "across nodes");
  ASSERT_FALSE(id.empty());

  auto sse = Stream(nodes.port(1), id);
  ASSERT_NE(sse, nullptr);
  ASSERT_EQ(sse->status(), 200);
  auto ws = WsClient::Open(nodes.port(2), "/api/v1/ws", {Alice().front()});
  ASSERT_NE(ws, nullptr);
  ASSERT_TRUE(ws->Send(json::serialize(
      json::object{{"type", "subscribe"}, {"investigation_id", id}, {"after", nullptr}})));
  json::object snapshot = NextWsEvent(*ws, Clock::now() + 10s);
  ASSERT_EQ(snapshot["type"], "snapshot");
  // The SSE stream opens with the investigation as it is (a snapshot) once it is in memory on B.
  auto first = sse->Next(10s);
  ASSERT_TRUE(first.has_value());

  constexpr int kReports = 40;
  std::vector<int64_t> delays_us, round_trips_us;
  auto us_since = [](Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count();
  };
  for (int n = 1; n <= kReports; ++n) {
    const auto sent = Clock::now();
    std::vector<std::string> reported = ReportErrors(a, id, Alice(), n, 1, 1);
    ASSERT_EQ(reported.size(), 1u);
    round_trips_us.push_back(us_since(sent));
    std::vector<std::string> on_b = Ids(*sse, 1, Clock::now() + 10s);
    delays_us.push_back(us_since(sent));
    ASSERT_EQ(on_b, reported) << "event " << n << " on B";
    json::object on_c = NextWsEvent(*ws, Clock::now() + 10s);
    ASSERT_EQ(on_c["type"], "event") << json::serialize(on_c);
    EXPECT_EQ(on_c["id"], json::value(reported[0])) << "event " << n << " on C";
  }
  std::printf(
      "cross-node delivery (report sent to A -> SSE frame read on B), %d reports one "
      "at a time: p50 %lld us, p90 %lld us, max %lld us; the report's own round trip on "
      "A: p50 %lld us\n",
      kReports, static_cast<long long>(Percentile(delays_us, 0.5)),
      static_cast<long long>(Percentile(delays_us, 0.9)),
      static_cast<long long>(Percentile(delays_us, 1.0)),
      static_cast<long long>(Percentile(round_trips_us, 0.5)));
  // Far below the head check's minute: the hints delivered.
  EXPECT_LT(Percentile(delays_us, 1.0), 5'000'000);
  const std::string etag = Etag(nodes.port(0), id);
  EXPECT_EQ(Etag(nodes.port(1), id), etag);
  EXPECT_EQ(Etag(nodes.port(2), id), etag);
  // And /events on B answers from the same log.
  HttpClient b("127.0.0.1", nodes.port(1));
  EXPECT_EQ(ReadLog(b, id, Alice()), ReadLog(a, id, Alice()));
  // B counted the hints it received and the lag of what it caught up with, and says which it is.
  HttpResult metrics = b.Get("/metrics", BearerJson(TestToken("root", {"admin"})));
  ASSERT_EQ(metrics.status, 200);
  auto value = [&metrics](const std::string& name) {
    const size_t at = metrics.body.find("\n" + name + " ");
    return at == std::string::npos
               ? -1.0
               : std::stod(metrics.body.substr(
                     at + name.size() + 2, metrics.body.find('\n', at + 1) - at - name.size() - 2));
  };
  const double caught_up = value("vigil_cross_node_lag_seconds_count");
  EXPECT_GE(caught_up, kReports);
  EXPECT_GE(value("vigil_bridge_hints_total"), kReports);
  std::printf(
      "cross-node lag on B (event id time -> published on B): mean %.2f ms over %.0f events\n",
      1000 * value("vigil_cross_node_lag_seconds_sum") / caught_up, caught_up);
  const size_t label = metrics.body.find("vigil_node_info{node_id=\"");
  ASSERT_NE(label, std::string::npos);
  const size_t from = label + std::string("vigil_node_info{node_id=\"").size();
  const std::string node_b = metrics.body.substr(from, metrics.body.find('"', from) - from);
  EXPECT_FALSE(node_b.empty());
  EXPECT_NE(nodes[1].ReadLog().find("[app] " + node_b + " vigil listening"), std::string::npos)
      << "every log line names the node";
}

// Eight writers spread over three nodes append to one investigation at once: the log is one
// dense sequence, ids strictly increasing, every acknowledged event in it exactly once; a batch
// retried on another node with the same keys is appended once.
TEST(NodesPostgresTest, EightWritersOnThreeNodesAppendOneDenseLog) {
  Nodes nodes(3);
  ASSERT_TRUE(nodes.ok(3));
  HttpClient a("127.0.0.1", nodes.port(0));
  const std::string id = CreateInvestigation(a, Alice(), "eight writers");
  ASSERT_FALSE(id.empty());

  constexpr int kWriters = 8, kBatches = 15, kBatch = 3;
  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      HttpClient client("127.0.0.1", nodes.port(static_cast<size_t>(w % 3)));
      std::vector<std::string> ids = ReportErrors(client, id, Alice(), w * 1000, kBatches * kBatch,
                                                  kBatch, "writer-" + std::to_string(w));
      std::lock_guard lock(mu);
      acknowledged.insert(acknowledged.end(), ids.begin(), ids.end());
    });
  }
  for (std::thread& t : writers) t.join();
  ASSERT_EQ(acknowledged.size(), static_cast<size_t>(kWriters * kBatches * kBatch));

  // A batch with keys, answered on A, sent again to B (as after a timeout): the same ids, once.
  json::array keyed;
  for (int i = 0; i < 3; ++i) {
    json::object e = ErrorLoggedEvent(9000 + i);
    e["key"] = "retried-" + std::to_string(i);
    keyed.push_back(e);
  }
  const std::string body = json::serialize(json::object{{"events", keyed}});
  HttpResult first = a.Post("/api/v1/investigations/" + id + "/events", body, Alice());
  ASSERT_EQ(first.status, 200) << first.body;
  HttpClient b("127.0.0.1", nodes.port(1));
  HttpResult again = b.Post("/api/v1/investigations/" + id + "/events", body, Alice());
  ASSERT_EQ(again.status, 200) << again.body;
  const json::value first_items = first.Json().at("events");
  const json::value again_items = again.Json().at("events");
  ASSERT_EQ(again_items.as_array().size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(again_items.at(i).at("event_id"), first_items.at(i).at("event_id"));
    EXPECT_EQ(again_items.at(i).at("duplicate"), json::value(true));
    acknowledged.emplace_back(first_items.at(i).at("event_id").as_string());
  }

  const size_t total = acknowledged.size() + 1;  // and the creation
  for (size_t node = 0; node < 3; ++node) {
    SCOPED_TRACE("node " + std::to_string(node));
    HttpClient c("127.0.0.1", nodes.port(node));
    // The last writes were answered by other nodes: this one has them within milliseconds (the
    // cross-node guarantee), not necessarily at once.
    std::vector<json::value> log = ReadLog(c, id, Alice());
    for (const auto deadline = Clock::now() + 10s; log.size() < total && Clock::now() < deadline;) {
      std::this_thread::sleep_for(10ms);
      log = ReadLog(c, id, Alice());
    }
    ASSERT_EQ(log.size(), total);
    std::vector<std::string> ids;
    for (const json::value& item : log) ids.emplace_back(item.at("event_id").as_string());
    for (size_t i = 1; i < ids.size(); ++i) {
      ASSERT_LT(Order(ids[i - 1]), Order(ids[i])) << ids[i - 1] << " then " << ids[i];
    }
    std::multiset<std::string> in_log(ids.begin(), ids.end());
    for (const std::string& acked : acknowledged) EXPECT_EQ(in_log.count(acked), 1u) << acked;
    // Dense versions: the snapshot of every node reaches the count of events, in time.
    const auto deadline = Clock::now() + 10s;
    int64_t version = 0;
    while (Clock::now() < deadline) {
      HttpResult p = c.Get("/api/v1/investigations/" + id + "/progress", Alice());
      ASSERT_EQ(p.status, 200);
      version = p.Json().at("version").as_int64();
      if (version == static_cast<int64_t>(total)) break;
    }
    EXPECT_EQ(version, static_cast<int64_t>(total));
  }
}

// A node with a live SSE subscriber is killed (-9): the subscriber resumes on another node with
// Last-Event-ID and gets every event once, those committed while it was away included.
TEST(NodesPostgresTest, ASubscriberOfAKilledNodeResumesOnAnotherWithNothingLostOrRepeated) {
  Nodes nodes(3);
  ASSERT_TRUE(nodes.ok(3));
  HttpClient a("127.0.0.1", nodes.port(0));
  const std::string id = CreateInvestigation(a, Alice(), "a node dies");
  ASSERT_FALSE(id.empty());
  auto on_c = Stream(nodes.port(2), id, "0_000000");
  ASSERT_NE(on_c, nullptr);
  ASSERT_EQ(on_c->status(), 200);
  std::vector<std::string> reported = {
      ReadLog(a, id, Alice()).at(0).at("event_id").as_string().c_str()};
  std::vector<std::string> got = Ids(*on_c, 1, Clock::now() + 10s);  // the creation
  for (const std::string& e : ReportErrors(a, id, Alice(), 1, 10, 2)) reported.push_back(e);
  for (const std::string& e : Ids(*on_c, 10, Clock::now() + 10s)) got.push_back(e);
  ASSERT_EQ(got, reported);

  nodes[2].Kill(SIGKILL);
  EXPECT_EQ(nodes[2].Wait(), 128 + SIGKILL);
  // Committed while the subscriber has no node.
  for (const std::string& e : ReportErrors(a, id, Alice(), 11, 10, 5)) reported.push_back(e);
  auto on_b = Stream(nodes.port(1), id, got.back());
  ASSERT_NE(on_b, nullptr);
  ASSERT_EQ(on_b->status(), 200);
  std::thread writer([&] {
    HttpClient c("127.0.0.1", nodes.port(0));
    for (const std::string& e : ReportErrors(c, id, Alice(), 21, 10, 1)) reported.push_back(e);
  });
  std::vector<std::string> resumed = Ids(*on_b, 20, Clock::now() + 20s);
  writer.join();
  got.insert(got.end(), resumed.begin(), resumed.end());
  EXPECT_EQ(got, reported);
}

// The server ends the listener's session of every node while a writer reports on A: B's
// listener connects again and resynchronizes (its head check is a minute apart, so only the
// resync can catch up what was committed while it was gone), and B's subscriber gets every event.
TEST(NodesPostgresTest, ANodeWhoseListenerIsEndedResyncsAndLosesNothing) {
  Nodes nodes(2, {"--head-check-interval-ms", "60000"});
  ASSERT_TRUE(nodes.ok(2));
  HttpClient a("127.0.0.1", nodes.port(0));
  const std::string id = CreateInvestigation(a, Alice(), "the listener is ended");
  ASSERT_FALSE(id.empty());
  auto on_b = Stream(nodes.port(1), id);
  ASSERT_NE(on_b, nullptr);
  ASSERT_EQ(on_b->status(), 200);
  ASSERT_TRUE(on_b->Next(10s).has_value());  // the snapshot: B holds it in memory

  std::vector<std::string> reported;
  std::thread writer([&] {
    HttpClient c("127.0.0.1", nodes.port(0));
    for (int n = 1; n <= 60; ++n) {
      for (const std::string& e : ReportErrors(c, id, Alice(), n, 1, 1)) reported.push_back(e);
    }
  });
  const std::string database = DatabaseOf(nodes.db());
  // Once some events are in, while the writer goes on.
  std::vector<std::string> got = Ids(*on_b, 5, Clock::now() + 10s);
  auto ended = RunAdminSql(
      "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) FROM pg_stat_activity"
      " WHERE datname = '" +
      database + "' AND query = 'LISTEN vigil_heads'");
  ASSERT_TRUE(ended.has_value());
  EXPECT_EQ(*ended, "2");
  writer.join();
  ASSERT_EQ(reported.size(), 60u);
  std::vector<std::string> rest = Ids(*on_b, 60 - got.size(), Clock::now() + 20s);
  got.insert(got.end(), rest.begin(), rest.end());
  EXPECT_EQ(got, reported);
  // The node said so in its log.
  const auto deadline = Clock::now() + 10s;
  while (nodes[1].ReadLog().find("resynchronizing") == std::string::npos &&
         Clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_NE(nodes[1].ReadLog().find("resynchronizing"), std::string::npos) << nodes[1].ReadLog();
}

// The cookie of a session opened on one node: "vigil_session=<id>".
std::string SignIn(HttpClient& client) {
  HttpResult r = client.Post("/api/v1/auth/session", "",
                             {{"Authorization", "Bearer " + TestToken("alice", {"read", "dev"})}});
  EXPECT_EQ(r.status, 201) << r.body;
  std::string set_cookie = r.Header("set-cookie");
  return set_cookie.substr(0, set_cookie.find(';'));
}

// Sessions are in the store: a cookie made on A works on B and C; signed out on A, it is refused
// on B (which had it cached) within the cache's lifetime; a sign-in code printed by A is redeemed
// once, on any node.
TEST(NodesPostgresTest, ASessionMadeOnOneNodeWorksOnEveryNodeAndEndsOnEveryNode) {
  constexpr int kCacheMs = 500;
  Nodes nodes(
      3, {"--session-cache-ms", std::to_string(kCacheMs), "--demo", "--demo-investigations", "0"});
  ASSERT_TRUE(nodes.ok(3));
  HttpClient a("127.0.0.1", nodes.port(0));
  HttpClient b("127.0.0.1", nodes.port(1));
  HttpClient c("127.0.0.1", nodes.port(2));
  const std::string cookie = SignIn(a);
  for (HttpClient* client : {&a, &b, &c}) {
    HttpResult who = client->Get("/api/v1/auth/session", {{"Cookie", cookie}});
    ASSERT_EQ(who.status, 200) << who.body;
    EXPECT_EQ(who.Json().at("via"), "cookie");
  }
  // B has it cached now; A signs it out.
  HttpResult out = a.Request("DELETE", "/api/v1/auth/session", "",
                             {{"Cookie", cookie}, {"X-Requested-With", "vigil"}});
  ASSERT_EQ(out.status, 204) << out.body;
  const auto signed_out = Clock::now();
  EXPECT_EQ(a.Get("/api/v1/auth/session", {{"Cookie", cookie}}).status, 401) << "at once on A";
  // B and C had it cached: each refuses it within the cache's lifetime (with room for load).
  for (HttpClient* other : {&b, &c}) {
    int status = 200;
    while (status == 200 && Clock::now() < signed_out + 10s) {
      status = other->Get("/api/v1/auth/session", {{"Cookie", cookie}}).status;
    }
    const auto refused_after =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - signed_out).count();
    std::printf("a sign-out on A reached another node after %lld ms (cache %d ms)\n",
                static_cast<long long>(refused_after), kCacheMs);
    EXPECT_EQ(status, 401);
    EXPECT_LT(refused_after, kCacheMs + 2000);
  }

  // A's sign-in link: the code is in the store.
  const std::regex link_re("/api/v1/auth/login\\?code=([0-9a-f]{64})");
  std::smatch m;
  std::string log;
  const auto deadline = Clock::now() + 10s;
  while (!std::regex_search(log = nodes[0].ReadLog(), m, link_re) && Clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_FALSE(m.empty()) << "node A prints a sign-in link";
  const std::string link = "/api/v1/auth/login?code=" + m[1].str();
  HttpResult first = b.Get(link);
  ASSERT_EQ(first.status, 303) << first.body;
  std::string redeemed = first.Header("set-cookie");
  redeemed = redeemed.substr(0, redeemed.find(';'));
  EXPECT_EQ(c.Get("/api/v1/auth/session", {{"Cookie", redeemed}}).status, 200);
  EXPECT_EQ(c.Get(link).status, 404) << "once, whichever node is asked";
  EXPECT_EQ(a.Get(link).status, 404);
}

// Rate limits across nodes: each node allows its share of the budget (RATE_LIMIT_NODES), so a
// user who spreads a flood over three nodes is allowed about one budget in all, not three.
TEST(NodesPostgresTest, AFloodSpreadOverThreeNodesIsLimitedToAboutOneBudget) {
  constexpr int kBudget = 30;
  Nodes nodes(3, {"--rate-limit", "true", "--rate-limit-max-requests", std::to_string(kBudget),
                  "--rate-limit-nodes", "3", "--rate-limit-backoff", "false"});
  ASSERT_TRUE(nodes.ok(3));
  std::vector<std::unique_ptr<HttpClient>> clients;
  for (size_t i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<HttpClient>("127.0.0.1", nodes.port(i)));
  }
  int admitted = 0, refused = 0;
  const auto started = Clock::now();
  for (int n = 0; n < 3 * kBudget; ++n) {
    const int status =
        clients[static_cast<size_t>(n % 3)]->Get("/api/v1/investigations", Alice()).status;
    if (status == 200) ++admitted;
    if (status == 429) ++refused;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  std::printf("a flood of %d requests over three nodes: %d admitted, %d refused in %.2f s\n",
              3 * kBudget, admitted, refused, seconds);
  EXPECT_EQ(admitted + refused, 3 * kBudget);
  // The budget, plus what refills while the flood lasts (a budget per window, 60 s).
  const int refill = static_cast<int>(seconds * kBudget / 60.0) + 3;
  EXPECT_GE(admitted, kBudget);
  EXPECT_LE(admitted, kBudget + refill);
}

}  // namespace
}  // namespace vigil::test
