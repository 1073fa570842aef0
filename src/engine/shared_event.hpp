// SharedEvent: one appended event as every reader shares it — the /events pages served from
// memory, the live hub and the replays of streams. Its stored wire form, and its SSE and
// WebSocket frames, each formatted at most once, on first use, however many subscribers get it.
//
// Thread-safety: immutable but for the frames, which are built under std::call_once.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "core/cursor.hpp"
#include "core/event.hpp"

namespace vigil::engine {

// Monotonic nanoseconds, the clock of SharedEvent::committed_ns.
int64_t MonotonicNs();

class SharedEvent {
 public:
  SharedEvent(std::string investigation_id, core::EventId id, core::EventType type,
              std::string wire, int64_t committed_ns = 0)
      : investigation_id_(std::move(investigation_id)),
        id_(id),
        type_(type),
        wire_(std::move(wire)),
        committed_ns_(committed_ns) {}
  // From an event that has its id (its wire form is written when it has none).
  explicit SharedEvent(const core::Event& e, int64_t committed_ns = 0)
      : SharedEvent(e.investigation_id, e.id, e.type, core::WireText(e), committed_ns) {}

  const std::string& investigation_id() const { return investigation_id_; }
  core::EventId id() const { return id_; }
  core::EventType type() const { return type_; }
  const std::string& wire() const { return wire_; }
  // MonotonicNs when it was committed in this process; 0 for events read back from the store.
  int64_t committed_ns() const { return committed_ns_; }

  // "id: <event_id>\nevent: <event_type>\ndata: <wire>\n\n"
  const std::shared_ptr<const std::string>& SseFrame() const;
  // {"type":"event","investigation_id":...,"id":<event_id>,"data":<wire>}
  const std::shared_ptr<const std::string>& WsFrame() const;

 private:
  std::string investigation_id_;
  core::EventId id_;
  core::EventType type_;
  std::string wire_;
  int64_t committed_ns_;
  mutable std::once_flag sse_once_, ws_once_;
  mutable std::shared_ptr<const std::string> sse_, ws_;
};

using SharedEventPtr = std::shared_ptr<const SharedEvent>;

}  // namespace vigil::engine
