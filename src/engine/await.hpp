// Await: calls an asynchronous engine method and blocks until it answers. For threads that may
// block (the runner's, tests') — never an I/O thread.
//
//   auto r = Await<SnapshotPtr>([&](auto done) { engine.Get(principal, id, std::move(done)); });
#pragma once

#include <future>
#include <utility>

#include "base/result.hpp"

namespace vigil::engine {

template <typename T, typename Start>
Result<T> Await(Start start) {
  std::promise<Result<T>> promise;
  auto future = promise.get_future();
  start([&promise](Result<T> r) { promise.set_value(std::move(r)); });
  return future.get();
}

}  // namespace vigil::engine
