#include "engine/shared_event.hpp"

#include <chrono>

#include "core/json_text.hpp"

namespace vigil::engine {

int64_t MonotonicNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

const std::shared_ptr<const std::string>& SharedEvent::SseFrame() const {
  std::call_once(sse_once_, [this] {
    std::string_view type = core::EventTypeName(type_);
    std::string id = core::FormatEventId(id_);
    std::string frame;
    frame.reserve(wire_.size() + id.size() + type.size() + 24);
    frame.append("id: ").append(id).append("\nevent: ").append(type).append("\ndata: ");
    frame.append(wire_).append("\n\n");
    sse_ = std::make_shared<const std::string>(std::move(frame));
  });
  return sse_;
}

const std::shared_ptr<const std::string>& SharedEvent::WsFrame() const {
  std::call_once(ws_once_, [this] {
    std::string frame;
    frame.reserve(wire_.size() + investigation_id_.size() + 80);
    core::JsonWriter w(frame);
    w.BeginObject();
    w.Key("type").String("event");
    w.Key("investigation_id").String(investigation_id_);
    w.Key("id").String(core::FormatEventId(id_));
    w.Key("data").Raw(wire_);
    w.EndObject();
    ws_ = std::make_shared<const std::string>(std::move(frame));
  });
  return ws_;
}

}  // namespace vigil::engine
