// What the SQLite store promises beyond the Store contract: how it opens and migrates files, the
// rules its schema enforces, and how it behaves when misused or when the database is busy.

#include "store/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/migrations.hpp"
#include "store/sqlite/sqlite_db.hpp"
#include "store/store_test_util.hpp"
#include "support/result_matchers.hpp"

namespace vigil::store {
namespace {

using core::EventId;
using core::EventType;
using testing::TempDir;
using vigil::test::FailsWith;
using vigil::test::IsOk;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// A plain connection to the file, as another program (or the sqlite3 shell) would open it.
std::unique_ptr<sqlite::Connection> RawConnection(const std::string& path) {
  auto db = sqlite::Connection::Open(path, SQLITE_OPEN_READWRITE, 1000);
  EXPECT_TRUE(IsOk(db));
  return db ? std::move(*db) : nullptr;
}

// The first column of the first row of `sql`, as text.
std::string QueryText(sqlite::Connection& db, const std::string& sql) {
  auto stmt = db.Prepare(sql);
  if (!stmt) return "error: " + stmt.error().message;
  auto row = stmt->Step();
  if (!row) return "error: " + row.error().message;
  return *row ? std::string(stmt->ColumnText(0)) : "no row";
}

InvestigationRow MakeInvestigation(const std::string& id) {
  InvestigationRow row;
  row.id = id;
  row.owner = "alice";
  row.name = "n";
  row.run_id = "run-1";
  row.snapshot_json = "{}";
  return row;
}

core::Event MakeEvent(const std::string& investigation_id, EventId id, std::string key = {}) {
  core::Event event;
  event.id = id;
  event.investigation_id = investigation_id;
  event.run_id = "run-1";
  event.type = EventType::kToolStarted;
  event.actor = "agent";
  event.key = std::move(key);
  return event;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.path().empty()); }

  // Migrates the database and opens a store on it.
  std::unique_ptr<Store> MigrateAndOpen(SqliteOptions options = {}) {
    options.path = path_;
    EXPECT_TRUE(IsOk(MigrateSqlite(path_)));
    auto store = OpenSqliteStore(options);
    EXPECT_TRUE(IsOk(store));
    return store ? std::move(*store) : nullptr;
  }

  std::string Migrate() { return "run 'vigil migrate --db " + path_ + "'"; }

  TempDir dir_;
  const std::string path_ = dir_.path() + "/vigil.db";
};

// --- Opening ---

TEST_F(SqliteStoreTest, OpenRefusesAMissingFileAndDoesNotCreateIt) {
  auto store = OpenSqliteStore({.path = path_});
  ASSERT_TRUE(FailsWith(store, ErrorCode::kUnavailable));
  EXPECT_EQ(store.error().message,
            "database " + path_ + " does not exist: " + Migrate() + " to create it");
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(SqliteStoreTest, OpenRefusesAnUnmigratedDatabaseAndLeavesItAlone) {
  WriteFile(path_, "");  // what sqlite3_open would leave: an empty database
  auto store = OpenSqliteStore({.path = path_});
  ASSERT_TRUE(FailsWith(store, ErrorCode::kUnavailable));
  EXPECT_EQ(store.error().message, "database " + path_ +
                                       " is at schema version 0, this build needs " +
                                       std::to_string(SqliteSchemaVersion()) + ": " + Migrate());
  EXPECT_EQ(std::filesystem::file_size(path_), 0u);
}

TEST_F(SqliteStoreTest, OpenAndMigrateRefuseAFileThatIsNotADatabase) {
  const std::string text(8192, 'x');
  WriteFile(path_, text);
  auto store = OpenSqliteStore({.path = path_});
  ASSERT_TRUE(FailsWith(store, ErrorCode::kUnavailable));
  EXPECT_NE(store.error().message.find("is not a vigil database"), std::string::npos)
      << store.error().message;
  EXPECT_TRUE(FailsWith(MigrateSqlite(path_), ErrorCode::kInvalidArgument));
  EXPECT_EQ(ReadFile(path_), text);
}

TEST_F(SqliteStoreTest, OpenAndMigrateRefuseAnotherProgramsDatabase) {
  {
    auto db = sqlite::Connection::Open(path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, 1000);
    ASSERT_TRUE(IsOk(db));
    ASSERT_TRUE(IsOk((*db)->Exec("CREATE TABLE notes (body TEXT)")));
  }
  const std::string before = ReadFile(path_);
  auto store = OpenSqliteStore({.path = path_});
  ASSERT_TRUE(FailsWith(store, ErrorCode::kUnavailable));
  EXPECT_NE(store.error().message.find("is not a vigil database"), std::string::npos)
      << store.error().message;
  auto migrated = MigrateSqlite(path_);
  EXPECT_TRUE(FailsWith(migrated, ErrorCode::kInvalidArgument));
  EXPECT_EQ(ReadFile(path_), before);
}

TEST_F(SqliteStoreTest, OpenAndMigrateRefuseANewerSchema) {
  {
    ASSERT_TRUE(IsOk(MigrateSqlite(path_)));
    auto db = RawConnection(path_);
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(IsOk(db->Exec("PRAGMA user_version = 99")));
  }
  auto store = OpenSqliteStore({.path = path_});
  ASSERT_TRUE(FailsWith(store, ErrorCode::kUnavailable));
  EXPECT_EQ(store.error().message,
            "database " + path_ + " is at schema version 99, this build needs " +
                std::to_string(SqliteSchemaVersion()) + ": use a newer vigil");
  auto migrated = MigrateSqlite(path_);
  ASSERT_TRUE(FailsWith(migrated, ErrorCode::kConflict));
  EXPECT_NE(migrated.error().message.find("schema version 99"), std::string::npos);
}

// --- Migrating ---

TEST_F(SqliteStoreTest, MigrateCreatesTheFileReportsVersionsAndIsIdempotent) {
  const std::string nested = dir_.path() + "/data/sub/vigil.db";
  auto first = MigrateSqlite(nested);
  ASSERT_TRUE(IsOk(first));
  EXPECT_EQ(first->from_version, 0);
  EXPECT_EQ(first->to_version, SqliteSchemaVersion());
  auto second = MigrateSqlite(nested);
  ASSERT_TRUE(IsOk(second));
  EXPECT_EQ(second->from_version, SqliteSchemaVersion());
  EXPECT_EQ(second->to_version, SqliteSchemaVersion());
  EXPECT_TRUE(IsOk(OpenSqliteStore({.path = nested})));
}

TEST_F(SqliteStoreTest, MigratedDatabaseIsMarkedAndUsesWal) {
  ASSERT_TRUE(IsOk(MigrateSqlite(path_)));
  auto db = RawConnection(path_);
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(QueryText(*db, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(QueryText(*db, "PRAGMA application_id"), std::to_string(sqlite::kApplicationId));
  EXPECT_EQ(QueryText(*db, "PRAGMA user_version"), std::to_string(SqliteSchemaVersion()));
}

TEST(SqliteMigrationsTest, CountUpByOneToTheSchemaVersionAndStateTheirInvariants) {
  int expected = 1;
  for (const sqlite::Migration& migration : sqlite::Migrations()) {
    EXPECT_EQ(migration.version, expected++);
    std::string sql = migration.sql;
    EXPECT_EQ(sql.substr(sql.find_first_not_of(" \n"), 2), "--")
        << "migration " << migration.version << " must open with a comment on its invariants";
  }
  EXPECT_EQ(expected - 1, SqliteSchemaVersion());
}

// --- The schema's rules ---

TEST_F(SqliteStoreTest, EventIdsMustIncreaseWithinAnInvestigation) {
  auto store = MigrateAndOpen();
  ASSERT_NE(store, nullptr);
  auto tx = store->BeginWrite();
  ASSERT_TRUE(IsOk(tx));
  ASSERT_TRUE(IsOk((*tx)->InsertInvestigation(MakeInvestigation("inv-a"))));
  ASSERT_TRUE(IsOk((*tx)->InsertInvestigation(MakeInvestigation("inv-b"))));
  ASSERT_TRUE(IsOk((*tx)->AppendEvents(std::vector{MakeEvent("inv-a", {2000, 3})})));
  EXPECT_TRUE(FailsWith((*tx)->AppendEvents(std::vector{MakeEvent("inv-a", {2000, 2})}),
                        ErrorCode::kConflict));
  EXPECT_TRUE(FailsWith((*tx)->AppendEvents(std::vector{MakeEvent("inv-a", {1999, 999'999})}),
                        ErrorCode::kConflict));
  // Other investigations have their own sequence.
  EXPECT_TRUE(IsOk((*tx)->AppendEvents(std::vector{MakeEvent("inv-b", {1000, 0})})));
  EXPECT_TRUE(IsOk((*tx)->AppendEvents(std::vector{MakeEvent("inv-a", {2000, 4})})));
  ASSERT_TRUE(IsOk((*tx)->Commit()));
}

TEST_F(SqliteStoreTest, EventsAreAppendOnly) {
  {
    auto store = MigrateAndOpen();
    ASSERT_NE(store, nullptr);
    auto tx = store->BeginWrite();
    ASSERT_TRUE(IsOk(tx));
    ASSERT_TRUE(IsOk((*tx)->InsertInvestigation(MakeInvestigation("inv-a"))));
    ASSERT_TRUE(IsOk((*tx)->AppendEvents(std::vector{MakeEvent("inv-a", {1000, 0})})));
    ASSERT_TRUE(IsOk((*tx)->Commit()));
  }
  auto db = RawConnection(path_);
  ASSERT_NE(db, nullptr);
  EXPECT_TRUE(FailsWith(db->Exec("UPDATE events SET actor = 'someone'"), ErrorCode::kConflict));
  EXPECT_TRUE(FailsWith(db->Exec("DELETE FROM events"), ErrorCode::kConflict));
  EXPECT_EQ(QueryText(*db, "SELECT count(*) FROM events"), "1");
}

TEST_F(SqliteStoreTest, AppendingToAnUnknownInvestigationIsNotFound) {
  auto store = MigrateAndOpen();
  ASSERT_NE(store, nullptr);
  auto tx = store->BeginWrite();
  ASSERT_TRUE(IsOk(tx));
  EXPECT_TRUE(FailsWith((*tx)->AppendEvents(std::vector{MakeEvent("nobody", {1000, 0})}),
                        ErrorCode::kNotFound));
}

// --- Transactions ---

TEST_F(SqliteStoreTest, OneWriteTransactionAtATime) {
  auto store = MigrateAndOpen();
  ASSERT_NE(store, nullptr);
  auto first = store->BeginWrite();
  ASSERT_TRUE(IsOk(first));
  EXPECT_TRUE(FailsWith(store->BeginWrite(), ErrorCode::kInternal));
  first->reset();
  EXPECT_TRUE(IsOk(store->BeginWrite()));
}

TEST_F(SqliteStoreTest, AnEndedTransactionRefusesFurtherWork) {
  auto store = MigrateAndOpen();
  ASSERT_NE(store, nullptr);
  auto tx = store->BeginWrite();
  ASSERT_TRUE(IsOk(tx));
  ASSERT_TRUE(IsOk((*tx)->Commit()));
  EXPECT_TRUE(
      FailsWith((*tx)->InsertInvestigation(MakeInvestigation("inv-a")), ErrorCode::kInternal));
  EXPECT_TRUE(FailsWith((*tx)->Commit(), ErrorCode::kInternal));
  tx->reset();
  EXPECT_FALSE(store->GetInvestigation("inv-a")->has_value());
}

TEST_F(SqliteStoreTest, SavepointsAreOneLevel) {
  auto store = MigrateAndOpen();
  ASSERT_NE(store, nullptr);
  auto tx = store->BeginWrite();
  ASSERT_TRUE(IsOk(tx));
  EXPECT_TRUE(FailsWith((*tx)->ReleaseSavepoint(), ErrorCode::kInternal));
  EXPECT_TRUE(FailsWith((*tx)->RollbackToSavepoint(), ErrorCode::kInternal));
  ASSERT_TRUE(IsOk((*tx)->Savepoint()));
  EXPECT_TRUE(FailsWith((*tx)->Savepoint(), ErrorCode::kInternal));
  ASSERT_TRUE(IsOk((*tx)->RollbackToSavepoint()));
  ASSERT_TRUE(IsOk((*tx)->Savepoint()));  // a new job after a rolled-back one
  ASSERT_TRUE(IsOk((*tx)->ReleaseSavepoint()));
  ASSERT_TRUE(IsOk((*tx)->Commit()));
}

TEST_F(SqliteStoreTest, BusyDatabaseFailsBeginWriteWithUnavailable) {
  auto store = MigrateAndOpen({.busy_timeout_ms = 0});
  ASSERT_NE(store, nullptr);
  auto other = RawConnection(path_);  // e.g. a second server on the same file
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(IsOk(other->Exec("BEGIN IMMEDIATE")));
  EXPECT_TRUE(FailsWith(store->BeginWrite(), ErrorCode::kUnavailable));
  // Reads go on meanwhile (WAL).
  EXPECT_TRUE(IsOk(store->GetInvestigation("inv-a")));
  ASSERT_TRUE(IsOk(other->Exec("COMMIT")));
  EXPECT_TRUE(IsOk(store->BeginWrite()));
}

TEST_F(SqliteStoreTest, ReadsShareASingleConnection) {
  auto store = MigrateAndOpen({.read_connections = 1});
  ASSERT_NE(store, nullptr);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        if (!store->ListInvestigations({}) || !store->ReadEvents({.investigation_id = "x"})) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures, 0);
}

// An acknowledged commit survives the process being killed before it closes the database: the
// child commits and then dies by SIGKILL, with the commit only in the WAL.
TEST_F(SqliteStoreTest, CommitSurvivesAKilledProcess) {
  ASSERT_TRUE(IsOk(MigrateSqlite(path_)));
  pid_t child = fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    auto store = OpenSqliteStore({.path = path_});
    if (!store) _exit(2);
    auto tx = (*store)->BeginWrite();
    if (!tx || !(*tx)->InsertInvestigation(MakeInvestigation("inv-a")) ||
        !(*tx)->AppendEvents(std::vector{MakeEvent("inv-a", {1000, 0}, "k")}) || !(*tx)->Commit()) {
      _exit(3);
    }
    raise(SIGKILL);
    _exit(4);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGKILL);

  auto store = OpenSqliteStore({.path = path_});
  ASSERT_TRUE(IsOk(store));
  auto row = (*store)->GetInvestigation("inv-a");
  ASSERT_TRUE(IsOk(row));
  EXPECT_TRUE(row->has_value());
  auto events = (*store)->ReadEvents({.investigation_id = "inv-a"});
  ASSERT_TRUE(IsOk(events));
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].key, "k");
}

}  // namespace
}  // namespace vigil::store
