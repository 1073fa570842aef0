// The wire forms of what a follower hands out (api/live_frames.hpp), below HTTP: for each kind of
// item, its Server-Sent Events frame and its WebSocket message, as docs/api.md section 8 gives
// them — the event name, whether it carries an id, and the same data in both.
#include "api/live_frames.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "core/investigation.hpp"

namespace vigil::api {
namespace {

namespace json = boost::json;
using Kind = live::FollowItem::Kind;

constexpr core::EventId kId{1'795'326'954'401, 7};
constexpr char kIdText[] = "1795326954401_000007";
constexpr char kInvestigation[] = "inv_0123";

engine::SnapshotPtr SnapshotAt(core::State state = core::State::kRunning) {
  core::Investigation inv;
  inv.id = kInvestigation;
  inv.owner = "alice";
  inv.name = "case";
  inv.state = state;
  inv.version = 12;
  inv.last_event_id = kId;
  return std::make_shared<const engine::Snapshot>(std::move(inv));
}

engine::SharedEventPtr Event() {
  return std::make_shared<const engine::SharedEvent>(
      kInvestigation, kId, core::EventType::kRiskUpdated,
      R"({"event_id":"1795326954401_000007","event_type":"risk_updated","data":{"overall":0.5}})");
}

live::FollowItem Item(Kind kind) {
  live::FollowItem item{kind, nullptr, nullptr, "", kId};
  switch (kind) {
    case Kind::kEvent:
      item.event = Event();
      break;
    case Kind::kSnapshot:
    case Kind::kProgress:
      item.snapshot = SnapshotAt();
      break;
    case Kind::kReset:
      item.snapshot = SnapshotAt();
      item.reason = "event 1_000000 is not in this investigation's log";
      break;
    case Kind::kEnd:
      item.snapshot = SnapshotAt(core::State::kCompleted);
      item.reason = "completed";
      break;
    case Kind::kCut:
      item.reason = "slow_consumer";
      break;
    case Kind::kError:
      item.reason = "investigation not found";
      item.code = ErrorCode::kNotFound;
      break;
    case Kind::kCaughtUp:
      break;
  }
  return item;
}

// One SSE frame, read back: its fields, and whether it is well formed (each field on a line of
// its own, one data line, a blank line at the end).
struct SseFrame {
  std::optional<std::string> id;
  std::string event;
  json::value data;
};

SseFrame ParseSse(const std::string& text) {
  SseFrame frame;
  EXPECT_TRUE(text.ends_with("\n\n")) << text;
  int data_lines = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    std::string line = text.substr(start, end - start);
    start = end + 1;
    if (line.empty()) break;
    size_t colon = line.find(": ");
    EXPECT_NE(colon, std::string::npos) << line;
    std::string field = line.substr(0, colon), value = line.substr(colon + 2);
    if (field == "id") {
      frame.id = value;
    } else if (field == "event") {
      frame.event = value;
    } else if (field == "data") {
      ++data_lines;
      frame.data = json::parse(value);
    } else {
      ADD_FAILURE() << "unexpected field: " << line;
    }
  }
  EXPECT_EQ(start, text.size()) << "one frame: " << text;
  EXPECT_EQ(data_lines, 1) << text;
  return frame;
}

// The SSE frame of `item`: the pieces AppendSseFrames gives, written one after the other.
SseFrame Sse(const live::FollowItem& item) {
  std::vector<Frame> frames;
  AppendSseFrames(item, frames);
  std::string text;
  for (const Frame& f : frames) text += *f;
  return ParseSse(text);
}

json::object Ws(const live::FollowItem& item) {
  Frame message = WsMessage(item, kInvestigation);
  return json::parse(*message).as_object();
}

json::value Progress() { return json::parse(SnapshotAt()->progress_json()); }

TEST(LiveFramesTest, ASnapshotCarriesItsLastEventIdAndTheProgressBody) {
  live::FollowItem item = Item(Kind::kSnapshot);
  SseFrame sse = Sse(item);
  EXPECT_EQ(sse.event, "snapshot");
  EXPECT_EQ(sse.id, kIdText);
  EXPECT_EQ(sse.data, Progress());

  json::object ws = Ws(item);
  EXPECT_EQ(ws.at("type"), "snapshot");
  EXPECT_EQ(ws.at("investigation_id"), kInvestigation);
  EXPECT_EQ(ws.at("id"), kIdText);
  EXPECT_EQ(ws.at("data"), Progress());
}

TEST(LiveFramesTest, AnEventIsNamedByItsTypeAndSharedNotCopied) {
  live::FollowItem item = Item(Kind::kEvent);
  std::vector<Frame> frames;
  AppendSseFrames(item, frames);
  ASSERT_EQ(frames.size(), 1u);
  std::vector<Frame> again;
  AppendSseFrames(item, again);
  EXPECT_EQ(frames[0].get(), again.at(0).get()) << "formatted once, for everyone";
  SseFrame sse = ParseSse(*frames[0]);
  EXPECT_EQ(sse.event, "risk_updated");
  EXPECT_EQ(sse.id, kIdText);
  EXPECT_EQ(sse.data, json::parse(item.event->wire())) << "the /events item";

  Frame message = WsMessage(item, kInvestigation);
  EXPECT_EQ(message.get(), WsMessage(item, kInvestigation).get()) << "formatted once";
  json::object ws = json::parse(*message).as_object();
  EXPECT_EQ(ws.at("type"), "event");
  EXPECT_EQ(ws.at("investigation_id"), kInvestigation);
  EXPECT_EQ(ws.at("id"), kIdText);
  EXPECT_EQ(ws.at("data"), json::parse(item.event->wire()));
}

TEST(LiveFramesTest, CaughtUpNamesTheLastEventWithoutMovingTheResumePoint) {
  live::FollowItem item = Item(Kind::kCaughtUp);
  SseFrame sse = Sse(item);
  EXPECT_EQ(sse.event, "caught_up");
  EXPECT_FALSE(sse.id) << "frames without an id never move the resume point";
  EXPECT_EQ(sse.data, (json::value{{"last_event_id", kIdText}}));

  json::object ws = Ws(item);
  EXPECT_EQ(ws.at("type"), "caught_up");
  EXPECT_FALSE(ws.contains("id"));
  EXPECT_EQ(ws.at("data"), sse.data);

  item.last_event_id = {};  // an empty log
  EXPECT_EQ(Sse(item).data, (json::value{{"last_event_id", nullptr}}));
}

TEST(LiveFramesTest, AProgressHasNoId) {
  live::FollowItem item = Item(Kind::kProgress);
  SseFrame sse = Sse(item);
  EXPECT_EQ(sse.event, "progress");
  EXPECT_FALSE(sse.id);
  EXPECT_EQ(sse.data, Progress());

  json::object ws = Ws(item);
  EXPECT_EQ(ws.at("type"), "progress");
  EXPECT_FALSE(ws.contains("id"));
  EXPECT_EQ(ws.at("data"), Progress());
}

TEST(LiveFramesTest, AResetCarriesTheReasonAndTheProgressToStartFrom) {
  live::FollowItem item = Item(Kind::kReset);
  SseFrame sse = Sse(item);
  EXPECT_EQ(sse.event, "reset");
  EXPECT_EQ(sse.id, kIdText) << "its snapshot's last_event_id";
  EXPECT_EQ(sse.data, (json::value{{"reason", item.reason}, {"progress", Progress()}}));

  json::object ws = Ws(item);
  EXPECT_EQ(ws.at("type"), "reset");
  EXPECT_EQ(ws.at("id"), kIdText);
  EXPECT_EQ(ws.at("data"), sse.data);
}

TEST(LiveFramesTest, TheEndSaysWhyWithTheStatusAndTheLastEvent) {
  live::FollowItem item = Item(Kind::kEnd);
  SseFrame sse = Sse(item);
  EXPECT_EQ(sse.event, "end");
  EXPECT_FALSE(sse.id);
  EXPECT_EQ(
      sse.data,
      (json::value{{"reason", "completed"}, {"status", "completed"}, {"last_event_id", kIdText}}));

  json::object ws = Ws(item);
  EXPECT_EQ(ws.at("type"), "end");
  EXPECT_FALSE(ws.contains("id"));
  EXPECT_EQ(ws.at("data"), sse.data);
}

// A follower that fell behind: SSE says reconnect, the WebSocket an error, both with the id to
// resume from.
TEST(LiveFramesTest, ACutIsAReconnectOnSseAndAnErrorOnTheWebSocket) {
  live::FollowItem item = Item(Kind::kCut);
  SseFrame sse = Sse(item);
  EXPECT_EQ(sse.event, "reconnect");
  EXPECT_FALSE(sse.id);
  ASSERT_TRUE(sse.data.is_object());
  EXPECT_EQ(sse.data.at("code"), "slow_consumer");
  EXPECT_EQ(sse.data.at("last_event_id"), kIdText);
  EXPECT_TRUE(sse.data.at("reason").is_string());

  json::object ws = Ws(item);
  EXPECT_EQ(ws.at("type"), "error");
  EXPECT_EQ(ws.at("investigation_id"), kInvestigation);
  EXPECT_FALSE(ws.contains("id"));
  EXPECT_EQ(ws.at("data"), sse.data);
}

TEST(LiveFramesTest, AnErrorHasTheCodeAndTheMessage) {
  live::FollowItem item = Item(Kind::kError);
  SseFrame sse = Sse(item);
  EXPECT_EQ(sse.event, "error");
  EXPECT_FALSE(sse.id);
  EXPECT_EQ(sse.data, (json::value{{"code", "not_found"}, {"message", "investigation not found"}}));

  json::object ws = Ws(item);
  EXPECT_EQ(ws.at("type"), "error");
  EXPECT_EQ(ws.at("data"), sse.data);
}

TEST(LiveFramesTest, TextIsEscapedInsideTheData) {
  live::FollowItem item = Item(Kind::kError);
  item.reason = "line one\nline \"two\"";
  SseFrame sse = Sse(item);  // still one data line
  EXPECT_EQ(sse.data.at("message"), "line one\nline \"two\"");
}

TEST(LiveFramesTest, TheStreamsOwnFrames) {
  EXPECT_EQ(*SseRetry(2500), "retry: 2500\n\n");

  const int64_t ms = ParseIsoMs("2026-11-22T05:55:54.503Z").value();
  SseFrame heartbeat = ParseSse(*SseHeartbeat(ms));
  EXPECT_EQ(heartbeat.event, "heartbeat");
  EXPECT_FALSE(heartbeat.id);
  EXPECT_EQ(heartbeat.data, (json::value{{"timestamp", "2026-11-22T05:55:54.503Z"}}));

  SseFrame reconnect = ParseSse(*SseReconnect("max_duration", kId));
  EXPECT_EQ(reconnect.event, "reconnect");
  EXPECT_FALSE(reconnect.id);
  EXPECT_EQ(reconnect.data, (json::value{{"reason", "max_duration"}, {"last_event_id", kIdText}}));
}

TEST(LiveFramesTest, WebSocketControlMessages) {
  const std::string id = kInvestigation;
  EXPECT_EQ(json::parse(*WsControl("unsubscribed", &id, "{}")),
            (json::value{{"type", "unsubscribed"},
                         {"investigation_id", kInvestigation},
                         {"data", json::object{}}}));
  EXPECT_EQ(
      json::parse(*WsControl("pong", nullptr, "{}")),
      (json::value{{"type", "pong"}, {"investigation_id", nullptr}, {"data", json::object{}}}));

  EXPECT_EQ(json::parse(WsErrorData(Error(ErrorCode::kInvalidArgument, "bad", "after"))),
            (json::value{{"code", "invalid_argument"}, {"message", "bad"}, {"field", "after"}}));
  EXPECT_EQ(json::parse(WsErrorData(Error(ErrorCode::kUnavailable, "too many"))),
            (json::value{{"code", "unavailable"}, {"message", "too many"}}))
      << "no field when none is named";
}

// An internal error's message is not written for clients: a stream tells them what a problem
// tells them, whatever the message says.
TEST(LiveFramesTest, AnInternalErrorShowsNothingOfItsMessage) {
  const Error internal(ErrorCode::kInternal, "sqlite: /var/lib/vigil/vigil.db: disk I/O error");
  const std::string expected(ClientMessage(internal));
  EXPECT_EQ(expected.find("sqlite"), std::string::npos);
  EXPECT_EQ(json::parse(WsErrorData(internal)),
            (json::value{{"code", "internal"}, {"message", expected}}));
  EXPECT_EQ(ClientMessage(Error(ErrorCode::kUnavailable, "retry later")), "retry later")
      << "other messages are written for the client";
}

}  // namespace
}  // namespace vigil::api
