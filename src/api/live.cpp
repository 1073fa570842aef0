// Live delivery: GET /api/v1/investigations/{id}/runs/{run_id}/stream (Server-Sent Events) and
// GET /api/v1/ws (WebSocket). Both are thin: a live::Follower per investigation followed does the
// work, these classes only add their transport's frames, heartbeats and limits.
#include <random>

#include "api/api.hpp"
#include "api/handler_util.hpp"
#include "api/live_frames.hpp"
#include "base/json_text.hpp"
#include "base/strict_json.hpp"

namespace vigil::api {

using http::Request;
using http::Responder;
using http::SteadyTime;

namespace {

live::FollowOptions FollowOptionsOf(const ApiContext& ctx, bool progress = true) {
  live::FollowOptions o;
  o.progress = progress;
  o.progress_interval = std::chrono::milliseconds(ctx.options.sse_progress_interval_ms);
  o.cursor_max_age_ms = int64_t{ctx.options.event_feed_cursor_expiry_days} * 86'400'000;
  return o;
}

// A ticket for one more stream of this user, or the 503 to answer.
Result<std::unique_ptr<live::ConnectionLimits::Ticket>> AdmitStream(const ApiContext& ctx,
                                                                    const Request& req) {
  live::ConnectionLimits::Refusal why;
  auto ticket = ctx.stream_limits->TryAcquire(req.principal.subject, &why);
  if (ticket) return ticket;
  ctx.hub.metrics().refused.fetch_add(1, std::memory_order_relaxed);
  return Fail(ErrorCode::kUnavailable,
              why == live::ConnectionLimits::Refusal::kPerUser
                  ? "too many open streams for this user; close one or retry later"
                  : "the server has as many open streams as it allows; retry later");
}

// What a stream hands out, for the live metrics and the log: items are counted as they are
// formatted, the delivery latency of events is observed once the frames holding them are written,
// and an internal error (whose client was told only ClientMessage) is logged once, under the
// stream's request id.
class DeliveryTally {
 public:
  DeliveryTally(live::LiveMetrics& metrics, const Clock& clock, std::string request_id)
      : m_(metrics), clock_(clock), request_id_(std::move(request_id)) {}

  void Count(const live::FollowItem& item) {
    using Kind = live::FollowItem::Kind;
    if (!item.log.empty()) http::LogInternalError(request_id_, item.log);
    switch (item.kind) {
      case Kind::kEvent:
        // Commit to socket is measured for live deliveries; a replay's age is not a latency.
        if (item.live && item.event->committed_ns()) {
          committed_.push_back(item.event->committed_ns());
        }
        break;
      case Kind::kCaughtUp:
        m_.replays.fetch_add(1, std::memory_order_relaxed);
        break;
      case Kind::kReset:
        m_.resets.fetch_add(1, std::memory_order_relaxed);
        break;
      case Kind::kEnd:
        m_.ended.fetch_add(1, std::memory_order_relaxed);
        break;
      default:
        break;
    }
  }
  void Polled(size_t frames) { frames_ = frames; }
  void Sent() {
    m_.frames_sent.fetch_add(frames_, std::memory_order_relaxed);
    m_.events_sent.fetch_add(committed_.size(), std::memory_order_relaxed);
    const int64_t now_ns = clock_.MonotonicNs();
    for (int64_t c : committed_) m_.delivery.Observe(now_ns - c);
    committed_.clear();
  }

 private:
  live::LiveMetrics& m_;
  const Clock& clock_;
  const std::string request_id_;
  std::vector<int64_t> committed_;  // of the events in the frames being written
  size_t frames_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Server-Sent Events: one follower; a retry: hint first, a heartbeat after every quiet interval,
// a reconnect event at the maximum duration.

class SseStream : public http::Stream {
 public:
  SseStream(const ApiContext& ctx, const std::string& request_id, core::Principal principal,
            std::string investigation_id, std::string run_id, std::optional<std::string> after,
            bool progress, std::unique_ptr<live::ConnectionLimits::Ticket> ticket)
      : ctx_(ctx),
        principal_(std::move(principal)),
        investigation_id_(std::move(investigation_id)),
        run_id_(std::move(run_id)),
        after_(std::move(after)),
        progress_(progress),
        ticket_(std::move(ticket)),
        tally_(ctx.hub.metrics(), ctx.clock, request_id) {}

  Kind kind() const override { return Kind::kServerSentEvents; }

  void Start(std::function<void()> wake, Executor* executor) override {
    auto& m = ctx_.hub.metrics();
    m.sse_open.fetch_add(1, std::memory_order_relaxed);
    m.sse_opened.fetch_add(1, std::memory_order_relaxed);
    const SteadyTime now = ctx_.clock.SteadyNow();
    heartbeat_every_ = std::chrono::seconds(ctx_.options.sse_heartbeat_seconds);
    heartbeat_at_ = now + heartbeat_every_;
    deadline_ = now + std::chrono::seconds(ctx_.options.sse_max_duration_seconds);
    follower_ = std::make_shared<live::Follower>(
        ctx_.engine, ctx_.hub, ctx_.clock, principal_, investigation_id_, run_id_, after_,
        FollowOptionsOf(ctx_, progress_), std::move(wake), executor);
    follower_->Start();
  }

  void Poll(SteadyTime now, Output& out) override {
    if (!retry_sent_) {
      // Jittered, so that clients dropped together do not all come back in the same second.
      static thread_local std::minstd_rand random(std::random_device{}());
      int base = ctx_.options.sse_retry_ms;
      out.frames.push_back(SseRetry(base + static_cast<int>(random() % (base + 1))));
      retry_sent_ = true;
    }
    items_.clear();
    SteadyTime next = follower_->Poll(now, items_);
    auto& m = ctx_.hub.metrics();
    for (const live::FollowItem& item : items_) {
      AppendSseFrames(item, out.frames);
      tally_.Count(item);
    }
    if (follower_->done()) {
      out.done = true;
    } else if (now >= deadline_) {
      out.frames.push_back(SseReconnect("max_duration", follower_->last_event_id()));
      m.max_duration.fetch_add(1, std::memory_order_relaxed);
      out.done = true;
    }
    if (!out.frames.empty()) {
      heartbeat_at_ = now + heartbeat_every_;
    } else if (now >= heartbeat_at_) {
      out.frames.push_back(SseHeartbeat(ctx_.clock.NowMs()));
      heartbeat_at_ = now + heartbeat_every_;
    }
    out.wake_at = std::min({next, heartbeat_at_, deadline_});
    out.more = follower_->has_more();
    tally_.Polled(out.frames.size());
  }

  void Sent(SteadyTime) override { tally_.Sent(); }

  void Closed(std::string_view) override {
    // A stream closed before it started (a HEAD, a failed write of the head) was never counted.
    if (follower_) {
      follower_->Stop();
      ctx_.hub.metrics().sse_open.fetch_sub(1, std::memory_order_relaxed);
    }
    ticket_.reset();
  }

 private:
  const ApiContext& ctx_;
  const core::Principal principal_;
  const std::string investigation_id_;
  const std::string run_id_;
  const std::optional<std::string> after_;
  const bool progress_;
  std::unique_ptr<live::ConnectionLimits::Ticket> ticket_;
  DeliveryTally tally_;
  std::shared_ptr<live::Follower> follower_;
  std::vector<live::FollowItem> items_;
  bool retry_sent_ = false;
  std::chrono::seconds heartbeat_every_{30};
  SteadyTime heartbeat_at_{};
  SteadyTime deadline_{};
};

void Stream(const ApiContext& ctx, const Request& req, Responder respond) {
  // On a reconnect the browser sends Last-Event-ID; it wins over the query of the original URL.
  std::optional<std::string> after;
  if (std::string_view header = req.Header("last-event-id"); !header.empty()) {
    after = std::string(header);
  } else if (auto query = req.Query("last_event_id"); query && !query->empty()) {
    after = std::string(*query);
  }
  bool progress = true;
  if (auto p = req.Query("progress")) {
    if (*p != "true" && *p != "false") {
      return RespondError(
          req, respond,
          Error(ErrorCode::kInvalidArgument, "'progress' must be true or false", "progress"));
    }
    progress = *p == "true";
  }
  ctx.engine.Get(req.principal, req.path_params[0],
                 [&ctx, &req, respond, after = std::move(after),
                  progress](Result<engine::SnapshotPtr> r) mutable {
                   if (!r) return RespondError(req, respond, r.error());
                   const std::string& run = req.path_params[1];
                   std::string run_id;
                   if (run != "current") {
                     const std::string& current = (*r)->investigation().run_id;
                     if (run != current) {
                       return RespondError(
                           req, respond,
                           Error(ErrorCode::kNotFound,
                                 "run '" + run + "' is not the current run of investigation '" +
                                     req.path_params[0] + "'; follow runs/current",
                                 "run_id"));
                     }
                     run_id = run;
                   }
                   auto ticket = AdmitStream(ctx, req);
                   if (!ticket) return RespondError(req, respond, ticket.error());
                   http::Response res;
                   res.status = 200;
                   res.Set("Content-Type", "text/event-stream; charset=utf-8");
                   res.Set("Cache-Control", "no-cache");
                   res.Set("X-Accel-Buffering", "no");
                   res.stream = std::make_shared<SseStream>(
                       ctx, req.request_id, req.principal, req.path_params[0], std::move(run_id),
                       std::move(after), progress, std::move(*ticket));
                   respond(std::move(res));
                 });
}

// ---------------------------------------------------------------------------------------------
// WebSocket: one socket, a follower per subscribed investigation.
//
//   client → server   {"type":"subscribe","investigation_id":ID,"after":EVENT_ID|null}
//                     {"type":"unsubscribe","investigation_id":ID}
//                     {"type":"ping"}
//   server → client   the followers' messages (live_frames.hpp), and
//                     {"type":"unsubscribed","investigation_id":ID,"data":{}}
//                     {"type":"pong","investigation_id":null,"data":{}}
//                     {"type":"error","investigation_id":ID|null,"data":{code,message,field?}}

class WsSession : public http::Stream {
 public:
  WsSession(const ApiContext& ctx, const std::string& request_id, core::Principal principal,
            std::string rate_key, std::unique_ptr<live::ConnectionLimits::Ticket> ticket)
      : ctx_(ctx),
        principal_(std::move(principal)),
        rate_key_(std::move(rate_key)),
        ticket_(std::move(ticket)),
        tally_(ctx.hub.metrics(), ctx.clock, request_id) {}

  Kind kind() const override { return Kind::kWebSocket; }

  void Start(std::function<void()> wake, Executor* executor) override {
    wake_ = std::move(wake);
    executor_ = executor;
    ctx_.hub.metrics().ws_open.fetch_add(1, std::memory_order_relaxed);
    ctx_.hub.metrics().ws_opened.fetch_add(1, std::memory_order_relaxed);
  }

  void OnMessage(std::string_view text) override {
    // A client that sends without reading what it is sent is not owed more answers: past a bound
    // the socket is closed (see Poll).
    if (replies_.size() >= kMaxPendingReplies) {
      overloaded_ = true;
      return;
    }
    Result<boost::json::value> message = ParseStrictJson(text);
    if (!message) {
      return Reply("error", nullptr,
                   WsErrorData(Error(ErrorCode::kInvalidArgument,
                                     "a message is a JSON object: " + message.error().message,
                                     message.error().field)));
    }
    if (!message->is_object()) {
      return Reply("error", nullptr,
                   WsErrorData(Error(ErrorCode::kInvalidArgument, "a message is a JSON object")));
    }
    const boost::json::object& m = message->as_object();
    const boost::json::value* type = m.if_contains("type");
    std::string_view kind = type && type->is_string() ? std::string_view(type->as_string()) : "";
    if (kind == "ping") return Reply("pong", nullptr, "{}");
    if (kind != "subscribe" && kind != "unsubscribe") {
      return Reply("error", nullptr,
                   WsErrorData(Error(ErrorCode::kInvalidArgument,
                                     "'type' must be subscribe, unsubscribe or ping", "type")));
    }
    const boost::json::value* id_value = m.if_contains("investigation_id");
    if (!id_value || !id_value->is_string() || id_value->as_string().empty() ||
        id_value->as_string().size() > 200) {
      return Reply(
          "error", nullptr,
          WsErrorData(Error(ErrorCode::kInvalidArgument,
                            "'investigation_id' must be a non-empty string", "investigation_id")));
    }
    std::string id(id_value->as_string());
    if (kind == "unsubscribe") {
      Unsubscribe(id);
      return Reply("unsubscribed", &id, "{}");
    }
    std::optional<std::string> after;
    if (const boost::json::value* a = m.if_contains("after"); a && !a->is_null()) {
      if (!a->is_string()) {
        return Reply("error", &id,
                     WsErrorData(Error(ErrorCode::kInvalidArgument,
                                       "'after' must be an event id or null", "after")));
      }
      after = std::string(a->as_string());
    }
    // Each subscribe reads an investigation, perhaps from the store: it spends the read budget.
    if (ctx_.rate_limiter) {
      http::RateLimiter::Decision d =
          ctx_.rate_limiter->Spend(http::Budget::kRead, rate_key_, ctx_.clock.NowMs());
      if (!d.allowed) {
        return Reply("error", &id,
                     WsErrorData(Error(ErrorCode::kRateLimited,
                                       "rate limit exceeded; retry after " +
                                           std::to_string(d.retry_after_s) + " s")));
      }
    }
    Unsubscribe(id);  // a second subscribe to the same investigation replaces the first
    if (followers_.size() >= ctx_.options.ws_max_subscriptions) {
      return Reply(
          "error", &id,
          WsErrorData(Error(ErrorCode::kUnavailable,
                            "at most " + std::to_string(ctx_.options.ws_max_subscriptions) +
                                " subscriptions per socket")));
    }
    auto follower =
        std::make_shared<live::Follower>(ctx_.engine, ctx_.hub, ctx_.clock, principal_, id, "",
                                         std::move(after), FollowOptionsOf(ctx_), wake_, executor_);
    follower->Start();
    followers_.push_back(std::move(follower));
    ctx_.hub.metrics().ws_subscriptions.fetch_add(1, std::memory_order_relaxed);
  }

  void Poll(SteadyTime now, Output& out) override {
    out.frames = std::move(replies_);
    replies_.clear();
    if (overloaded_) {
      out.done = true;
      return;
    }
    SteadyTime next = SteadyTime::max();
    auto& m = ctx_.hub.metrics();
    for (size_t i = 0; i < followers_.size();) {
      live::Follower& f = *followers_[i];
      items_.clear();
      next = std::min(next, f.Poll(now, items_));
      for (const live::FollowItem& item : items_) {
        out.frames.push_back(WsMessage(item, f.investigation_id()));
        tally_.Count(item);
      }
      if (f.done()) {
        followers_.erase(followers_.begin() + static_cast<std::ptrdiff_t>(i));
        m.ws_subscriptions.fetch_sub(1, std::memory_order_relaxed);
      } else {
        ++i;
      }
    }
    out.wake_at = next;
    tally_.Polled(out.frames.size());
  }

  void Sent(SteadyTime) override { tally_.Sent(); }

  void Closed(std::string_view) override {
    for (auto& f : followers_) f->Stop();
    ctx_.hub.metrics().ws_subscriptions.fetch_sub(static_cast<int64_t>(followers_.size()),
                                                  std::memory_order_relaxed);
    followers_.clear();
    // A socket whose handshake failed was never started, nor counted.
    if (wake_) ctx_.hub.metrics().ws_open.fetch_sub(1, std::memory_order_relaxed);
    ticket_.reset();
  }

 private:
  void Reply(std::string_view type, const std::string* id, std::string data) {
    replies_.push_back(WsControl(type, id, std::move(data)));
  }
  void Unsubscribe(const std::string& id) {
    for (size_t i = 0; i < followers_.size(); ++i) {
      if (followers_[i]->investigation_id() == id) {
        followers_[i]->Stop();
        followers_.erase(followers_.begin() + static_cast<std::ptrdiff_t>(i));
        ctx_.hub.metrics().ws_subscriptions.fetch_sub(1, std::memory_order_relaxed);
        return;
      }
    }
  }

  const ApiContext& ctx_;
  const core::Principal principal_;
  const std::string rate_key_;  // whom each subscribe is charged to
  std::unique_ptr<live::ConnectionLimits::Ticket> ticket_;
  std::function<void()> wake_;
  Executor* executor_ = nullptr;
  std::vector<std::shared_ptr<live::Follower>> followers_;
  static constexpr size_t kMaxPendingReplies = 1024;
  std::vector<Frame> replies_;
  bool overloaded_ = false;  // replies piled up unread: close
  std::vector<live::FollowItem> items_;
  DeliveryTally tally_;
};

void WebSocket(const ApiContext& ctx, const Request& req, Responder respond) {
  if (!http::EqualsIgnoreCase(req.Header("upgrade"), "websocket")) {
    return RespondError(req, respond,
                        Error(ErrorCode::kInvalidArgument,
                              "/api/v1/ws is a WebSocket: send an Upgrade: websocket request"));
  }
  auto ticket = AdmitStream(ctx, req);
  if (!ticket) return RespondError(req, respond, ticket.error());
  http::Response res;
  res.status = 101;
  res.stream = std::make_shared<WsSession>(ctx, req.request_id, req.principal,
                                           http::RateLimitKey(req), std::move(*ticket));
  respond(std::move(res));
}

}  // namespace

void RegisterLiveRoutes(http::Router& router, const ApiContext& ctx) {
  router.Add(http::Method::kGet, "/api/v1/investigations/{id}/runs/{run_id}/stream",
             [&ctx](const Request& q, Responder r) { Stream(ctx, q, r); },
             {.budget = http::Budget::kStream});
  router.Add(http::Method::kGet, "/api/v1/ws",
             [&ctx](const Request& q, Responder r) { WebSocket(ctx, q, r); },
             {.budget = http::Budget::kStream});
}

}  // namespace vigil::api
