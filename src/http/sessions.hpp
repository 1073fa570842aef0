// Browser sessions: EventSource and browser WebSockets cannot send an Authorization header, so a
// browser trades its bearer token for a cookie (POST /api/v1/auth/session).
//
// A session is a random 256-bit id that names the token it was opened with: every request made
// with the cookie is authorised exactly as that token would be (same principal, same expiry), and
// closing the session (DELETE, or the token expiring) ends it. The cookie is HttpOnly and
// SameSite=Strict (and Secure when configured: behind TLS).
//
// Sessions are kept in the store (api/sessions.cpp writes and reads them), so that a cookie made
// on one node works on every node on the same database and a restart signs nobody out. This class
// is each node's cache of them: what a lookup in the store found (a session, or that there is
// none) is remembered for `ttl`, so the path of a request with a known cookie costs no store call.
// So a session closed on another node still works here for at most `ttl` — the bound on how long
// a sign-out takes to reach every node. Closed on this node, it ends here at once.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/clock.hpp"
#include "base/result.hpp"

namespace vigil::http {

inline constexpr std::string_view kSessionCookie = "vigil_session";
// The header a cookie-authenticated request that changes anything must carry (CSRF): a site
// cannot add it to a cross-site request without the CORS preflight vigil does not grant.
inline constexpr std::string_view kCsrfHeader = "x-requested-with";

// A session as the store keeps it: the token it stands for, until when.
struct SessionEntry {
  std::string token;
  int64_t expires_at_s = 0;
};

// Looks a session up where sessions are kept (the store), and answers on any thread: the entry,
// nullopt when there is no such session, or the store's error.
using SessionLoader = std::function<void(
    std::string id, std::function<void(Result<std::optional<SessionEntry>>)> done)>;

class Sessions {
 public:
  // `loader` empty: sessions live only in this node's memory (tests).
  Sessions(const Clock& clock, std::chrono::milliseconds ttl, SessionLoader loader = {},
           size_t max_sessions = 100'000)
      : clock_(clock), ttl_(ttl), loader_(std::move(loader)), max_sessions_(max_sessions) {}

  // What this node knows of session `id` without asking the store.
  enum class Known { kValid, kEnded, kAsk };
  // kValid with its token (`*token`) when a fresh lookup found it live; kEnded when a fresh lookup
  // found none, or it has expired; kAsk when nothing fresh is known (then Load).
  Known Lookup(std::string_view id, std::string* token) const;
  // Looks `id` up in the store and remembers the answer for `ttl`; `done` gets the session when
  // it is live, nullopt when there is none or it has expired, or the store's error (then nothing
  // is remembered). Without a loader: what this node knows.
  void Load(std::string id, std::function<void(Result<std::optional<SessionEntry>>)> done);

  // A session just stored (opened on this node): remembered as a lookup would (for `ttl`).
  void Remember(std::string id, SessionEntry entry);
  // A session closed on this node: ended here at once (the store's row is the caller's).
  void Forget(std::string_view id);

  size_t size() const;

 private:
  struct Cached {
    std::optional<SessionEntry> entry;  // nullopt: the store has no such session
    int64_t loaded_ns = 0;              // monotonic; fresh for ttl_ after it
  };
  // Requires mu_. Makes room when the map is full: stale and expired entries first.
  void Prune();

  const Clock& clock_;
  const std::chrono::milliseconds ttl_;
  const SessionLoader loader_;
  const size_t max_sessions_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Cached> cached_;  // Guarded by mu_
};

// The value of cookie `name` in a Cookie header, or empty.
std::string_view CookieValue(std::string_view header, std::string_view name);

// A random id: 32 bytes from the system's CSPRNG, as 64 hex digits.
std::string RandomId();

}  // namespace vigil::http
