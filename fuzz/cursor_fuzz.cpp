// The cursor parser: whatever it accepts, it writes back exactly (one spelling per cursor).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/cursor.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto id = vigil::core::ParseEventId(text)) {
    if (vigil::core::FormatEventId(*id) != text) std::abort();
    if (id->seq < 0 || id->seq > vigil::core::kMaxSequence || id->ts_ms < 0) std::abort();
  }
  return 0;
}
