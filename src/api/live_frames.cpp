#include "api/live_frames.hpp"

#include "base/clock.hpp"
#include "base/json_text.hpp"

namespace vigil::api {

namespace {

using Kind = live::FollowItem::Kind;

Frame Shared(std::string text) { return std::make_shared<const std::string>(std::move(text)); }

// The two shapes every frame has; nothing else writes a frame.
//
// "id: <id>\n" (when it has one) "event: <name>\ndata: " <data> "\n\n"
std::string SseHead(std::string_view name, std::optional<core::EventId> id, size_t data_size) {
  std::string text;
  text.reserve(data_size + name.size() + 48);
  if (id) text.append("id: ").append(core::FormatEventId(*id)).append("\n");
  text.append("event: ").append(name).append("\ndata: ");
  return text;
}
constexpr std::string_view kSseTail = "\n\n";

std::string SseText(std::string_view name, std::optional<core::EventId> id, std::string_view data) {
  return SseHead(name, id, data.size() + kSseTail.size()).append(data).append(kSseTail);
}

// {"type", "investigation_id" (null when it is for none), "id" (when it has one), "data"}
std::string WsText(std::string_view type, const std::string* investigation_id,
                   std::optional<core::EventId> id, std::string_view data) {
  std::string text;
  text.reserve(data.size() + (investigation_id ? investigation_id->size() : 0) + 96);
  JsonWriter w(text);
  w.BeginObject();
  w.Key("type").String(type);
  w.Key("investigation_id");
  investigation_id ? w.String(*investigation_id) : w.Null();
  if (id) w.Key("id").String(core::FormatEventId(*id));
  w.Key("data").Raw(data);
  w.EndObject();
  return text;
}

// An event's frames are made once and kept with it (engine::SharedEvent::Memo).
enum EventSlot : size_t { kSseSlot, kWsSlot };
static_assert(kWsSlot < engine::SharedEvent::kMemoSlots);

const Frame& EventSse(const engine::SharedEvent& event) {
  return event.Memo(kSseSlot, [](const engine::SharedEvent& e) {
    return SseText(core::EventTypeName(e.type()), e.id(), e.wire());
  });
}

const Frame& EventWs(const engine::SharedEvent& event) {
  return event.Memo(kWsSlot, [](const engine::SharedEvent& e) {
    return WsText("event", &e.investigation_id(), e.id(), e.wire());
  });
}

// The /progress body of the item's snapshot, sharing its memory.
Frame ProgressOf(const live::FollowItem& item) {
  return Frame(item.snapshot, &item.snapshot->progress_json());
}

void WriteLastEventId(JsonWriter& w, core::EventId id) {
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

// The resume point an item carries, when it carries one.
std::optional<core::EventId> IdOf(const live::FollowItem& item) {
  const bool has_id =
      item.kind == Kind::kSnapshot || item.kind == Kind::kReset || item.kind == Kind::kEvent;
  return has_id ? std::optional(item.last_event_id) : std::nullopt;
}

bool Bare(const live::FollowItem& item) {
  return item.kind == Kind::kSnapshot || item.kind == Kind::kProgress;
}

// The data of an item that is neither an event nor a bare snapshot.
std::string SmallData(const live::FollowItem& item) {
  std::string data;
  JsonWriter w(data);
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
  static const Frame kEnd = Shared(std::string(kSseTail));
  if (item.kind == Kind::kEvent) {
    frames.push_back(EventSse(*item.event));
    return;
  }
  if (Bare(item)) {  // the snapshot's memory is shared, not copied
    frames.push_back(Shared(SseHead(SseName(item), IdOf(item), 0)));
    frames.push_back(ProgressOf(item));
    frames.push_back(kEnd);
    return;
  }
  frames.push_back(Shared(SseText(SseName(item), IdOf(item), SmallData(item))));
}

Frame WsMessage(const live::FollowItem& item, const std::string& investigation_id) {
  if (item.kind == Kind::kEvent) return EventWs(*item.event);
  if (Bare(item)) {
    return Shared(
        WsText(WsType(item), &investigation_id, IdOf(item), item.snapshot->progress_json()));
  }
  return Shared(WsText(WsType(item), &investigation_id, IdOf(item), SmallData(item)));
}

Frame SseRetry(int milliseconds) {
  return Shared("retry: " + std::to_string(milliseconds) + std::string(kSseTail));
}

Frame SseHeartbeat(int64_t now_ms) {
  return Shared(SseText("heartbeat", std::nullopt, JsonWriter::Object([&](JsonWriter& w) {
                          w.Key("timestamp").Iso(now_ms);
                        })));
}

Frame SseReconnect(std::string_view reason, core::EventId last_event_id) {
  return Shared(SseText("reconnect", std::nullopt, JsonWriter::Object([&](JsonWriter& w) {
                          w.Key("reason").String(reason);
                          WriteLastEventId(w, last_event_id);
                        })));
}

Frame WsControl(std::string_view type, const std::string* investigation_id, std::string data) {
  return Shared(WsText(type, investigation_id, std::nullopt, data));
}

std::string WsErrorData(const Error& error) {
  return JsonWriter::Object([&](JsonWriter& w) {
    w.Key("code").String(ErrorCodeName(error.code));
    w.Key("message").String(ClientMessage(error));
    if (!error.field.empty()) w.Key("field").String(error.field);
  });
}

}  // namespace vigil::api
