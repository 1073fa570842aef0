// The Store contract (store/store.hpp), one suite for every backend, each opened the way vigil
// opens it: from its location (store/open.hpp), migrated first. To add a backend, add its row to
// kBackends at the bottom. The PostgreSQL rows run against a real server (tests/CMakeLists.txt).

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <iterator>
#include <latch>
#include <limits>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <tuple>
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
using core::State;
using testing::TempDir;
using vigil::test::FailsWith;
using vigil::test::IsOk;

struct StoreImpl {
  std::string name;
  // The --db location of the store kept in `dir` (a test's own temporary directory).
  std::function<std::string(const std::string& dir)> location;

  // Opens the store kept in `dir`, creating it when the directory is empty; opened again on the
  // same directory, it has the same data. Null (after reporting why) when it cannot.
  std::unique_ptr<Store> open(const std::string& dir) const {
    const std::string db = location(dir);
    if (auto migrated = MigrateStore(db); !migrated) {
      ADD_FAILURE() << "MigrateStore(" << db << "): " << Describe(migrated.error());
      return nullptr;
    }
    auto store = OpenStore(db);
    if (!store) {
      ADD_FAILURE() << "OpenStore(" << db << "): " << Describe(store.error());
      return nullptr;
    }
    return std::move(*store);
  }
};

void PrintTo(const StoreImpl& impl, std::ostream* os) { *os << impl.name; }

InvestigationRow MakeInvestigation(std::string id, std::string owner = "alice",
                                   int64_t created_at_ms = 1'730'000'000'000) {
  InvestigationRow row;
  row.id = std::move(id);
  row.owner = std::move(owner);
  row.name = "Investigation " + row.id;
  row.state = State::kCreated;
  row.run_id = "run-1";
  row.version = 1;
  row.created_at_ms = created_at_ms;
  row.updated_at_ms = created_at_ms;
  row.snapshot_json = R"({"status":"pending"})";
  return row;
}

core::Event MakeEvent(const std::string& investigation_id, EventId id,
                      EventType type = EventType::kToolStarted, std::string key = {}) {
  core::Event event;
  event.id = id;
  event.investigation_id = investigation_id;
  event.run_id = "run-1";
  event.type = type;
  event.actor = "network_agent";
  event.data["tool_execution_id"] = "tool-" + core::FormatEventId(id);
  event.key = std::move(key);
  return event;
}

void ExpectSameRow(const InvestigationRow& want, const InvestigationRow& got) {
  EXPECT_EQ(want.id, got.id);
  EXPECT_EQ(want.owner, got.owner);
  EXPECT_EQ(want.name, got.name);
  EXPECT_EQ(want.state, got.state);
  EXPECT_EQ(want.run_id, got.run_id);
  EXPECT_EQ(want.version, got.version);
  EXPECT_EQ(want.last_event_id, got.last_event_id);
  EXPECT_EQ(want.created_at_ms, got.created_at_ms);
  EXPECT_EQ(want.updated_at_ms, got.updated_at_ms);
  EXPECT_EQ(want.completion_percent, got.completion_percent);
  EXPECT_EQ(want.snapshot_json, got.snapshot_json);
}

void ExpectSameEvents(const std::vector<core::Event>& want, const std::vector<core::Event>& got) {
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE("event " + std::to_string(i));
    EXPECT_EQ(want[i].id, got[i].id);
    EXPECT_EQ(want[i].investigation_id, got[i].investigation_id);
    EXPECT_EQ(want[i].run_id, got[i].run_id);
    EXPECT_EQ(want[i].type, got[i].type);
    EXPECT_EQ(want[i].actor, got[i].actor);
    EXPECT_EQ(want[i].data, got[i].data) << boost::json::serialize(got[i].data);
    EXPECT_EQ(want[i].key, got[i].key);
  }
}

std::vector<EventId> IdsOf(const std::vector<core::Event>& events) {
  std::vector<EventId> ids;
  for (const core::Event& e : events) ids.push_back(e.id);
  return ids;
}

std::vector<std::string> IdsOf(const std::vector<InvestigationRow>& rows) {
  std::vector<std::string> ids;
  for (const InvestigationRow& r : rows) ids.push_back(r.id);
  return ids;
}

class StoreContractTest : public ::testing::TestWithParam<StoreImpl> {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    store_ = GetParam().open(dir_.path());
    ASSERT_NE(store_, nullptr);
  }

  void Reopen() {
    store_.reset();
    store_ = GetParam().open(dir_.path());
    ASSERT_NE(store_, nullptr);
  }

  std::unique_ptr<WriteTransaction> Begin() {
    auto tx = store_->BeginWrite();
    EXPECT_TRUE(IsOk(tx));
    return tx ? std::move(*tx) : nullptr;
  }

  // Inserts the rows and appends the events in one committed transaction.
  void Write(const std::vector<InvestigationRow>& rows, const std::vector<core::Event>& events) {
    auto tx = Begin();
    ASSERT_NE(tx, nullptr);
    for (const InvestigationRow& row : rows) ASSERT_TRUE(IsOk(tx->InsertInvestigation(row)));
    if (!events.empty()) {
      ASSERT_TRUE(IsOk(tx->AppendEvents(events)));
    }
    ASSERT_TRUE(IsOk(tx->Commit()));
  }

  std::optional<InvestigationRow> Get(const std::string& id) {
    auto row = store_->GetInvestigation(id);
    EXPECT_TRUE(IsOk(row));
    return row ? *row : std::nullopt;
  }

  std::vector<core::Event> Read(const std::string& investigation_id, EventId after = {},
                                size_t limit = std::numeric_limits<size_t>::max(),
                                std::vector<EventType> types = {}) {
    auto events = store_->ReadEvents(EventQuery{.investigation_id = investigation_id,
                                                .after = after,
                                                .limit = limit,
                                                .types = std::move(types)});
    EXPECT_TRUE(IsOk(events));
    return events ? *events : std::vector<core::Event>{};
  }

  std::vector<std::string> List(InvestigationQuery query) {
    auto rows = store_->ListInvestigations(query);
    EXPECT_TRUE(IsOk(rows));
    return rows ? IdsOf(*rows) : std::vector<std::string>{};
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

// --- Investigations ---

TEST_P(StoreContractTest, InvestigationRoundTripsEveryField) {
  InvestigationRow row;
  row.id = "inv-1";
  row.owner = "alice@example.com";
  row.name = "Card testing ring — Zürich";
  row.state = State::kPaused;
  row.run_id = "run-7";
  row.version = 42;
  row.last_event_id = {1'730'668'800'123, 999'999};
  row.created_at_ms = 1'730'668'000'000;
  row.updated_at_ms = 1'730'668'800'123;
  row.completion_percent = 67;
  row.snapshot_json = R"({"status":"paused","phases":[1,2,3]})";
  Write({row}, {});
  auto got = Get("inv-1");
  ASSERT_TRUE(got.has_value());
  ExpectSameRow(row, *got);

  InvestigationRow updated = row;
  updated.owner = "bob";
  updated.name = "renamed";
  updated.state = State::kCompleted;
  updated.run_id = "run-8";
  updated.version = 43;
  updated.last_event_id = {1'730'668'900'000, 0};
  updated.created_at_ms = 1'730'668'000'001;
  updated.updated_at_ms = 1'730'668'900'000;
  updated.completion_percent = 100;
  updated.snapshot_json = "{}";
  auto tx = Begin();
  ASSERT_NE(tx, nullptr);
  ASSERT_TRUE(IsOk(tx->UpdateInvestigation(updated, std::nullopt)));
  ASSERT_TRUE(IsOk(tx->Commit()));
  got = Get("inv-1");
  ASSERT_TRUE(got.has_value());
  ExpectSameRow(updated, *got);
}

TEST_P(StoreContractTest, EveryStateRoundTrips) {
  std::vector<InvestigationRow> rows;
  for (State state : core::kAllStates) {
    rows.push_back(MakeInvestigation("inv-" + std::string(core::StateName(state))));
    rows.back().state = state;
  }
  Write(rows, {});
  for (const InvestigationRow& row : rows) {
    auto got = Get(row.id);
    ASSERT_TRUE(got.has_value()) << row.id;
    EXPECT_EQ(got->state, row.state);
  }
}

TEST_P(StoreContractTest, UnknownInvestigationIsAbsent) {
  Write({MakeInvestigation("inv-1")}, {});
  EXPECT_FALSE(Get("inv-2").has_value());
  EXPECT_FALSE(Get("").has_value());
}

TEST_P(StoreContractTest, InsertingAnExistingInvestigationIsConflict) {
  Write({MakeInvestigation("inv-1", "alice")}, {});
  auto tx = Begin();
  ASSERT_NE(tx, nullptr);
  EXPECT_TRUE(FailsWith(tx->InsertInvestigation(MakeInvestigation("inv-1", "mallory")),
                        ErrorCode::kConflict));
  // The failure spoils only that statement: the transaction goes on.
  ASSERT_TRUE(IsOk(tx->InsertInvestigation(MakeInvestigation("inv-2"))));
  ASSERT_TRUE(IsOk(tx->Commit()));
  EXPECT_EQ(Get("inv-1")->owner, "alice");
  EXPECT_TRUE(Get("inv-2").has_value());
}

TEST_P(StoreContractTest, InsertingTheSameInvestigationTwiceInOneTransactionIsConflict) {
  auto tx = Begin();
  ASSERT_NE(tx, nullptr);
  ASSERT_TRUE(IsOk(tx->InsertInvestigation(MakeInvestigation("inv-1"))));
  EXPECT_TRUE(FailsWith(tx->InsertInvestigation(MakeInvestigation("inv-1")), ErrorCode::kConflict));
}

TEST_P(StoreContractTest, AConditionalUpdateRefusesAnotherVersion) {
  Write({MakeInvestigation("inv-1")}, {});
  InvestigationRow row = MakeInvestigation("inv-1");
  int64_t stored = row.version;
  row.version = stored + 1;
  auto tx = Begin();
  ASSERT_NE(tx, nullptr);
  EXPECT_TRUE(FailsWith(tx->UpdateInvestigation(row, stored + 7), ErrorCode::kStaleVersion));
  EXPECT_TRUE(IsOk(tx->UpdateInvestigation(row, stored)));
  EXPECT_TRUE(FailsWith(tx->UpdateInvestigation(row, stored), ErrorCode::kStaleVersion));
  EXPECT_TRUE(
      FailsWith(tx->UpdateInvestigation(MakeInvestigation("inv-9"), stored), ErrorCode::kNotFound));
}

TEST_P(StoreContractTest, UpdatingAnUnknownInvestigationIsNotFound) {
  Write({MakeInvestigation("inv-1")}, {});
  auto tx = Begin();
  ASSERT_NE(tx, nullptr);
  EXPECT_TRUE(FailsWith(tx->UpdateInvestigation(MakeInvestigation("inv-2"), std::nullopt),
                        ErrorCode::kNotFound));
  ASSERT_TRUE(IsOk(tx->Commit()));
  EXPECT_FALSE(Get("inv-2").has_value());
}

// --- Events ---

TEST_P(StoreContractTest, EventsReadBackInIdOrderWithEveryField) {
  core::Event created = MakeEvent("inv-1", {1000, 0}, EventType::kInvestigationCreated);
  created.actor = "vigil";
  created.data = boost::json::parse(R"({
      "owner": "alice", "name": "Zürich ✓", "entities": [{"id": "email:a@b.c", "metadata": {}}],
      "plan": {"phases": []}, "settings": {"depth": 2, "ratio": 0.125, "deep": true},
      "runner": null, "big": 9007199254740993, "negative": -17, "escaped": "line\nbreak \"q\""
  })")
                     .as_object();
  core::Event started = MakeEvent("inv-1", {1000, 1}, EventType::kToolStarted, "producer-key-1");
  core::Event empty_data = MakeEvent("inv-1", {1001, 0}, EventType::kPhaseChange);
  empty_data.data = {};
  core::Event later = MakeEvent("inv-1", {2000, 5}, EventType::kToolComplete, "k");
  later.run_id = "run-2";

  // Two appends in one transaction and one in another: order is by id across all of them.
  auto tx = Begin();
  ASSERT_NE(tx, nullptr);
  ASSERT_TRUE(IsOk(tx->InsertInvestigation(MakeInvestigation("inv-1"))));
  ASSERT_TRUE(IsOk(tx->AppendEvents(std::vector{created, started})));
  ASSERT_TRUE(IsOk(tx->AppendEvents(std::vector{empty_data})));
  ASSERT_TRUE(IsOk(tx->Commit()));
  tx.reset();  // one write transaction at a time
  Write({}, {later});

  ExpectSameEvents({created, started, empty_data, later}, Read("inv-1"));
}

TEST_P(StoreContractTest, RawReadsGiveTheStoredWireFormOfTheEvent) {
  core::Event e = MakeEvent("inv-1", {1000, 0}, EventType::kToolComplete, "k1");
  e.data = boost::json::parse(R"({"result": {"risk_score": 0.5, "findings": ["x"]}, "n": 3})")
               .as_object();
  auto tx = Begin();
  ASSERT_NE(tx, nullptr);
  ASSERT_TRUE(IsOk(tx->InsertInvestigation(MakeInvestigation("inv-1"))));
  ASSERT_TRUE(IsOk(tx->AppendEvents(std::vector{e})));
  ASSERT_TRUE(IsOk(tx->Commit()));
  tx.reset();
  EventQuery query{"inv-1", {}, 10, {}, /*raw_data=*/true};
  auto raw = store_->ReadEvents(query);
  ASSERT_TRUE(raw.has_value());
  ASSERT_EQ(raw->size(), 1u);
  EXPECT_TRUE((*raw)[0].data.empty());
  EXPECT_EQ(boost::json::parse((*raw)[0].wire), boost::json::value(core::EventToJson(e)));
  EXPECT_EQ((*raw)[0].id, e.id);
  // Streams name each frame by its type: a raw read carries it too.
  EXPECT_EQ((*raw)[0].type, EventType::kToolComplete);
  EXPECT_EQ((*raw)[0].investigation_id, "inv-1");
}

TEST_P(StoreContractTest, AppendingNothingSucceeds) {
  Write({MakeInvestigation("inv-1")}, {});
  auto tx = Begin();
  ASSERT_NE(tx, nullptr);
  EXPECT_TRUE(IsOk(tx->AppendEvents({})));
  ASSERT_TRUE(IsOk(tx->Commit()));
  EXPECT_TRUE(Read("inv-1").empty());
}

class EventPagingTest : public StoreContractTest {
 protected:
  void SetUp() override {
    StoreContractTest::SetUp();
    if (HasFatalFailure()) return;
    // Ten events over three milliseconds, the types cycling through three.
    const EventType types[] = {EventType::kToolStarted, EventType::kToolComplete,
                               EventType::kToolError};
    for (int i = 0; i < 10; ++i) {
      events_.push_back(MakeEvent("inv-1", {1000 + i / 4, i % 4}, types[i % 3]));
    }
    Write({MakeInvestigation("inv-1")}, events_);
  }

  std::vector<EventId> IdsFrom(size_t first, size_t end) {
    std::vector<EventId> ids;
    for (size_t i = first; i < end; ++i) ids.push_back(events_[i].id);
    return ids;
  }

  std::vector<core::Event> events_;
};

TEST_P(EventPagingTest, AfterIsExclusive) {
  EXPECT_EQ(IdsOf(Read("inv-1", events_[3].id)), IdsFrom(4, 10));
  EXPECT_EQ(IdsOf(Read("inv-1", events_[9].id)), IdsFrom(10, 10));
  // A cursor between two ids (no event has it) starts at the next one.
  EXPECT_EQ(IdsOf(Read("inv-1", {1001, 2})), IdsFrom(7, 10));
  EXPECT_EQ(IdsOf(Read("inv-1", {999, 999'999})), IdsFrom(0, 10));
}

TEST_P(EventPagingTest, LimitCapsEachPageAndPagingVisitsEachEventOnce) {
  EXPECT_EQ(IdsOf(Read("inv-1", {}, 3)), IdsFrom(0, 3));
  EXPECT_EQ(IdsOf(Read("inv-1", events_[2].id, 3)), IdsFrom(3, 6));
  EXPECT_TRUE(Read("inv-1", {}, 0).empty());

  std::vector<EventId> seen;
  EventId cursor;
  for (int page = 0; page < 10; ++page) {
    std::vector<core::Event> events = Read("inv-1", cursor, 4);
    if (events.empty()) break;
    EXPECT_LE(events.size(), 4u);
    for (const core::Event& e : events) seen.push_back(e.id);
    cursor = events.back().id;
  }
  EXPECT_EQ(seen, IdsFrom(0, 10));
}

TEST_P(EventPagingTest, FiltersByType) {
  std::vector<EventId> errors_and_completes;
  for (const core::Event& e : events_) {
    if (e.type == EventType::kToolError || e.type == EventType::kToolComplete) {
      errors_and_completes.push_back(e.id);
    }
  }
  ASSERT_EQ(errors_and_completes.size(), 6u);
  // Repeats in the filter change nothing.
  EXPECT_EQ(IdsOf(Read("inv-1", {}, SIZE_MAX,
                       {EventType::kToolError, EventType::kToolComplete, EventType::kToolError})),
            errors_and_completes);
  // With a cursor and a limit, the limit counts matching events only.
  EXPECT_EQ(IdsOf(Read("inv-1", errors_and_completes[1], 2,
                       {EventType::kToolComplete, EventType::kToolError})),
            std::vector(errors_and_completes.begin() + 2, errors_and_completes.begin() + 4));
  EXPECT_TRUE(Read("inv-1", {}, SIZE_MAX, {EventType::kRiskUpdated}).empty());
}

TEST_P(StoreContractTest, LogsOfInvestigationsAreApart) {
  core::Event a = MakeEvent("inv-a", {1000, 0}, EventType::kToolStarted, "same-key");
  core::Event b = MakeEvent("inv-b", {1000, 0}, EventType::kToolStarted, "same-key");
  // The same id and the same key may appear once in each investigation.
  Write({MakeInvestigation("inv-a"), MakeInvestigation("inv-b")}, {a, b});
  ExpectSameEvents({a}, Read("inv-a"));
  ExpectSameEvents({b}, Read("inv-b"));
  EXPECT_TRUE(Read("inv-c").empty());
}

// --- Heads and locks (several writers on one database) ---

TEST_P(StoreContractTest, LockingGivesTheStoredHeadsInIdOrderOnceEach) {
  InvestigationRow b = MakeInvestigation("inv-b");
  b.version = 7;
  Write({b, MakeInvestigation("inv-a"), MakeInvestigation("inv-c")}, {});
  const std::vector<InvestigationHead> want = {{"inv-a", 1}, {"inv-b", 7}, {"inv-c", 1}};
  const std::vector<std::string> asked = {"inv-c", "inv-missing", "inv-a", "inv-b", "inv-a"};
  auto read = store_->ReadHeads(asked);
  ASSERT_TRUE(IsOk(read));
  EXPECT_EQ(*read, want);
  auto tx = Begin();
  ASSERT_NE(tx, nullptr);
  auto locked = tx->LockInvestigations(asked);
  ASSERT_TRUE(IsOk(locked));
  EXPECT_EQ(*locked, want);
  // Nothing to lock is no error, and the transaction goes on as usual.
  auto none = tx->LockInvestigations({});
  ASSERT_TRUE(IsOk(none));
  EXPECT_TRUE(none->empty());
  b.version = 8;
  ASSERT_TRUE(IsOk(tx->UpdateInvestigation(b, 7)));
  ASSERT_TRUE(IsOk(tx->AnnounceHeads(std::vector<InvestigationHead>{{"inv-b", 8}})));
  ASSERT_TRUE(IsOk(tx->Commit()));
  auto after = store_->ReadHeads(std::vector<std::string>{"inv-b"});
  ASSERT_TRUE(IsOk(after));
  EXPECT_EQ(*after, (std::vector<InvestigationHead>{{"inv-b", 8}}));
}

TEST_P(StoreContractTest, IdsThatNeedQuotingAreLockedAndReadLikeAnyOther) {
  const std::vector<std::string> odd = {"inv \"quoted\"", "inv\\back", "inv,comma", "inv{}"};
  std::vector<InvestigationRow> rows;
  for (const std::string& id : odd) rows.push_back(MakeInvestigation(id));
  Write(rows, {});
  auto read = store_->ReadHeads(odd);
  ASSERT_TRUE(IsOk(read));
  ASSERT_EQ(read->size(), odd.size());
  std::vector<std::string> sorted = odd;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) EXPECT_EQ((*read)[i].id, sorted[i]);
  auto tx = Begin();
  ASSERT_NE(tx, nullptr);
  auto locked = tx->LockInvestigations(odd);
  ASSERT_TRUE(IsOk(locked));
  EXPECT_EQ(*locked, *read);
}

TEST_P(StoreContractTest, AppendingAnExistingIdIsConflict) {
  Write({MakeInvestigation("inv-1")}, {MakeEvent("inv-1", {1000, 0})});
  auto tx = Begin();
  ASSERT_NE(tx, nullptr);
  core::Event again = MakeEvent("inv-1", {1000, 0}, EventType::kToolComplete, "fresh-key");
  EXPECT_TRUE(FailsWith(tx->AppendEvents(std::vector{again}), ErrorCode::kConflict));
  ASSERT_TRUE(IsOk(tx->Commit()));
  std::vector<core::Event> events = Read("inv-1");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::kToolStarted);
}

TEST_P(StoreContractTest, AppendingAnExistingKeyIsConflictAndFindByKeyFindsIt) {
  core::Event first = MakeEvent("inv-1", {1000, 0}, EventType::kToolStarted, "k-1");
  core::Event second = MakeEvent("inv-1", {1000, 1}, EventType::kToolStarted, "k-1");

  auto tx = Begin();
  ASSERT_NE(tx, nullptr);
  ASSERT_TRUE(IsOk(tx->InsertInvestigation(MakeInvestigation("inv-1"))));
  auto found = tx->FindByKey("inv-1", "k-1");
  ASSERT_TRUE(IsOk(found));
  EXPECT_EQ(*found, std::nullopt);
  ASSERT_TRUE(IsOk(tx->AppendEvents(std::vector{first})));
  // Visible to the same transaction before it commits.
  found = tx->FindByKey("inv-1", "k-1");
  ASSERT_TRUE(IsOk(found));
  EXPECT_EQ(*found, std::optional(first.id));
  EXPECT_TRUE(FailsWith(tx->AppendEvents(std::vector{second}), ErrorCode::kConflict));
  ASSERT_TRUE(IsOk(tx->Commit()));
  tx.reset();  // one write transaction at a time

  tx = Begin();
  ASSERT_NE(tx, nullptr);
  found = tx->FindByKey("inv-1", "k-1");
  ASSERT_TRUE(IsOk(found));
  EXPECT_EQ(*found, std::optional(first.id));
  EXPECT_TRUE(FailsWith(tx->AppendEvents(std::vector{second}), ErrorCode::kConflict));
  found = tx->FindByKey("inv-1", "k-2");
  ASSERT_TRUE(IsOk(found));
  EXPECT_EQ(*found, std::nullopt);
  found = tx->FindByKey("inv-other", "k-1");
  ASSERT_TRUE(IsOk(found));
  EXPECT_EQ(*found, std::nullopt);
  tx.reset();

  ExpectSameEvents({first}, Read("inv-1"));
}

TEST_P(StoreContractTest, EventsWithoutKeysNeverCollide) {
  // An empty key means "none given": any number of such events, and FindByKey("") finds none.
  Write({MakeInvestigation("inv-1")}, {MakeEvent("inv-1", {1000, 0}), MakeEvent("inv-1", {1000, 1}),
                                       MakeEvent("inv-1", {1000, 2})});
  EXPECT_EQ(Read("inv-1").size(), 3u);
  for (const core::Event& e : Read("inv-1")) EXPECT_EQ(e.key, "");
  auto tx = Begin();
  ASSERT_NE(tx, nullptr);
  auto found = tx->FindByKey("inv-1", "");
  ASSERT_TRUE(IsOk(found));
  EXPECT_EQ(*found, std::nullopt);
}

TEST_P(StoreContractTest, FailedAppendAppendsNoneOfItsEvents) {
  Write({MakeInvestigation("inv-1")},
        {MakeEvent("inv-1", {1000, 0}, EventType::kToolStarted, "k")});
  auto tx = Begin();
  ASSERT_NE(tx, nullptr);
  // The third event reuses a key; the first two are fine on their own.
  std::vector<core::Event> batch = {
      MakeEvent("inv-1", {1001, 0}, EventType::kToolStarted, "k-new-1"),
      MakeEvent("inv-1", {1001, 1}),
      MakeEvent("inv-1", {1001, 2}, EventType::kToolComplete, "k"),
  };
  EXPECT_TRUE(FailsWith(tx->AppendEvents(batch), ErrorCode::kConflict));
  auto found = tx->FindByKey("inv-1", "k-new-1");
  ASSERT_TRUE(IsOk(found));
  EXPECT_EQ(*found, std::nullopt);
  ASSERT_TRUE(IsOk(tx->Commit()));
  EXPECT_EQ(IdsOf(Read("inv-1")), (std::vector<EventId>{{1000, 0}}));
}

// --- Transactions ---

TEST_P(StoreContractTest, RollbackToSavepointDiscardsOnlyThatJob) {
  auto tx = Begin();
  ASSERT_NE(tx, nullptr);
  // Job 1, kept.
  ASSERT_TRUE(IsOk(tx->Savepoint()));
  ASSERT_TRUE(IsOk(tx->InsertInvestigation(MakeInvestigation("inv-a"))));
  ASSERT_TRUE(IsOk(tx->AppendEvents(std::vector{MakeEvent("inv-a", {1000, 0})})));
  ASSERT_TRUE(IsOk(tx->ReleaseSavepoint()));
  // Job 2 fails half way and is rolled back.
  ASSERT_TRUE(IsOk(tx->Savepoint()));
  ASSERT_TRUE(IsOk(tx->InsertInvestigation(MakeInvestigation("inv-b"))));
  ASSERT_TRUE(IsOk(tx->AppendEvents(
      std::vector{MakeEvent("inv-a", {1000, 1}, EventType::kToolComplete, "job-2")})));
  InvestigationRow changed = MakeInvestigation("inv-a", "someone-else");
  ASSERT_TRUE(IsOk(tx->UpdateInvestigation(changed, std::nullopt)));
  ASSERT_TRUE(IsOk(tx->RollbackToSavepoint()));
  auto found = tx->FindByKey("inv-a", "job-2");
  ASSERT_TRUE(IsOk(found));
  EXPECT_EQ(*found, std::nullopt);
  // Job 3, kept; it may reuse what job 2 left undone.
  ASSERT_TRUE(IsOk(tx->Savepoint()));
  ASSERT_TRUE(IsOk(tx->AppendEvents(
      std::vector{MakeEvent("inv-a", {1000, 1}, EventType::kToolError, "job-2")})));
  ASSERT_TRUE(IsOk(tx->InsertInvestigation(MakeInvestigation("inv-c"))));
  ASSERT_TRUE(IsOk(tx->ReleaseSavepoint()));
  ASSERT_TRUE(IsOk(tx->Commit()));

  EXPECT_EQ(Get("inv-a")->owner, "alice");
  EXPECT_FALSE(Get("inv-b").has_value());
  EXPECT_TRUE(Get("inv-c").has_value());
  std::vector<core::Event> events = Read("inv-a");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].type, EventType::kToolError);
}

TEST_P(StoreContractTest, DestroyingAnUncommittedTransactionDiscardsIt) {
  Write({MakeInvestigation("inv-1")}, {});
  {
    auto tx = Begin();
    ASSERT_NE(tx, nullptr);
    ASSERT_TRUE(IsOk(tx->InsertInvestigation(MakeInvestigation("inv-2"))));
    ASSERT_TRUE(IsOk(tx->AppendEvents(std::vector{MakeEvent("inv-1", {1000, 0})})));
    InvestigationRow changed = MakeInvestigation("inv-1");
    changed.version = 99;
    ASSERT_TRUE(IsOk(tx->UpdateInvestigation(changed, std::nullopt)));
    ASSERT_TRUE(IsOk(tx->Savepoint()));  // an open savepoint goes too
  }
  EXPECT_FALSE(Get("inv-2").has_value());
  EXPECT_EQ(Get("inv-1")->version, 1);
  EXPECT_TRUE(Read("inv-1").empty());
  // The next transaction starts clean.
  Write({MakeInvestigation("inv-2")}, {MakeEvent("inv-1", {1000, 0})});
  EXPECT_TRUE(Get("inv-2").has_value());
  EXPECT_EQ(Read("inv-1").size(), 1u);
}

TEST_P(StoreContractTest, ReadsSeeOnlyCommittedWrites) {
  Write({MakeInvestigation("inv-1")}, {});
  auto tx = Begin();
  ASSERT_NE(tx, nullptr);
  ASSERT_TRUE(IsOk(tx->InsertInvestigation(MakeInvestigation("inv-2"))));
  ASSERT_TRUE(IsOk(tx->AppendEvents(std::vector{MakeEvent("inv-1", {1000, 0})})));
  InvestigationRow changed = MakeInvestigation("inv-1");
  changed.version = 2;
  ASSERT_TRUE(IsOk(tx->UpdateInvestigation(changed, std::nullopt)));

  EXPECT_FALSE(Get("inv-2").has_value());
  EXPECT_EQ(Get("inv-1")->version, 1);
  EXPECT_TRUE(Read("inv-1").empty());
  EXPECT_EQ(List({}), std::vector<std::string>{"inv-1"});

  ASSERT_TRUE(IsOk(tx->Commit()));
  EXPECT_TRUE(Get("inv-2").has_value());
  EXPECT_EQ(Get("inv-1")->version, 2);
  EXPECT_EQ(Read("inv-1").size(), 1u);
}

TEST_P(StoreContractTest, CommittedWritesSurviveReopening) {
  core::Event event = MakeEvent("inv-1", {1000, 0}, EventType::kToolStarted, "k");
  Write({MakeInvestigation("inv-1")}, {event});
  {
    auto tx = Begin();
    ASSERT_NE(tx, nullptr);
    ASSERT_TRUE(IsOk(tx->InsertInvestigation(MakeInvestigation("inv-uncommitted"))));
  }
  Reopen();
  EXPECT_TRUE(Get("inv-1").has_value());
  EXPECT_FALSE(Get("inv-uncommitted").has_value());
  ExpectSameEvents({event}, Read("inv-1"));
}

// Readers on several threads (more than the SQLite store's default pool) while the writer commits:
// no read fails, and each sees a committed state. Every commit appends event k and sets the row's
// version to k in one transaction, so a reader that saw version v must then see at least v events.
TEST_P(StoreContractTest, ConcurrentReadersSeeCommittedStatesOnly) {
  constexpr int kCommits = 60;
  constexpr int kReaders = 6;
  auto event_id = [](int k) { return EventId{1000 + k, 0}; };  // the id of commit k's event
  Write({MakeInvestigation("inv-1")}, {});
  InvestigationRow initial = MakeInvestigation("inv-1");

  std::atomic<bool> writer_done{false};
  std::latch readers_started(kReaders);
  std::mutex mu;
  std::vector<std::string> problems;  // Guarded by mu
  auto report = [&](std::string problem) {
    std::lock_guard lock(mu);
    problems.push_back(std::move(problem));
  };

  // Reads until a read that began after the writer finished; returns at the first problem.
  auto read_until_done = [&](bool& started) {
    int64_t last_version = 0;
    for (;;) {
      const bool final_read = writer_done.load();
      auto row = store_->GetInvestigation("inv-1");
      if (!row || !row->has_value()) return report(row ? "row missing" : row.error().message);
      const int64_t version = (*row)->version - initial.version;
      if (version < last_version) return report("version went back");
      if (version > 0 && (*row)->last_event_id != event_id(static_cast<int>(version))) {
        return report("row's last event id does not match its version");
      }
      last_version = version;
      auto events = store_->ReadEvents({.investigation_id = "inv-1", .limit = SIZE_MAX});
      if (!events) return report(events.error().message);
      if (static_cast<int64_t>(events->size()) < version) return report("events missing");
      for (size_t i = 0; i < events->size(); ++i) {
        if ((*events)[i].id != event_id(static_cast<int>(i + 1))) return report("gap in log");
      }
      if (!started) {
        started = true;
        readers_started.count_down();
      }
      if (final_read) {
        if (version != kCommits) report("final read did not see the last commit");
        return;
      }
    }
  };
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&] {
      bool started = false;
      read_until_done(started);
      if (!started) readers_started.count_down();  // the writer must not wait for a failed reader
    });
  }

  // Each commit must succeed; on the first failure, stop writing but still let readers finish.
  auto commit = [&](int k) -> ::testing::AssertionResult {
    auto tx = store_->BeginWrite();
    if (!tx) return IsOk(tx);
    if (auto r = (*tx)->AppendEvents(std::vector{MakeEvent("inv-1", event_id(k))}); !r) {
      return IsOk(r);
    }
    InvestigationRow row = initial;
    row.version = initial.version + k;
    row.last_event_id = event_id(k);
    if (auto r = (*tx)->UpdateInvestigation(row, std::nullopt); !r) return IsOk(r);
    return IsOk((*tx)->Commit());
  };
  readers_started.wait();
  for (int k = 1; k <= kCommits; ++k) {
    ::testing::AssertionResult committed = commit(k);
    EXPECT_TRUE(committed) << "commit " << k;
    if (!committed) break;
  }
  writer_done = true;
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(problems, std::vector<std::string>{});
}

// --- Lists ---

// 25 investigations; created_at_ms repeats in threes so that the id breaks ties.
class ListTest : public StoreContractTest {
 protected:
  static constexpr State kStates[] = {State::kRunning, State::kPaused, State::kCompleted,
                                      State::kFailed, State::kCreated};

  void SetUp() override {
    StoreContractTest::SetUp();
    if (HasFatalFailure()) return;
    for (int i = 0; i < 25; ++i) {
      char id[16];
      std::snprintf(id, sizeof id, "inv-%02d", (i * 7) % 25);  // not in creation order
      InvestigationRow row = MakeInvestigation(id, i % 2 == 0 ? "alice" : "bob", 5000 + i / 3);
      row.state = kStates[i % 5];
      rows_.push_back(row);
    }
    Write(rows_, {});
  }

  // The ids of the rows that pass `keep`, newest first.
  template <typename Keep>
  std::vector<std::string> Expected(Keep keep) {
    std::vector<InvestigationRow> kept;
    std::copy_if(rows_.begin(), rows_.end(), std::back_inserter(kept), keep);
    std::sort(kept.begin(), kept.end(), [](const InvestigationRow& a, const InvestigationRow& b) {
      return std::tie(a.created_at_ms, a.id) > std::tie(b.created_at_ms, b.id);
    });
    return IdsOf(kept);
  }

  // Every page of `query` with `page_size`, concatenated; checks that no page is over-full.
  std::vector<std::string> AllPages(InvestigationQuery query, size_t page_size) {
    query.limit = page_size;
    std::vector<std::string> ids;
    for (int page = 0; page < 30; ++page) {
      auto rows = store_->ListInvestigations(query);
      EXPECT_TRUE(IsOk(rows));
      if (!rows || rows->empty()) break;
      EXPECT_LE(rows->size(), page_size);
      for (const InvestigationRow& row : *rows) ids.push_back(row.id);
      query.after = std::pair(rows->back().created_at_ms, rows->back().id);
    }
    return ids;
  }

  std::vector<InvestigationRow> rows_;
};

TEST_P(ListTest, NewestFirstAndTiesByIdDescending) {
  std::vector<std::string> all = Expected([](auto&) { return true; });
  ASSERT_EQ(all.size(), 25u);
  EXPECT_EQ(List({.limit = 100}), all);
  EXPECT_EQ(List({.limit = 3}), std::vector(all.begin(), all.begin() + 3));
}

TEST_P(ListTest, KeysetPagesVisitEachInvestigationOnce) {
  std::vector<std::string> all = Expected([](auto&) { return true; });
  InvestigationQuery query{.limit = 10};
  std::vector<size_t> page_sizes;
  std::vector<std::string> seen;
  for (int page = 0; page < 5; ++page) {
    auto rows = store_->ListInvestigations(query);
    ASSERT_TRUE(IsOk(rows));
    page_sizes.push_back(rows->size());
    if (rows->empty()) break;
    for (const InvestigationRow& row : *rows) seen.push_back(row.id);
    query.after = std::pair(rows->back().created_at_ms, rows->back().id);
  }
  EXPECT_EQ(page_sizes, (std::vector<size_t>{10, 10, 5, 0}));
  EXPECT_EQ(seen, all);
}

TEST_P(ListTest, AfterIsExclusiveAndNeedNotBeARow) {
  std::vector<std::string> all = Expected([](auto&) { return true; });
  const InvestigationRow* fifth = nullptr;
  for (const InvestigationRow& row : rows_) {
    if (row.id == all[4]) fifth = &row;
  }
  ASSERT_NE(fifth, nullptr);
  EXPECT_EQ(List({.after = std::pair(fifth->created_at_ms, fifth->id), .limit = 100}),
            std::vector(all.begin() + 5, all.end()));
  // Past the newest: everything; before the oldest: nothing.
  EXPECT_EQ(List({.after = std::pair(int64_t{9999}, std::string()), .limit = 100}), all);
  EXPECT_EQ(List({.after = std::pair(int64_t{5000}, std::string()), .limit = 100}),
            std::vector<std::string>{});
}

TEST_P(ListTest, FiltersByOwner) {
  auto alice = Expected([](const InvestigationRow& r) { return r.owner == "alice"; });
  ASSERT_EQ(alice.size(), 13u);
  EXPECT_EQ(List({.owner = "alice", .limit = 100}), alice);
  EXPECT_EQ(AllPages({.owner = "alice"}, 4), alice);
  EXPECT_EQ(List({.owner = "carol", .limit = 100}), std::vector<std::string>{});
}

TEST_P(ListTest, FiltersByStates) {
  auto active = Expected([](const InvestigationRow& r) {
    return r.state == State::kRunning || r.state == State::kPaused;
  });
  ASSERT_EQ(active.size(), 10u);
  EXPECT_EQ(List({.states = {State::kPaused, State::kRunning, State::kPaused}, .limit = 100}),
            active);
  EXPECT_EQ(AllPages({.states = {State::kRunning, State::kPaused}}, 3), active);
  EXPECT_EQ(List({.states = {State::kCancelled}, .limit = 100}), std::vector<std::string>{});
}

TEST_P(ListTest, FiltersByOwnerAndStatesTogether) {
  auto bobs_failures = Expected([](const InvestigationRow& r) {
    return r.owner == "bob" && (r.state == State::kFailed || r.state == State::kCompleted);
  });
  ASSERT_FALSE(bobs_failures.empty());
  EXPECT_EQ(List({.owner = "bob", .states = {State::kFailed, State::kCompleted}, .limit = 100}),
            bobs_failures);
  EXPECT_EQ(AllPages({.owner = "bob", .states = {State::kFailed, State::kCompleted}}, 2),
            bobs_failures);
}

const StoreImpl kBackends[] = {
    {"Sqlite", [](const std::string& dir) { return dir + "/vigil.db"; }},
    // A database of its own per test on the test server (the ctest fixture "postgres"); without a
    // server the test fails, saying how to start one.
    {"Postgres", [](const std::string& dir) { return test::PostgresDatabaseFor(dir); }},
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreContractTest, ::testing::ValuesIn(kBackends),
                         [](const auto& info) { return info.param.name; });
INSTANTIATE_TEST_SUITE_P(Backends, EventPagingTest, ::testing::ValuesIn(kBackends),
                         [](const auto& info) { return info.param.name; });
INSTANTIATE_TEST_SUITE_P(Backends, ListTest, ::testing::ValuesIn(kBackends),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace vigil::store

namespace vigil::store {
namespace {

// --- Browser sessions and sign-in codes ---

// A session stored in one transaction is read by any reader after the commit, and survives
// reopening the store (a restart); codes and sessions are apart even with the same id.
TEST_P(StoreContractTest, SessionsAreStoredReadAndKeptAcrossReopening) {
  const SessionRow session{"s-1", "token-a", 2'000'000'000};
  {
    auto tx = Begin();
    ASSERT_NE(tx, nullptr);
    ASSERT_TRUE(IsOk(tx->InsertSession(SessionKind::kSession, session, 1'800'000'000)));
    EXPECT_TRUE(IsOk(tx->InsertSession(SessionKind::kLoginCode, {"c-1", "token-b", 2'000'000'000},
                                       1'800'000'000)));
    auto unseen = store_->GetSession(SessionKind::kSession, "s-1");
    ASSERT_TRUE(IsOk(unseen));
    EXPECT_FALSE(unseen->has_value()) << "not before the commit";
    ASSERT_TRUE(IsOk(tx->Commit()));
  }
  Reopen();
  auto found = store_->GetSession(SessionKind::kSession, "s-1");
  ASSERT_TRUE(IsOk(found));
  EXPECT_EQ(*found, std::optional<SessionRow>(session));
  auto other_kind = store_->GetSession(SessionKind::kLoginCode, "s-1");
  ASSERT_TRUE(IsOk(other_kind));
  EXPECT_FALSE(other_kind->has_value());
  auto unknown = store_->GetSession(SessionKind::kSession, "s-2");
  ASSERT_TRUE(IsOk(unknown));
  EXPECT_FALSE(unknown->has_value());

  auto tx = Begin();
  ASSERT_NE(tx, nullptr);
  EXPECT_TRUE(FailsWith(tx->InsertSession(SessionKind::kSession, session, 1'800'000'000),
                        ErrorCode::kConflict))
      << "an id is stored once";
}

// Taking a code deletes it: the first taker gets it, a second (later transaction) gets nothing;
// a rolled-back take leaves it. Inserting deletes what has expired.
TEST_P(StoreContractTest, ACodeIsTakenOnceAndExpiredRowsGoWithTheNextInsert) {
  {
    auto tx = Begin();
    ASSERT_NE(tx, nullptr);
    ASSERT_TRUE(IsOk(tx->InsertSession(SessionKind::kLoginCode, {"c-1", "token", 2000}, 1000)));
    ASSERT_TRUE(IsOk(tx->InsertSession(SessionKind::kSession, {"old", "token", 1500}, 1000)));
    ASSERT_TRUE(IsOk(tx->Commit()));
  }
  {
    auto tx = Begin();
    ASSERT_NE(tx, nullptr);
    auto taken = tx->TakeSession(SessionKind::kLoginCode, "c-1");
    ASSERT_TRUE(IsOk(taken));
    EXPECT_TRUE(taken->has_value());
  }  // rolled back: still there
  {
    auto tx = Begin();
    ASSERT_NE(tx, nullptr);
    EXPECT_TRUE(IsOk(tx->TakeSession(SessionKind::kSession, "c-1")));
    auto taken = tx->TakeSession(SessionKind::kLoginCode, "c-1");
    ASSERT_TRUE(IsOk(taken));
    EXPECT_EQ(*taken, std::optional<SessionRow>(SessionRow{"c-1", "token", 2000}));
    ASSERT_TRUE(IsOk(tx->Commit()));
  }
  {
    auto tx = Begin();
    ASSERT_NE(tx, nullptr);
    auto again = tx->TakeSession(SessionKind::kLoginCode, "c-1");
    ASSERT_TRUE(IsOk(again));
    EXPECT_FALSE(again->has_value()) << "taken once";
    // Now 1500 has passed: "old" expired and goes with this insert.
    ASSERT_TRUE(IsOk(tx->InsertSession(SessionKind::kSession, {"new", "token", 3000}, 1500)));
    ASSERT_TRUE(IsOk(tx->Commit()));
  }
  auto old = store_->GetSession(SessionKind::kSession, "old");
  ASSERT_TRUE(IsOk(old));
  EXPECT_FALSE(old->has_value());
  auto fresh = store_->GetSession(SessionKind::kSession, "new");
  ASSERT_TRUE(IsOk(fresh));
  EXPECT_TRUE(fresh->has_value());
}

}  // namespace
}  // namespace vigil::store
