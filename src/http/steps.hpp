// The steps vigil runs around every route's handler (Router::Use), each a cross-cutting concern
// in one place. main adds them in this order:
//
//   Authenticate   the principal of a route that needs one, from the bearer token or the session
//                  cookie (401 with WWW-Authenticate: Bearer); for the cookie, the CSRF rules
//                  (403). A cookie this node has not looked up lately is looked up in the store
//                  first (http/sessions.hpp): the rest of the request then runs on the read pool;
//                  503 when the store cannot answer
//   LimitRate      the route's rate-limit budget (429); the charge, once the answer is known, is
//                  the server's (ChargeOnAnswer, http/rate_limit.hpp)
//
// The next ones (the audit trail, request metrics) go here too.
#pragma once

#include <memory>

#include "base/clock.hpp"
#include "http/router.hpp"

namespace vigil::http {

class Authenticator;
class RateLimiter;
class Sessions;

// `sessions` null: bearer tokens only.
Step Authenticate(std::shared_ptr<const Authenticator> auth, std::shared_ptr<Sessions> sessions);
Step LimitRate(std::shared_ptr<RateLimiter> limiter, const Clock& clock);

}  // namespace vigil::http
