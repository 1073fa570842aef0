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

void Sessions::Prune(std::unordered_map<std::string, Entry>& map) {
  if (map.size() < max_sessions_) return;
  const int64_t now_s = clock_.NowMs() / 1000;
  for (auto it = map.begin(); it != map.end();) {
    it = it->second.expires_at_s <= now_s ? map.erase(it) : std::next(it);
  }
  // Still full of live sessions: the oldest to expire make room.
  while (map.size() >= max_sessions_) {
    auto oldest = map.begin();
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (it->second.expires_at_s < oldest->second.expires_at_s) oldest = it;
    }
    map.erase(oldest);
  }
}

std::string Sessions::Open(std::string token, int64_t expires_at_s) {
  std::string id = RandomId();
  std::lock_guard lock(mu_);
  Prune(sessions_);
  sessions_[id] = Entry{std::move(token), expires_at_s};
  return id;
}

std::optional<std::string> Sessions::Token(std::string_view id) const {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(std::string(id));
  if (it == sessions_.end() || it->second.expires_at_s <= clock_.NowMs() / 1000) {
    return std::nullopt;
  }
  return it->second.token;
}

void Sessions::Close(std::string_view id) {
  std::lock_guard lock(mu_);
  sessions_.erase(std::string(id));
}

std::string Sessions::LoginCode(std::string token, int64_t ttl_s) {
  std::string code = RandomId();
  std::lock_guard lock(mu_);
  Prune(codes_);
  codes_[code] = Entry{std::move(token), clock_.NowMs() / 1000 + ttl_s};
  return code;
}

std::optional<std::string> Sessions::Redeem(std::string_view code) {
  std::lock_guard lock(mu_);
  auto it = codes_.find(std::string(code));
  if (it == codes_.end()) return std::nullopt;
  Entry entry = std::move(it->second);
  codes_.erase(it);
  if (entry.expires_at_s <= clock_.NowMs() / 1000) return std::nullopt;
  return std::move(entry.token);
}

size_t Sessions::size() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

}  // namespace vigil::http
