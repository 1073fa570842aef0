#include "engine/shared_event.hpp"

#include <chrono>

namespace vigil::engine {

int64_t MonotonicNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace vigil::engine
