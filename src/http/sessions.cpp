#include "http/sessions.hpp"

#include <sys/random.h>

#include <array>
#include <stdexcept>
#include <vector>

namespace vigil::http {

std::string RandomId() {
  std::array<unsigned char, 32> bytes;
  size_t got = 0;
  while (got < bytes.size()) {
    ssize_t n = getrandom(bytes.data() + got, bytes.size() - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("getrandom failed");
    }
    got += static_cast<size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

std::string_view CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    while (!pair.empty() && (pair.front() == ' ' || pair.front() == '\t')) pair.remove_prefix(1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = pair.substr(0, eq);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.remove_suffix(1);
    if (key != name) continue;
    std::string_view value = pair.substr(eq + 1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return value;
  }
  return {};
}

void Sessions::Prune() {
  if (cached_.size() < max_sessions_) return;
  const int64_t now_s = clock_.NowMs() / 1000;
  const int64_t stale_ns = clock_.MonotonicNs() - std::chrono::nanoseconds(ttl_).count();
  for (auto it = cached_.begin(); it != cached_.end();) {
    const Cached& c = it->second;
    const bool gone = c.loaded_ns <= stale_ns || !c.entry || c.entry->expires_at_s <= now_s;
    it = gone ? cached_.erase(it) : std::next(it);
  }
  // Still full of live sessions: the oldest lookups make room (they are asked again when used).
  while (cached_.size() >= max_sessions_) {
    auto oldest = cached_.begin();
    for (auto it = cached_.begin(); it != cached_.end(); ++it) {
      if (it->second.loaded_ns < oldest->second.loaded_ns) oldest = it;
    }
    cached_.erase(oldest);
  }
}

Sessions::Known Sessions::Lookup(std::string_view id, std::string* token) const {
  std::lock_guard lock(mu_);
  auto it = cached_.find(std::string(id));
  if (it == cached_.end()) return loader_ ? Known::kAsk : Known::kEnded;
  const Cached& c = it->second;
  if (loader_ && clock_.MonotonicNs() - c.loaded_ns > std::chrono::nanoseconds(ttl_).count()) {
    return Known::kAsk;
  }
  if (!c.entry || c.entry->expires_at_s <= clock_.NowMs() / 1000) return Known::kEnded;
  *token = c.entry->token;
  return Known::kValid;
}

void Sessions::Load(std::string id, std::function<void(Result<std::optional<SessionEntry>>)> done) {
  auto live = [this](std::optional<SessionEntry> entry) {
    if (entry && entry->expires_at_s <= clock_.NowMs() / 1000) entry.reset();
    return entry;
  };
  if (!loader_) {
    std::string token;
    if (Lookup(id, &token) != Known::kValid) return done(std::optional<SessionEntry>());
    std::lock_guard lock(mu_);
    return done(live(cached_[id].entry));
  }
  loader_(id, [this, id, live, done = std::move(done)](Result<std::optional<SessionEntry>> found) {
    if (!found) return done(Fail(found.error()));
    {
      std::lock_guard lock(mu_);
      Prune();
      cached_[id] = Cached{*found, clock_.MonotonicNs()};
    }
    done(live(std::move(*found)));
  });
}

void Sessions::Remember(std::string id, SessionEntry entry) {
  std::lock_guard lock(mu_);
  Prune();
  cached_[std::move(id)] = Cached{std::move(entry), clock_.MonotonicNs()};
}

void Sessions::Forget(std::string_view id) {
  std::lock_guard lock(mu_);
  // Remembered as ended: a request already on its way here does not load it back.
  cached_[std::string(id)] = Cached{std::nullopt, clock_.MonotonicNs()};
}

size_t Sessions::size() const {
  std::lock_guard lock(mu_);
  return cached_.size();
}

}  // namespace vigil::http
