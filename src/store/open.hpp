// Opening a store from where it is: the value of --db (VIGIL_DB), for `vigil serve` and
// `vigil migrate` alike, so that main() names no backend.
//
//   data/vigil.db, /var/lib/vigil.db     a SQLite file, the embedded default
//   sqlite:PATH, sqlite://PATH           the same, spelled as a URL
//   postgresql://..., postgres://...     PostgreSQL: refused by this build (not yet a backend)
//   any other SCHEME://...               refused: no such backend
//
// A location is parsed before anything is opened or created, so a URL vigil cannot open is
// refused with a message that names it, never taken for a file name.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "store/store.hpp"

namespace vigil::store {

enum class Backend { kSqlite };

struct StoreLocation {
  Backend backend = Backend::kSqlite;
  std::string target;  // kSqlite: the file's path
};

// kInvalidArgument (field "db") when `db` is empty or names a backend this build does not have.
Result<StoreLocation> ParseStoreLocation(std::string_view db);

// Opens an existing, migrated store (see the backend's Open* for the errors).
Result<std::unique_ptr<Store>> OpenStore(std::string_view db);

// Creates the store if needed and applies the migrations it lacks (`vigil migrate`).
Result<MigrationReport> MigrateStore(std::string_view db);

}  // namespace vigil::store
