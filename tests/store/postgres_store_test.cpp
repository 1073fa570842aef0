// What the contract suite does not cover of the PostgreSQL store: its schema's versions, lost
// connections, and appends long enough to take several pipelines. Against the real test server
// (tests/CMakeLists.txt), each test in a database of its own.
#include "store/postgres/postgres_store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/open.hpp"
#include "store/store.hpp"
#include "store/store_test_util.hpp"
#include "support/postgres/test_database.hpp"
#include "support/result_matchers.hpp"

namespace vigil::store {
namespace {

using testing::TempDir;
using vigil::test::FailsWith;
using vigil::test::IsOk;
using vigil::test::RunAdminSql;

InvestigationRow Investigation(const std::string& id) {
  InvestigationRow row;
  row.id = id;
  row.owner = "alice";
  row.name = "Investigation " + id;
  row.run_id = "run-1";
  row.version = 1;
  row.created_at_ms = 1'730'000'000'000;
  row.updated_at_ms = row.created_at_ms;
  row.snapshot_json = "{}";
  return row;
}

core::Event Event(const std::string& investigation_id, core::EventId id, std::string key = {}) {
  core::Event event;
  event.id = id;
  event.investigation_id = investigation_id;
  event.run_id = "run-1";
  event.type = core::EventType::kToolStarted;
  event.actor = "network_agent";
  event.data["tool_execution_id"] = "tool-" + core::FormatEventId(id);
  event.key = std::move(key);
  return event;
}

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = test::PostgresDatabaseFor(dir_.path());
    ASSERT_FALSE(url_.empty());
    database_ = test::DatabaseOf(url_);
  }

  std::unique_ptr<Store> MigrateAndOpen() {
    auto migrated = MigrateStore(url_);
    EXPECT_TRUE(IsOk(migrated));
    auto store = OpenStore(url_);
    EXPECT_TRUE(IsOk(store));
    return store ? std::move(*store) : nullptr;
  }

  // Ends every session vigil has open on this test's database, and waits (at most 5 s each) until
  // they are gone. Returns how many there were.
  int TerminateVigilSessions() {
    auto ended = RunAdminSql(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000))"
        " FROM pg_stat_activity WHERE datname = '" +
        database_ + "' AND application_name = 'vigil'");
    return ended ? std::stoi(*ended) : -1;
  }

  TempDir dir_;
  std::string url_;
  std::string database_;
};

TEST_F(PostgresStoreTest, MigratingTwiceChangesNothingTheSecondTime) {
  auto first = MigrateStore(url_);
  ASSERT_TRUE(IsOk(first));
  EXPECT_EQ(first->from_version, 0);
  EXPECT_GT(first->to_version, 0);
  auto second = MigrateStore(url_);
  ASSERT_TRUE(IsOk(second));
  EXPECT_EQ(second->from_version, first->to_version);
  EXPECT_EQ(second->to_version, first->to_version);
  // One row per migration applied, once.
  EXPECT_EQ(RunAdminSql("SELECT count(*) FROM vigil_schema_migrations", database_),
            std::to_string(first->to_version));
  EXPECT_TRUE(IsOk(OpenStore(url_)));
}

TEST_F(PostgresStoreTest, AnUnmigratedDatabaseIsRefusedSayingWhatToRun) {
  auto store = OpenStore(url_);
  ASSERT_TRUE(FailsWith(store, ErrorCode::kUnavailable));
  EXPECT_NE(store.error().message.find("schema version 0"), std::string::npos)
      << store.error().message;
  EXPECT_NE(store.error().message.find("vigil migrate"), std::string::npos)
      << store.error().message;
  // Opening created nothing.
  EXPECT_EQ(RunAdminSql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", database_),
            "0");
}

TEST_F(PostgresStoreTest, ANewerSchemaIsRefusedByOpenAndByMigrate) {
  ASSERT_TRUE(IsOk(MigrateStore(url_)));
  ASSERT_TRUE(RunAdminSql("INSERT INTO vigil_schema_migrations (version) VALUES (999)", database_));
  auto store = OpenStore(url_);
  ASSERT_TRUE(FailsWith(store, ErrorCode::kUnavailable));
  EXPECT_NE(store.error().message.find("newer vigil"), std::string::npos) << store.error().message;
  EXPECT_TRUE(FailsWith(MigrateStore(url_), ErrorCode::kConflict));
}

TEST_F(PostgresStoreTest, AnotherProgramsTablesAreLeftAlone) {
  ASSERT_TRUE(RunAdminSql("CREATE TABLE events (id integer)", database_));
  EXPECT_TRUE(FailsWith(MigrateStore(url_), ErrorCode::kInvalidArgument));
  EXPECT_TRUE(FailsWith(OpenStore(url_), ErrorCode::kUnavailable));
  EXPECT_EQ(RunAdminSql("SELECT to_regclass('vigil_schema_migrations') IS NULL", database_), "t");
  EXPECT_EQ(RunAdminSql("SELECT to_regclass('investigations') IS NULL", database_), "t");
}

// The server ends every session (a restart, a failover, an administrator): each read's connection
// is found lost, and the read runs again on a new one, so no read fails.
TEST_F(PostgresStoreTest, ReadsOutliveTheServerEndingTheirSessions) {
  auto store = MigrateAndOpen();
  ASSERT_NE(store, nullptr);
  {
    auto tx = store->BeginWrite();
    ASSERT_TRUE(IsOk(tx));
    ASSERT_TRUE(IsOk((*tx)->InsertInvestigation(Investigation("inv-1"))));
    ASSERT_TRUE(IsOk((*tx)->AppendEvents(std::vector{Event("inv-1", {1000, 0})})));
    ASSERT_TRUE(IsOk((*tx)->Commit()));
  }
  // The writer and the four read connections.
  ASSERT_EQ(TerminateVigilSessions(), 5);
  for (int i = 0; i < 8; ++i) {  // more reads than connections: each one is renewed
    auto row = store->GetInvestigation("inv-1");
    ASSERT_TRUE(IsOk(row)) << "read " << i;
    ASSERT_TRUE(row->has_value());
    auto events = store->ReadEvents({.investigation_id = "inv-1"});
    ASSERT_TRUE(IsOk(events)) << "read " << i;
    EXPECT_EQ(events->size(), 1u);
  }
  // BEGIN on the lost writer connection is retried too.
  auto tx = store->BeginWrite();
  ASSERT_TRUE(IsOk(tx));
  ASSERT_TRUE(IsOk((*tx)->InsertInvestigation(Investigation("inv-2"))));
  ASSERT_TRUE(IsOk((*tx)->Commit()));
}

// A write transaction whose session ends cannot go on: its next call fails at once with
// kUnavailable (a fixed sentence for the client, the server's words for the log), nothing of it
// is committed, and the next transaction runs on a new connection.
TEST_F(PostgresStoreTest, ALostConnectionFailsTheWriteQuicklyAndTheNextWriteReconnects) {
  auto store = MigrateAndOpen();
  ASSERT_NE(store, nullptr);
  {
    auto tx = store->BeginWrite();
    ASSERT_TRUE(IsOk(tx));
    ASSERT_TRUE(IsOk((*tx)->InsertInvestigation(Investigation("inv-lost"))));
    ASSERT_GE(TerminateVigilSessions(), 1);
    const auto start = std::chrono::steady_clock::now();
    auto appended = (*tx)->AppendEvents(std::vector{Event("inv-lost", {1000, 0})});
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
    ASSERT_TRUE(FailsWith(appended, ErrorCode::kUnavailable));
    EXPECT_EQ(appended.error().message, "the database cannot take this request now; retry later");
    EXPECT_FALSE(appended.error().cause.empty());
    // The transaction is over: so says every further call, and COMMIT does not pretend.
    EXPECT_TRUE(FailsWith((*tx)->Commit(), ErrorCode::kUnavailable));
  }
  auto tx = store->BeginWrite();
  ASSERT_TRUE(IsOk(tx));
  ASSERT_TRUE(IsOk((*tx)->InsertInvestigation(Investigation("inv-after"))));
  ASSERT_TRUE(IsOk((*tx)->AppendEvents(std::vector{Event("inv-after", {1000, 0})})));
  ASSERT_TRUE(IsOk((*tx)->Commit()));
  tx->reset();
  auto lost = store->GetInvestigation("inv-lost");
  ASSERT_TRUE(IsOk(lost));
  EXPECT_FALSE(lost->has_value());
  auto after = store->ReadEvents({.investigation_id = "inv-after"});
  ASSERT_TRUE(IsOk(after));
  EXPECT_EQ(after->size(), 1u);
}

// PostgreSQL's text cannot hold NUL, and libpq would cut a parameter at one: such text is
// refused, not stored cut short (two keys that differ after a NUL must not collide), and the
// transaction goes on.
TEST_F(PostgresStoreTest, TextWithANulIsRefusedNotCutShort) {
  auto store = MigrateAndOpen();
  ASSERT_NE(store, nullptr);
  auto tx = store->BeginWrite();
  ASSERT_TRUE(IsOk(tx));
  InvestigationRow named = Investigation("inv-1");
  named.name = std::string("before\0after", 12);
  EXPECT_TRUE(FailsWith((*tx)->InsertInvestigation(named), ErrorCode::kInvalidArgument));
  ASSERT_TRUE(IsOk((*tx)->InsertInvestigation(Investigation("inv-1"))));
  EXPECT_TRUE(FailsWith(
      (*tx)->AppendEvents(std::vector{Event("inv-1", {1000, 0}, "k"),
                                      Event("inv-1", {1000, 1}, std::string("k\0other", 7))}),
      ErrorCode::kInvalidArgument));
  ASSERT_TRUE(IsOk((*tx)->AppendEvents(std::vector{Event("inv-1", {1000, 0}, "k")})));
  ASSERT_TRUE(IsOk((*tx)->Commit()));
  tx->reset();
  auto events = store->ReadEvents({.investigation_id = "inv-1"});
  ASSERT_TRUE(IsOk(events));
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].key, "k");
}

// An append larger than one pipeline: all of it, in order; and a refusal far into it appends none
// of it and leaves the transaction usable.
TEST_F(PostgresStoreTest, ALongAppendIsAllOrNothing) {
  auto store = MigrateAndOpen();
  ASSERT_NE(store, nullptr);
  std::vector<core::Event> batch;
  for (int i = 0; i < 1000; ++i) {
    batch.push_back(Event("inv-1", {1000 + i / 10, i % 10}, "k-" + std::to_string(i)));
  }
  {
    auto tx = store->BeginWrite();
    ASSERT_TRUE(IsOk(tx));
    ASSERT_TRUE(IsOk((*tx)->InsertInvestigation(Investigation("inv-1"))));
    ASSERT_TRUE(IsOk((*tx)->AppendEvents(batch)));
    ASSERT_TRUE(IsOk((*tx)->Commit()));
  }
  std::vector<core::Event> again;
  for (int i = 0; i < 1000; ++i) {
    // Fresh ids and keys, but number 700 reuses a stored key.
    again.push_back(
        Event("inv-1", {5000 + i / 10, i % 10}, i == 700 ? "k-3" : "again-" + std::to_string(i)));
  }
  {
    auto tx = store->BeginWrite();
    ASSERT_TRUE(IsOk(tx));
    auto appended = (*tx)->AppendEvents(again);
    ASSERT_TRUE(FailsWith(appended, ErrorCode::kConflict));
    EXPECT_NE(appended.error().message.find("'k-3'"), std::string::npos)
        << appended.error().message;
    ASSERT_TRUE(IsOk((*tx)->AppendEvents(std::vector{Event("inv-1", {9000, 0})})));
    ASSERT_TRUE(IsOk((*tx)->Commit()));
  }
  auto events = store->ReadEvents({.investigation_id = "inv-1", .limit = SIZE_MAX});
  ASSERT_TRUE(IsOk(events));
  ASSERT_EQ(events->size(), 1001u);
  for (size_t i = 0; i < batch.size(); ++i) {
    ASSERT_EQ((*events)[i].id, batch[i].id) << i;
    ASSERT_EQ((*events)[i].key, batch[i].key) << i;
  }
  EXPECT_EQ(events->back().id, (core::EventId{9000, 0}));
}

// --- Several nodes on one database ---

// Two stores on the test's database, as two vigil nodes have.
class PostgresNodesTest : public PostgresStoreTest {
 protected:
  void SetUp() override {
    PostgresStoreTest::SetUp();
    a_ = MigrateAndOpen();
    b_ = MigrateAndOpen();
    ASSERT_NE(a_, nullptr);
    ASSERT_NE(b_, nullptr);
  }

  std::unique_ptr<Store> a_, b_;
};

// Two stores (two nodes) whose transactions lock the same investigations, each naming them in its
// own order: the second waits for the first (no deadlock: both lock in id order), and when its
// lock is granted it sees the head the first committed.
TEST_F(PostgresNodesTest, WritersLockingTheSameInvestigationsTakeTurnsAndSeeTheNewHead) {
  {
    auto tx = a_->BeginWrite();
    ASSERT_TRUE(IsOk(tx));
    ASSERT_TRUE(IsOk((*tx)->InsertInvestigation(Investigation("inv-x"))));
    ASSERT_TRUE(IsOk((*tx)->InsertInvestigation(Investigation("inv-y"))));
    ASSERT_TRUE(IsOk((*tx)->Commit()));
  }
  auto first = a_->BeginWrite();
  ASSERT_TRUE(IsOk(first));
  auto held = (*first)->LockInvestigations(std::vector<std::string>{"inv-x", "inv-y"});
  ASSERT_TRUE(IsOk(held));
  ASSERT_EQ(held->size(), 2u);
  auto second = std::async(std::launch::async, [this] {
    auto tx = b_->BeginWrite();
    if (!tx) return Result<std::vector<InvestigationHead>>(tl::unexpected(tx.error()));
    auto heads = (*tx)->LockInvestigations(std::vector<std::string>{"inv-y", "inv-x"});
    (void)(*tx)->Commit();
    return heads;
  });
  // The second is waiting for a row lock, as the server sees it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string waiting = "0";
  while (waiting == "0" && std::chrono::steady_clock::now() < deadline) {
    waiting = RunAdminSql("SELECT count(*) FROM pg_stat_activity WHERE datname = '" + database_ +
                          "' AND wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE%'")
                  .value_or("0");
  }
  ASSERT_EQ(waiting, "1");
  EXPECT_EQ(second.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  InvestigationRow x = Investigation("inv-x");
  x.version = 2;
  ASSERT_TRUE(IsOk((*first)->UpdateInvestigation(x, 1)));
  ASSERT_TRUE(IsOk((*first)->Commit()));
  auto seen = second.get();
  ASSERT_TRUE(IsOk(seen));
  EXPECT_EQ(*seen, (std::vector<InvestigationHead>{{"inv-x", 2}, {"inv-y", 1}}));
}

// A writer waiting on another node's lock gives up after its lock_timeout, with kUnavailable
// (503, retry), instead of holding every write of its node; a lock_timeout set in the URL wins
// over the store's own.
TEST_F(PostgresNodesTest, AWriterWaitingForALockGivesUpAfterItsLockTimeout) {
  {
    auto tx = a_->BeginWrite();
    ASSERT_TRUE(IsOk(tx));
    ASSERT_TRUE(IsOk((*tx)->InsertInvestigation(Investigation("inv-x"))));
    ASSERT_TRUE(IsOk((*tx)->Commit()));
  }
  auto held = a_->BeginWrite();
  ASSERT_TRUE(IsOk(held));
  ASSERT_TRUE(IsOk((*held)->LockInvestigations(std::vector<std::string>{"inv-x"})));

  using Clock = std::chrono::steady_clock;
  auto waits = [](Store& store) {
    auto tx = store.BeginWrite();
    EXPECT_TRUE(IsOk(tx));
    const auto start = Clock::now();
    auto locked = (*tx)->LockInvestigations(std::vector<std::string>{"inv-x"});
    EXPECT_TRUE(FailsWith(locked, ErrorCode::kUnavailable));
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  };
  auto own = OpenPostgresStore({.uri = url_, .read_connections = 1, .lock_timeout_ms = 300});
  ASSERT_TRUE(IsOk(own));
  const auto own_wait = waits(**own);
  EXPECT_GE(own_wait.count(), 250);
  EXPECT_LT(own_wait.count(), 5000);

  auto by_url = OpenPostgresStore({.uri = url_ + "?options=-c%20lock_timeout%3D100",
                                   .read_connections = 1,
                                   .lock_timeout_ms = 60'000});
  ASSERT_TRUE(IsOk(by_url));
  EXPECT_LT(waits(**by_url).count(), 5000) << "the URL's lock_timeout wins";
}

// Waits on `listener` until `want` heads arrived or 10 s passed; returns what arrived.
std::vector<InvestigationHead> Collect(HeadListener& listener, size_t want) {
  std::vector<InvestigationHead> got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (got.size() < want && std::chrono::steady_clock::now() < deadline) {
    auto batch = listener.Wait(std::chrono::milliseconds(100));
    if (!batch) continue;
    got.insert(got.end(), batch->heads.begin(), batch->heads.end());
  }
  return got;
}

// Announcements reach the listeners of other stores when, and only if, the transaction commits;
// many heads are packed into notifications under the server's size limit; a store's own
// listener skips its own store's.
TEST_F(PostgresNodesTest, AnnouncedHeadsReachOtherStoresListenersOnCommitOnly) {
  auto own = a_->ListenForHeads();
  auto other = b_->ListenForHeads();
  ASSERT_NE(own, nullptr);
  ASSERT_NE(other, nullptr);
  for (HeadListener* listener : {own.get(), other.get()}) {
    auto first = listener->Wait(std::chrono::milliseconds(0));
    ASSERT_TRUE(IsOk(first));
    EXPECT_TRUE(first->resync);  // it has just begun listening
  }
  {
    auto tx = a_->BeginWrite();
    ASSERT_TRUE(IsOk(tx));
    ASSERT_TRUE(IsOk((*tx)->AnnounceHeads(std::vector<InvestigationHead>{{"inv-rolled-back", 5}})));
  }  // rolled back
  std::vector<InvestigationHead> heads;
  for (int i = 0; i < 1000; ++i) {
    heads.push_back({"inv-" + std::string(40, 'a' + i % 26) + "-" + std::to_string(i), i + 1});
  }
  {
    auto tx = a_->BeginWrite();
    ASSERT_TRUE(IsOk(tx));
    ASSERT_TRUE(IsOk((*tx)->AnnounceHeads(heads)));
    ASSERT_TRUE(IsOk((*tx)->Commit()));
  }
  std::vector<InvestigationHead> got = Collect(*other, heads.size());
  EXPECT_EQ(got, heads);  // in order, each once, none from the rolled-back transaction
  auto mine = own->Wait(std::chrono::milliseconds(200));
  ASSERT_TRUE(IsOk(mine));
  EXPECT_TRUE(mine->heads.empty());
  // More than one notification was needed, each under the limit: the server took them all.
  EXPECT_GT(heads.size() * 45, 8000u);
}

// The server ends the listener's session: the next waits fail or reconnect, and the first that
// listens again says resync, so that its caller reads every head again. It hears new hints.
TEST_F(PostgresNodesTest, AListenerWhoseSessionEndsListensAgainAndSaysResync) {
  auto listener = b_->ListenForHeads();
  ASSERT_TRUE(IsOk(listener->Wait(std::chrono::milliseconds(0))));
  ASSERT_GT(TerminateVigilSessions(), 0);
  bool resynced = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!resynced && std::chrono::steady_clock::now() < deadline) {
    auto batch = listener->Wait(std::chrono::milliseconds(100));
    resynced = batch && batch->resync;
  }
  ASSERT_TRUE(resynced);
  {
    auto tx = a_->BeginWrite();  // its connection was ended too: BEGIN opens it again
    ASSERT_TRUE(IsOk(tx));
    ASSERT_TRUE(IsOk((*tx)->AnnounceHeads(std::vector<InvestigationHead>{{"inv-1", 3}})));
    ASSERT_TRUE(IsOk((*tx)->Commit()));
  }
  EXPECT_EQ(Collect(*listener, 1), (std::vector<InvestigationHead>{{"inv-1", 3}}));
}

}  // namespace
}  // namespace vigil::store
