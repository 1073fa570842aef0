// RateLimiter: a token bucket per principal (the user, or the client's address when there is no
// user), as seed 003 asks: RATE_LIMIT_MAX_REQUESTS per RATE_LIMIT_WINDOW_SECONDS, with bursts of up
// to the whole budget.
//
// Two steps per request, so that what costs nothing is not charged:
//   Admit   before the handler: refused when the bucket is empty (or the principal is waiting
//           out a back-off); the refusal says how long to wait.
//   Charge  once the answer is known: one token — an open stream is charged once, when it opens.
//
// A poller doing the right thing must never be locked out by it. A conditional request (a GET
// with If-None-Match on a route that answers 304) is admitted first under a ceiling of its own,
// RATE_LIMIT_CONDITIONAL_FACTOR times the budget, and pays one of its tokens at once; even a
// spent budget or a penalty does not stop it. Whether it costs more is known only from the
// answer: a 304 costs nothing more (no Charge), anything else is charged to the budget like any
// request (and the conditional token given back) — or, when the budget cannot pay, refused after
// all, so that a stale or made-up If-None-Match gets no more bodies than the budget allows. Once
// the ceiling is spent as well, conditional requests are admitted and charged like any other.
// Repeated refusals wait longer (RATE_LIMIT_ENABLE_BACKOFF). A refusal outside a penalty starts a
// new episode and raises the bucket's level: the first waits for the next token; each further one
// is a penalty (every request refused until it ends) of one window, then two, four... up to five
// minutes. A refusal during a penalty belongs to its episode: it neither lengthens it nor raises
// the level. The level goes back to zero only after a quiet window: a whole window without a
// refused request, counted from the end of the last penalty (or the last refusal, if later) — so
// a client that floods again the moment its penalty ends waits twice as long the next time.
//
// This file is where rate limiting lives: the buckets (RateLimiter), whom a request is charged to
// (RateLimitKey), the admission of a request before its handler (AdmitRequest, the router's) and
// the charge once its answer is known (ChargeOnAnswer, the server's hook). The caller of a
// WebSocket subscribe, which has no answer to wait for, Spends at once.
//
// Thread-safety: every method may be called from any thread (the buckets are sharded by key).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/clock.hpp"
#include "http/message.hpp"

namespace vigil::http {

struct RateLimitOptions {
  bool enabled = true;      // RATE_LIMIT_ENABLED
  int max_requests = 60;    // RATE_LIMIT_MAX_REQUESTS: the bucket's size
  int window_seconds = 60;  // RATE_LIMIT_WINDOW_SECONDS: it refills completely in this time
  bool backoff = true;      // RATE_LIMIT_ENABLE_BACKOFF
  int max_backoff_seconds = 300;
  int conditional_factor = 5;  // RATE_LIMIT_CONDITIONAL_FACTOR: the conditional ceiling / budget
  // RATE_LIMIT_NODES: the nodes a balancer spreads the same clients over. Each node keeps its own
  // buckets, each the budget divided by this (rounded up, at least 1), so that a client whose
  // requests go to every node is allowed about the budget in all.
  int nodes = 1;
};

// Routes are grouped in budgets, each with a bucket of its own per principal: a poller, a
// producer and a person signing in do not spend each other's requests. The default budget is
// RATE_LIMIT_MAX_REQUESTS; the others are multiples of it.
enum class Budget {
  kDefault,  // lists, creates, anything else: 1×
  kRead,     // reads of one investigation (get, progress, events, tools): 10×
  kReport,   // reporting events and moving the lifecycle: 20×
  kStream,   // opening an SSE stream or a WebSocket: 1/2×
  kAuth,     // opening a session, the login link: 1/6×
  kNone,     // not limited (health checks)
};
std::string_view BudgetName(Budget b);

class RateLimiter {
 public:
  struct Decision {
    bool allowed = true;
    int limit = 0;              // X-RateLimit-Limit
    int remaining = 0;          // X-RateLimit-Remaining
    int64_t reset_epoch_s = 0;  // X-RateLimit-Reset: when the bucket is full again
    int retry_after_s = 0;      // Retry-After, when refused
    // Admitted under the conditional ceiling: a 304 is paid for; any other answer is Charged
    // with `conditional`.
    bool conditional = false;
  };

  explicit RateLimiter(RateLimitOptions options) : options_(options) {}

  const RateLimitOptions& options() const { return options_; }
  // The bucket size of a budget.
  int Limit(Budget budget) const;
  // The ceiling on conditional requests of a budget, per window.
  double ConditionalLimit(Budget budget) const;
  // `key` names the principal ("u:alice", "a:127.0.0.1"). `conditional`: the request is a GET
  // with If-None-Match on a route that answers 304 to a current ETag.
  Decision Admit(Budget budget, std::string_view key, int64_t now_ms, bool conditional = false);
  // For an answer that is not free: takes one token and returns the state after it.
  // `conditional` (the request was admitted under the conditional ceiling, and its answer is not
  // a 304): when the budget cannot pay (spent, or a penalty), the answer is refused instead —
  // allowed is false, with retry_after_s, and it must not be given.
  Decision Charge(Budget budget, std::string_view key, int64_t now_ms, bool conditional);
  // Admit and Charge at once, for a request whose cost is known when it is asked (a WebSocket
  // subscribe): refused as Admit refuses, or admitted with its token taken.
  Decision Spend(Budget budget, std::string_view key, int64_t now_ms);
  Decision Status(Budget budget, std::string_view key, int64_t now_ms);

 private:
  struct Bucket {
    double tokens = 0;
    double conditional_tokens = 0;  // under the conditional ceiling
    int64_t updated_ms = 0;
    int level = 0;              // refusal episodes since the last quiet window
    int64_t quiet_from_ms = 0;  // the last refusal, or the end of its penalty if later
    int64_t blocked_until_ms = 0;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Bucket> buckets;  // Guarded by mu
  };

  Shard& ShardOf(const std::string& key);
  // Requires the shard's mutex: the key's bucket, refilled up to now.
  Bucket& Refill(Shard& shard, const std::string& key, int limit, int64_t now_ms);
  Decision Describe(const Bucket& b, int limit, int64_t now_ms) const;
  // Describe, refused while the bucket's back-off lasts.
  Decision Described(const Bucket& b, int limit, int64_t now_ms) const;
  // Refuses a request outside a penalty: a new episode, one level up.
  Decision Refuse(Bucket& b, int limit, int64_t now_ms) const;
  // Admits a request that pays from the budget (not under the conditional ceiling), or refuses
  // it.
  Decision AdmitPlain(Bucket& b, int limit, int64_t now_ms) const;
  // Takes one token; the state after it.
  Decision Take(Bucket& b, int limit, int64_t now_ms) const;
  // Runs f(bucket, limit) under the shard's lock, the bucket refilled; not limited: Decision{}.
  template <typename F>
  Decision WithBucket(Budget budget, std::string_view principal, int64_t now_ms, F f);
  double RatePerMs(int limit) const;

  const RateLimitOptions options_;
  std::array<Shard, 16> shards_;
};

// Whom a request is charged to: "u:<subject>" for a principal, "a:<address>" for a request
// without one. Every budget of a principal is kept under this key.
std::string RateLimitKey(const Request& request);

// Admits a request to its route's budget, before the handler runs. Refused: the 429 to answer
// (Retry-After, X-RateLimit-*). Admitted: nullopt, and request.rate says whom to charge once the
// answer is known (ChargeOnAnswer); for Budget::kNone it stays empty. `conditional_route`: the
// route answers 304 to a current If-None-Match, so that a GET or HEAD sending one is admitted
// under the conditional ceiling first.
std::optional<Response> AdmitRequest(RateLimiter& limiter, Budget budget, bool conditional_route,
                                     int64_t now_ms, Request& request);

// What the server calls on every answer to an admitted request, before it is written
// (ServerOptions::on_answer): charges it by its answer and updates `rate`, from which the
// server writes the X-RateLimit-* headers. A 304 to a request admitted under the conditional
// ceiling is paid for already; any other answer costs one token (a stream, once, when it
// opens). When the budget cannot pay for the answer to a conditional request, the answer becomes
// the 429 instead, so that a made-up If-None-Match buys no more bodies than the budget allows.
using AnswerHook =
    std::function<void(RateLimitState& rate, const Request& request, Response& response)>;
AnswerHook ChargeOnAnswer(std::shared_ptr<RateLimiter> limiter, const Clock& clock);

// X-RateLimit-Limit, -Remaining and -Reset.
void SetRateLimitHeaders(const RateLimiter::Decision& d, Response& response);

// The 429 of a refused decision: problem+json with Retry-After (the X-RateLimit-* headers are
// the caller's).
Response RateLimited(const RateLimiter& limiter, Budget budget, const RateLimiter::Decision& d,
                     const Request& request);

}  // namespace vigil::http
