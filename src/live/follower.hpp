// Follower: one client following one investigation — the logic shared by the SSE stream and a
// WebSocket subscription, without any transport in it.
//
// It turns the log and the hub into one ordered sequence of items with no gap and no duplicate:
//
//   fresh (no resume id)   snapshot(S) · events after S · …
//   resume after id X      events after X, replayed from the log · caught_up · progress · live …
//   X malformed, not an event of this investigation, or after its newest event
//                          reset(S) · events after S · …  (the reason says "cursor expired"
//                          when X is also older than the cursor expiry: core::CursorExpiry)
//
// The subscription to the hub is taken before the snapshot S or the replay is read, so an event
// committed meanwhile is either in what was read or in the subscriber's queue (or both: every
// event at or before the last one handed out is skipped). The replay is read in pages, from the
// investigation's recent log in memory when it reaches back far enough, from the store on the
// read pool otherwise; the next page is read only when the previous one was handed out, so a slow
// client slows its own replay and nothing else.
//
// Besides the events: a progress item (the full snapshot) at most once per progress interval
// while the investigation changes — at once after a status change, never coalesced away at the
// end; at a terminal state (for the run followed): the final events, a last progress and an end
// item, then nothing more. A subscriber whose queue overflowed gets a cut item and ends.
//
// Thread-safety: Start, Poll and Stop on one thread (the connection's, which is `executor`'s when
// one is given); the engine's callbacks come from others and only hand over results under mu_
// and wake the connection.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "core/cursor.hpp"
#include "core/principal.hpp"
#include "engine/engine.hpp"
#include "live/hub.hpp"

namespace vigil::live {

using SteadyTime = std::chrono::steady_clock::time_point;

struct FollowOptions {
  std::chrono::milliseconds progress_interval{500};  // SSE_PROGRESS_INTERVAL_MS
  // Whether coalesced progress items are wanted at all (a client that folds the events itself
  // may do without). The snapshot, reset and end items come regardless.
  bool progress = true;
  size_t replay_page = 500;  // events read from the log at a time
  // EVENT_FEED_CURSOR_EXPIRY_DAYS: how a resume id that is not an event is reported (an event's id
  // is usable however old; core::CursorExpiry).
  int64_t cursor_max_age_ms = int64_t{30} * 86'400'000;
};

struct FollowItem {
  enum class Kind {
    kSnapshot,  // snapshot: where a fresh follower starts
    kEvent,     // event: one event of the log
    kCaughtUp,  // the replay reached the live edge
    kProgress,  // snapshot: the investigation now (coalesced)
    kReset,     // snapshot, reason: the resume id was unusable; start again from here
    kEnd,       // snapshot, reason: the run reached a terminal state; nothing follows
    kCut,       // reason: the follower fell too far behind; resume from the last event
    kError,     // reason (ClientMessage), code: the investigation could not be read
  };
  Kind kind;
  SharedEventPtr event;
  engine::SnapshotPtr snapshot;
  std::string reason;
  core::EventId last_event_id;  // the newest event handed out, this one included
  bool live = false;  // kEvent: it came from the hub as it was committed, not from a replay
  ErrorCode code = ErrorCode::kInternal;  // kError: what went wrong (kNotFound: not visible)
  std::string log;  // kError of kInternal: the whole error, for the server's log only
};

class Follower : public std::enable_shared_from_this<Follower> {
 public:
  // `after`: nullopt for a fresh start; the resume id as the client sent it otherwise ("0_000000":
  // from the beginning). `run_id`: the run followed; empty for whichever run is current.
  // `wake` is called when Poll has something new: on `executor`'s thread for what the hub
  // delivers when one is given (the follower then lives on that thread), and from any thread for
  // what the engine's read pool hands back.
  Follower(engine::Engine& engine, Hub& hub, const Clock& clock, core::Principal principal,
           std::string investigation_id, std::string run_id, std::optional<std::string> after,
           FollowOptions options, std::function<void()> wake, Executor* executor = nullptr);
  ~Follower();
  Follower(const Follower&) = delete;
  Follower& operator=(const Follower&) = delete;

  void Start();
  // Appends what is ready. Returns when Poll must run again even without a wake (a coalesced
  // progress falls due), or SteadyTime::max().
  SteadyTime Poll(SteadyTime now, std::vector<FollowItem>& out);
  // Leaves the hub; Poll gives nothing more. Idempotent.
  void Stop();

  bool done() const { return phase_ == Phase::kDone; }
  // Replaying the log from memory: the next page is there for the next Poll, without a wake.
  bool has_more() const { return phase_ == Phase::kReplaying && !reading_; }
  bool replayed() const { return replayed_; }  // it resumed from the log
  core::EventId last_event_id() const { return last_sent_; }
  const std::string& investigation_id() const { return investigation_id_; }

 private:
  enum class Phase { kStarting, kReplaying, kLive, kDone };

  using Page = engine::EventPage;

  void Begin(engine::SnapshotPtr snapshot, std::vector<FollowItem>& out);
  // Starts at snapshot S: a snapshot or reset item, then live.
  void StartAt(FollowItem::Kind kind, std::string reason, std::vector<FollowItem>& out);
  void Replay(std::vector<FollowItem>& out);
  void HandPage(Page page, std::vector<FollowItem>& out);
  SteadyTime Live(SteadyTime now, std::vector<FollowItem>& out);
  void EmitEvent(const SharedEventPtr& event, std::vector<FollowItem>& out, bool live = false);
  void Emit(std::vector<FollowItem>& out, FollowItem::Kind kind,
            engine::SnapshotPtr snapshot = nullptr, std::string reason = "");
  void EmitError(std::vector<FollowItem>& out, const Error& error);
  bool IsOver(const engine::Snapshot& s) const;
  void Finish(std::vector<FollowItem>& out);
  // Runs `f` with the follower if it still exists, then wakes it.
  template <typename F>
  auto Callback(F f);

  engine::Engine& engine_;
  Hub& hub_;
  const Clock& clock_;
  const core::Principal principal_;
  const std::string investigation_id_;
  const std::string run_id_;
  const std::optional<std::string> after_;
  const FollowOptions options_;
  const std::function<void()> wake_;
  Executor* const executor_;

  SubscriberPtr subscriber_;
  Subscriber::Taken taken_;  // reused by every Take
  Phase phase_ = Phase::kStarting;
  engine::SnapshotPtr latest_;     // the newest snapshot known
  int64_t progress_version_ = -1;  // the version of the last snapshot handed out
  SteadyTime progress_at_{};       // when it was handed out
  SteadyTime now_{};               // the time of the Poll under way: the follower reads no clock
  bool progress_now_ = false;      // a status change was handed out: progress without delay
  core::EventId last_sent_;        // the newest event handed out
  core::EventId replay_from_;      // the replay's next page starts after this
  std::optional<core::EventId> expect_first_;  // the resume id, to be found first in the log
  bool replayed_ = false;
  bool reading_ = false;  // a page or the snapshot is being read on the read pool

  std::mutex mu_;                                      // guards what the callbacks hand over:
  std::optional<Result<engine::SnapshotPtr>> loaded_;  // Guarded by mu_
  std::optional<Result<Page>> page_;                   // Guarded by mu_
};

}  // namespace vigil::live
