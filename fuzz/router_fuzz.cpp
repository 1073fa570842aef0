// The router: any method and path is matched, refused with 404/405, or handled — never a crash,
// and always exactly one answer.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/router.hpp"

namespace {

vigil::http::Router& TheRouter() {
  static vigil::http::Router* router = [] {
    auto* r = new vigil::http::Router();
    using vigil::http::Method;
    const char* patterns[] = {"/healthz",
                              "/api/v1/investigations",
                              "/api/v1/investigations/{id}",
                              "/api/v1/investigations/{id}/events",
                              "/api/v1/investigations/{id}/progress",
                              "/api/v1/investigations/{id}/runs/{run_id}/stream",
                              "/api/v1/investigations/{id}/start",
                              "/api/v1/ws"};
    for (const char* p : patterns) {
      for (Method m : {Method::kGet, Method::kPost}) {
        r->Add(m, p,
               [](const vigil::http::Request& q, vigil::http::Responder respond) {
                 vigil::http::Response res;
                 res.body = std::to_string(q.path_params.size());
                 respond(std::move(res));
               },
               {.auth = false});
      }
    }
    return r;
  }();
  return *router;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  vigil::http::Request request;
  request.method = static_cast<vigil::http::Method>(data[0] % 8);
  request.path.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
  int answers = 0;
  TheRouter().Dispatch(request, [&answers](vigil::http::Response res) {
    ++answers;
    if (res.status < 100 || res.status > 599) std::abort();
  });
  if (answers != 1) std::abort();
  return 0;
}
