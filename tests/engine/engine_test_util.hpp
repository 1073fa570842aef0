// What the engine's tests share: waiting for an answer (engine::Await), a user, a small event.
#pragma once

#include <string>

#include "base/result.hpp"
#include "core/input.hpp"
#include "core/principal.hpp"
#include "engine/await.hpp"

namespace vigil::engine::testing {

using engine::Await;

// A user with the dev role.
inline core::Principal User(std::string name) {
  core::Principal p;
  p.subject = std::move(name);
  p.can_read = p.can_write = true;
  return p;
}

// A risk_updated event, with an idempotency key when one is given.
inline core::EventInput Risk(double overall, std::string key = {}) {
  core::EventInput in;
  in.type = core::EventType::kRiskUpdated;
  in.data = {{"overall", overall}};
  in.key = std::move(key);
  return in;
}

}  // namespace vigil::engine::testing
