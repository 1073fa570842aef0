#include "live/follower.hpp"

#include <algorithm>

namespace vigil::live {

Follower::Follower(engine::Engine& engine, Hub& hub, const Clock& clock, core::Principal principal,
                   std::string investigation_id, std::string run_id,
                   std::optional<std::string> after, FollowOptions options,
                   std::function<void()> wake, Executor* executor)
    : engine_(engine),
      hub_(hub),
      clock_(clock),
      principal_(std::move(principal)),
      investigation_id_(std::move(investigation_id)),
      run_id_(std::move(run_id)),
      after_(std::move(after)),
      options_(options),
      wake_(std::move(wake)),
      executor_(executor) {}

Follower::~Follower() { Stop(); }

template <typename F>
auto Follower::Callback(F f) {
  return [weak = weak_from_this(), f = std::move(f)](auto result) mutable {
    std::shared_ptr<Follower> self = weak.lock();
    if (!self) return;
    {
      std::lock_guard lock(self->mu_);
      f(*self, std::move(result));
    }
    self->wake_();
  };
}

void Follower::Start() {
  // First the subscription, then the snapshot: whatever commits in between is in the queue.
  subscriber_ = hub_.Subscribe(investigation_id_, wake_, executor_);
  if (engine::SnapshotPtr s = engine_.CachedFor(principal_, investigation_id_)) {
    std::lock_guard lock(mu_);
    loaded_ = s;
    return;
  }
  reading_ = true;
  engine_.Get(
      principal_, investigation_id_,
      Callback([](Follower& self, Result<engine::SnapshotPtr> r) { self.loaded_ = std::move(r); }));
}

void Follower::Stop() {
  if (subscriber_) hub_.Unsubscribe(subscriber_);
  subscriber_.reset();
  phase_ = Phase::kDone;
}

SteadyTime Follower::Poll(SteadyTime now, std::vector<FollowItem>& out) {
  now_ = now;
  if (phase_ == Phase::kStarting) {
    std::optional<Result<engine::SnapshotPtr>> loaded;
    {
      std::lock_guard lock(mu_);
      loaded.swap(loaded_);
    }
    if (!loaded) return SteadyTime::max();  // wait for the callback's wake
    reading_ = false;
    if (!*loaded) {
      EmitError(out, loaded->error());
      Stop();
      return SteadyTime::max();
    }
    Begin(std::move(**loaded), out);
  }
  if (phase_ == Phase::kReplaying) Replay(out);
  if (phase_ == Phase::kLive) return Live(now, out);
  return SteadyTime::max();
}

void Follower::Begin(engine::SnapshotPtr snapshot, std::vector<FollowItem>& out) {
  latest_ = std::move(snapshot);
  if (!after_) return StartAt(FollowItem::Kind::kSnapshot, "", out);
  std::optional<core::EventId> after = core::ParseEventId(*after_);
  if (!after) {
    return StartAt(FollowItem::Kind::kReset, "malformed event id '" + *after_ + "'", out);
  }
  if (!after->IsZero()) {
    // The replay's first page tells whether the id is an event of the log (HandPage). That it
    // is old does not matter if it is one (core::CursorExpiry). An id after the snapshot's head
    // may be an event the log has and the snapshot does not yet show (a replay can hand one out
    // just before its snapshot is installed): the replay finds it, or resets.
    replay_from_ = core::EventIdBefore(*after);
    expect_first_ = *after;
  }
  replayed_ = true;
  phase_ = Phase::kReplaying;
}

void Follower::StartAt(FollowItem::Kind kind, std::string reason, std::vector<FollowItem>& out) {
  last_sent_ = latest_->investigation().last_event_id;
  Emit(out, kind, latest_, std::move(reason));
  progress_version_ = latest_->version();
  progress_at_ = now_;
  phase_ = Phase::kLive;
}

void Follower::Replay(std::vector<FollowItem>& out) {
  while (phase_ == Phase::kReplaying) {
    if (reading_) {
      std::optional<Result<Page>> page;
      {
        std::lock_guard lock(mu_);
        page.swap(page_);
      }
      if (!page) return;  // the callback wakes us
      reading_ = false;
      if (!*page) {
        EmitError(out, page->error());
        Stop();
        return;
      }
      HandPage(std::move(**page), out);
      return;  // one page per Poll: the next is read once this one is written
    }
    reading_ = true;
    engine_.ReadLog(
        principal_, {investigation_id_, replay_from_, options_.replay_page, {}},
        Callback([](Follower& self, Result<engine::EventPage> r) { self.page_ = std::move(r); }));
    // From memory the page is there already; from the store the callback wakes us.
  }
}

void Follower::HandPage(Page page, std::vector<FollowItem>& out) {
  size_t first = 0;
  if (expect_first_) {
    // The resume id must be an event of this investigation: the first one read after the
    // position just before it.
    if (page.events.empty() || page.events.front()->id() != *expect_first_) {
      const core::EventId resume = *expect_first_;
      expect_first_.reset();
      // Not an event of this log: expired if it is old, by the rule every cursor follows.
      auto usable = core::CursorExpiry(options_.cursor_max_age_ms)
                        .Check(resume, /*names_event=*/false, clock_.NowMs());
      return StartAt(FollowItem::Kind::kReset,
                     usable ? "event " + *after_ + " is not in this investigation's log"
                            : usable.error().message,
                     out);
    }
    last_sent_ = *expect_first_;
    expect_first_.reset();
    first = 1;
  }
  for (size_t i = first; i < page.events.size(); ++i) EmitEvent(page.events[i], out);
  replay_from_ = last_sent_;
  if (page.more) return;
  Emit(out, FollowItem::Kind::kCaughtUp);
  // A progress follows at once (progress_version_ is still -1), from the newest snapshot that
  // includes nothing not yet handed out.
  if (engine::SnapshotPtr now = engine_.Cached(investigation_id_);
      now && now->version() > latest_->version() &&
      now->investigation().last_event_id <= last_sent_) {
    latest_ = std::move(now);
  }
  phase_ = Phase::kLive;
}

void Follower::EmitEvent(const SharedEventPtr& event, std::vector<FollowItem>& out, bool live) {
  last_sent_ = event->id();
  out.push_back({FollowItem::Kind::kEvent, event, nullptr, "", last_sent_});
  out.back().live = live;
  if (event->type() == core::EventType::kStatusChange) progress_now_ = true;
}

void Follower::Emit(std::vector<FollowItem>& out, FollowItem::Kind kind,
                    engine::SnapshotPtr snapshot, std::string reason) {
  out.push_back({kind, nullptr, std::move(snapshot), std::move(reason), last_sent_});
}

void Follower::EmitError(std::vector<FollowItem>& out, const Error& error) {
  Emit(out, FollowItem::Kind::kError, nullptr, std::string(ClientMessage(error)));
  out.back().code = error.code;
  if (error.code == ErrorCode::kInternal) out.back().log = Describe(error);
}

bool Follower::IsOver(const engine::Snapshot& s) const {
  return core::IsTerminal(s.state()) || (!run_id_.empty() && s.investigation().run_id != run_id_);
}

SteadyTime Follower::Live(SteadyTime now, std::vector<FollowItem>& out) {
  Subscriber::Taken& taken = taken_;
  subscriber_->Take(taken);
  if (taken.overflowed) {
    Emit(out, FollowItem::Kind::kCut, nullptr, "slow_consumer");
    Stop();
    return SteadyTime::max();
  }
  for (const SharedEventPtr& e : taken.events) {
    if (e->id() > last_sent_) EmitEvent(e, out, /*live=*/true);
  }
  // A published snapshot never includes an event that was not published with or before it.
  if (taken.snapshot && taken.snapshot->version() > latest_->version()) {
    latest_ = std::move(taken.snapshot);
  }
  taken.events.clear();  // keeps its capacity for the next Take
  taken.snapshot.reset();
  const bool over = IsOver(*latest_) && latest_->investigation().last_event_id <= last_sent_;
  SteadyTime next = SteadyTime::max();
  if (options_.progress && latest_->version() > progress_version_) {
    SteadyTime due = progress_at_ + options_.progress_interval;
    if (progress_now_ || over || now >= due || progress_version_ < 0) {
      Emit(out, FollowItem::Kind::kProgress, latest_);
      progress_version_ = latest_->version();
      progress_at_ = now;
      progress_now_ = false;
    } else {
      next = due;
    }
  }
  if (over) {
    Finish(out);
    return SteadyTime::max();
  }
  return next;
}

void Follower::Finish(std::vector<FollowItem>& out) {
  std::string reason = core::IsTerminal(latest_->state())
                           ? std::string(core::StateName(latest_->state()))
                           : std::string("run_ended");
  Emit(out, FollowItem::Kind::kEnd, latest_, std::move(reason));
  Stop();
}

}  // namespace vigil::live
