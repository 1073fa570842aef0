// The token parser and the cookie parser: any input is a principal or an unauthenticated error.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "base/clock.hpp"
#include "http/auth.hpp"
#include "http/sessions.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static vigil::ManualClock clock(1'700'000'000'000);
  static vigil::http::Authenticator auth("fuzz-secret-0123456789abcdefghijklmnopqrstuv", clock);
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto principal = auth.Verify(input);
  if (!principal && principal.error().code != vigil::ErrorCode::kUnauthenticated) std::abort();
  (void)vigil::http::CookieValue(input, "vigil_session");
  return 0;
}
