#include "store/open.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "store/postgres/postgres_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace vigil::store {

Result<StoreLocation> ParseStoreLocation(std::string_view db) {
  if (db.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "--db / VIGIL_DB is empty: give a SQLite file path or a PostgreSQL URL", "db");
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
    StoreLocation location{Backend::kPostgres, std::string(db)};
    if (auto checked = CheckPostgresUri(location.target); !checked) return Fail(checked.error());
    return location;
  }
  return Fail(ErrorCode::kInvalidArgument,
              "--db / VIGIL_DB: '" + std::string(scheme) +
                  "://' is not a database vigil knows; give a SQLite file path (e.g. "
                  "data/vigil.db) or a PostgreSQL URL (postgresql://...)",
              "db");
}

std::string RedactedLocation(std::string_view db) {
  const size_t scheme_end = db.find("://");
  if (scheme_end == std::string_view::npos) return std::string(db);
  std::string out(db);
  // postgresql://user:password@host...: the userinfo ends at the last '@' before the path.
  const size_t authority = scheme_end + 3;
  const size_t path = std::min(out.find_first_of("/?", authority), out.size());
  const size_t at = out.rfind('@', path);
  if (at != std::string::npos && at >= authority) {
    const size_t colon = out.find(':', authority);
    if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  // ...?password=secret&...
  for (size_t key = out.find("password="); key != std::string::npos;
       key = out.find("password=", key + 1)) {
    if (key == 0 || (out[key - 1] != '?' && out[key - 1] != '&')) continue;
    const size_t value = key + 9;
    const size_t end = std::min(out.find('&', value), out.size());
    out.replace(value, end - value, "***");
  }
  return out;
}

Result<std::unique_ptr<Store>> OpenStore(std::string_view db, const OpenOptions& options) {
  auto location = ParseStoreLocation(db);
  if (!location) return Fail(location.error());
  switch (location->backend) {
    case Backend::kSqlite:
      return OpenSqliteStore(
          {.path = location->target, .read_connections = options.read_connections});
    case Backend::kPostgres:
      return OpenPostgresStore(
          {.uri = location->target, .read_connections = options.read_connections});
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
    case Backend::kPostgres:
      return MigratePostgres(location->target);
  }
  return Fail(ErrorCode::kInternal, "unknown backend");
}

}  // namespace vigil::store
