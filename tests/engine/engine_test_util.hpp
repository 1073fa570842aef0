// What the engine's tests share: waiting for an answer, a user, a small event.
#pragma once

#include <future>
#include <string>

#include "core/input.hpp"
#include "core/principal.hpp"
#include "core/result.hpp"

namespace vigil::engine::testing {

// Calls `start` with a callback and blocks until it is answered.
template <typename T, typename Start>
Result<T> Await(Start start) {
  std::promise<Result<T>> promise;
  auto future = promise.get_future();
  start([&promise](Result<T> r) { promise.set_value(std::move(r)); });
  return future.get();
}

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
