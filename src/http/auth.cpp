#include "http/auth.hpp"

#include <jwt.h>

#include <algorithm>
#include <array>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cctype>
#include <cstdlib>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <unordered_map>

#include "http/message.hpp"

namespace vigil::http {
namespace {

// Larger tokens are refused before any work is done on them (and never cached).
constexpr size_t kMaxTokenBytes = 8 << 10;

struct JwtDeleter {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtDeleter>;

// Strings libjwt allocates with malloc (jwt_get_grants_json, jwt_encode_str); 1.10 has no
// jwt_free_str.
struct FreeDeleter {
  void operator()(char* p) const { std::free(p); }
};
using CStringPtr = std::unique_ptr<char, FreeDeleter>;

// What a valid signature proved, and the interval in which it holds.
struct Verified {
  core::Principal principal;
  int64_t expires_s = 0;                                       // `exp`
  int64_t not_before_s = std::numeric_limits<int64_t>::min();  // max(`nbf`, `iat`)
};

tl::unexpected<Error> Unauthenticated(std::string message) {
  return Fail(ErrorCode::kUnauthenticated, std::move(message));
}

int64_t FloorSeconds(int64_t ms) { return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000); }

// An integer claim; nullopt when absent, an error when present but not an integer.
Result<std::optional<int64_t>> IntegerClaim(const boost::json::object& claims,
                                            std::string_view name) {
  const boost::json::value* v = claims.if_contains(name);
  if (v == nullptr) return std::optional<int64_t>();
  if (v->is_int64()) return std::optional<int64_t>(v->get_int64());
  if (v->is_uint64()) return std::optional<int64_t>(std::numeric_limits<int64_t>::max());
  return Unauthenticated("token claim " + std::string(name) + " is not an integer");
}

void GrantRole(std::string_view role, core::Principal& p) {
  if (role == "read") {
    p.can_read = true;
  } else if (role == "dev") {
    p.can_read = p.can_write = true;
  } else if (role == "admin") {
    p.can_read = p.can_write = p.is_admin = true;
  }
  // Unknown roles grant nothing; a token must carry at least one known role.
}

// `roles`: ["read", "dev"] or "read dev" / "read,dev".
Result<void> GrantRoles(const boost::json::value* roles, core::Principal& p) {
  if (roles == nullptr) return {};
  if (roles->is_array()) {
    for (const boost::json::value& role : roles->get_array()) {
      if (role.is_string()) GrantRole(role.get_string(), p);
    }
    return {};
  }
  if (roles->is_string()) {
    std::string_view text = roles->get_string();
    size_t i = 0;
    while (i < text.size()) {
      size_t end = text.find_first_of(" ,\t", i);
      if (end == std::string_view::npos) end = text.size();
      if (end > i) GrantRole(text.substr(i, end - i), p);
      i = end + 1;
    }
    return {};
  }
  return Unauthenticated("token claim roles must be an array or a string");
}

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

// Token string -> what verifying it proved. Sharded so that concurrent polls rarely contend; each
// shard is bounded and simply emptied when full (a miss only costs one verification).
class Authenticator::TokenCache {
 public:
  std::optional<Verified> Find(std::string_view token) const {
    // The token is hashed once, for the shard and the map both (a token is a few hundred bytes).
    const Key key{token, Hash()(token)};
    const Shard& shard = shards_[ShardIndex(key.hash)];
    std::shared_lock lock(shard.mu);
    auto it = shard.entries.find(key);
    if (it == shard.entries.end()) return std::nullopt;
    return it->second;
  }

  void Insert(std::string_view token, const Verified& verified) {
    Shard& shard = shards_[ShardIndex(Hash()(token))];
    std::unique_lock lock(shard.mu);
    if (shard.entries.size() >= kShardCapacity) shard.entries.clear();
    shard.entries.insert_or_assign(std::string(token), verified);
  }

 private:
  static constexpr size_t kShards = 16;
  static constexpr size_t kShardCapacity = 512;

  // A token looked up with its hash computed already.
  struct Key {
    std::string_view token;
    size_t hash;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
    size_t operator()(const Key& key) const { return key.hash; }
  };
  struct Equal {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a == b; }
    bool operator()(const Key& a, std::string_view b) const { return a.token == b; }
    bool operator()(std::string_view a, const Key& b) const { return a == b.token; }
  };
  struct Shard {
    mutable std::shared_mutex mu;
    std::unordered_map<std::string, Verified, Hash, Equal> entries;  // Guarded by mu.
  };

  // The high bits pick the shard; the map buckets use the low ones.
  static size_t ShardIndex(size_t hash) { return (hash >> 56) % kShards; }

  std::array<Shard, kShards> shards_;
};

Authenticator::Authenticator(std::string secret, const Clock& clock, int leeway_seconds)
    : secret_(std::move(secret)),
      clock_(clock),
      leeway_seconds_(leeway_seconds),
      cache_(std::make_unique<TokenCache>()) {}

Authenticator::~Authenticator() = default;

std::string_view TokenAlgorithmName(TokenAlgorithm a) {
  switch (a) {
    case TokenAlgorithm::kRS256:
      return "RS256";
    case TokenAlgorithm::kES256:
      return "ES256";
    case TokenAlgorithm::kHS256:
      return "HS256";
  }
  return "HS256";
}

std::optional<TokenAlgorithm> ParseTokenAlgorithm(std::string_view name) {
  for (TokenAlgorithm a :
       {TokenAlgorithm::kHS256, TokenAlgorithm::kRS256, TokenAlgorithm::kES256}) {
    if (TokenAlgorithmName(a) == name) return a;
  }
  return std::nullopt;
}

void Authenticator::UsePublicKey(TokenAlgorithm algorithm, std::string pem) {
  algorithm_ = algorithm;
  public_key_ = std::move(pem);
}

namespace {

jwt_alg_t LibJwtAlgorithm(TokenAlgorithm a) {
  switch (a) {
    case TokenAlgorithm::kRS256:
      return JWT_ALG_RS256;
    case TokenAlgorithm::kES256:
      return JWT_ALG_ES256;
    case TokenAlgorithm::kHS256:
      return JWT_ALG_HS256;
  }
  return JWT_ALG_HS256;
}

// `key`: the shared secret for HS256, the public key (PEM) for RS256 and ES256.
Result<Verified> VerifySignatureAndClaims(std::string_view token, const std::string& key,
                                          TokenAlgorithm algorithm, const std::string& issuer,
                                          const std::string& audience) {
  if (token.empty() || token.size() > kMaxTokenBytes) return Unauthenticated("malformed token");
  const std::string terminated(token);
  jwt_t* raw = nullptr;
  int rc = jwt_decode(&raw, terminated.c_str(), reinterpret_cast<const unsigned char*>(key.data()),
                      static_cast<int>(key.size()));
  JwtPtr jwt(raw);
  if (rc != 0 || jwt == nullptr) return Unauthenticated("malformed or forged token");
  // libjwt verifies with whatever algorithm the token's header names, including none — and an
  // HS256 token "signed" with the public key would pass as an HMAC. Pin the configured one, by
  // its exact name: libjwt reads "hs256" as HS256, but `alg` is case-sensitive (RFC 7515 §4.1.1,
  // RFC 7518 §3.1), and a name other verifiers refuse must not pass here.
  const char* alg = jwt_get_header(jwt.get(), "alg");
  if (jwt_get_alg(jwt.get()) != LibJwtAlgorithm(algorithm) || alg == nullptr ||
      std::string_view(alg) != TokenAlgorithmName(algorithm)) {
    return Unauthenticated("token algorithm must be " + std::string(TokenAlgorithmName(algorithm)));
  }

  CStringPtr json(jwt_get_grants_json(jwt.get(), nullptr));
  if (json == nullptr) return Unauthenticated("malformed token");
  boost::json::error_code ec;
  boost::json::value payload = boost::json::parse(json.get(), ec);
  if (ec || !payload.is_object()) return Unauthenticated("malformed token");
  const boost::json::object& claims = payload.get_object();

  Verified verified;
  const boost::json::value* sub = claims.if_contains("sub");
  if (sub == nullptr || !sub->is_string() || sub->get_string().empty()) {
    return Unauthenticated("token has no subject");
  }
  verified.principal.subject = sub->get_string();

  auto exp = IntegerClaim(claims, "exp");
  if (!exp) return Fail(exp.error());
  if (!*exp) return Unauthenticated("token has no expiry");
  verified.expires_s = **exp;
  verified.principal.expires_at_s = **exp;

  for (std::string_view name : {"nbf", "iat"}) {
    auto claim = IntegerClaim(claims, name);
    if (!claim) return Fail(claim.error());
    if (*claim) verified.not_before_s = std::max(verified.not_before_s, **claim);
  }

  if (auto granted = GrantRoles(claims.if_contains("roles"), verified.principal); !granted) {
    return Fail(granted.error());
  }
  if (!verified.principal.can_read) return Unauthenticated("token grants no role");
  if (!issuer.empty()) {
    const boost::json::value* iss = claims.if_contains("iss");
    if (iss == nullptr || !iss->is_string() || iss->get_string() != issuer) {
      return Unauthenticated("token issuer is not accepted");
    }
  }
  if (!audience.empty()) {
    const boost::json::value* aud = claims.if_contains("aud");
    bool ok = aud != nullptr && aud->is_string() && aud->get_string() == audience;
    if (aud != nullptr && aud->is_array()) {
      for (const auto& a : aud->get_array())
        ok = ok || (a.is_string() && a.get_string() == audience);
    }
    if (!ok) return Unauthenticated("token audience is not accepted");
  }
  return verified;
}

}  // namespace

Result<core::Principal> Authenticator::Verify(std::string_view token) const {
  std::optional<Verified> verified = cache_->Find(token);
  if (!verified) {
    Result<Verified> fresh = VerifySignatureAndClaims(
        token, algorithm_ == TokenAlgorithm::kHS256 ? secret_ : public_key_, algorithm_, issuer_,
        audience_);
    if (!fresh) return Fail(fresh.error());
    cache_->Insert(token, *fresh);
    verified = std::move(*fresh);
  }
  // Time is checked on every use, cached or not.
  const int64_t now_s = FloorSeconds(clock_.NowMs());
  if (now_s - leeway_seconds_ >= verified->expires_s) return Unauthenticated("token expired");
  if (verified->not_before_s != std::numeric_limits<int64_t>::min() &&
      now_s + leeway_seconds_ < verified->not_before_s) {
    return Unauthenticated("token not yet valid");
  }
  return std::move(verified->principal);
}

Result<core::Principal> Authenticator::Authenticate(const Request& request) const {
  std::string_view token = BearerToken(request);
  if (token.empty()) return Unauthenticated("missing bearer token");
  return Verify(token);
}

std::string_view BearerToken(const Request& request) {
  std::string_view header = TrimSpaces(request.Header("authorization"));
  size_t space = 0;
  while (space < header.size() && !IsSpace(header[space])) ++space;
  if (space == header.size() || !EqualsIgnoreCase(header.substr(0, space), "bearer")) return {};
  return TrimSpaces(header.substr(space));
}

Result<std::string> MintToken(std::string_view secret, std::string_view subject,
                              const std::vector<std::string>& roles, int64_t ttl_seconds,
                              int64_t now_ms) {
  if (subject.empty()) return Fail(ErrorCode::kInvalidArgument, "token subject is empty");
  if (secret.empty()) return Fail(ErrorCode::kInvalidArgument, "token secret is empty");
  const int64_t now_s = FloorSeconds(now_ms);
  boost::json::array role_array;
  for (const std::string& role : roles) role_array.emplace_back(role);
  boost::json::object claims;
  claims["sub"] = subject;
  claims["roles"] = std::move(role_array);
  claims["iat"] = now_s;
  claims["exp"] = now_s + ttl_seconds;

  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) return Fail(ErrorCode::kInternal, "cannot create token");
  JwtPtr jwt(raw);
  if (jwt_add_grants_json(jwt.get(), boost::json::serialize(claims).c_str()) != 0) {
    return Fail(ErrorCode::kInternal, "cannot add token claims");
  }
  if (jwt_set_alg(jwt.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret.data()),
                  static_cast<int>(secret.size())) != 0) {
    return Fail(ErrorCode::kInternal, "cannot set token algorithm");
  }
  CStringPtr encoded(jwt_encode_str(jwt.get()));
  if (encoded == nullptr) return Fail(ErrorCode::kInternal, "cannot sign token");
  return std::string(encoded.get());
}

}  // namespace vigil::http
