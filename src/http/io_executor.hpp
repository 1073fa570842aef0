// IoExecutor: one I/O thread of the server as a Executor, for the live hub and the stream
// sessions to run work on a connection's thread.
//
// Owned by the server core (http/server_core.hpp): one per io_context, created with it, closed
// in Server::Stop before the io_context is destroyed. Post may be called from any thread, also
// while or after the server stops (a post after Close is dropped); InThisThread from any thread at
// any time.
//
// Internal to src/http: it sees Asio, and only the transport files include it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <mutex>

#include "base/executor.hpp"

namespace vigil::http::detail {

// An I/O thread as a Executor: what the live hub posts its deliveries to. Post is dropped
// once the server closed it (before its io_context is destroyed).
class IoExecutor final : public Executor {
 public:
  explicit IoExecutor(boost::asio::io_context& io) : io_(&io) {}
  void Post(std::function<void()> task) override;
  void Close();
  // Whether the caller runs on this I/O thread. Touches nothing but a thread-local, so it may be
  // asked at any time, also while the server stops.
  bool InThisThread() const { return current_ == this; }

  // Marks the calling thread as this executor's for the scope's lifetime (the I/O thread's run).
  class ThisThread {
   public:
    explicit ThisThread(const IoExecutor& executor) { current_ = &executor; }
    ~ThisThread() { current_ = nullptr; }
    ThisThread(const ThisThread&) = delete;
    ThisThread& operator=(const ThisThread&) = delete;
  };

 private:
  // Defined here, with a constant initializer, so that every file reads it directly (no call to a
  // thread-local wrapper): InThisThread is asked on each stream wake.
  static inline constinit thread_local const IoExecutor* current_ = nullptr;
  std::mutex mu_;
  boost::asio::io_context* io_;  // Guarded by mu_; null once closed
};

}  // namespace vigil::http::detail
