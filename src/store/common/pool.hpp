// A fixed set of database connections lent to one reader each: a store's read pool, whatever its
// backend.
//
// Thread-safety: Borrow may be called from any thread; it waits while every connection is lent.
// A Lease is its holder's alone. The pool must outlive its leases.
#pragma once

#include <condition_variable>
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
    returned_.wait(lock, [this] { return !idle_.empty(); });
    std::unique_ptr<Connection> connection = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(connection));
  }

 private:
  std::mutex mu_;
  std::condition_variable returned_;               // signalled when a connection joins idle_
  std::vector<std::unique_ptr<Connection>> idle_;  // Guarded by mu_
};

}  // namespace vigil::store::common
