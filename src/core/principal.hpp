// Who is asking: the subject of a verified token and the roles it grants.
//   read   view one's own investigations
//   dev    also create investigations, report events and move their lifecycle
//   admin  everything, on every user's investigations
#pragma once

#include <cstdint>
#include <string>

namespace vigil::core {

struct Principal {
  std::string subject;
  bool can_read = false;
  bool can_write = false;  // dev or admin
  bool is_admin = false;
  int64_t expires_at_s = 0;  // when the credential stops being valid (a token's `exp`)

  // Whether this principal may see an investigation owned by `owner`. Anyone else gets 404.
  bool MaySee(const std::string& owner) const { return is_admin || (can_read && owner == subject); }
};

}  // namespace vigil::core
