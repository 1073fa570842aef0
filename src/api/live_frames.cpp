#include "api/live_frames.hpp"

#include "core/clock.hpp"
#include "core/json_text.hpp"

namespace vigil::api {

namespace {

using Kind = live::FollowItem::Kind;

Frame Shared(std::string text) { return std::make_shared<const std::string>(std::move(text)); }

// The /progress body of the item's snapshot, sharing its memory.
Frame ProgressOf(const live::FollowItem& item) {
  return Frame(item.snapshot, &item.snapshot->progress_json());
}

void WriteLastEventId(core::JsonWriter& w, core::EventId id) {
  w.Key("last_event_id");
  id.IsZero() ? w.Null() : w.String(core::FormatEventId(id));
}

std::string_view SseName(const live::FollowItem& item) {
  switch (item.kind) {
    case Kind::kSnapshot:
      return "snapshot";
    case Kind::kEvent:
      return core::EventTypeName(item.event->type());
    case Kind::kCaughtUp:
      return "caught_up";
    case Kind::kProgress:
      return "progress";
    case Kind::kReset:
      return "reset";
    case Kind::kEnd:
      return "end";
    case Kind::kCut:
      return "reconnect";
    case Kind::kError:
      return "error";
  }
  return "error";
}

std::string_view WsType(const live::FollowItem& item) {
  switch (item.kind) {
    case Kind::kEvent:
      return "event";
    case Kind::kCut:
      return "error";
    default:
      return SseName(item);
  }
}

bool HasId(const live::FollowItem& item) {
  return item.kind == Kind::kSnapshot || item.kind == Kind::kReset || item.kind == Kind::kEvent;
}

// The data of an item that is neither an event nor a bare snapshot.
std::string SmallData(const live::FollowItem& item) {
  std::string data;
  core::JsonWriter w(data);
  w.BeginObject();
  switch (item.kind) {
    case Kind::kCaughtUp:
      WriteLastEventId(w, item.last_event_id);
      break;
    case Kind::kReset:
      w.Key("reason").String(item.reason);
      w.Key("progress").Raw(item.snapshot->progress_json());
      break;
    case Kind::kEnd:
      w.Key("reason").String(item.reason);
      w.Key("status").String(core::ProgressStatus(item.snapshot->state()));
      WriteLastEventId(w, item.last_event_id);
      break;
    case Kind::kCut:
      w.Key("code").String("slow_consumer");
      w.Key("reason").String(
          "the client did not keep up with the stream; resume from last_event_id");
      WriteLastEventId(w, item.last_event_id);
      break;
    case Kind::kError:
      w.Key("code").String(ErrorCodeName(item.code));
      w.Key("message").String(item.reason);
      break;
    default:
      break;
  }
  w.EndObject();
  return data;
}

}  // namespace

void AppendSseFrames(const live::FollowItem& item, std::vector<Frame>& frames) {
  static const Frame kEnd = Shared("\n\n");
  if (item.kind == Kind::kEvent) {
    frames.push_back(item.event->SseFrame());
    return;
  }
  std::string head;
  if (HasId(item)) head.append("id: ").append(core::FormatEventId(item.last_event_id)).append("\n");
  head.append("event: ").append(SseName(item)).append("\ndata: ");
  if (item.kind == Kind::kSnapshot || item.kind == Kind::kProgress) {
    frames.push_back(Shared(std::move(head)));
    frames.push_back(ProgressOf(item));
    frames.push_back(kEnd);
    return;
  }
  head.append(SmallData(item)).append("\n\n");
  frames.push_back(Shared(std::move(head)));
}

Frame WsMessage(const live::FollowItem& item, const std::string& investigation_id) {
  if (item.kind == Kind::kEvent) return item.event->WsFrame();
  std::string text;
  const bool bare = item.kind == Kind::kSnapshot || item.kind == Kind::kProgress;
  text.reserve(bare ? item.snapshot->progress_json().size() + 128 : 256);
  core::JsonWriter w(text);
  w.BeginObject();
  w.Key("type").String(WsType(item));
  w.Key("investigation_id").String(investigation_id);
  if (HasId(item)) w.Key("id").String(core::FormatEventId(item.last_event_id));
  w.Key("data");
  if (bare) {
    w.Raw(item.snapshot->progress_json());
  } else {
    w.Raw(SmallData(item));
  }
  w.EndObject();
  return Shared(std::move(text));
}

Frame SseRetry(int milliseconds) {
  return Shared("retry: " + std::to_string(milliseconds) + "\n\n");
}

Frame SseHeartbeat(int64_t now_ms) {
  return Shared("event: heartbeat\ndata: {\"timestamp\":\"" + core::FormatIsoMs(now_ms) +
                "\"}\n\n");
}

Frame SseReconnect(std::string_view reason, core::EventId last_event_id) {
  std::string data;
  core::JsonWriter w(data);
  w.BeginObject();
  w.Key("reason").String(reason);
  WriteLastEventId(w, last_event_id);
  w.EndObject();
  return Shared("event: reconnect\ndata: " + data + "\n\n");
}

Frame WsControl(std::string_view type, const std::string* investigation_id, std::string data) {
  std::string text;
  core::JsonWriter w(text);
  w.BeginObject();
  w.Key("type").String(type);
  w.Key("investigation_id");
  investigation_id ? w.String(*investigation_id) : w.Null();
  w.Key("data").Raw(data);
  w.EndObject();
  return Shared(std::move(text));
}

std::string WsErrorData(ErrorCode code, std::string_view message, std::string_view field) {
  std::string data;
  core::JsonWriter w(data);
  w.BeginObject();
  w.Key("code").String(ErrorCodeName(code));
  w.Key("message").String(message);
  if (!field.empty()) w.Key("field").String(field);
  w.EndObject();
  return data;
}

}  // namespace vigil::api
