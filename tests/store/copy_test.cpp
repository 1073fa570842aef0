// CopyStore (store/copy.hpp) between every pair of backends that matters: SQLite into PostgreSQL
// (`vigil copy`, moving up from one machine), and SQLite into SQLite and PostgreSQL into SQLite,
// which need no other code. The rows with PostgreSQL run against the test server
// (tests/CMakeLists.txt).
#include "store/copy.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "store/open.hpp"
#include "store/store.hpp"
#include "store/store_test_util.hpp"
#include "support/postgres/test_database.hpp"
#include "support/result_matchers.hpp"

namespace vigil::store {
namespace {

using core::EventId;
using core::EventType;
using testing::TempDir;
using vigil::test::FailsWith;
using vigil::test::IsOk;

using Location = std::function<std::string(const std::string& dir)>;
const Location kSqlite = [](const std::string& dir) { return dir + "/vigil.db"; };
const Location kPostgres = [](const std::string& dir) { return test::PostgresDatabaseFor(dir); };

struct Pair {
  std::string name;
  Location from;
  Location to;
};
void PrintTo(const Pair& pair, std::ostream* os) { *os << pair.name; }

std::unique_ptr<Store> Open(const Location& location, const std::string& dir) {
  const std::string db = location(dir);
  if (auto migrated = MigrateStore(db); !migrated) {
    ADD_FAILURE() << "MigrateStore: " << Describe(migrated.error());
    return nullptr;
  }
  auto store = OpenStore(db);
  if (!store) {
    ADD_FAILURE() << "OpenStore: " << Describe(store.error());
    return nullptr;
  }
  return std::move(*store);
}

InvestigationRow Row(std::string id, int64_t created_at_ms, int64_t version, EventId last) {
  InvestigationRow row;
  row.id = std::move(id);
  row.owner = "alice";
  row.name = "Investigation " + row.id + " — ünïcode";
  row.state = core::State::kRunning;
  row.run_id = "run-1";
  row.version = version;
  row.last_event_id = last;
  row.created_at_ms = created_at_ms;
  row.updated_at_ms = created_at_ms + 7;
  row.completion_percent = 42;
  row.snapshot_json = R"({"status":"running","version":)" + std::to_string(version) + "}";
  return row;
}

core::Event Event(const std::string& investigation_id, EventId id, std::string key = {}) {
  core::Event event;
  event.id = id;
  event.investigation_id = investigation_id;
  event.run_id = "run-1";
  event.type = EventType::kToolStarted;
  event.actor = "network_agent";
  event.data["tool_execution_id"] = "tool-" + core::FormatEventId(id);
  event.data["z"] = "unordered keys stay in their order: ✓";
  event.data["a"] = 1;
  event.key = std::move(key);
  return event;
}

// What a store holds: every row newest first, and every event of each, raw and parsed.
struct Contents {
  std::vector<InvestigationRow> rows;
  std::vector<core::Event> events;
};

Contents ReadAll(Store& store) {
  Contents out;
  auto rows = store.ListInvestigations({.limit = 1000});
  EXPECT_TRUE(IsOk(rows));
  if (!rows) return out;
  out.rows = *rows;
  for (const InvestigationRow& row : out.rows) {
    auto events =
        store.ReadEvents({.investigation_id = row.id, .limit = std::numeric_limits<size_t>::max()});
    EXPECT_TRUE(IsOk(events));
    if (events) out.events.insert(out.events.end(), events->begin(), events->end());
  }
  return out;
}

class CopyStoreTest : public ::testing::TestWithParam<Pair> {
 protected:
  void SetUp() override {
    ASSERT_FALSE(from_dir_.path().empty());
    ASSERT_FALSE(to_dir_.path().empty());
    from_ = Open(GetParam().from, from_dir_.path());
    to_ = Open(GetParam().to, to_dir_.path());
    ASSERT_NE(from_, nullptr);
    ASSERT_NE(to_, nullptr);
  }

  // Three investigations, two created in the same millisecond (the pages' keyset must still visit
  // each once); logs of 7, 1 and 0 events, some with idempotency keys.
  void WriteSource() {
    auto tx = from_->BeginWrite();
    ASSERT_TRUE(IsOk(tx));
    std::vector<core::Event> a;
    for (int i = 1; i <= 7; ++i) {
      a.push_back(
          Event("inv-a", {1'730'000'000'000 + i / 3, i}, i % 2 ? "key-" + std::to_string(i) : ""));
    }
    ASSERT_TRUE(IsOk((*tx)->InsertInvestigation(Row("inv-a", 1'730'000'000'000, 7, a.back().id))));
    ASSERT_TRUE(IsOk((*tx)->AppendEvents(a)));
    core::Event b = Event("inv-b", {1'730'000'000'500, 0}, "only");
    ASSERT_TRUE(IsOk((*tx)->InsertInvestigation(Row("inv-b", 1'730'000'000'000, 1, b.id))));
    ASSERT_TRUE(IsOk((*tx)->AppendEvents(std::span(&b, 1))));
    ASSERT_TRUE(IsOk((*tx)->InsertInvestigation(Row("inv-c", 1'730'000'001'000, 0, {}))));
    ASSERT_TRUE(IsOk((*tx)->Commit()));
  }

  TempDir from_dir_;
  TempDir to_dir_;
  std::unique_ptr<Store> from_;
  std::unique_ptr<Store> to_;
};

TEST_P(CopyStoreTest, CopiesEveryRowAndEventByteForByte) {
  ASSERT_NO_FATAL_FAILURE(WriteSource());
  std::vector<int64_t> progress;
  // Small pages and batches, so that every loop turns more than once.
  auto report = CopyStore(*from_, *to_, {.investigations_per_page = 2, .events_per_batch = 3},
                          [&progress](const CopyReport& r) { progress.push_back(r.events); });
  ASSERT_TRUE(IsOk(report));
  EXPECT_EQ(report->investigations, 3);
  EXPECT_EQ(report->events, 8);
  EXPECT_EQ(progress, (std::vector<int64_t>{1, 8}));  // inv-c, inv-b; then inv-a

  Contents want = ReadAll(*from_);
  Contents got = ReadAll(*to_);
  ASSERT_EQ(want.rows.size(), 3u);
  ASSERT_EQ(got.rows.size(), want.rows.size());
  for (size_t i = 0; i < want.rows.size(); ++i) {
    SCOPED_TRACE(want.rows[i].id);
    EXPECT_EQ(got.rows[i].id, want.rows[i].id);
    EXPECT_EQ(got.rows[i].owner, want.rows[i].owner);
    EXPECT_EQ(got.rows[i].name, want.rows[i].name);
    EXPECT_EQ(got.rows[i].state, want.rows[i].state);
    EXPECT_EQ(got.rows[i].run_id, want.rows[i].run_id);
    EXPECT_EQ(got.rows[i].version, want.rows[i].version);
    EXPECT_EQ(got.rows[i].last_event_id, want.rows[i].last_event_id);
    EXPECT_EQ(got.rows[i].created_at_ms, want.rows[i].created_at_ms);
    EXPECT_EQ(got.rows[i].updated_at_ms, want.rows[i].updated_at_ms);
    EXPECT_EQ(got.rows[i].completion_percent, want.rows[i].completion_percent);
    EXPECT_EQ(got.rows[i].snapshot_json, want.rows[i].snapshot_json);
  }
  ASSERT_EQ(want.events.size(), 8u);
  ASSERT_EQ(got.events.size(), want.events.size());
  for (size_t i = 0; i < want.events.size(); ++i) {
    SCOPED_TRACE("event " + std::to_string(i));
    EXPECT_EQ(got.events[i].investigation_id, want.events[i].investigation_id);
    EXPECT_EQ(got.events[i].id, want.events[i].id);
    EXPECT_EQ(got.events[i].run_id, want.events[i].run_id);
    EXPECT_EQ(got.events[i].type, want.events[i].type);
    EXPECT_EQ(got.events[i].actor, want.events[i].actor);
    EXPECT_EQ(got.events[i].wire, want.events[i].wire);  // the stored bytes
    EXPECT_EQ(got.events[i].key, want.events[i].key);
  }
  // The keys still make retries exactly-once on the target.
  auto tx = to_->BeginWrite();
  ASSERT_TRUE(IsOk(tx));
  auto found = (*tx)->FindByKey("inv-b", "only");
  ASSERT_TRUE(IsOk(found));
  EXPECT_EQ(*found, std::optional<EventId>(EventId{1'730'000'000'500, 0}));
  // And a log goes on after its copied head only.
  core::Event before = Event("inv-a", {1'730'000'000'001, 999});
  EXPECT_TRUE(FailsWith((*tx)->AppendEvents(std::span(&before, 1)), ErrorCode::kConflict));
}

TEST_P(CopyStoreTest, AnEmptySourceCopiesNothing) {
  auto report = CopyStore(*from_, *to_);
  ASSERT_TRUE(IsOk(report));
  EXPECT_EQ(report->investigations, 0);
  EXPECT_EQ(report->events, 0);
}

TEST_P(CopyStoreTest, RefusesATargetThatHoldsAnInvestigation) {
  ASSERT_NO_FATAL_FAILURE(WriteSource());
  {
    auto tx = to_->BeginWrite();
    ASSERT_TRUE(IsOk(tx));
    ASSERT_TRUE(IsOk((*tx)->InsertInvestigation(Row("already-here", 1, 0, {}))));
    ASSERT_TRUE(IsOk((*tx)->Commit()));
  }
  auto report = CopyStore(*from_, *to_);
  ASSERT_TRUE(FailsWith(report, ErrorCode::kConflict));
  EXPECT_NE(report.error().message.find("not empty"), std::string::npos) << report.error().message;
  EXPECT_NE(report.error().message.find("already-here"), std::string::npos);
  Contents after = ReadAll(*to_);
  ASSERT_EQ(after.rows.size(), 1u);
  EXPECT_EQ(after.rows[0].id, "already-here");
}

TEST_P(CopyStoreTest, ARowWhoseVersionIsNotItsLogIsRefusedAndNothingIsCopied) {
  ASSERT_NO_FATAL_FAILURE(WriteSource());
  {
    auto tx = from_->BeginWrite();
    ASSERT_TRUE(IsOk(tx));
    core::Event e = Event("inv-d", {1'730'000'009'000, 0});
    ASSERT_TRUE(IsOk((*tx)->InsertInvestigation(Row("inv-d", 1'730'000'009'000, 5, e.id))));
    ASSERT_TRUE(IsOk((*tx)->AppendEvents(std::span(&e, 1))));
    ASSERT_TRUE(IsOk((*tx)->Commit()));
  }
  auto report = CopyStore(*from_, *to_, {.investigations_per_page = 1});
  ASSERT_TRUE(FailsWith(report, ErrorCode::kConflict));
  EXPECT_NE(report.error().message.find("inv-d"), std::string::npos) << report.error().message;
  EXPECT_TRUE(ReadAll(*to_).rows.empty()) << "rolled back";
}

TEST_P(CopyStoreTest, ASourceWrittenDuringTheCopyIsRefusedAndNothingIsCopied) {
  ASSERT_NO_FATAL_FAILURE(WriteSource());
  bool written = false;
  auto write_more = [this, &written](const CopyReport&) {
    if (written) return;
    written = true;
    auto tx = from_->BeginWrite();
    ASSERT_TRUE(IsOk(tx));
    // inv-c, the newest, is the first page: copied already.
    auto heads = (*tx)->LockInvestigations(std::vector<std::string>{"inv-c"});
    ASSERT_TRUE(IsOk(heads));
    core::Event e = Event("inv-c", {1'730'000'005'000, 0});
    ASSERT_TRUE(IsOk((*tx)->AppendEvents(std::span(&e, 1))));
    ASSERT_TRUE(IsOk((*tx)->UpdateInvestigation(Row("inv-c", 1'730'000'001'000, 1, e.id), 0)));
    ASSERT_TRUE(IsOk((*tx)->Commit()));
  };
  auto report = CopyStore(*from_, *to_, {.investigations_per_page = 1}, write_more);
  ASSERT_TRUE(written);
  ASSERT_TRUE(FailsWith(report, ErrorCode::kConflict));
  EXPECT_NE(report.error().message.find("changed during the copy"), std::string::npos)
      << report.error().message;
  EXPECT_TRUE(ReadAll(*to_).rows.empty()) << "rolled back";
  // Once nobody writes, the same copy succeeds.
  auto again = CopyStore(*from_, *to_);
  ASSERT_TRUE(IsOk(again));
  EXPECT_EQ(again->events, 9);
}

const Pair kPairs[] = {
    {"SqliteToSqlite", kSqlite, kSqlite},
    {"SqliteToPostgres", kSqlite, kPostgres},
    {"PostgresToSqlite", kPostgres, kSqlite},
};
INSTANTIATE_TEST_SUITE_P(Backends, CopyStoreTest, ::testing::ValuesIn(kPairs),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace vigil::store
