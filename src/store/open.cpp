#include "store/open.hpp"

#include <filesystem>
#include <system_error>

#include "store/sqlite/sqlite_store.hpp"

namespace vigil::store {

Result<StoreLocation> ParseStoreLocation(std::string_view db) {
  if (db.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "--db / VIGIL_DB is empty: give a SQLite file path",
                "db");
  }
  const size_t scheme_end = db.find("://");
  const bool sqlite_url = db.starts_with("sqlite:");
  if (scheme_end == std::string_view::npos && !sqlite_url) {
    return StoreLocation{Backend::kSqlite, std::string(db)};
  }
  if (sqlite_url) {
    std::string_view path = db.substr(db.starts_with("sqlite://") ? 9 : 7);
    if (path.empty()) {
      return Fail(ErrorCode::kInvalidArgument, "'" + std::string(db) + "' names no file", "db");
    }
    return StoreLocation{Backend::kSqlite, std::string(path)};
  }
  const std::string_view scheme = db.substr(0, scheme_end);
  if (scheme == "postgresql" || scheme == "postgres") {
    return Fail(ErrorCode::kInvalidArgument,
                "--db / VIGIL_DB names a PostgreSQL database, which this build of vigil cannot "
                "use yet; give a SQLite file path (e.g. data/vigil.db)",
                "db");
  }
  return Fail(
      ErrorCode::kInvalidArgument,
      "--db / VIGIL_DB: '" + std::string(scheme) +
          "://' is not a database vigil knows; give a SQLite file path (e.g. data/vigil.db)",
      "db");
}

Result<std::unique_ptr<Store>> OpenStore(std::string_view db) {
  auto location = ParseStoreLocation(db);
  if (!location) return Fail(location.error());
  switch (location->backend) {
    case Backend::kSqlite:
      return OpenSqliteStore({.path = location->target});
  }
  return Fail(ErrorCode::kInternal, "unknown backend");
}

Result<MigrationReport> MigrateStore(std::string_view db) {
  auto location = ParseStoreLocation(db);
  if (!location) return Fail(location.error());
  switch (location->backend) {
    case Backend::kSqlite: {
      std::filesystem::path parent = std::filesystem::path(location->target).parent_path();
      std::error_code ec;
      if (!parent.empty()) std::filesystem::create_directories(parent, ec);
      if (ec) {
        Error error(ErrorCode::kUnavailable, "cannot create the database's directory");
        error.cause = parent.string() + ": " + ec.message();
        return Fail(std::move(error));
      }
      return MigrateSqlite(location->target);
    }
  }
  return Fail(ErrorCode::kInternal, "unknown backend");
}

}  // namespace vigil::store
