// IoExecutor (io_executor.hpp): posting to an I/O thread, dropped once the server closed it.
// Post and Close take the executor's mutex; both may be called from any thread.
#include "http/io_executor.hpp"

#include <boost/asio/post.hpp>
#include <utility>

namespace vigil::http::detail {

void IoExecutor::Post(std::function<void()> task) {
  std::function<void()> dropped;  // destroyed after the lock: its destructor may do work
  std::lock_guard lock(mu_);
  if (io_) {
    boost::asio::post(*io_, std::move(task));
  } else {
    dropped = std::move(task);
  }
}

void IoExecutor::Close() {
  std::lock_guard lock(mu_);
  io_ = nullptr;
}

}  // namespace vigil::http::detail
