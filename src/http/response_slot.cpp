// The answer hand-off (response_slot.hpp): a slot's state is guarded by its own mutex, and a post
// to the session's executor happens only under it, so Server::Stop (PendingResponses::AbandonAll)
// can drop every waiting handler before the io_contexts go.
#include "http/response_slot.hpp"

#include <boost/asio/post.hpp>
#include <exception>
#include <string>
#include <utility>

#include "http/problem.hpp"

namespace vigil::http::detail {

namespace asio = boost::asio;

ResponseSlot::~ResponseSlot() {
  bool registered;
  {
    std::lock_guard lock(mu_);
    registered = registered_;
    if (handler_) {
      // The handler dropped its Responder without answering: a bug in the handler, but the
      // client still gets an answer.
      PostLocked(Problem(InternalError(std::string(MethodName(request.method)) +
                                       " was dropped by its handler without an answer"),
                         request),
                 nullptr);
    }
  }
  if (registered) pending_->Remove(this);
}

std::optional<Response> ResponseSlot::EndDispatch() {
  std::lock_guard lock(mu_);
  std::optional<Response> early = std::move(early_);
  early_.reset();
  return early;
}

void ResponseSlot::Arm(asio::any_completion_handler<Signature> handler,
                       asio::any_io_executor executor) {
  std::lock_guard lock(mu_);
  if (!pending_->Add(this)) return;  // Stopping: the handler is dropped, the session destroyed.
  registered_ = true;
  // Boost 1.81's any_completion_handler move-assignment recurses forever; swap instead.
  handler_.swap(handler);
  executor_ = std::move(executor);
  if (early_) {  // answered between EndDispatch and now
    Response response = std::move(*early_);
    early_.reset();
    PostLocked(std::move(response), shared_from_this());
  }
}

void ResponseSlot::Complete(Response response) {
  std::lock_guard lock(mu_);
  if (answered_) return;
  answered_ = true;
  if (handler_) {
    PostLocked(std::move(response), shared_from_this());
  } else {
    early_ = std::move(response);  // taken by EndDispatch, or posted by Arm
  }
}

void ResponseSlot::Abandon() {
  std::lock_guard lock(mu_);
  handler_ = nullptr;
  executor_ = {};
}

void ResponseSlot::PostLocked(Response response, std::shared_ptr<ResponseSlot> self) {
  asio::post(executor_, [handler = std::move(handler_), response = std::move(response),
                         self = std::move(self)]() mutable {
    std::move(handler)(std::move(response), std::move(self));
  });
  handler_ = nullptr;  // Moved from already; never `= {}` (see Arm).
  executor_ = {};
}

std::optional<Response> Dispatch(const Dispatcher& dispatcher,
                                 const std::shared_ptr<ResponseSlot>& slot) {
  Responder responder = [slot](Response response) { slot->Complete(std::move(response)); };
  try {
    dispatcher(slot->request, std::move(responder));
  } catch (const std::exception& e) {
    slot->Complete(Problem(InternalError(std::string("handler failed: ") + e.what()),
                           slot->request));  // Problem logs it
  } catch (...) {
    slot->Complete(Problem(InternalError("handler failed"), slot->request));
  }
  return slot->EndDispatch();
}

}  // namespace vigil::http::detail
