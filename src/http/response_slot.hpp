// The cross-thread answer hand-off: a dispatched request, and the way its answer gets back to
// the session that awaits it, from whichever thread the handler answers on.
//
//   ResponseSlot      one dispatched request. Owns the Request, so that it stays valid for as long
//                     as a handler holds the Responder, even if the server stops meanwhile. An
//                     answer given while the dispatcher is still running (from memory: most polls)
//                     is kept and taken as is (Dispatch); a later one, from any thread, is posted
//                     to the session's executor (AsyncAwait). Thread-safe: its own mutex.
//   PendingResponses  every slot that waits for a late answer, so that Server::Stop can drop
//                     their handlers while the io_contexts still exist. One per server, owned by
//                     the server core and shared with every slot. Thread-safe: its own mutex.
//
// Internal to src/http: it sees Asio; only the transport files include it.
#pragma once

#include <spdlog/logger.h>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_set>
#include <utility>

#include "http/message.hpp"
#include "http/server.hpp"

namespace vigil::http::detail {

class PendingResponses;

// One dispatched request and the way back to the session that awaits its answer. Owns the
// Request, so that it stays valid for as long as the handler holds the Responder, even if the
// server stops meanwhile.
class ResponseSlot : public std::enable_shared_from_this<ResponseSlot> {
 public:
  using Signature = void(Response, std::shared_ptr<ResponseSlot>);

  // The request is filled in afterwards, in place (ServeOne).
  explicit ResponseSlot(std::shared_ptr<PendingResponses> pending) : pending_(std::move(pending)) {}
  ~ResponseSlot();

  // After the dispatcher's call: an answer given before Arm is kept, not posted, and EndDispatch
  // hands it back.
  std::optional<Response> EndDispatch();
  // Called once, on the session's context, when the answer did not come during the dispatch.
  // When it has come meanwhile, the handler is posted at once.
  void Arm(boost::asio::any_completion_handler<Signature> handler,
           boost::asio::any_io_executor executor);
  // The first call delivers `response` to the session; later calls, and calls after the server
  // stopped, do nothing.
  void Complete(Response response);
  // Drops the session's handler without calling it (the server is stopping).
  void Abandon();

  Request request;

 private:
  // Requires mu_.
  void PostLocked(Response response, std::shared_ptr<ResponseSlot> self);

  std::shared_ptr<PendingResponses> pending_;
  std::mutex mu_;
  bool answered_ = false;          // Guarded by mu_.
  bool registered_ = false;        // Guarded by mu_.
  std::optional<Response> early_;  // Guarded by mu_: an answer not yet taken.
  boost::asio::any_completion_handler<Signature> handler_;  // Guarded by mu_; empty once used.
  boost::asio::any_io_executor executor_;                   // Guarded by mu_.
};

// Every armed slot, so that Stop can abandon them while the io_context still exists. Posting to
// the io_context happens under a slot's mutex, and Stop takes every slot's mutex (through
// AbandonAll) before destroying the io_context, so no post can race with its destruction.
class PendingResponses {
 public:
  explicit PendingResponses(std::shared_ptr<spdlog::logger> log) : log_(std::move(log)) {}

  bool Add(ResponseSlot* slot) {
    std::lock_guard lock(mu_);
    if (closed_) return false;
    slots_.insert(slot);
    return true;
  }
  void Remove(ResponseSlot* slot) {
    std::lock_guard lock(mu_);
    slots_.erase(slot);
  }
  void AbandonAll() {
    std::lock_guard lock(mu_);
    closed_ = true;
    for (ResponseSlot* slot : slots_) slot->Abandon();
    slots_.clear();
  }
  spdlog::logger& log() { return *log_; }

 private:
  std::shared_ptr<spdlog::logger> log_;
  std::mutex mu_;
  std::unordered_set<ResponseSlot*> slots_;  // Guarded by mu_.
  bool closed_ = false;                      // Guarded by mu_.
};

// Runs the dispatcher on the slot's request. Returns the answer when it was given before the
// dispatcher returned (served from memory); otherwise the session awaits it (AsyncAwait).
std::optional<Response> Dispatch(const Dispatcher& dispatcher,
                                 const std::shared_ptr<ResponseSlot>& slot);

// Completes with the slot's answer on the caller's executor, whichever thread gives it. From here
// the Responder alone keeps the slot: if the handler drops it unanswered, the slot answers 500 as
// it dies.
template <typename Token>
auto AsyncAwait(std::shared_ptr<ResponseSlot> slot, Token&& token) {
  return boost::asio::async_initiate<Token, ResponseSlot::Signature>(
      [](auto handler, std::shared_ptr<ResponseSlot> slot) {
        boost::asio::any_io_executor executor = boost::asio::get_associated_executor(handler);
        slot->Arm(std::move(handler), std::move(executor));
      },
      token, std::move(slot));
}

}  // namespace vigil::http::detail
