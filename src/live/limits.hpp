// ConnectionLimits: how many streams and sockets may be open at once, in all and per user.
// A stream holds a Ticket for its life; beyond a limit TryAcquire refuses (the API answers 503
// with Retry-After).
//
// Thread-safety: every method may be called from any thread; a Ticket may be released anywhere.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace vigil::live {

class ConnectionLimits : public std::enable_shared_from_this<ConnectionLimits> {
 public:
  ConnectionLimits(size_t total, size_t per_user) : total_(total), per_user_(per_user) {}

  // Released when destroyed.
  class Ticket {
   public:
    Ticket(std::shared_ptr<ConnectionLimits> limits, std::string user)
        : limits_(std::move(limits)), user_(std::move(user)) {}
    ~Ticket() { limits_->Release(user_); }
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;

   private:
    std::shared_ptr<ConnectionLimits> limits_;
    std::string user_;
  };

  enum class Refusal { kNone, kTotal, kPerUser };
  // A ticket, or nullptr with the limit that refused it in `*why`.
  std::unique_ptr<Ticket> TryAcquire(const std::string& user, Refusal* why = nullptr);
  size_t open() const;

 private:
  void Release(const std::string& user);

  const size_t total_;
  const size_t per_user_;
  mutable std::mutex mu_;
  size_t open_ = 0;                                  // Guarded by mu_
  std::unordered_map<std::string, size_t> by_user_;  // Guarded by mu_
};

}  // namespace vigil::live
