// Deadline: a connection's one timer for the deadlines of its reads and writes, moved lazily.
//
// beast::tcp_stream starts a timer wait when each read or write begins and cancels it when the
// operation ends: with few connections that is a timerfd_settime per operation (the new expiry is
// the earliest), and every cancelled wait is one more handler through the scheduler (one more
// epoll_wait with a zero timeout). Here a later deadline only moves `at`; the one timer of the
// connection keeps its expiry, and when it fires before `at` it waits again for the rest. The
// timer is only re-armed when a deadline moves earlier than its expiry, or after it fired. When
// a deadline passes during an operation, the socket's operations are cancelled, and Disarm turns
// their operation_aborted into beast::error::timeout.
//
// Owned by one session (http/session.cpp), declared after the socket it watches, and used on the
// connection's thread only: not thread-safe. A wait still queued when the session is gone finds
// the shared state cleared and does nothing.
//
// Header-only: Arm and Disarm run around every read and write of the hot path, and stay inline.
// Internal to src/http: it sees Asio; only the transport files include it.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <chrono>
#include <cstdint>
#include <memory>

namespace vigil::http::detail {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  // `socket` must outlive this.
  explicit Deadline(boost::asio::ip::tcp::socket& socket)
      : timer_(socket.get_executor()), state_(std::make_shared<State>()) {
    state_->timer = &timer_;
    state_->socket = &socket;
  }
  ~Deadline() {
    state_->timer = nullptr;  // a wait still queued finds the session gone
    state_->socket = nullptr;
  }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  // The socket operations that follow, until Disarm, must end within `timeout`. No system call
  // unless the deadline is earlier than the timer's expiry.
  void Arm(Clock::duration timeout) { ArmUntil(Clock::now() + timeout); }
  void ArmUntil(Clock::time_point at) {
    State& d = *state_;
    d.at = at;
    d.waiting = true;
    d.expired = false;
    if (!d.armed || d.at < d.armed_at) Wait(state_);
  }
  // Ends the timed operations; an operation the deadline cancelled reports beast::error::timeout.
  void Disarm(boost::beast::error_code& ec) {
    state_->waiting = false;
    if (ec == boost::asio::error::operation_aborted && state_->expired) {
      ec = boost::beast::error::timeout;
    }
  }

 private:
  // Shared with the timer's pending wait, which may outlive the session.
  struct State {
    boost::asio::steady_timer* timer = nullptr;  // null once the session is gone
    boost::asio::ip::tcp::socket* socket = nullptr;
    Clock::time_point at = Clock::time_point::max();  // when the operation under way times out
    Clock::time_point armed_at;                       // the expiry the timer waits for
    uint64_t generation = 0;                          // of the wait that counts
    bool armed = false;
    bool waiting = false;  // an operation the deadline applies to is under way
    // The deadline passed while waiting: the socket's operations were cancelled.
    bool expired = false;
  };

  static void Wait(const std::shared_ptr<State>& d) {
    d->armed = true;
    d->armed_at = d->at;
    const uint64_t generation = ++d->generation;
    d->timer->expires_at(d->at);  // cancels an earlier wait: its handler sees an old generation
    d->timer->async_wait([d, generation](const boost::beast::error_code& ec) {
      if (ec || generation != d->generation || !d->timer) return;  // re-armed, or session gone
      d->armed = false;
      if (!d->waiting) return;  // between operations; the next one arms the timer again
      if (Clock::now() < d->at) {
        Wait(d);  // the deadline moved later meanwhile
        return;
      }
      d->expired = true;
      boost::beast::error_code ignored;
      d->socket->cancel(ignored);  // the pending operation ends with operation_aborted
    });
  }

  boost::asio::steady_timer timer_;
  std::shared_ptr<State> state_;
};

}  // namespace vigil::http::detail
