#include "core/investigation.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.hpp"
#include "core/input.hpp"

namespace vigil::core {
namespace {

namespace json = boost::json;

constexpr int64_t kT0 = 1730668800000;  // 2024-11-03T21:20:00.000Z

json::value J(std::string_view text) { return json::parse(text); }
json::object O(std::string_view text) { return json::parse(text).as_object(); }
std::string Iso(int64_t ms) { return FormatIsoMs(ms); }

// Two phases, three planned tools of three agents.
constexpr std::string_view kCreateBody = R"({
  "name": "Card testing ring",
  "entities": [{"type": "email", "value": "a@b.c"},
               {"type": "ip", "value": "1.2.3.4", "label": "Home IP", "metadata": {"asn": 7}}],
  "plan": {"phases": [
    {"id": "collect", "name": "Collect", "estimated_duration_ms": 30000,
     "tools": [{"tool_name": "device_scan", "agent_type": "device"},
               {"tool_name": "ip_lookup", "agent_type": "network"}]},
    {"name": "Analyze", "tools": [{"tool_name": "risk_model", "agent_type": "risk"}]}]},
  "settings": {"depth": 2}
})";

const json::object& Find(const json::object& progress, std::string_view list, std::string_view key,
                         std::string_view value) {
  static const json::object kMissing;
  for (const json::value& v : progress.at(list).as_array()) {
    const json::object& o = v.as_object();
    if (o.at(key).is_string() && o.at(key).as_string() == value) return o;
  }
  ADD_FAILURE() << "no " << list << " entry with " << key << " = " << value;
  return kMissing;
}

// Builds an event log by hand: ids come from NextEventId over a fake time that the test moves;
// every event is checked (and must pass) before it is applied.
class FoldTest : public ::testing::Test {
 protected:
  Event Make(EventType type, json::object data, std::string actor = "vigil") {
    last_id_ = NextEventId(last_id_, now_);
    Event e;
    e.id = last_id_;
    e.investigation_id = "inv-1";
    e.run_id = inv_.run_id.empty() ? "run_1" : inv_.run_id;
    e.type = type;
    e.actor = std::move(actor);
    e.data = std::move(data);
    return e;
  }

  Event Add(EventType type, json::object data, std::string actor = "vigil") {
    Event e = Make(type, std::move(data), std::move(actor));
    auto ok = Check(inv_, e);
    EXPECT_TRUE(ok.has_value()) << EventTypeName(type) << " " << json::serialize(e.data)
                                << " refused: " << ok.error().message;
    if (ok.has_value()) {
      Apply(inv_, e);
      log_.push_back(e);
    }
    return e;
  }

  // Expects Check to refuse the event; the event is not applied.
  Error Refuse(EventType type, json::object data) {
    Event e = Make(type, std::move(data));
    auto ok = Check(inv_, e);
    EXPECT_FALSE(ok.has_value()) << EventTypeName(type) << " " << json::serialize(e.data)
                                 << " was accepted";
    return ok.has_value() ? Error() : ok.error();
  }

  void ExpectConflict(EventType type, json::object data, std::string_view field = {}) {
    Error err = Refuse(type, std::move(data));
    EXPECT_EQ(err.code, ErrorCode::kConflict) << err.message;
    if (!field.empty()) {
      EXPECT_EQ(err.field, field) << err.message;
    }
  }

  Event Create(std::string_view body = kCreateBody) {
    auto request = ParseCreateRequest(J(body), InputLimits{});
    EXPECT_TRUE(request.has_value()) << request.error().message;
    json::object data = request.value_or(json::object());
    data["owner"] = "alice";
    return Add(EventType::kInvestigationCreated, std::move(data));
  }

  Event Status(State to, json::object data = {}) {
    data["to"] = StateName(to);
    return Add(EventType::kStatusChange, std::move(data));
  }
  // created -> queued -> initializing -> running, one second apart; returns the run's start.
  int64_t Start() {
    Advance(1000);
    Status(State::kQueued);
    Advance(1000);
    int64_t started = now_;
    Status(State::kInitializing);
    Advance(1000);
    Status(State::kRunning);
    return started;
  }

  Event Queue(std::string_view id, std::string_view tool, std::string_view agent,
              std::string_view phase = {}, std::string actor = "") {
    json::object d{{"tool_execution_id", id}, {"tool_name", tool}, {"agent_type", agent}};
    if (!phase.empty()) d["phase_id"] = phase;
    return Add(EventType::kToolQueued, std::move(d), actor.empty() ? std::string(agent) : actor);
  }
  Event Started(std::string_view id) {
    return Add(EventType::kToolStarted, {{"tool_execution_id", id}});
  }
  Event Complete(std::string_view id, json::object extra = {}) {
    extra["tool_execution_id"] = id;
    return Add(EventType::kToolComplete, std::move(extra));
  }
  Event Fail(std::string_view id, bool will_retry, std::string_view code = "TIMEOUT") {
    return Add(EventType::kToolError, {{"tool_execution_id", id},
                                       {"will_retry", will_retry},
                                       {"error", {{"code", code}, {"message", "it broke"}}}});
  }
  Event Skip(std::string_view id, std::string_view reason) {
    return Add(EventType::kToolSkipped, {{"tool_execution_id", id}, {"reason", reason}});
  }
  Event Phase(std::string_view id, std::string_view status, std::string_view name = {}) {
    json::object d{{"phase_id", id}, {"status", status}};
    if (!name.empty()) d["name"] = name;
    return Add(EventType::kPhaseChange, std::move(d));
  }
  // queued + started + (advance ms) + complete
  void Run(std::string_view id, std::string_view tool, std::string_view agent, int64_t ms,
           json::object extra = {}) {
    Queue(id, tool, agent);
    Started(id);
    Advance(ms);
    Complete(id, std::move(extra));
  }

  void Advance(int64_t ms) { now_ += ms; }
  json::object P() const { return ProgressToJson(inv_); }
  json::object Tool(std::string_view id) const { return Find(P(), "tool_executions", "id", id); }
  json::object Agent(std::string_view type) const {
    return Find(P(), "agent_statuses", "agent_type", type);
  }
  json::object PhaseJ(std::string_view id) const { return Find(P(), "phases", "id", id); }

  int64_t now_ = kT0;
  EventId last_id_{};
  Investigation inv_;
  std::vector<Event> log_;
};

// ---------------------------------------------------------------------------------------------
// Creation

TEST_F(FoldTest, SnapshotAfterCreation) {
  Event created = Create();
  json::value expected = J(R"({
    "id": "inv-1", "investigation_id": "inv-1", "run_id": "run_1",
    "status": "pending", "lifecycle_stage": "draft", "state": "created",
    "completion_percent": 0,
    "created_at": "2024-11-03T21:20:00.000Z", "started_at": null, "completed_at": null,
    "last_updated_at": "2024-11-03T21:20:00.000Z",
    "tool_executions": [],
    "total_tools": 3, "completed_tools": 0, "running_tools": 0, "queued_tools": 0,
    "failed_tools": 0, "skipped_tools": 0,
    "agent_statuses": [
      {"agent_type": "device", "agent_name": "device", "status": "pending",
       "tools_completed": 0, "total_tools": 1, "progress_percent": 0,
       "average_execution_time_ms": 0, "findings_count": 0, "risk_score": 0.0,
       "max_risk_detected": 0.0, "started_at": null, "completed_at": null},
      {"agent_type": "network", "agent_name": "network", "status": "pending",
       "tools_completed": 0, "total_tools": 1, "progress_percent": 0,
       "average_execution_time_ms": 0, "findings_count": 0, "risk_score": 0.0,
       "max_risk_detected": 0.0, "started_at": null, "completed_at": null},
      {"agent_type": "risk", "agent_name": "risk", "status": "pending",
       "tools_completed": 0, "total_tools": 1, "progress_percent": 0,
       "average_execution_time_ms": 0, "findings_count": 0, "risk_score": 0.0,
       "max_risk_detected": 0.0, "started_at": null, "completed_at": null}],
    "risk_metrics": {"overall": 0.0, "confidence": 0.0, "last_calculated": null, "by_agent": {}},
    "phases": [
      {"id": "collect", "name": "Collect", "order": 0, "status": "pending",
       "completion_percent": 0, "tool_execution_ids": [], "started_at": null,
       "completed_at": null, "estimated_duration_ms": 30000},
      {"id": "Analyze", "name": "Analyze", "order": 1, "status": "pending",
       "completion_percent": 0, "tool_execution_ids": [], "started_at": null,
       "completed_at": null, "estimated_duration_ms": 0}],
    "current_phase": null,
    "entities": [
      {"id": "email:a@b.c", "type": "email", "value": "a@b.c", "label": "email: a@b.c",
       "metadata": {}, "added_at": "2024-11-03T21:20:00.000Z"},
      {"id": "ip:1.2.3.4", "type": "ip", "value": "1.2.3.4", "label": "Home IP",
       "metadata": {"asn": 7}, "added_at": "2024-11-03T21:20:00.000Z"}],
    "relationships": [],
    "tools_per_second": 0.0, "peak_tools_per_second": 0.0,
    "ice_connected": false,
    "errors": [],
    "version": 1
  })");
  expected.as_object()["last_event_id"] = FormatEventId(created.id);
  EXPECT_EQ(json::value(P()), expected) << json::serialize(P());
  EXPECT_EQ(P().at("last_event_id"), json::value("1730668800000_000000"));
}

TEST_F(FoldTest, ProgressHasTheOriginalFieldsPlusOurs) {
  Create();
  // Section 1.1 of the original system's InvestigationProgress, plus run_id, state, version and
  // last_event_id. 1.1's domain_findings is not emitted today (no vigil event carries it).
  // clang-format off
  const std::set<std::string> want = {
      "id", "investigation_id", "status", "lifecycle_stage", "completion_percent", "created_at",
      "started_at", "completed_at", "last_updated_at", "tool_executions", "total_tools",
      "completed_tools", "running_tools", "queued_tools", "failed_tools", "skipped_tools",
      "agent_statuses", "risk_metrics", "phases", "current_phase", "entities", "relationships",
      "tools_per_second", "peak_tools_per_second", "ice_connected", "errors",
      "run_id", "state", "version", "last_event_id"};
  // clang-format on
  std::set<std::string> got;
  for (const auto& kv : P()) got.insert(std::string(kv.key()));
  EXPECT_EQ(got, want);
}

TEST_F(FoldTest, EmptyInvestigationHasNoLastEventId) {
  EXPECT_EQ(P().at("last_event_id"), json::value(nullptr));
  EXPECT_EQ(P().at("version"), json::value(0));
}

TEST_F(FoldTest, CheckBeforeCreationAndCreatingTwice) {
  Error err = Refuse(EventType::kToolStarted, {{"tool_execution_id", "t"}});
  EXPECT_EQ(err.code, ErrorCode::kNotFound);
  Create();
  auto request = ParseCreateRequest(J(kCreateBody), InputLimits{});
  ASSERT_TRUE(request.has_value());
  ExpectConflict(EventType::kInvestigationCreated, *request);
}

// ---------------------------------------------------------------------------------------------
// Lifecycle

TEST_F(FoldTest, StatusFlowSetsStartedAtAndIceConnected) {
  Create();
  Advance(1000);
  Status(State::kQueued);
  json::object p = P();
  EXPECT_EQ(p.at("state"), json::value("queued"));
  EXPECT_EQ(p.at("status"), json::value("pending"));
  EXPECT_EQ(p.at("lifecycle_stage"), json::value("submitted"));
  EXPECT_EQ(p.at("started_at"), json::value(nullptr));
  EXPECT_EQ(p.at("ice_connected"), json::value(false));
  EXPECT_EQ(p.at("version"), json::value(2));

  Advance(1000);
  int64_t initialized = now_;
  Status(State::kInitializing);
  p = P();
  EXPECT_EQ(p.at("state"), json::value("initializing"));
  EXPECT_EQ(p.at("status"), json::value("initializing"));
  EXPECT_EQ(p.at("lifecycle_stage"), json::value("in_progress"));
  EXPECT_EQ(p.at("started_at"), json::value(Iso(initialized)));
  EXPECT_EQ(p.at("ice_connected"), json::value(true));

  Advance(1000);
  Status(State::kRunning);
  p = P();
  EXPECT_EQ(p.at("status"), json::value("running"));
  EXPECT_EQ(p.at("started_at"), json::value(Iso(initialized)));  // unchanged
  EXPECT_EQ(p.at("ice_connected"), json::value(true));
  EXPECT_EQ(p.at("last_updated_at"), json::value(Iso(now_)));

  Advance(1000);
  Status(State::kPaused, {{"reason", "lunch"}});
  EXPECT_EQ(P().at("status"), json::value("paused"));
  EXPECT_EQ(P().at("ice_connected"), json::value(false));

  Advance(1000);
  Status(State::kRunning);
  EXPECT_EQ(P().at("ice_connected"), json::value(true));

  Status(State::kCompleting);
  EXPECT_EQ(P().at("status"), json::value("running"));
  EXPECT_EQ(P().at("state"), json::value("completing"));
  EXPECT_EQ(P().at("ice_connected"), json::value(true));
  EXPECT_EQ(P().at("completed_at"), json::value(nullptr));

  Advance(500);
  Event done = Status(State::kCompleted);
  p = P();
  EXPECT_EQ(p.at("status"), json::value("completed"));
  EXPECT_EQ(p.at("lifecycle_stage"), json::value("completed"));
  EXPECT_EQ(p.at("completed_at"), json::value(Iso(now_)));
  EXPECT_EQ(p.at("started_at"), json::value(Iso(initialized)));
  EXPECT_EQ(p.at("completion_percent"), json::value(100));
  EXPECT_EQ(p.at("ice_connected"), json::value(false));
  EXPECT_EQ(p.at("version"), json::value(8));
  EXPECT_EQ(p.at("last_event_id"), json::value(FormatEventId(done.id)));
}

TEST_F(FoldTest, IllegalStatusChangeNamesCurrentStateAndAllowedTargets) {
  Create();
  Error err = Refuse(EventType::kStatusChange, {{"to", "running"}});
  EXPECT_EQ(err.code, ErrorCode::kConflict);
  EXPECT_EQ(err.field, "data.to");
  ASSERT_TRUE(err.extra.contains("current_state"));
  EXPECT_EQ(err.extra.at("current_state"), json::value("created"));
  ASSERT_TRUE(err.extra.contains("allowed"));
  EXPECT_EQ(err.extra.at("allowed"), J(R"(["queued", "failed", "cancelled"])"));

  Start();
  err = Refuse(EventType::kStatusChange, {{"to", "completed"}});
  EXPECT_EQ(err.code, ErrorCode::kConflict);
  EXPECT_EQ(err.extra.at("current_state"), json::value("running"));
  EXPECT_EQ(err.extra.at("allowed"), J(R"(["paused", "completing", "failed", "cancelled"])"));

  err = Refuse(EventType::kStatusChange, {{"to", "running"}});  // to itself
  EXPECT_EQ(err.code, ErrorCode::kConflict);
  EXPECT_EQ(err.extra.at("allowed").as_array().size(), 4u);
}

// Minimal valid data for each reportable type, all referring to tool "t1" / phase "collect".
std::vector<std::pair<EventType, json::object>> EveryReportableEvent() {
  return {
      {EventType::kPhaseChange, O(R"({"phase_id": "collect", "status": "in_progress"})")},
      {EventType::kToolQueued,
       O(R"({"tool_execution_id": "new", "tool_name": "n", "agent_type": "a"})")},
      {EventType::kToolStarted, O(R"({"tool_execution_id": "t1"})")},
      {EventType::kToolComplete, O(R"({"tool_execution_id": "t1"})")},
      {EventType::kToolError,
       O(R"({"tool_execution_id": "t1", "error": {"code": "c", "message": "m"}})")},
      {EventType::kToolSkipped, O(R"({"tool_execution_id": "t1"})")},
      {EventType::kRiskUpdated, O(R"({"overall": 0.5})")},
      {EventType::kEntityDiscovered, O(R"({"entity": {"type": "t", "value": "v"}})")},
      {EventType::kRelationshipDiscovered, O(R"({"relationship": {"source_entity_id": "email:a@b.c",
                              "target_entity_id": "ip:1.2.3.4", "relationship_type": "r"}})")},
      {EventType::kErrorLogged,
       O(R"({"error": {"code": "c", "message": "m", "severity": "error"}})")},
  };
}

TEST_F(FoldTest, EveryReportableEventIsAcceptedWhileRunning) {
  Create();
  Start();
  Queue("t1", "device_scan", "device");
  for (auto& [type, data] : EveryReportableEvent()) {
    Event e = Make(type, data);
    auto ok = Check(inv_, e);
    EXPECT_TRUE(ok.has_value()) << EventTypeName(type) << ": " << ok.error().message;
  }
}

TEST_F(FoldTest, NothingIsAcceptedAfterCompleted) {
  Create();
  Start();
  Queue("t1", "device_scan", "device");
  Status(State::kCompleting);
  Status(State::kCompleted);
  for (auto& [type, data] : EveryReportableEvent()) ExpectConflict(type, data);
  for (State s : kAllStates) ExpectConflict(EventType::kStatusChange, {{"to", StateName(s)}});
}

TEST_F(FoldTest, NothingIsAcceptedAfterCancelled) {
  Create();
  Start();
  Queue("t1", "device_scan", "device");
  Status(State::kCancelled, {{"reason", "duplicate case"}});
  EXPECT_EQ(P().at("status"), json::value("cancelled"));
  EXPECT_EQ(P().at("lifecycle_stage"), json::value("completed"));
  EXPECT_EQ(P().at("completed_at"), json::value(Iso(now_)));
  for (auto& [type, data] : EveryReportableEvent()) ExpectConflict(type, data);
  for (State s : kAllStates) ExpectConflict(EventType::kStatusChange, {{"to", StateName(s)}});
}

TEST_F(FoldTest, AfterFailedOnlyRetryingOrCancellingIsAccepted) {
  Create();
  Start();
  Queue("t1", "device_scan", "device");
  Status(State::kFailed, {{"reason", "boom"}});
  EXPECT_EQ(P().at("status"), json::value("failed"));
  EXPECT_EQ(P().at("lifecycle_stage"), json::value("failed"));
  EXPECT_EQ(P().at("ice_connected"), json::value(false));
  for (auto& [type, data] : EveryReportableEvent()) ExpectConflict(type, data);
  for (State s : kAllStates) {
    if (s == State::kRetrying || s == State::kCancelled) continue;
    Error err = Refuse(EventType::kStatusChange, {{"to", StateName(s)}});
    EXPECT_EQ(err.code, ErrorCode::kConflict) << StateName(s);
    EXPECT_EQ(err.extra.at("allowed"), J(R"(["retrying", "cancelled"])"));
  }
  Status(State::kRetrying, {{"run_id", "run_2"}});
  EXPECT_EQ(P().at("state"), json::value("retrying"));
}

// Seed 004: a failed investigation that will not be retried must be closable.
TEST_F(FoldTest, AFailedRunThatWillNotBeRetriedIsClosedAsCancelled) {
  Create();
  Start();
  Queue("t1", "device_scan", "device");
  Advance(1000);
  int64_t failed_at = now_;
  Status(State::kFailed, {{"reason", "the device agent crashed"}});
  Advance(60'000);
  Status(State::kCancelled, {{"reason", "not worth a retry"}});
  json::object p = P();
  EXPECT_EQ(p.at("state"), json::value("cancelled"));
  EXPECT_EQ(p.at("status"), json::value("cancelled"));
  EXPECT_EQ(p.at("lifecycle_stage"), json::value("completed"));
  EXPECT_EQ(p.at("ice_connected"), json::value(false));
  // The run ended when it failed; closing it later does not move that.
  EXPECT_EQ(p.at("completed_at"), json::value(Iso(failed_at)));
  // Why it failed stays in the run's errors.
  ASSERT_EQ(p.at("errors").as_array().size(), 1u);
  EXPECT_EQ(p.at("errors").at(0).at("message"), json::value("the device agent crashed"));
  EXPECT_TRUE(InvestigationToJson(inv_).at("allowed_transitions").as_array().empty());
  // Closed for good: no retry, no events.
  for (auto& [type, data] : EveryReportableEvent()) ExpectConflict(type, data);
  for (State s : kAllStates) ExpectConflict(EventType::kStatusChange, {{"to", StateName(s)}});
}

// ---------------------------------------------------------------------------------------------
// Why a run failed: a client polling /progress must be able to show it.

TEST_F(FoldTest, TheReasonOfAFailureIsInTheRunsErrors) {
  Create();
  Start();
  Advance(500);
  Event failed = Status(State::kFailed, {{"reason", "the upstream feed is down"},
                                         {"from", "running"}});  // as the engine completes it
  json::object p = P();
  EXPECT_EQ(p.at("status"), json::value("failed"));
  ASSERT_EQ(p.at("errors").as_array().size(), 1u);
  EXPECT_EQ(p.at("errors").at(0), J(R"({"id": ")" + FormatEventId(failed.id) + R"(",
      "code": "RUN_FAILED", "message": "the upstream feed is down",
      "timestamp": ")" + Iso(now_) + R"(", "severity": "critical",
      "context": {"from": "running", "actor": "vigil"}})"));
  // A retry starts a new run, with no errors yet.
  Status(State::kRetrying, {{"run_id", "run_2"}});
  EXPECT_TRUE(P().at("errors").as_array().empty());
}

TEST_F(FoldTest, AFailureWithoutAReasonAddsNoError) {
  Create();
  Start();
  Status(State::kFailed);
  EXPECT_TRUE(P().at("errors").as_array().empty());
}

TEST_F(FoldTest, OnlyAFailureAddsItsReasonToTheErrors) {
  Create();
  Start();
  Status(State::kPaused, {{"reason", "lunch"}});
  Status(State::kCancelled, {{"reason", "duplicate case"}});
  EXPECT_TRUE(P().at("errors").as_array().empty());
}

// ---------------------------------------------------------------------------------------------
// Tools

TEST_F(FoldTest, ToolQueuedFillsAPlannedSlot) {
  Create();
  Start();
  Advance(100);
  int64_t queued = now_;
  Queue("t1", "device_scan", "device", {}, "device_agent");
  json::object p = P();
  EXPECT_EQ(p.at("total_tools"), json::value(3));
  EXPECT_EQ(p.at("queued_tools"), json::value(1));
  EXPECT_EQ(json::value(Tool("t1")), J(R"({
    "id": "t1", "tool_name": "device_scan", "agent_type": "device", "phase_id": "collect",
    "status": "queued", "queued_at": ")" +
                                       Iso(queued) + R"(", "started_at": null,
    "completed_at": null, "execution_time_ms": 0,
    "input": {"entity_id": "", "entity_type": "", "parameters": {}},
    "result": null, "error": null, "retry_count": 0, "max_retries": 0})"));
  EXPECT_EQ(PhaseJ("collect").at("tool_execution_ids"), J(R"(["t1"])"));
  EXPECT_EQ(PhaseJ("Analyze").at("tool_execution_ids"), J(R"([])"));
}

TEST_F(FoldTest, ToolQueuedKeepsInputAndMaxRetries) {
  Create();
  Start();
  Add(EventType::kToolQueued, O(R"({"tool_execution_id": "t1", "tool_name": "ip_lookup",
                                    "agent_type": "network", "phase_id": "collect",
                                    "max_retries": 3,
                                    "input": {"entity_id": "ip:1.2.3.4", "entity_type": "ip",
                                              "parameters": {"deep": true}}})"));
  json::object t = Tool("t1");
  EXPECT_EQ(t.at("input"), J(R"({"entity_id": "ip:1.2.3.4", "entity_type": "ip",
                                  "parameters": {"deep": true}})"));
  EXPECT_EQ(t.at("max_retries"), json::value(3));
  EXPECT_EQ(t.at("phase_id"), json::value("collect"));
  EXPECT_EQ(P().at("total_tools"), json::value(3));
}

TEST_F(FoldTest, ToolLifecycleQueuedStartedCompleted) {
  Create();
  Start();
  Queue("t1", "device_scan", "device");
  Advance(200);
  int64_t started = now_;
  Started("t1");
  json::object t = Tool("t1");
  EXPECT_EQ(t.at("status"), json::value("running"));
  EXPECT_EQ(t.at("started_at"), json::value(Iso(started)));
  EXPECT_EQ(P().at("running_tools"), json::value(1));
  EXPECT_EQ(P().at("queued_tools"), json::value(0));

  Advance(1500);
  Complete("t1");
  t = Tool("t1");
  EXPECT_EQ(t.at("status"), json::value("completed"));
  EXPECT_EQ(t.at("completed_at"), json::value(Iso(now_)));
  EXPECT_EQ(t.at("execution_time_ms"), json::value(1500));
  EXPECT_EQ(t.at("result"), J(R"({"success": true, "findings": [], "metadata": {}})"));
  EXPECT_EQ(t.at("error"), json::value(nullptr));
  EXPECT_FALSE(t.contains("skip_reason"));
  EXPECT_EQ(P().at("completed_tools"), json::value(1));
  EXPECT_EQ(P().at("running_tools"), json::value(0));
}

TEST_F(FoldTest, ExplicitExecutionTimeAndResultArePreferred) {
  Create();
  Start();
  Queue("t1", "device_scan", "device");
  Started("t1");
  Advance(1500);
  Complete("t1", O(R"({"execution_time_ms": 42,
                       "result": {"success": false, "risk_score": 0.8,
                                  "findings": [{"kind": "emulator"}]}})"));
  json::object t = Tool("t1");
  EXPECT_EQ(t.at("execution_time_ms"), json::value(42));
  EXPECT_EQ(t.at("result"), J(R"({"success": false, "risk_score": 0.8,
                                   "findings": [{"kind": "emulator"}], "metadata": {}})"));
}

// Reports are normalised on input; a log appended before that may hold string findings, which
// the snapshot shows as the objects the wire promises.
TEST_F(FoldTest, StringFindingsInTheLogAreShownAsObjects) {
  Create();
  Start();
  Queue("t1", "device_scan", "device");
  Complete("t1", O(R"({"result": {"findings": ["Finding 1", {"kind": "emulator"}]}})"));
  EXPECT_EQ(Tool("t1").at("result").at("findings"),
            J(R"([{"finding": "Finding 1"}, {"kind": "emulator"}])"));
  EXPECT_EQ(Agent("device").at("findings_count"), json::value(2));
}

TEST_F(FoldTest, ToolCompletedWithoutStartHasZeroExecutionTime) {
  Create();
  Start();
  Queue("t1", "device_scan", "device");
  Advance(700);
  Complete("t1");
  json::object t = Tool("t1");
  EXPECT_EQ(t.at("status"), json::value("completed"));
  EXPECT_EQ(t.at("started_at"), json::value(nullptr));
  EXPECT_EQ(t.at("execution_time_ms"), json::value(0));
}

TEST_F(FoldTest, ToolErrorWithRetryGoesBackToQueuedAndLogsAWarning) {
  Create();
  Start();
  Queue("t1", "device_scan", "device");
  Started("t1");
  Advance(300);
  Event err = Fail("t1", /*will_retry=*/true);
  json::object t = Tool("t1");
  EXPECT_EQ(t.at("status"), json::value("queued"));
  EXPECT_EQ(t.at("retry_count"), json::value(1));
  EXPECT_EQ(t.at("started_at"), json::value(nullptr));
  EXPECT_EQ(t.at("completed_at"), json::value(nullptr));
  EXPECT_EQ(t.at("error"), J(R"({"code": "TIMEOUT", "message": "it broke", "details": null})"));
  json::object p = P();
  EXPECT_EQ(p.at("queued_tools"), json::value(1));
  EXPECT_EQ(p.at("failed_tools"), json::value(0));
  EXPECT_EQ(p.at("completion_percent"), json::value(0));
  ASSERT_EQ(p.at("errors").as_array().size(), 1u);
  EXPECT_EQ(p.at("errors").at(0), J(R"({"id": ")" + FormatEventId(err.id) + R"(",
      "code": "TIMEOUT", "message": "it broke", "timestamp": ")" +
                                    Iso(now_) + R"(",
      "severity": "warning",
      "context": {"tool_execution_id": "t1", "tool_name": "device_scan", "agent_type": "device",
                  "will_retry": true}})"));

  // The retry runs and succeeds; the error is cleared from the tool, the log keeps it.
  Started("t1");
  Advance(100);
  Complete("t1");
  t = Tool("t1");
  EXPECT_EQ(t.at("status"), json::value("completed"));
  EXPECT_EQ(t.at("retry_count"), json::value(1));
  EXPECT_EQ(t.at("error"), json::value(nullptr));
  EXPECT_EQ(t.at("execution_time_ms"), json::value(100));
  EXPECT_EQ(P().at("errors").as_array().size(), 1u);
}

TEST_F(FoldTest, ToolErrorWithoutRetryFailsTheTool) {
  Create();
  Start();
  Queue("t1", "device_scan", "device");
  Started("t1");
  Advance(250);
  Fail("t1", /*will_retry=*/false, "CRASH");
  json::object t = Tool("t1");
  EXPECT_EQ(t.at("status"), json::value("failed"));
  EXPECT_EQ(t.at("completed_at"), json::value(Iso(now_)));
  EXPECT_EQ(t.at("execution_time_ms"), json::value(250));
  EXPECT_EQ(t.at("retry_count"), json::value(0));
  EXPECT_EQ(t.at("error").at("code"), json::value("CRASH"));
  json::object p = P();
  EXPECT_EQ(p.at("failed_tools"), json::value(1));
  ASSERT_EQ(p.at("errors").as_array().size(), 1u);
  EXPECT_EQ(p.at("errors").at(0).at("severity"), json::value("error"));
  EXPECT_EQ(p.at("errors").at(0).at("context").at("will_retry"), json::value(false));
  EXPECT_EQ(p.at("completion_percent"), json::value(33));  // failed counts as finished
  ExpectConflict(EventType::kToolComplete, {{"tool_execution_id", "t1"}}, "data.tool_execution_id");
}

TEST_F(FoldTest, ToolSkippedRecordsTheReason) {
  Create();
  Start();
  Queue("t1", "device_scan", "device");
  Skip("t1", "no device fingerprint");
  json::object t = Tool("t1");
  EXPECT_EQ(t.at("status"), json::value("skipped"));
  EXPECT_EQ(t.at("skip_reason"), json::value("no device fingerprint"));
  EXPECT_EQ(t.at("completed_at"), json::value(Iso(now_)));
  EXPECT_EQ(P().at("skipped_tools"), json::value(1));
  EXPECT_EQ(P().at("completion_percent"), json::value(33));
}

TEST_F(FoldTest, CountsByStatus) {
  Create();
  Start();
  Queue("a", "device_scan", "device");
  Queue("b", "ip_lookup", "network");
  Queue("c", "risk_model", "risk");
  Queue("d", "whois", "network");
  Queue("e", "geo", "network");
  Queue("f", "velocity", "risk");
  Started("a");
  Complete("a");
  Started("b");
  Started("c");
  Fail("c", false);
  Skip("d", "n/a");
  // e and f stay queued; b runs.
  json::object p = P();
  EXPECT_EQ(p.at("total_tools"), json::value(6));
  EXPECT_EQ(p.at("completed_tools"), json::value(1));
  EXPECT_EQ(p.at("running_tools"), json::value(1));
  EXPECT_EQ(p.at("queued_tools"), json::value(2));
  EXPECT_EQ(p.at("failed_tools"), json::value(1));
  EXPECT_EQ(p.at("skipped_tools"), json::value(1));
  EXPECT_EQ(p.at("tool_executions").as_array().size(), 6u);
  EXPECT_EQ(p.at("completion_percent"), json::value(50));  // 3 of 6 finished
}

TEST_F(FoldTest, UnplannedToolIncreasesTotalTools) {
  Create();
  Start();
  Queue("x", "whois", "network");
  EXPECT_EQ(P().at("total_tools"), json::value(4));
  EXPECT_EQ(Tool("x").at("phase_id"), json::value(nullptr));
  // A second execution of a planned tool fills no slot either.
  Queue("d1", "device_scan", "device");
  Queue("d2", "device_scan", "device");
  EXPECT_EQ(P().at("total_tools"), json::value(5));
  EXPECT_EQ(Tool("d1").at("phase_id"), json::value("collect"));
  EXPECT_EQ(Tool("d2").at("phase_id"), json::value(nullptr));
}

TEST_F(FoldTest, UnplannedToolInANamedPhaseBelongsToThatPhase) {
  Create();
  Start();
  Queue("x", "whois", "network", "Analyze");
  EXPECT_EQ(P().at("total_tools"), json::value(4));
  EXPECT_EQ(Tool("x").at("phase_id"), json::value("Analyze"));
  EXPECT_EQ(PhaseJ("Analyze").at("tool_execution_ids"), J(R"(["x"])"));
  // A planned tool queued for a phase that does not plan it is unplanned.
  Queue("y", "device_scan", "device", "Analyze");
  EXPECT_EQ(P().at("total_tools"), json::value(5));
  EXPECT_EQ(Tool("y").at("phase_id"), json::value("Analyze"));
  EXPECT_EQ(PhaseJ("collect").at("tool_execution_ids"), J(R"([])"));
}

TEST_F(FoldTest, ToolQueuedForAnUnknownPhaseIsAConflict) {
  Create();
  Start();
  ExpectConflict(
      EventType::kToolQueued,
      {{"tool_execution_id", "t"}, {"tool_name", "n"}, {"agent_type", "a"}, {"phase_id", "nope"}},
      "data.phase_id");
}

// ---------------------------------------------------------------------------------------------
// Completion

TEST_F(FoldTest, CompletionUsesFloorDivision) {
  Create();
  Start();
  Run("a", "device_scan", "device", 10);
  EXPECT_EQ(P().at("completion_percent"), json::value(33));
  Run("b", "ip_lookup", "network", 10);
  EXPECT_EQ(P().at("completion_percent"), json::value(66));
  Run("c", "risk_model", "risk", 10);
  // Every tool has finished, but the run has not completed: 99 until it does.
  EXPECT_EQ(P().at("completion_percent"), json::value(99));
  EXPECT_EQ(P().at("status"), json::value("running"));
}

TEST_F(FoldTest, CompletionFollowsTheToolsKnownNowAndGoesDownWhenNewOnesAppear) {
  Create();
  Start();
  Run("a", "device_scan", "device", 10);
  EXPECT_EQ(P().at("completion_percent"), json::value(33));
  Queue("x", "whois", "network");  // 1 of 4
  EXPECT_EQ(P().at("total_tools"), json::value(4));
  EXPECT_EQ(P().at("completion_percent"), json::value(25));
  Queue("y", "geo", "network");  // 1 of 5
  EXPECT_EQ(P().at("completion_percent"), json::value(20));
  Run("b", "ip_lookup", "network", 10);  // 2 of 5
  EXPECT_EQ(P().at("completion_percent"), json::value(40));
  EXPECT_EQ(InvestigationToJson(inv_).at("completion_percent"), json::value(40));
}

// Issue 11: a run without a plan stuck at 99 once its first tool had finished.
TEST_F(FoldTest, CompletionOfARunWithoutAPlanIsNotStuckAt99) {
  Create(R"({"name": "no plan"})");
  Start();
  Run("t1", "ip_lookup", "network", 10);
  EXPECT_EQ(P().at("completion_percent"), json::value(99));  // 1 of 1, but not completed
  Queue("t2", "whois", "network");
  Queue("t3", "geo", "network");
  Queue("t4", "velocity", "risk");
  json::object p = P();
  EXPECT_EQ(p.at("total_tools"), json::value(4));
  EXPECT_EQ(p.at("completion_percent"), json::value(25));  // 1 of 4
  Started("t2");
  Complete("t2");
  EXPECT_EQ(P().at("completion_percent"), json::value(50));
  Skip("t3", "n/a");
  Fail("t4", /*will_retry=*/false);
  EXPECT_EQ(P().at("completion_percent"), json::value(99));  // all finished, run not completed
  Status(State::kCompleting);
  EXPECT_EQ(P().at("completion_percent"), json::value(99));
  Status(State::kCompleted);
  EXPECT_EQ(P().at("completion_percent"), json::value(100));
}

// total_tools, completion_percent and the agents' and phases' counts are one count, cut three
// ways: they always add up.
TEST_F(FoldTest, RunAgentAndPhaseCountsAgree) {
  Create();
  Start();
  Phase("collect", "in_progress");
  Run("a", "device_scan", "device", 10);
  Queue("x", "whois", "network", "collect");  // unplanned, in a phase
  Queue("y", "geo", "network");               // unplanned, in no phase
  Run("d2", "device_scan", "device", 10);     // a second device_scan fills no slot
  Phase("Analyze", "skipped");                // risk_model never runs: finished
  json::object p = P();
  int64_t agents_total = 0;
  for (const json::value& a : p.at("agent_statuses").as_array()) {
    agents_total += a.at("total_tools").as_int64();
  }
  EXPECT_EQ(agents_total, p.at("total_tools").as_int64());
  EXPECT_EQ(p.at("total_tools"), json::value(6));
  EXPECT_EQ(p.at("completion_percent"), json::value(50));  // a, d2, risk_model of 6
  EXPECT_EQ(Agent("device").at("progress_percent"), json::value(100));
  EXPECT_EQ(Agent("network").at("progress_percent"), json::value(0));
  EXPECT_EQ(Agent("risk").at("progress_percent"), json::value(100));
  EXPECT_EQ(PhaseJ("collect").at("completion_percent"), json::value(33));  // a of a, ip, x
  EXPECT_EQ(PhaseJ("Analyze").at("completion_percent"), json::value(100));
}

TEST_F(FoldTest, CompletionIs100WhenTheRunCompletesEvenWithUnfinishedTools) {
  Create();
  Start();
  Run("a", "device_scan", "device", 10);
  Queue("b", "ip_lookup", "network");
  Status(State::kCompleting);
  EXPECT_EQ(P().at("completion_percent"), json::value(33));
  Status(State::kCompleted);
  EXPECT_EQ(P().at("completion_percent"), json::value(100));
  EXPECT_EQ(InvestigationToJson(inv_).at("completion_percent"), json::value(100));
}

TEST_F(FoldTest, PlannedToolsOfAFinishedPhaseThatNeverRanCountAsFinished) {
  Create();
  Start();
  Phase("Analyze", "skipped");  // its one planned tool never runs
  EXPECT_EQ(P().at("completion_percent"), json::value(33));
  EXPECT_EQ(PhaseJ("Analyze").at("completion_percent"), json::value(100));
  Phase("collect", "in_progress");
  Run("a", "device_scan", "device", 10);
  EXPECT_EQ(P().at("completion_percent"), json::value(66));
  Phase("collect", "completed");                             // ip_lookup never ran
  EXPECT_EQ(P().at("completion_percent"), json::value(99));  // 100 only once the run completes
  EXPECT_EQ(Agent("network").at("progress_percent"), json::value(100));
}

TEST_F(FoldTest, QueuedToolOfAFinishedPhaseIsNotFinished) {
  Create();
  Start();
  Queue("b", "ip_lookup", "network");  // fills collect's slot but never finishes
  Phase("collect", "completed");
  // device_scan (never queued) counts as finished; ip_lookup (queued) does not.
  EXPECT_EQ(P().at("completion_percent"), json::value(33));
  EXPECT_EQ(PhaseJ("collect").at("completion_percent"), json::value(100));
}

// ---------------------------------------------------------------------------------------------
// Phases

TEST_F(FoldTest, PhaseProgressFollowsPhaseChangesAndTools) {
  Create();
  Start();
  Advance(100);
  int64_t collect_started = now_;
  Phase("collect", "in_progress");
  json::object ph = PhaseJ("collect");
  EXPECT_EQ(ph.at("status"), json::value("in_progress"));
  EXPECT_EQ(ph.at("started_at"), json::value(Iso(collect_started)));
  EXPECT_EQ(ph.at("completed_at"), json::value(nullptr));
  EXPECT_EQ(P().at("current_phase"), json::value("Collect"));

  Run("a", "device_scan", "device", 100);
  Queue("b", "ip_lookup", "network");
  ph = PhaseJ("collect");
  EXPECT_EQ(ph.at("completion_percent"), json::value(50));
  EXPECT_EQ(ph.at("tool_execution_ids"), J(R"(["a", "b"])"));

  Started("b");
  Complete("b");
  EXPECT_EQ(PhaseJ("collect").at("completion_percent"), json::value(100));
  EXPECT_EQ(PhaseJ("collect").at("status"), json::value("in_progress"));

  Advance(100);
  Phase("collect", "completed");
  ph = PhaseJ("collect");
  EXPECT_EQ(ph.at("status"), json::value("completed"));
  EXPECT_EQ(ph.at("started_at"), json::value(Iso(collect_started)));
  EXPECT_EQ(ph.at("completed_at"), json::value(Iso(now_)));
  EXPECT_EQ(P().at("current_phase"), json::value(nullptr));

  Phase("Analyze", "in_progress");
  EXPECT_EQ(P().at("current_phase"), json::value("Analyze"));
  EXPECT_EQ(PhaseJ("Analyze").at("completion_percent"), json::value(0));
}

TEST_F(FoldTest, CurrentPhaseIsTheOneMostRecentlyStarted) {
  Create();
  Start();
  Phase("collect", "in_progress");
  Phase("Analyze", "in_progress");
  EXPECT_EQ(P().at("current_phase"), json::value("Analyze"));
  // Finishing a phase that is not current leaves the current one.
  Phase("collect", "completed");
  EXPECT_EQ(P().at("current_phase"), json::value("Analyze"));
  Phase("Analyze", "failed");
  EXPECT_EQ(P().at("current_phase"), json::value(nullptr));
  EXPECT_EQ(PhaseJ("Analyze").at("status"), json::value("failed"));
}

TEST_F(FoldTest, PhaseCompletedAtIsClearedWhenItRestarts) {
  Create();
  Start();
  Phase("collect", "in_progress");
  int64_t first_start = now_;
  Advance(100);
  Phase("collect", "completed");
  Advance(100);
  Phase("collect", "in_progress");
  json::object ph = PhaseJ("collect");
  EXPECT_EQ(ph.at("started_at"), json::value(Iso(first_start)));
  EXPECT_EQ(ph.at("completed_at"), json::value(nullptr));
}

TEST_F(FoldTest, UnknownPhaseWithoutNameIsAConflict) {
  Create();
  Start();
  ExpectConflict(EventType::kPhaseChange, {{"phase_id", "report"}, {"status", "in_progress"}});
}

TEST_F(FoldTest, UnknownPhaseWithNameIsAdded) {
  Create();
  Start();
  Advance(50);
  Phase("report", "in_progress", "Report");
  json::object ph = PhaseJ("report");
  EXPECT_EQ(ph.at("name"), json::value("Report"));
  EXPECT_EQ(ph.at("order"), json::value(2));
  EXPECT_EQ(ph.at("status"), json::value("in_progress"));
  EXPECT_EQ(ph.at("started_at"), json::value(Iso(now_)));
  EXPECT_EQ(ph.at("estimated_duration_ms"), json::value(0));
  EXPECT_EQ(P().at("phases").as_array().size(), 3u);
  EXPECT_EQ(P().at("current_phase"), json::value("Report"));
  // Tools may now be queued into it; it does not change total_tools until they are.
  EXPECT_EQ(P().at("total_tools"), json::value(3));
  Queue("r", "pdf", "report", "report");
  EXPECT_EQ(P().at("total_tools"), json::value(4));
  EXPECT_EQ(PhaseJ("report").at("tool_execution_ids"), J(R"(["r"])"));
}

TEST_F(FoldTest, PhasesAreListedByOrder) {
  Create();
  Start();
  Add(EventType::kPhaseChange,
      O(R"({"phase_id": "prep", "name": "Prep", "order": 0, "status": "completed"})"));
  json::array phases = P().at("phases").as_array();
  ASSERT_EQ(phases.size(), 3u);
  // Stable: "collect" (order 0) was there first.
  EXPECT_EQ(phases[0].at("id"), json::value("collect"));
  EXPECT_EQ(phases[1].at("id"), json::value("prep"));
  EXPECT_EQ(phases[2].at("id"), json::value("Analyze"));
}

// ---------------------------------------------------------------------------------------------
// Agents

TEST_F(FoldTest, AgentStatuses) {
  Create();
  Start();
  Queue("d", "device_scan", "device", {}, "device_agent");
  Advance(10);
  Started("d");
  int64_t device_started = now_;
  Advance(1000);
  Complete("d", O(R"({"result": {"risk_score": 0.6, "findings": [{"a": 1}, {"b": 2}]}})"));
  int64_t device_done = now_;

  Queue("n1", "ip_lookup", "network", {}, "network_agent");
  Started("n1");
  Advance(400);
  Complete("n1", O(R"({"result": {"risk_score": 0.3, "findings": [{"c": 3}]}})"));
  Queue("n2", "whois", "network", {}, "network_agent");
  Started("n2");

  Add(EventType::kRiskUpdated, O(R"({"overall": 0.5, "by_agent": {"device": 0.7}})"));

  json::object device = Agent("device");
  EXPECT_EQ(json::value(device),
            J(R"({"agent_type": "device", "agent_name": "device_agent",
      "status": "completed", "tools_completed": 1, "total_tools": 1, "progress_percent": 100,
      "average_execution_time_ms": 1000, "findings_count": 2, "risk_score": 0.7,
      "max_risk_detected": 0.6, "started_at": ")" +
              Iso(device_started) + R"(", "completed_at": ")" + Iso(device_done) + R"("})"));

  json::object network = Agent("network");
  EXPECT_EQ(network.at("agent_name"), json::value("network_agent"));
  EXPECT_EQ(network.at("status"), json::value("running"));
  EXPECT_EQ(network.at("tools_completed"), json::value(1));
  EXPECT_EQ(network.at("total_tools"), json::value(2));  // one planned, one not
  EXPECT_EQ(network.at("progress_percent"), json::value(50));
  EXPECT_EQ(network.at("average_execution_time_ms"), json::value(400));
  EXPECT_EQ(network.at("findings_count"), json::value(1));
  EXPECT_EQ(network.at("max_risk_detected"), json::value(0.3));
  EXPECT_EQ(network.at("risk_score"), json::value(0.0));
  EXPECT_EQ(network.at("completed_at"), json::value(nullptr));

  json::object risk = Agent("risk");
  EXPECT_EQ(risk.at("status"), json::value("pending"));
  EXPECT_EQ(risk.at("agent_name"), json::value("risk"));
  EXPECT_EQ(risk.at("total_tools"), json::value(1));
  EXPECT_EQ(risk.at("progress_percent"), json::value(0));
  EXPECT_EQ(risk.at("started_at"), json::value(nullptr));
}

TEST_F(FoldTest, AgentAveragesAndMaxRiskOverSeveralTools) {
  Create();
  Start();
  Run("n1", "ip_lookup", "network", 1000, O(R"({"result": {"risk_score": 0.2}})"));
  Run("n2", "whois", "network", 3000, O(R"({"result": {"risk_score": 0.9}})"));
  Run("n3", "geo", "network", 2001, O(R"({"result": {"risk_score": 0.4}})"));
  json::object network = Agent("network");
  EXPECT_EQ(network.at("status"), json::value("completed"));
  EXPECT_EQ(network.at("tools_completed"), json::value(3));
  EXPECT_EQ(network.at("average_execution_time_ms"), json::value(2000));  // 6001 / 3
  EXPECT_EQ(network.at("max_risk_detected"), json::value(0.9));
}

TEST_F(FoldTest, AgentWithAFailedToolIsFailedOnceAllItsToolsFinish) {
  Create();
  Start();
  Queue("n1", "ip_lookup", "network");
  Queue("n2", "whois", "network");
  Started("n1");
  Fail("n1", false);
  EXPECT_EQ(Agent("network").at("status"), json::value("running"));
  EXPECT_EQ(Agent("network").at("progress_percent"), json::value(50));
  Started("n2");
  Complete("n2");
  json::object network = Agent("network");
  EXPECT_EQ(network.at("status"), json::value("failed"));
  EXPECT_EQ(network.at("tools_completed"), json::value(1));
  EXPECT_EQ(network.at("progress_percent"), json::value(100));
}

TEST_F(FoldTest, AgentStatusesListPlannedAgentsThenNewOnes) {
  Create();
  Start();
  Queue("x", "pdf", "report");
  json::array agents = P().at("agent_statuses").as_array();
  ASSERT_EQ(agents.size(), 4u);
  EXPECT_EQ(agents[0].at("agent_type"), json::value("device"));
  EXPECT_EQ(agents[1].at("agent_type"), json::value("network"));
  EXPECT_EQ(agents[2].at("agent_type"), json::value("risk"));
  EXPECT_EQ(agents[3].at("agent_type"), json::value("report"));
  EXPECT_EQ(agents[3].at("total_tools"), json::value(1));
}

// ---------------------------------------------------------------------------------------------
// Risk, entities, relationships, errors

TEST_F(FoldTest, RiskUpdatedUsesTheEventTime) {
  Create();
  Start();
  Advance(5000);
  int64_t at = now_;
  Add(EventType::kRiskUpdated,
      O(R"({"overall": 0.55, "confidence": 0.8, "by_agent": {"network": 0.4, "device": 0.9}})"));
  Advance(60'000);
  Add(EventType::kErrorLogged,
      O(R"({"error": {"code": "c", "message": "m", "severity": "warning"}})"));
  EXPECT_EQ(P().at("risk_metrics"), J(R"({"overall": 0.55, "confidence": 0.8,
      "last_calculated": ")" + Iso(at) +
                                      R"(", "by_agent": {"device": 0.9, "network": 0.4}})"));

  // A later update without confidence keeps it, and merges by_agent.
  Add(EventType::kRiskUpdated, O(R"({"overall": 0.6, "by_agent": {"network": 0.5}})"));
  EXPECT_EQ(P().at("risk_metrics"), J(R"({"overall": 0.6, "confidence": 0.8,
      "last_calculated": ")" + Iso(now_) +
                                      R"(", "by_agent": {"device": 0.9, "network": 0.5}})"));
  EXPECT_EQ(Agent("network").at("risk_score"), json::value(0.5));
}

TEST_F(FoldTest, EntityDiscoveredIsAddedWithDefaultIdAndLabel) {
  Create();
  Start();
  Advance(100);
  Add(EventType::kEntityDiscovered, O(R"({"entity": {"type": "phone", "value": "555"}})"));
  json::object e = Find(P(), "entities", "id", "phone:555");
  EXPECT_EQ(json::value(e), J(R"({"id": "phone:555", "type": "phone", "value": "555",
      "label": "phone: 555", "metadata": {}, "added_at": ")" +
                              Iso(now_) + R"("})"));
  Add(EventType::kEntityDiscovered,
      O(R"({"entity": {"id": "dev-9", "type": "device", "value": "abc", "label": "Pixel"}})"));
  EXPECT_EQ(Find(P(), "entities", "id", "dev-9").at("label"), json::value("Pixel"));
  EXPECT_EQ(P().at("entities").as_array().size(), 4u);
}

TEST_F(FoldTest, EntityRediscoveryMergesWithoutDuplicate) {
  Create();
  Start();
  Advance(100);
  Add(EventType::kEntityDiscovered,
      O(R"({"entity": {"type": "ip", "value": "1.2.3.4", "metadata": {"country": "FR"}}})"));
  json::array entities = P().at("entities").as_array();
  ASSERT_EQ(entities.size(), 2u);
  json::object ip = Find(P(), "entities", "id", "ip:1.2.3.4");
  EXPECT_EQ(ip.at("metadata"), J(R"({"asn": 7, "country": "FR"})"));
  EXPECT_EQ(ip.at("added_at"), json::value(Iso(kT0)));  // first seen at creation
  // A rediscovery without a label keeps the label given before.
  EXPECT_EQ(ip.at("label"), json::value("Home IP"));

  Add(EventType::kEntityDiscovered,
      O(R"({"entity": {"type": "ip", "value": "1.2.3.4", "label": "Office IP",
                       "metadata": {"asn": 8}}})"));
  ip = Find(P(), "entities", "id", "ip:1.2.3.4");
  EXPECT_EQ(ip.at("label"), json::value("Office IP"));
  EXPECT_EQ(ip.at("metadata"), J(R"({"asn": 8, "country": "FR"})"));
  EXPECT_EQ(P().at("entities").as_array().size(), 2u);
}

TEST_F(FoldTest, RelationshipNeedsBothEntitiesKnown) {
  Create();
  Start();
  ExpectConflict(EventType::kRelationshipDiscovered,
                 O(R"({"relationship": {"source_entity_id": "phone:555",
                                        "target_entity_id": "ip:1.2.3.4",
                                        "relationship_type": "used"}})"),
                 "data.relationship.source_entity_id");
  ExpectConflict(EventType::kRelationshipDiscovered,
                 O(R"({"relationship": {"source_entity_id": "ip:1.2.3.4",
                                        "target_entity_id": "phone:555",
                                        "relationship_type": "used"}})"),
                 "data.relationship.target_entity_id");
  Add(EventType::kEntityDiscovered, O(R"({"entity": {"type": "phone", "value": "555"}})"));
  Advance(10);
  Event rel = Add(EventType::kRelationshipDiscovered,
                  O(R"({"relationship": {"source_entity_id": "phone:555",
                                         "target_entity_id": "ip:1.2.3.4",
                                         "relationship_type": "used"}})"));
  json::array rels = P().at("relationships").as_array();
  ASSERT_EQ(rels.size(), 1u);
  EXPECT_EQ(rels[0], J(R"({"id": ")" + FormatEventId(rel.id) + R"(",
      "source_entity_id": "phone:555", "target_entity_id": "ip:1.2.3.4",
      "relationship_type": "used", "confidence": 1.0, "metadata": {},
      "discovered_at": ")" +
                       Iso(now_) + R"("})"));
}

TEST_F(FoldTest, RelationshipWithAnIdIsUpdatedInPlace) {
  Create();
  Start();
  int64_t first = now_;
  Add(EventType::kRelationshipDiscovered,
      O(R"({"relationship": {"id": "r1", "source_entity_id": "email:a@b.c",
                             "target_entity_id": "ip:1.2.3.4", "relationship_type": "login",
                             "confidence": 0.5}})"));
  Advance(1000);
  Add(EventType::kRelationshipDiscovered,
      O(R"({"relationship": {"id": "r1", "source_entity_id": "email:a@b.c",
                             "target_entity_id": "ip:1.2.3.4", "relationship_type": "login",
                             "confidence": 0.9, "metadata": {"n": 2}}})"));
  json::array rels = P().at("relationships").as_array();
  ASSERT_EQ(rels.size(), 1u);
  EXPECT_EQ(rels[0].at("confidence"), json::value(0.9));
  EXPECT_EQ(rels[0].at("metadata"), J(R"({"n": 2})"));
  EXPECT_EQ(rels[0].at("discovered_at"), json::value(Iso(first)));
}

TEST_F(FoldTest, ErrorLoggedIsRecordedWithSeverityAndContext) {
  Create();
  Start();
  Advance(10);
  Event e =
      Add(EventType::kErrorLogged, O(R"({"error": {"code": "RATE", "message": "upstream throttled",
                                "severity": "critical", "context": {"upstream": "geo"}}})"));
  json::array errors = P().at("errors").as_array();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], J(R"({"id": ")" + FormatEventId(e.id) + R"(", "code": "RATE",
      "message": "upstream throttled", "timestamp": ")" +
                         Iso(now_) + R"(",
      "severity": "critical", "context": {"upstream": "geo"}})"));
  Add(EventType::kErrorLogged,
      O(R"({"error": {"code": "SLOW", "message": "m", "severity": "warning"}})"));
  errors = P().at("errors").as_array();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[1].at("severity"), json::value("warning"));
  EXPECT_EQ(errors[1].at("context"), J("{}"));
}

// ---------------------------------------------------------------------------------------------
// Rates

TEST_F(FoldTest, ToolsPerSecondOverTheLastTenSeconds) {
  Create();
  int64_t started = Start();
  for (int i = 0; i < 5; ++i) Queue("t" + std::to_string(i), "tool" + std::to_string(i), "a");
  for (int i = 0; i < 5; ++i) Started("t" + std::to_string(i));
  // The run is more than 10 s old when the tools finish, so the window is a full 10 s.
  now_ = started + 10'500;
  for (int i = 0; i < 5; ++i) {
    Complete("t" + std::to_string(i));
    Advance(1000);
  }
  // The last finish was at started + 14'500; now_ is started + 15'500.
  Add(EventType::kRiskUpdated, O(R"({"overall": 0.1})"));
  EXPECT_EQ(P().at("tools_per_second"), json::value(0.5));
  EXPECT_EQ(P().at("peak_tools_per_second"), json::value(0.5));

  // 20 s later with no finishes in between: the window is empty.
  Advance(20'000);
  Add(EventType::kRiskUpdated, O(R"({"overall": 0.2})"));
  EXPECT_EQ(P().at("tools_per_second"), json::value(0.0));
  EXPECT_EQ(P().at("peak_tools_per_second"), json::value(0.5));
}

TEST_F(FoldTest, ToolsPerSecondWindowTrimsFinishesOlderThanTenSeconds) {
  Create();
  int64_t started = Start();
  for (int i = 0; i < 4; ++i) Queue("t" + std::to_string(i), "tool" + std::to_string(i), "a");
  now_ = started + 20'000;
  Complete("t0");
  Complete("t1");
  EXPECT_EQ(P().at("tools_per_second"), json::value(0.2));
  now_ = started + 25'000;
  Complete("t2");
  EXPECT_EQ(P().at("tools_per_second"), json::value(0.3));
  now_ = started + 30'000;  // t0 and t1 fall out of (now - 10 s, now]
  Complete("t3");
  EXPECT_EQ(P().at("tools_per_second"), json::value(0.2));
  EXPECT_EQ(P().at("peak_tools_per_second"), json::value(0.3));
}

TEST_F(FoldTest, ToolsPerSecondWindowIsShorterAtTheStartOfARun) {
  Create();
  int64_t started = Start();  // running at started + 1000
  Queue("a", "device_scan", "device");
  Queue("b", "ip_lookup", "network");
  now_ = started + 2000;
  Complete("a");
  Complete("b");
  EXPECT_EQ(P().at("tools_per_second"), json::value(1.0));  // 2 tools / 2 s
  EXPECT_EQ(P().at("peak_tools_per_second"), json::value(1.0));
}

TEST_F(FoldTest, ToolsPerSecondWindowIsAtLeastOneSecond) {
  Create();
  Status(State::kQueued);
  Advance(1000);
  Status(State::kInitializing);
  Queue("a", "device_scan", "device");
  Queue("b", "ip_lookup", "network");
  Advance(200);
  Complete("a");
  Complete("b");
  // 200 ms after the run started: the window is 1 s, not 0.2 s.
  EXPECT_EQ(P().at("tools_per_second"), json::value(2.0));
}

TEST_F(FoldTest, ToolsPerSecondIsRoundedToHundredths) {
  Create();
  int64_t started = Start();
  Queue("a", "device_scan", "device");
  now_ = started + 3000;
  Complete("a");
  EXPECT_EQ(P().at("tools_per_second"), json::value(0.33));  // 1 / 3 s
  Queue("b", "ip_lookup", "network");
  now_ = started + 6000;
  Complete("b");
  EXPECT_EQ(P().at("tools_per_second"), json::value(0.33));  // 2 / 6 s
  EXPECT_EQ(P().at("peak_tools_per_second"), json::value(0.33));
}

// ---------------------------------------------------------------------------------------------
// Check: tool events against tool state

TEST_F(FoldTest, ToolEventsForUnknownExecutionsAreConflicts) {
  Create();
  Start();
  for (EventType type :
       {EventType::kToolStarted, EventType::kToolComplete, EventType::kToolSkipped}) {
    ExpectConflict(type, {{"tool_execution_id", "ghost"}}, "data.tool_execution_id");
  }
  ExpectConflict(EventType::kToolError,
                 {{"tool_execution_id", "ghost"}, {"error", {{"code", "c"}, {"message", "m"}}}},
                 "data.tool_execution_id");
}

TEST_F(FoldTest, ToolStateConflicts) {
  Create();
  Start();
  Queue("t1", "device_scan", "device");
  ExpectConflict(EventType::kToolQueued,
                 {{"tool_execution_id", "t1"}, {"tool_name", "other"}, {"agent_type", "x"}},
                 "data.tool_execution_id");
  Started("t1");
  ExpectConflict(EventType::kToolStarted, {{"tool_execution_id", "t1"}}, "data.tool_execution_id");
  Complete("t1");
  ExpectConflict(EventType::kToolComplete, {{"tool_execution_id", "t1"}}, "data.tool_execution_id");
  ExpectConflict(EventType::kToolStarted, {{"tool_execution_id", "t1"}});
  ExpectConflict(EventType::kToolSkipped, {{"tool_execution_id", "t1"}});
  ExpectConflict(EventType::kToolError,
                 {{"tool_execution_id", "t1"}, {"error", {{"code", "c"}, {"message", "m"}}}});
  Queue("t2", "ip_lookup", "network");
  Skip("t2", "r");
  ExpectConflict(EventType::kToolComplete, {{"tool_execution_id", "t2"}});
  ExpectConflict(EventType::kToolSkipped, {{"tool_execution_id", "t2"}});
}

TEST_F(FoldTest, RefusedEventsChangeNothing) {
  Create();
  Start();
  Queue("t1", "device_scan", "device");
  std::string before = json::serialize(P());
  Refuse(EventType::kToolStarted, {{"tool_execution_id", "ghost"}});
  Refuse(EventType::kStatusChange, {{"to", "created"}});
  EXPECT_EQ(json::serialize(P()), before);
}

// ---------------------------------------------------------------------------------------------
// Retry

TEST_F(FoldTest, RetryStartsANewRunAndKeepsKnowledge) {
  Create();
  int64_t first_start = Start();
  Phase("collect", "in_progress");
  Run("t1", "device_scan", "device", 100, O(R"({"result": {"risk_score": 0.4}})"));
  Add(EventType::kRiskUpdated, O(R"({"overall": 0.4})"));
  Add(EventType::kEntityDiscovered, O(R"({"entity": {"type": "phone", "value": "555"}})"));
  Add(EventType::kRelationshipDiscovered,
      O(R"({"relationship": {"source_entity_id": "phone:555", "target_entity_id": "email:a@b.c",
                             "relationship_type": "owns"}})"));
  Advance(100);
  Status(State::kFailed);
  EXPECT_EQ(P().at("started_at"), json::value(Iso(first_start)));
  EXPECT_EQ(P().at("completed_at"), json::value(Iso(now_)));
  EXPECT_EQ(P().at("completion_percent"), json::value(33));

  Advance(1000);
  Status(State::kRetrying, {{"run_id", "run_2"}});
  json::object p = P();
  EXPECT_EQ(p.at("run_id"), json::value("run_2"));
  EXPECT_EQ(p.at("state"), json::value("retrying"));
  EXPECT_EQ(p.at("status"), json::value("initializing"));
  EXPECT_EQ(p.at("ice_connected"), json::value(true));
  EXPECT_EQ(p.at("tool_executions"), J("[]"));
  EXPECT_EQ(p.at("completion_percent"), json::value(0));
  EXPECT_EQ(p.at("total_tools"), json::value(3));
  EXPECT_EQ(p.at("completed_tools"), json::value(0));
  EXPECT_EQ(p.at("started_at"), json::value(nullptr));
  EXPECT_EQ(p.at("completed_at"), json::value(nullptr));
  EXPECT_EQ(p.at("current_phase"), json::value(nullptr));
  EXPECT_EQ(PhaseJ("collect").at("status"), json::value("pending"));
  EXPECT_EQ(p.at("risk_metrics").at("overall"), json::value(0.0));
  EXPECT_EQ(p.at("entities").as_array().size(), 3u);
  EXPECT_EQ(p.at("relationships").as_array().size(), 1u);
  EXPECT_EQ(p.at("created_at"), json::value(Iso(kT0)));
  EXPECT_EQ(InvestigationToJson(inv_).at("run_id"), json::value("run_2"));

  // The old run's tools are gone: their ids may be reused, their events are refused.
  ExpectConflict(EventType::kToolStarted, {{"tool_execution_id", "t1"}}, "data.tool_execution_id");

  Advance(1000);
  int64_t second_start = now_;
  Status(State::kInitializing);
  EXPECT_EQ(P().at("started_at"), json::value(Iso(second_start)));
  Status(State::kRunning);
  Queue("t1", "device_scan", "device");
  EXPECT_EQ(Tool("t1").at("status"), json::value("queued"));
  EXPECT_EQ(Tool("t1").at("queued_at"), json::value(Iso(now_)));
}

TEST_F(FoldTest, RetryWithoutRunIdKeepsTheRunId) {
  Create();
  Start();
  Status(State::kFailed);
  Status(State::kRetrying);
  EXPECT_EQ(P().at("run_id"), json::value("run_1"));
}

// ---------------------------------------------------------------------------------------------
// InvestigationToJson

TEST_F(FoldTest, InvestigationToJson) {
  Event created = Create();
  json::value expected = J(R"({
    "investigation_id": "inv-1", "owner": "alice", "name": "Card testing ring",
    "entities": [
      {"id": "email:a@b.c", "type": "email", "value": "a@b.c", "label": "email: a@b.c",
       "metadata": {}, "added_at": "2024-11-03T21:20:00.000Z"},
      {"id": "ip:1.2.3.4", "type": "ip", "value": "1.2.3.4", "label": "Home IP",
       "metadata": {"asn": 7}, "added_at": "2024-11-03T21:20:00.000Z"}],
    "plan": {"phases": [
      {"id": "collect", "name": "Collect", "order": 0, "estimated_duration_ms": 30000,
       "tools": [{"tool_name": "device_scan", "agent_type": "device"},
                 {"tool_name": "ip_lookup", "agent_type": "network"}]},
      {"id": "Analyze", "name": "Analyze", "order": 1, "estimated_duration_ms": 0,
       "tools": [{"tool_name": "risk_model", "agent_type": "risk"}]}]},
    "settings": {"depth": 2},
    "runner": null,
    "state": "created", "status": "pending", "lifecycle_stage": "draft",
    "allowed_transitions": ["queued", "failed", "cancelled"],
    "run_id": "run_1", "version": 1, "completion_percent": 0,
    "last_event_id": "1730668800000_000000",
    "created_at": "2024-11-03T21:20:00.000Z", "updated_at": "2024-11-03T21:20:00.000Z"
  })");
  EXPECT_EQ(json::value(InvestigationToJson(inv_)), expected)
      << json::serialize(InvestigationToJson(inv_));
  EXPECT_EQ(FormatEventId(created.id), "1730668800000_000000");

  Start();
  json::object j = InvestigationToJson(inv_);
  EXPECT_EQ(j.at("state"), json::value("running"));
  EXPECT_EQ(j.at("status"), json::value("running"));
  EXPECT_EQ(j.at("lifecycle_stage"), json::value("in_progress"));
  EXPECT_EQ(j.at("allowed_transitions"), J(R"(["paused", "completing", "failed", "cancelled"])"));
  EXPECT_EQ(j.at("version"), json::value(4));
  EXPECT_EQ(j.at("updated_at"), json::value(Iso(now_)));
  EXPECT_EQ(j.at("last_event_id"), json::value(FormatEventId(inv_.last_event_id)));
  EXPECT_EQ(j.at("plan"), expected.at("plan"));  // the plan never changes
}

TEST_F(FoldTest, InvestigationToJsonNamesTheRunner) {
  Create(R"({"name": "demo", "runner": "simulated"})");
  EXPECT_EQ(InvestigationToJson(inv_).at("runner"), json::value("simulated"));
  EXPECT_EQ(InvestigationToJson(inv_).at("plan"), J(R"({"phases": []})"));
  EXPECT_EQ(P().at("total_tools"), json::value(0));
  EXPECT_EQ(P().at("completion_percent"), json::value(0));
}

// ---------------------------------------------------------------------------------------------
// Determinism

TEST_F(FoldTest, FoldingTheSameLogTwiceGivesIdenticalBytes) {
  Create();
  Start();
  Phase("collect", "in_progress");
  Run("a", "device_scan", "device", 120, O(R"({"result": {"risk_score": 0.3}})"));
  Queue("b", "ip_lookup", "network", {}, "net_agent");
  Started("b");
  Fail("b", true);
  Started("b");
  Advance(50);
  Complete("b");
  Queue("x", "whois", "network");
  Skip("x", "none");
  Add(EventType::kRiskUpdated, O(R"({"overall": 0.3, "by_agent": {"z": 0.1, "a": 0.2}})"));
  Add(EventType::kEntityDiscovered, O(R"({"entity": {"type": "phone", "value": "1"}})"));
  Add(EventType::kRelationshipDiscovered,
      O(R"({"relationship": {"source_entity_id": "phone:1", "target_entity_id": "ip:1.2.3.4",
                             "relationship_type": "near"}})"));
  Add(EventType::kErrorLogged,
      O(R"({"error": {"code": "c", "message": "m", "severity": "error"}})"));
  Phase("collect", "completed");
  Phase("extra", "skipped", "Extra");
  Status(State::kCompleting);
  Status(State::kCompleted);
  ASSERT_GT(log_.size(), 20u);

  auto fold = [&] {
    Investigation inv;
    for (const Event& e : log_) {
      auto ok = Check(inv, e);
      EXPECT_TRUE(ok.has_value()) << ok.error().message;
      Apply(inv, e);
    }
    return inv;
  };
  Investigation a = fold(), b = fold();
  std::string pa = json::serialize(ProgressToJson(a)), pb = json::serialize(ProgressToJson(b));
  EXPECT_EQ(pa, pb);
  EXPECT_EQ(pa, json::serialize(ProgressToJson(inv_)));
  EXPECT_EQ(json::serialize(InvestigationToJson(a)), json::serialize(InvestigationToJson(b)));
  EXPECT_EQ(a.version, static_cast<int64_t>(log_.size()));
  EXPECT_EQ(a.last_event_id, log_.back().id);
}

}  // namespace
}  // namespace vigil::core

namespace vigil::core {
namespace {

// A tool fills a planned slot only when both its name and its agent match the plan's.
TEST_F(FoldTest, APlannedSlotNeedsTheSameToolAndAgent) {
  Create();
  Start();
  Queue("x1", "device_scan", "mobile");  // planned for agent "device", not "mobile"
  json::object p = ProgressToJson(inv_);
  EXPECT_EQ(p.at("total_tools").as_int64(), 4);  // three planned, one unplanned
  EXPECT_EQ(Find(p, "agent_statuses", "agent_type", "device").at("total_tools").as_int64(), 1);
  EXPECT_EQ(Find(p, "agent_statuses", "agent_type", "mobile").at("total_tools").as_int64(), 1);
  Queue("x2", "device_scan", "device");
  EXPECT_EQ(ProgressToJson(inv_).at("total_tools").as_int64(), 4);  // fills the planned slot
}

// An agent whose tools are only queued has not started.
TEST_F(FoldTest, AnAgentWithOnlyQueuedToolsIsPending) {
  Create();
  Start();
  Queue("x1", "device_scan", "device");
  EXPECT_EQ(
      Find(ProgressToJson(inv_), "agent_statuses", "agent_type", "device").at("status").as_string(),
      "pending");
  Add(EventType::kToolStarted, {{"tool_execution_id", "x1"}});
  EXPECT_EQ(
      Find(ProgressToJson(inv_), "agent_statuses", "agent_type", "device").at("status").as_string(),
      "running");
}

}  // namespace
}  // namespace vigil::core

namespace vigil::core {
namespace {

TEST_F(FoldTest, ToolsAndPhasesWaitForTheRunToStart) {
  Create();
  ExpectConflict(
      EventType::kToolQueued,
      {{"tool_execution_id", "x"}, {"tool_name", "device_scan"}, {"agent_type", "device"}});
  ExpectConflict(EventType::kPhaseChange, {{"phase_id", "collect"}, {"status", "in_progress"}});
  Status(State::kQueued);
  ExpectConflict(
      EventType::kToolQueued,
      {{"tool_execution_id", "x"}, {"tool_name", "device_scan"}, {"agent_type", "device"}});
  // Enrichment is welcome before the run starts.
  Add(EventType::kRiskUpdated, {{"overall", 0.4}});
  Status(State::kInitializing);
  Queue("x", "device_scan", "device");
}

TEST_F(FoldTest, APhaseMovedBackToPendingIsNoLongerCurrent) {
  Create();
  Start();
  Phase("collect", "in_progress");
  EXPECT_EQ(P().at("current_phase"), json::value("Collect"));
  Phase("collect", "pending");
  EXPECT_TRUE(P().at("current_phase").is_null());
}

}  // namespace
}  // namespace vigil::core
