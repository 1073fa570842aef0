#include "http/rate_limit.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

#include "http/message.hpp"
#include "http/problem.hpp"

namespace vigil::http {

namespace {
// Buckets idle long enough to be full again carry no information; beyond this many per shard
// they are dropped.
constexpr size_t kMaxBucketsPerShard = 65'536;
}  // namespace

std::string_view BudgetName(Budget b) {
  switch (b) {
    case Budget::kDefault:
      return "default";
    case Budget::kRead:
      return "read";
    case Budget::kReport:
      return "report";
    case Budget::kStream:
      return "stream";
    case Budget::kAuth:
      return "auth";
    case Budget::kNone:
      return "none";
  }
  return "default";
}

int RateLimiter::Limit(Budget budget) const {
  const int n = options_.max_requests;
  int whole = n;
  switch (budget) {
    case Budget::kRead:
      whole = n * 10;
      break;
    case Budget::kReport:
      whole = n * 20;
      break;
    case Budget::kStream:
      whole = std::max(1, n / 2);
      break;
    case Budget::kAuth:
      whole = std::max(1, n / 6);
      break;
    default:
      break;
  }
  // This node's share of the budget, when several share the same clients.
  const int nodes = std::max(1, options_.nodes);
  return std::max(1, (whole + nodes - 1) / nodes);
}

double RateLimiter::ConditionalLimit(Budget budget) const {
  return static_cast<double>(Limit(budget)) * options_.conditional_factor;
}

double RateLimiter::RatePerMs(int limit) const {
  return static_cast<double>(limit) / (options_.window_seconds * 1000.0);
}

RateLimiter::Shard& RateLimiter::ShardOf(const std::string& key) {
  return shards_[std::hash<std::string>{}(key) % shards_.size()];
}

RateLimiter::Bucket& RateLimiter::Refill(Shard& shard, const std::string& key, int limit,
                                         int64_t now_ms) {
  auto it = shard.buckets.find(key);
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= kMaxBucketsPerShard) {
      const int64_t full_after_ms = int64_t{options_.window_seconds} * 1000;
      // Full again and forgiven: a fresh bucket says the same.
      std::erase_if(shard.buckets, [&](const auto& entry) {
        return now_ms - entry.second.updated_ms > full_after_ms &&
               now_ms - entry.second.quiet_from_ms >= full_after_ms;
      });
      // Still full of live buckets (a flood of new keys): a hard cap, not a scan per key.
      // Down to nine tenths, so that the next scan is thousands of keys away.
      while (shard.buckets.size() >= kMaxBucketsPerShard * 9 / 10) {
        shard.buckets.erase(shard.buckets.begin());
      }
    }
    Bucket fresh;
    fresh.tokens = limit;
    fresh.conditional_tokens = static_cast<double>(limit) * options_.conditional_factor;
    fresh.updated_ms = now_ms;
    it = shard.buckets.emplace(key, fresh).first;
  }
  Bucket& b = it->second;
  if (now_ms > b.updated_ms) {
    const double refilled = static_cast<double>(now_ms - b.updated_ms) * RatePerMs(limit);
    b.tokens = std::min<double>(limit, b.tokens + refilled);
    // The conditional ceiling is the budget times the factor, refilled in the same window.
    const double conditional_limit = static_cast<double>(limit) * options_.conditional_factor;
    b.conditional_tokens =
        std::min(conditional_limit, b.conditional_tokens + refilled * options_.conditional_factor);
    b.updated_ms = now_ms;
  }
  if (b.level > 0 && now_ms - b.quiet_from_ms >= int64_t{options_.window_seconds} * 1000) {
    b.level = 0;  // a quiet window forgives
  }
  return b;
}

RateLimiter::Decision RateLimiter::Describe(const Bucket& b, int limit, int64_t now_ms) const {
  Decision d;
  d.limit = limit;
  d.remaining = std::max(0, static_cast<int>(std::floor(b.tokens)));
  const double missing = limit - b.tokens;
  d.reset_epoch_s =
      (now_ms + static_cast<int64_t>(std::ceil(missing / RatePerMs(limit))) + 999) / 1000;
  return d;
}

namespace {
std::string BucketKey(Budget budget, std::string_view key) {
  std::string k(BudgetName(budget));
  k += '|';
  k += key;
  return k;
}
}  // namespace

template <typename F>
RateLimiter::Decision RateLimiter::WithBucket(Budget budget, std::string_view principal,
                                              int64_t now_ms, F f) {
  if (!options_.enabled || budget == Budget::kNone) return Decision{};
  const int limit = Limit(budget);
  const std::string key = BucketKey(budget, principal);
  Shard& shard = ShardOf(key);
  std::lock_guard lock(shard.mu);
  Bucket& b = Refill(shard, key, limit, now_ms);
  return f(b, limit);
}

RateLimiter::Decision RateLimiter::Described(const Bucket& b, int limit, int64_t now_ms) const {
  Decision d = Describe(b, limit, now_ms);
  if (now_ms < b.blocked_until_ms) {
    d.allowed = false;
    d.retry_after_s = static_cast<int>((b.blocked_until_ms - now_ms + 999) / 1000);
  }
  return d;
}

RateLimiter::Decision RateLimiter::Refuse(Bucket& b, int limit, int64_t now_ms) const {
  Decision d = Describe(b, limit, now_ms);
  b.level = std::min(b.level + 1, 64);
  // The first refusal of a client that was quiet waits for the next token; each further episode
  // is a penalty twice as long as the one before, from one window up.
  int64_t wait_ms = static_cast<int64_t>(std::ceil((1 - b.tokens) / RatePerMs(limit)));
  if (options_.backoff && b.level > 1) {
    const int64_t window_ms = int64_t{options_.window_seconds} * 1000;
    const int64_t penalty_ms = std::min<int64_t>(window_ms << std::min(b.level - 2, 20),
                                                 int64_t{options_.max_backoff_seconds} * 1000);
    wait_ms = std::max(wait_ms, penalty_ms);
    b.blocked_until_ms = now_ms + wait_ms;
  }
  // Quiet is counted from the end of the penalty, not from its start: a client that comes back
  // flooding the moment it ends has not been quiet at all.
  b.quiet_from_ms = std::max(now_ms, b.blocked_until_ms);
  d.allowed = false;
  d.retry_after_s = static_cast<int>(std::max<int64_t>(1, (wait_ms + 999) / 1000));
  return d;
}

RateLimiter::Decision RateLimiter::AdmitPlain(Bucket& b, int limit, int64_t now_ms) const {
  Decision d = Described(b, limit, now_ms);
  if (!d.allowed || b.tokens >= 1) return d;  // refused during a penalty: the same episode
  return Refuse(b, limit, now_ms);
}

RateLimiter::Decision RateLimiter::Take(Bucket& b, int limit, int64_t now_ms) const {
  b.tokens -= 1;  // may go below zero when requests raced: they wait it off
  return Describe(b, limit, now_ms);
}

RateLimiter::Decision RateLimiter::Admit(Budget budget, std::string_view principal, int64_t now_ms,
                                         bool conditional) {
  return WithBucket(budget, principal, now_ms, [&](Bucket& b, int limit) {
    if (conditional && b.conditional_tokens >= 1) {
      // Paid now, so that the 304 every poller hopes for costs nothing more; whatever else it
      // is answered is Charged.
      b.conditional_tokens -= 1;
      Decision d = Describe(b, limit, now_ms);
      d.conditional = true;
      return d;
    }
    return AdmitPlain(b, limit, now_ms);
  });
}

RateLimiter::Decision RateLimiter::Charge(Budget budget, std::string_view principal, int64_t now_ms,
                                          bool conditional) {
  return WithBucket(budget, principal, now_ms, [&](Bucket& b, int limit) {
    if (conditional) {
      // Admitted under the conditional ceiling, but not answered 304: the budget pays, as for
      // any request, or the answer is refused. The refused one keeps its conditional token (the
      // handler's work was done), so that made-up ETags are bounded by the ceiling too.
      if (Decision d = Described(b, limit, now_ms); !d.allowed) return d;
      if (b.tokens < 1) return Refuse(b, limit, now_ms);
      b.conditional_tokens = std::min(ConditionalLimit(budget), b.conditional_tokens + 1);
    }
    return Take(b, limit, now_ms);
  });
}

RateLimiter::Decision RateLimiter::Spend(Budget budget, std::string_view principal,
                                         int64_t now_ms) {
  return WithBucket(budget, principal, now_ms, [&](Bucket& b, int limit) {
    Decision d = AdmitPlain(b, limit, now_ms);
    return d.allowed ? Take(b, limit, now_ms) : d;
  });
}

RateLimiter::Decision RateLimiter::Status(Budget budget, std::string_view principal,
                                          int64_t now_ms) {
  return WithBucket(budget, principal, now_ms,
                    [&](Bucket& b, int limit) { return Described(b, limit, now_ms); });
}

std::string RateLimitKey(const Request& request) {
  return request.principal.subject.empty() ? "a:" + request.remote_address
                                           : "u:" + request.principal.subject;
}

std::optional<Response> AdmitRequest(RateLimiter& limiter, Budget budget, bool conditional_route,
                                     int64_t now_ms, Request& request) {
  if (budget == Budget::kNone) return std::nullopt;
  std::string key = RateLimitKey(request);
  const bool conditional = conditional_route &&
                           (request.method == Method::kGet || request.method == Method::kHead) &&
                           !request.Header("if-none-match").empty();
  RateLimiter::Decision d = limiter.Admit(budget, key, now_ms, conditional);
  if (!d.allowed) {
    Response response = RateLimited(limiter, budget, d, request);
    SetRateLimitHeaders(d, response);
    return response;
  }
  request.rate = RateLimitState{.key = std::move(key),
                                .budget = static_cast<int>(budget),
                                .limit = d.limit,
                                .remaining = d.remaining,
                                .reset_epoch_s = d.reset_epoch_s,
                                .conditional = d.conditional};
  return std::nullopt;
}

AnswerHook ChargeOnAnswer(std::shared_ptr<RateLimiter> limiter, const Clock& clock) {
  return [limiter = std::move(limiter), &clock](RateLimitState& rate, const Request& request,
                                                Response& response) {
    if (rate.conditional && response.status == 304) return;  // paid when it was admitted
    const auto budget = static_cast<Budget>(rate.budget);
    RateLimiter::Decision d = limiter->Charge(budget, rate.key, clock.NowMs(), rate.conditional);
    rate.remaining = d.remaining;
    rate.reset_epoch_s = d.reset_epoch_s;
    if (!d.allowed) response = RateLimited(*limiter, budget, d, request);
  };
}

void SetRateLimitHeaders(const RateLimiter::Decision& d, Response& response) {
  if (d.limit == 0) return;  // not limited
  response.headers.emplace_back("X-RateLimit-Limit", std::to_string(d.limit));
  response.headers.emplace_back("X-RateLimit-Remaining", std::to_string(d.remaining));
  response.headers.emplace_back("X-RateLimit-Reset", std::to_string(d.reset_epoch_s));
}

Response RateLimited(const RateLimiter& limiter, Budget budget, const RateLimiter::Decision& d,
                     const Request& request) {
  Response response =
      Problem(Error(ErrorCode::kRateLimited,
                    "rate limit exceeded: " + std::to_string(d.limit) + " requests per " +
                        std::to_string(limiter.options().window_seconds) + " s for " +
                        std::string(BudgetName(budget)) + " requests; retry after " +
                        std::to_string(d.retry_after_s) + " s"),
              request);
  response.Set("Retry-After", std::to_string(d.retry_after_s));
  return response;
}

}  // namespace vigil::http
