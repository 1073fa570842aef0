// The wire forms of what a follower hands out (live/follower.hpp): SSE frames and WebSocket
// messages, with the same payloads. docs/api.md describes both. This is the only place a frame
// is written; an event's frames are kept with the event (engine::SharedEvent::Memo), so that
// each is formatted once however many subscribers get it.
//
// clang-format off
//   item        SSE event (id: when it has one)     WebSocket type   data
//   snapshot    snapshot (id: its last_event_id)    snapshot         the /progress body
//   event       <event_type> (id: event_id)         event            the /events item
//   caught_up   caught_up                           caught_up        {last_event_id}
//   progress    progress                            progress         the /progress body
//   reset       reset (id: its last_event_id)       reset            {reason, progress}
//   end         end                                 end              {reason, status, last_event_id}
//   cut         reconnect                           error            {code: slow_consumer, reason,
//                                                                     last_event_id}
//   error       error                               error            {code, message}
// clang-format on
//
// A WebSocket message is {"type", "investigation_id", "id" (when SSE has one), "data"}.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "live/follower.hpp"

namespace vigil::api {

using Frame = std::shared_ptr<const std::string>;

// Appends the SSE frame(s) of `item`: large payloads are shared, not copied.
void AppendSseFrames(const live::FollowItem& item, std::vector<Frame>& frames);
Frame WsMessage(const live::FollowItem& item, const std::string& investigation_id);

// SSE frames of the stream itself, never with an id (they do not move the resume point).
Frame SseRetry(int milliseconds);
Frame SseHeartbeat(int64_t now_ms);
Frame SseReconnect(std::string_view reason, core::EventId last_event_id);

// A WebSocket message that belongs to no follower: {"type", "investigation_id"?, "data"}.
Frame WsControl(std::string_view type, const std::string* investigation_id, std::string data);
// {"code", "message" (ClientMessage), "field"?} for a WebSocket error message.
std::string WsErrorData(const Error& error);

}  // namespace vigil::api
