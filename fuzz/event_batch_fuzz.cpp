// The event-batch decoder: any body either fails with a field-naming error or yields events
// within the limits.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  vigil::core::InputLimits limits;
  auto json = vigil::core::ParseJsonBody(body);
  if (!json) return 0;
  auto events = vigil::core::ParseEventBatch(*json, limits);
  if (events) {
    if (events->empty() || events->size() > limits.max_batch_events) std::abort();
  } else if (events.error().message.empty()) {
    std::abort();
  }
  return 0;
}
