#include "store/open.hpp"

#include <gtest/gtest.h>

#include <chrono>
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

TEST(StoreLocationTest, APostgresqlUrlIsPostgres) {
  for (const char* db :
       {"postgresql://vigil:secret@db.example.com:5432/vigil", "postgres://vigil@db/vigil",
        "postgresql://", "postgresql:///vigil", "postgresql://%2Fvar%2Frun%2Fpostgresql/vigil",
        "postgresql://h1:5432,h2:5433/vigil?target_session_attrs=read-write",
        "postgresql://vigil@[::1]:5432/vigil?sslmode=require&connect_timeout=2"}) {
    auto location = ParseStoreLocation(db);
    ASSERT_TRUE(location.has_value()) << db << ": " << location.error().message;
    EXPECT_EQ(location->backend, Backend::kPostgres) << db;
    EXPECT_EQ(location->target, db) << "libpq gets the URL as given";
  }
}

TEST(StoreLocationTest, ABadPostgresqlUrlIsRefusedWithFieldDb) {
  for (const char* db : {"postgresql://db:notaport/vigil", "postgresql://db:70000/vigil",
                         "postgresql://db:0/vigil", "postgresql://db/vigil?no_such_option=1",
                         "postgresql://[::1/vigil", "postgres://h1:5432,h2:x/vigil"}) {
    auto location = ParseStoreLocation(db);
    ASSERT_FALSE(location.has_value()) << db;
    EXPECT_EQ(location.error().code, ErrorCode::kInvalidArgument) << db;
    EXPECT_EQ(location.error().field, "db") << db;
  }
}

TEST(StoreLocationTest, AUrlOfNoKnownDatabaseIsRefusedByName) {
  auto other = ParseStoreLocation("mysql://localhost/vigil");
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().field, "db");
  EXPECT_NE(other.error().message.find("'mysql://'"), std::string::npos) << other.error().message;
  EXPECT_FALSE(ParseStoreLocation("").has_value());
  EXPECT_FALSE(ParseStoreLocation("sqlite://").has_value());
}

TEST(StoreLocationTest, RedactedLocationHidesPasswordsOnly) {
  EXPECT_EQ(RedactedLocation("postgresql://vigil:s3cr:et@db:5432/vigil"),
            "postgresql://vigil:***@db:5432/vigil");
  EXPECT_EQ(RedactedLocation("postgresql://vigil@db/vigil?sslmode=require&password=x&a=b"),
            "postgresql://vigil@db/vigil?sslmode=require&password=***&a=b");
  EXPECT_EQ(RedactedLocation("postgresql://db:5432/vigil"), "postgresql://db:5432/vigil");
  EXPECT_EQ(RedactedLocation("data/vigil.db"), "data/vigil.db");
  EXPECT_EQ(RedactedLocation("sqlite:///var/lib/a@b:c.db"), "sqlite:///var/lib/a@b:c.db");
}

// The report that started it: `vigil migrate --db postgresql://...` made a SQLite file in a new
// folder named `postgresql:`. Nothing is created now, also when the server cannot be reached
// (port 1 on the loopback: nothing listens there), which is told as kUnavailable at once.
TEST(StoreLocationTest, MigrateCreatesNoFileForAPostgresqlUrl) {
  TempDir dir;
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  const auto start = std::chrono::steady_clock::now();
  auto report = MigrateStore("postgresql://vigil:secret@127.0.0.1:1/vigil");
  auto opened = OpenStore("postgresql://vigil:secret@127.0.0.1:1/vigil");
  const auto took = std::chrono::steady_clock::now() - start;
  std::filesystem::current_path(cwd);
  ASSERT_FALSE(report.has_value());
  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(report.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(opened.error().code, ErrorCode::kUnavailable);
  // The client's words are a fixed sentence; libpq's are the cause, for the log.
  EXPECT_EQ(opened.error().message, "the database cannot take this request now; retry later");
  EXPECT_NE(opened.error().cause.find("127.0.0.1"), std::string::npos) << opened.error().cause;
  EXPECT_EQ(opened.error().cause.find("secret"), std::string::npos) << opened.error().cause;
  EXPECT_LT(took, std::chrono::seconds(5));
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
