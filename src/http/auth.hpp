// Bearer tokens: JWT, HS256 with a shared secret (VIGIL_JWT_SECRET). The browser session cookie
// that stands for one (http/sessions.hpp) is the Authenticate step's (http/steps.hpp).
//
// A token carries `sub` (the user id), `roles` (an array of "read", "dev", "admin", or a string
// with them separated by spaces or commas) and `exp`; `nbf` and `iat` are honoured when present.
// The algorithm is pinned: a token whose header names another algorithm, or none, is refused.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.hpp"
#include "base/result.hpp"
#include "core/principal.hpp"

namespace vigil::http {

struct Request;

// HS256 verifies with the shared secret; RS256 and ES256 with a public key (PEM).
enum class TokenAlgorithm { kHS256, kRS256, kES256 };
std::string_view TokenAlgorithmName(TokenAlgorithm a);
std::optional<TokenAlgorithm> ParseTokenAlgorithm(std::string_view name);

class Authenticator {
 public:
  // `secret` must be at least 32 bytes (checked by the configuration).
  Authenticator(std::string secret, const Clock& clock, int leeway_seconds = 30);
  ~Authenticator();

  // kUnauthenticated with a reason when the token is malformed, forged, expired or not yet valid.
  // Thread-safe. Verified tokens are remembered (a bounded cache) so that a client polling with
  // the same token costs one lookup, not an HMAC and a JSON parse; expiry is still checked
  // against the clock on every call.
  Result<core::Principal> Verify(std::string_view token) const;
  // From `Authorization: Bearer <token>`.
  Result<core::Principal> Authenticate(const Request& request) const;
  // Verifies with `algorithm` and this public key (PEM) instead of HS256 and the secret; tokens
  // of any other algorithm are refused. Before the server starts.
  void UsePublicKey(TokenAlgorithm algorithm, std::string pem);
  // Tokens must carry this `iss` / this `aud` (a string, or an array holding it); empty: not
  // checked. Before the server starts.
  void RequireIssuer(std::string issuer) { issuer_ = std::move(issuer); }
  void RequireAudience(std::string audience) { audience_ = std::move(audience); }

 private:
  class TokenCache;

  std::string secret_;
  const Clock& clock_;
  int leeway_seconds_;
  std::unique_ptr<TokenCache> cache_;
  std::string issuer_;
  std::string audience_;
  TokenAlgorithm algorithm_ = TokenAlgorithm::kHS256;
  std::string public_key_;
};

// The token of an `Authorization: Bearer <token>` header (scheme in any case, spaces and tabs
// around it trimmed); empty when there is none.
std::string_view BearerToken(const Request& request);

// Signs a token for `subject` with `roles`, valid for ttl_seconds from now.
Result<std::string> MintToken(std::string_view secret, std::string_view subject,
                              const std::vector<std::string>& roles, int64_t ttl_seconds,
                              int64_t now_ms);

}  // namespace vigil::http
