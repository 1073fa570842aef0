// SharedEvent: one appended event as every reader shares it — the /events pages served from
// memory, the live hub and the replays of streams. It carries the stored wire form, and keeps
// what a transport formats from it (api/live_frames: its SSE frame, its WebSocket message) so
// that each is formatted at most once, on first use, however many subscribers get it. The
// engine knows no frame format: it only keeps the slots.
//
// Thread-safety: immutable but for the memo slots, each filled once under std::call_once.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "core/cursor.hpp"
#include "core/event.hpp"

namespace vigil::engine {

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
  // Clock::MonotonicNs when it was committed in this process; 0 for events read back from the
  // store.
  int64_t committed_ns() const { return committed_ns_; }

  // What `make(*this)` returns, made once per slot and then shared: the first caller of a slot
  // formats, the others (on any thread) get the same text. Each slot is one transport's format,
  // and always made by the same `make`.
  static constexpr size_t kMemoSlots = 2;
  template <typename Make>
  const std::shared_ptr<const std::string>& Memo(size_t slot, Make&& make) const {
    std::call_once(memo_[slot].once,
                   [&] { memo_[slot].text = std::make_shared<const std::string>(make(*this)); });
    return memo_[slot].text;
  }

 private:
  std::string investigation_id_;
  core::EventId id_;
  core::EventType type_;
  std::string wire_;
  int64_t committed_ns_;
  struct MemoSlot {
    std::once_flag once;
    std::shared_ptr<const std::string> text;
  };
  mutable std::array<MemoSlot, kMemoSlots> memo_;
};

using SharedEventPtr = std::shared_ptr<const SharedEvent>;

}  // namespace vigil::engine
