// Faults of the database under real `vigil serve` nodes: PostgreSQL stopped and started again
// while writers report. The test runs a PostgreSQL server of its own (OwnPostgresServer), since
// stopping the fixture's would fail the tests that share it. Every wait has a deadline.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
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
using Clock = std::chrono::steady_clock;

const Headers& Alice() {
  static const Headers alice = BearerJson(TestToken("alice", {"read", "dev"}));
  return alice;
}

// What the writers saw.
struct Outcomes {
  std::mutex mu;
  std::vector<std::string> acknowledged;  // ids of events answered 200
  int refused = 0;                        // answered 503 with Retry-After
  int other = 0;                          // anything else (no answer, another status)
  std::string last_other;
  int64_t max_refusal_ms = 0;  // the longest a refusal took
};

// Reports one event at a time to `port` until `stop`, noting every outcome.
void Writer(uint16_t port, const std::string& id, int first, const std::atomic<bool>& stop,
            Outcomes& out) {
  HttpClient client("127.0.0.1", port, 20s);
  for (int n = first; !stop.load(); ++n) {
    const std::string body =
        json::serialize(json::object{{"events", json::array{ErrorLoggedEvent(n)}}});
    const auto sent = Clock::now();
    HttpResult r = client.Post("/api/v1/investigations/" + id + "/events", body, Alice());
    const int64_t ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - sent).count();
    std::lock_guard lock(out.mu);
    if (r.status == 200) {
      out.acknowledged.emplace_back(r.Json().at("events").at(0).at("event_id").as_string());
    } else if (r.status == 503 && !r.Header("retry-after").empty()) {
      ++out.refused;
      out.max_refusal_ms = std::max(out.max_refusal_ms, ms);
    } else {
      ++out.other;
      out.last_other = std::to_string(r.status) + " " + r.body + r.error;
    }
    if (r.status != 200) std::this_thread::sleep_for(5ms);  // pace the refusals, not a wait
  }
}

// Waits until `done()` or the deadline; says whether it came.
template <typename Condition>
bool WaitFor(Condition done, std::chrono::seconds limit) {
  const auto deadline = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

size_t Acknowledged(Outcomes& out) {
  std::lock_guard lock(out.mu);
  return out.acknowledged.size();
}

// PostgreSQL stops (pg_ctl stop -m fast) while writers report on two nodes and a subscriber
// follows on one of them, then starts again. While it is down, appends are refused quickly with
// 503 and Retry-After, /readyz says the node cannot write, and reads of the investigation in
// memory and the open stream go on. Once it is back, the nodes write again, every acknowledged
// event is in the log on both nodes, and the stream delivers the whole log and ends with the
// investigation.
TEST(FaultsPostgresTest, PostgresStoppedUnderLoadRefusesWritesFastAndLosesNothing) {
  OwnPostgresServer server(MakeTempDir());
  ASSERT_FALSE(server.url().empty());
  VigilOptions options;
  options.db_path = server.MakeDatabase("vigil_faults");
  ASSERT_FALSE(options.db_path.empty());
  auto a = VigilProcess::Start(options);
  ASSERT_NE(a, nullptr);
  auto b = VigilProcess::Start(options);
  ASSERT_NE(b, nullptr);

  HttpClient on_a("127.0.0.1", a->port());
  HttpClient on_b("127.0.0.1", b->port());
  const std::string id = CreateInvestigation(on_a, Alice(), "the database goes away");
  ASSERT_FALSE(id.empty());
  SseClient::Options sse;
  sse.headers = {Alice().front()};
  auto stream =
      SseClient::Open(b->port(), "/api/v1/investigations/" + id + "/runs/current/stream", sse);
  ASSERT_NE(stream, nullptr);
  ASSERT_EQ(stream->status(), 200);
  ASSERT_TRUE(stream->Next(10s).has_value());  // the snapshot: B holds it in memory

  Outcomes outcomes;
  std::atomic<bool> stop{false};
  std::thread writer_a([&] { Writer(a->port(), id, 1, stop, outcomes); });
  std::thread writer_b([&] { Writer(b->port(), id, 1'000'000, stop, outcomes); });
  auto stop_writers = [&] {
    stop = true;
    if (writer_a.joinable()) writer_a.join();
    if (writer_b.joinable()) writer_b.join();
  };

  // Under load: some appends through before the database goes.
  EXPECT_TRUE(WaitFor([&] { return Acknowledged(outcomes) >= 30; }, 20s));
  const size_t before = Acknowledged(outcomes);
  const auto paused_at = Clock::now();
  ASSERT_TRUE(server.Pause());
  std::printf(
      "PostgreSQL stopped in %lld ms\n",
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - paused_at).count()));
  {
    std::lock_guard lock(outcomes.mu);
    outcomes.refused = 0;  // count only the refusals while it is down
  }

  // Down for two seconds at least (the listener retries, head checks fail): writes refused,
  // quickly and repeatedly.
  EXPECT_TRUE(WaitFor(
      [&] {
        std::lock_guard lock(outcomes.mu);
        return outcomes.refused >= 20 && Clock::now() - paused_at >= 2s;
      },
      20s));
  HttpResult ready = on_a.Get("/readyz");
  EXPECT_EQ(ready.status, 503) << ready.body;
  EXPECT_FALSE(ready.Header("retry-after").empty());
  EXPECT_EQ(ready.status == 503 ? ready.Json().at("writable") : json::value(), json::value(false))
      << ready.body;
  // Reads of the investigation in memory go on.
  HttpResult progress = on_b.Get("/api/v1/investigations/" + id + "/progress", Alice());
  EXPECT_EQ(progress.status, 200) << progress.body;

  ASSERT_TRUE(server.Resume());
  const auto resumed_at = Clock::now();
  // Back: both nodes write again.
  const size_t at_resume = Acknowledged(outcomes);
  EXPECT_TRUE(WaitFor([&] { return Acknowledged(outcomes) >= at_resume + 30; }, 30s))
      << "appends go through again after the database is back";
  std::printf("first appends after the restart within %lld ms\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - resumed_at)
                      .count()));
  stop_writers();
  EXPECT_TRUE(WaitFor([&] { return on_a.Get("/readyz").status == 200; }, 10s));
  EXPECT_EQ(on_a.Get("/readyz").body, R"({"status":"ready","writable":true})");

  std::printf(
      "appends: %zu acknowledged before the stop, %d refused while down (the slowest "
      "refusal %lld ms), %zu acknowledged in all; %d other answers\n",
      before, outcomes.refused, static_cast<long long>(outcomes.max_refusal_ms),
      outcomes.acknowledged.size(), outcomes.other);
  // Refused fast: a bound for correctness (never hang), not a speed goal.
  EXPECT_LT(outcomes.max_refusal_ms, 10'000);
  EXPECT_EQ(outcomes.other, 0) << outcomes.last_other;

  // Every acknowledged event is in the log, on both nodes, once. A write whose COMMIT lost its
  // answer when the server stopped may be in the log unacknowledged, and in no node's memory
  // until its head check (every second) finds it: wait until both nodes show the same log.
  std::vector<json::value> log_a = ReadLog(on_a, id, Alice());
  for (const auto deadline = Clock::now() + 10s;
       ReadLog(on_b, id, Alice()) != log_a && Clock::now() < deadline;) {
    std::this_thread::sleep_for(50ms);
    log_a = ReadLog(on_a, id, Alice());
  }
  std::vector<std::string> ids;
  for (const json::value& item : log_a) ids.emplace_back(item.at("event_id").as_string());
  std::multiset<std::string> in_log(ids.begin(), ids.end());
  for (const std::string& acked : outcomes.acknowledged) {
    EXPECT_EQ(in_log.count(acked), 1u) << acked << " was acknowledged";
  }
  EXPECT_EQ(ReadLog(on_b, id, Alice()), log_a);

  // The stream on B goes on through the outage and ends with the investigation: every event of
  // the log after the creation, in order, then `end`.
  HttpResult cancelled = on_a.Post("/api/v1/investigations/" + id + "/cancel", "{}", Alice());
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  std::vector<std::string> streamed;
  bool ended = false;
  const auto deadline = Clock::now() + 30s;
  while (!ended && Clock::now() < deadline) {
    auto frame = stream->NextEvent(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
    if (!frame) break;
    if (frame->event == "end") ended = true;
    if (frame->id && frame->event != "snapshot" && frame->event != "end") {
      streamed.push_back(*frame->id);
    }
  }
  EXPECT_TRUE(ended) << "the stream ends with the investigation";
  std::vector<std::string> expected(ids.begin() + 1, ids.end());
  ASSERT_GE(streamed.size(), expected.size());
  streamed.resize(expected.size());  // the cancellation's own event follows
  EXPECT_EQ(streamed, expected);
  EXPECT_NE(b->ReadLog().find("listening for other nodes' commits again"), std::string::npos);
}

}  // namespace
}  // namespace vigil::test
