// A fixed set of database connections lent to one reader each: a store's read pool, whatever its
// backend.
//
// Thread-safety: Borrow may be called from any thread; it waits while every connection is lent.
// A Lease is its holder's alone. The pool must outlive its leases.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace vigil::store::common {

template <typename Connection>
class ConnectionPool {
 public:
  explicit ConnectionPool(std::vector<std::unique_ptr<Connection>> connections)
      : idle_(std::move(connections)) {}

  // A connection on loan for the life of this object.
  class Lease {
   public:
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      {
        std::lock_guard lock(pool_->mu_);
        pool_->idle_.push_back(std::move(connection_));
      }
      pool_->returned_.notify_one();
    }

    Connection* operator->() const { return connection_.get(); }
    Connection& operator*() const { return *connection_; }

   private:
    friend class ConnectionPool;
    Lease(ConnectionPool* pool, std::unique_ptr<Connection> connection)
        : pool_(pool), connection_(std::move(connection)) {}

    ConnectionPool* const pool_;
    std::unique_ptr<Connection> connection_;
  };

  Lease Borrow() {
    std::unique_lock lock(mu_);
    if (idle_.empty()) {
      const auto since = std::chrono::steady_clock::now();
      returned_.wait(lock, [this] { return !idle_.empty(); });
      ++waits_;
      wait_ns_ += static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                            std::chrono::steady_clock::now() - since)
                                            .count());
    }
    std::unique_ptr<Connection> connection = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(connection));
  }

  // Borrows that found every connection lent, and the time they waited in all.
  std::pair<uint64_t, uint64_t> waits() const {
    std::lock_guard lock(mu_);
    return {waits_, wait_ns_};
  }

 private:
  mutable std::mutex mu_;
  uint64_t waits_ = 0;                             // Guarded by mu_
  uint64_t wait_ns_ = 0;                           // Guarded by mu_
  std::condition_variable returned_;               // signalled when a connection joins idle_
  std::vector<std::unique_ptr<Connection>> idle_;  // Guarded by mu_
};

}  // namespace vigil::store::common
