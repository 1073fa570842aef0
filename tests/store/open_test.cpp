#include "store/open.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "store/store_test_util.hpp"

namespace vigil::store {
namespace {

using testing::TempDir;

TEST(StoreLocationTest, APathOrASqliteUrlIsSqlite) {
  for (auto [db, path] : {std::pair{"data/vigil.db", "data/vigil.db"},
                          std::pair{"/var/lib/vigil/vigil.db", "/var/lib/vigil/vigil.db"},
                          std::pair{"sqlite:data/vigil.db", "data/vigil.db"},
                          std::pair{"sqlite:///var/lib/vigil.db", "/var/lib/vigil.db"},
                          std::pair{"sqlite://rel.db", "rel.db"}}) {
    auto location = ParseStoreLocation(db);
    ASSERT_TRUE(location.has_value()) << db << ": " << location.error().message;
    EXPECT_EQ(location->backend, Backend::kSqlite) << db;
    EXPECT_EQ(location->target, path) << db;
  }
}

TEST(StoreLocationTest, AUrlThisBuildCannotOpenIsRefusedByName) {
  auto pg = ParseStoreLocation("postgresql://postgres@127.0.0.1:5432/vigil");
  ASSERT_FALSE(pg.has_value());
  EXPECT_EQ(pg.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(pg.error().field, "db");
  EXPECT_NE(pg.error().message.find("PostgreSQL"), std::string::npos) << pg.error().message;
  EXPECT_FALSE(ParseStoreLocation("postgres://x/y").has_value());
  auto other = ParseStoreLocation("mysql://localhost/vigil");
  ASSERT_FALSE(other.has_value());
  EXPECT_NE(other.error().message.find("'mysql://'"), std::string::npos) << other.error().message;
  EXPECT_FALSE(ParseStoreLocation("").has_value());
  EXPECT_FALSE(ParseStoreLocation("sqlite://").has_value());
}

// The report that started it: `vigil migrate --db postgresql://...` made a SQLite file in a new
// folder named `postgresql:`. Nothing is created now.
TEST(StoreLocationTest, MigrateCreatesNothingForAUrlItCannotOpen) {
  TempDir dir;
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  auto report = MigrateStore("postgresql://postgres@127.0.0.1:5432/vigil");
  auto opened = OpenStore("postgresql://postgres@127.0.0.1:5432/vigil");
  std::filesystem::current_path(cwd);
  EXPECT_FALSE(report.has_value());
  EXPECT_FALSE(opened.has_value());
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(StoreLocationTest, MigrateMakesTheFileAndItsFolderAndOpenFindsIt) {
  TempDir dir;
  const std::string db = "sqlite://" + dir.path() + "/nested/folder/vigil.db";
  auto report = MigrateStore(db);
  ASSERT_TRUE(report.has_value()) << Describe(report.error());
  EXPECT_EQ(report->from_version, 0);
  EXPECT_GT(report->to_version, 0);
  auto again = MigrateStore(dir.path() + "/nested/folder/vigil.db");  // the same file, as a path
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->from_version, report->to_version);
  EXPECT_TRUE(OpenStore(db).has_value());
}

}  // namespace
}  // namespace vigil::store
