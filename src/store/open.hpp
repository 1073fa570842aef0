// Opening a store from where it is: the value of --db (VIGIL_DB), for `vigil serve` and
// `vigil migrate` alike, so that main() names no backend.
//
//   data/vigil.db, /var/lib/vigil.db     a SQLite file, the embedded default
//   sqlite:PATH, sqlite://PATH           the same, spelled as a URL
//   postgresql://..., postgres://...     a PostgreSQL database, as a libpq URI
//                                        (postgresql://user:password@host:5432/vigil?sslmode=...)
//   any other SCHEME://...               refused: no such backend
//
// A location is parsed before anything is opened or created, so a URL vigil cannot open is
// refused with a message that names it, never taken for a file name. A PostgreSQL URL may hold a
// password: show it only as RedactedLocation gives it.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "store/store.hpp"

namespace vigil::store {

enum class Backend { kSqlite, kPostgres };

struct StoreLocation {
  Backend backend = Backend::kSqlite;
  std::string target;  // kSqlite: the file's path; kPostgres: the URI, as given
};

// kInvalidArgument (field "db") when `db` is empty, names a backend this build does not have, or
// is a PostgreSQL URL that libpq cannot parse. Connects to nothing.
Result<StoreLocation> ParseStoreLocation(std::string_view db);

// `db` with the password of a URL (user:PASSWORD@ or ?password=...) replaced by "***", for logs
// and messages. Anything else is returned as it is.
std::string RedactedLocation(std::string_view db);

struct OpenOptions {
  int read_connections = 4;  // the read pool: reads that may run at once
};

// Opens an existing, migrated store (see the backend's Open* for the errors).
Result<std::unique_ptr<Store>> OpenStore(std::string_view db, const OpenOptions& options = {});

// Creates the store if needed and applies the migrations it lacks (`vigil migrate`).
Result<MigrationReport> MigrateStore(std::string_view db);

}  // namespace vigil::store
