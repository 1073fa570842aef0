// Browser sessions: EventSource and browser WebSockets cannot send an Authorization header, so a
// browser trades its bearer token for a cookie (POST /api/v1/auth/session).
//
// A session is a random 256-bit id, kept in memory, that names the token it was opened with:
// every request made with the cookie is authorised exactly as that token would be (same
// principal, same expiry), and closing the session (DELETE, or the token expiring) ends it. The
// cookie is HttpOnly and SameSite=Strict (and Secure when configured: behind TLS). Sessions do not
// survive a restart; the browser signs in again.
//
// A one-time login code (for the demo's start-up link) opens a session for a token without the
// token ever appearing in a URL: the code is random, single-use and short-lived.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/clock.hpp"

namespace vigil::http {

inline constexpr std::string_view kSessionCookie = "vigil_session";
// The header a cookie-authenticated request that changes anything must carry (CSRF): a site
// cannot add it to a cross-site request without the CORS preflight vigil does not grant.
inline constexpr std::string_view kCsrfHeader = "x-requested-with";

class Sessions {
 public:
  Sessions(const Clock& clock, size_t max_sessions = 100'000)
      : clock_(clock), max_sessions_(max_sessions) {}

  // A new session for `token`, valid until `expires_at_s`; returns its id.
  std::string Open(std::string token, int64_t expires_at_s);
  // The token of a live session; nullopt when unknown or expired.
  std::optional<std::string> Token(std::string_view id) const;
  void Close(std::string_view id);

  // A single-use code that opens a session for `token` within `ttl_s` seconds.
  std::string LoginCode(std::string token, int64_t ttl_s);
  // The token the code was made for, once; nullopt when unknown, used or expired.
  std::optional<std::string> Redeem(std::string_view code);

  size_t size() const;

 private:
  struct Entry {
    std::string token;
    int64_t expires_at_s = 0;
  };
  // Requires mu_. Drops expired entries when the map is full.
  void Prune(std::unordered_map<std::string, Entry>& map);

  const Clock& clock_;
  const size_t max_sessions_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> sessions_;  // Guarded by mu_
  std::unordered_map<std::string, Entry> codes_;     // Guarded by mu_
};

// The value of cookie `name` in a Cookie header, or empty.
std::string_view CookieValue(std::string_view header, std::string_view name);

// A random id: 32 bytes from the system's CSPRNG, as 64 hex digits.
std::string RandomId();

}  // namespace vigil::http
