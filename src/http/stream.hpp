// Streams: responses that stay open (Server-Sent Events) and WebSocket sessions, as the rest of
// vigil sees them — no Boost.Beast here.
//
// A handler answers with a Response whose `stream` is set. The server writes the head (for a
// WebSocket: completes the upgrade), then drives the stream on the connection's thread:
//
//   Start(wake, executor)
//                    once; `wake` may be called from any thread, any number of times, for as long
//                    as the stream lives: it makes the server call Poll again soon. On the
//                    connection's own thread, an SSE stream that waits is polled (and its frames
//                    sent) before `wake` returns; a wake from inside Poll only marks it to be
//                    polled again (Poll is never reentered). `executor` runs work on that thread
//                    (live::Hub delivers there), for as long as the stream lives.
//   Poll(now, out)   fills `out` with what is ready; called after Start, after every wake, when
//                    out.wake_at has passed, and after a write when out.more was set (or the
//                    write had to wait: a wake may have come meanwhile). Never blocks.
//   Sent(now)        the frames of the last Poll were written to the socket.
//   OnMessage(text)  a WebSocket text message from the client.
//   Closed(reason)   the connection ended (client gone, write timeout, server stopping, or the
//                    stream said done). Called exactly once; no other call follows.
//
// For SSE the frames of one Poll are written together as one gather write; for a WebSocket each
// frame is one text message. Frames are shared strings, so one frame text can go to every
// subscriber without a copy.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/executor.hpp"

namespace vigil::http {

using SteadyTime = std::chrono::steady_clock::time_point;

class Stream {
 public:
  enum class Kind { kServerSentEvents, kWebSocket };

  struct Output {
    std::vector<std::shared_ptr<const std::string>> frames;
    bool done = false;  // close once the frames are written
    // Poll again as soon as the frames are written (a replay has further pages), without waiting
    // for a wake.
    bool more = false;
    // Poll again no later than this (heartbeats, coalesced progress, the maximum duration).
    SteadyTime wake_at = SteadyTime::max();
  };

  virtual ~Stream() = default;
  virtual Kind kind() const = 0;
  virtual void Start(std::function<void()> wake, Executor* executor) = 0;
  virtual void Poll(SteadyTime now, Output& out) = 0;
  virtual void Sent(SteadyTime /*now*/) {}
  virtual void OnMessage(std::string_view /*text*/) {}
  virtual void Closed(std::string_view /*reason*/) {}
};

}  // namespace vigil::http
