#include "live/limits.hpp"

namespace vigil::live {

std::unique_ptr<ConnectionLimits::Ticket> ConnectionLimits::TryAcquire(const std::string& user,
                                                                       Refusal* why) {
  {
    std::lock_guard lock(mu_);
    Refusal refusal = Refusal::kNone;
    if (open_ >= total_) {
      refusal = Refusal::kTotal;
    } else if (by_user_[user] >= per_user_) {
      refusal = Refusal::kPerUser;
    }
    if (why) *why = refusal;
    if (refusal != Refusal::kNone) {
      if (by_user_[user] == 0) by_user_.erase(user);
      return nullptr;
    }
    ++open_;
    ++by_user_[user];
  }
  return std::make_unique<Ticket>(shared_from_this(), user);
}

size_t ConnectionLimits::open() const {
  std::lock_guard lock(mu_);
  return open_;
}

void ConnectionLimits::Release(const std::string& user) {
  std::lock_guard lock(mu_);
  --open_;
  auto it = by_user_.find(user);
  if (it != by_user_.end() && --it->second == 0) by_user_.erase(it);
}

}  // namespace vigil::live
