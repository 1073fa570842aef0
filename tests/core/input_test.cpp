#include "core/input.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>
#include <string_view>

namespace vigil::core {
namespace {

namespace json = boost::json;

json::value J(std::string_view text) { return json::parse(text); }

const InputLimits kLimits;

// Expects `r` to have failed with kInvalidArgument on `field`; returns the message.
template <typename T>
std::string ExpectInvalid(const Result<T>& r, std::string_view field) {
  EXPECT_FALSE(r.has_value()) << "expected a rejection naming '" << field << "'";
  if (r.has_value()) return {};
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << r.error().message;
  EXPECT_EQ(r.error().field, field) << r.error().message;
  return r.error().message;
}

// ---------------------------------------------------------------------------------------------
// ParseCreateRequest

TEST(ParseCreateRequest, MinimalBodyGetsDefaults) {
  auto r = ParseCreateRequest(J(R"({"name": "Case 1"})"), kLimits);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, J(R"({"name": "Case 1", "entities": [], "plan": {"phases": []},
                      "settings": {}, "runner": null})"));
}

TEST(ParseCreateRequest, EntitiesGetTypeValueIdsAndDefaultLabels) {
  auto r = ParseCreateRequest(J(R"({"name": "n", "entities": [
      {"type": "email", "value": "a@b.c"},
      {"type": "ip", "value": "1.2.3.4", "label": "Home", "metadata": {"k": 1}}]})"),
                              kLimits);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->at("entities"), J(R"([
      {"id": "email:a@b.c", "type": "email", "value": "a@b.c", "label": "email: a@b.c",
       "metadata": {}},
      {"id": "ip:1.2.3.4", "type": "ip", "value": "1.2.3.4", "label": "Home",
       "metadata": {"k": 1}}])"));
}

TEST(ParseCreateRequest, PlanPhaseIdsDefaultToNameAndOrderIsTheIndex) {
  auto r = ParseCreateRequest(J(R"({"name": "n", "plan": {"phases": [
      {"name": "Collect", "id": "collect", "estimated_duration_ms": 3000,
       "tools": [{"tool_name": "device_scan", "agent_type": "device"}]},
      {"name": "Analyze", "tools": []},
      {"name": "Report"}]}})"),
                              kLimits);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->at("plan"), J(R"({"phases": [
      {"id": "collect", "name": "Collect", "order": 0, "estimated_duration_ms": 3000,
       "tools": [{"tool_name": "device_scan", "agent_type": "device"}]},
      {"id": "Analyze", "name": "Analyze", "order": 1, "estimated_duration_ms": 0, "tools": []},
      {"id": "Report", "name": "Report", "order": 2, "estimated_duration_ms": 0, "tools": []}]})"));
}

TEST(ParseCreateRequest, KeepsSettingsAndRunner) {
  auto r = ParseCreateRequest(
      J(R"({"name": "n", "settings": {"a": [1, 2], "b": {"c": null}}, "runner": "simulated"})"),
      kLimits);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->at("settings"), J(R"({"a": [1, 2], "b": {"c": null}})"));
  EXPECT_EQ(r->at("runner"), json::value("simulated"));
}

TEST(ParseCreateRequest, UnknownRunnerIsRejected) {
  std::string msg = ExpectInvalid(
      ParseCreateRequest(J(R"({"name": "n", "runner": "cloud"})"), kLimits), "runner");
  EXPECT_NE(msg.find("simulated"), std::string::npos) << msg;
}

json::value WithEntities(int n) {
  json::array entities;
  for (int i = 0; i < n; ++i) {
    entities.push_back(json::object{{"type", "email"}, {"value", "u" + std::to_string(i)}});
  }
  return json::object{{"name", "n"}, {"entities", std::move(entities)}};
}

TEST(ParseCreateRequest, TenEntitiesAreAccepted) {
  auto r = ParseCreateRequest(WithEntities(10), kLimits);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->at("entities").as_array().size(), 10u);
}

TEST(ParseCreateRequest, MoreThanTenEntitiesAreRejected) {
  std::string msg = ExpectInvalid(ParseCreateRequest(WithEntities(11), kLimits), "entities");
  EXPECT_NE(msg.find("10"), std::string::npos) << msg;
}

TEST(ParseCreateRequest, DuplicateEntityIsRejected) {
  std::string msg = ExpectInvalid(
      ParseCreateRequest(J(R"({"name": "n", "entities": [{"type": "ip", "value": "1.1.1.1"},
                                                          {"type": "ip", "value": "1.1.1.1",
                                                           "label": "other"}]})"),
                         kLimits),
      "entities[1]");
  EXPECT_NE(msg.find("ip:1.1.1.1"), std::string::npos) << msg;
}

json::value WithTools(int distinct, int phases = 1) {
  json::array list;
  int per_phase = (distinct + phases - 1) / phases, made = 0;
  for (int p = 0; p < phases; ++p) {
    json::array tools;
    for (int t = 0; t < per_phase && made < distinct; ++t, ++made) {
      tools.push_back(
          json::object{{"tool_name", "tool_" + std::to_string(made)}, {"agent_type", "a"}});
    }
    list.push_back(json::object{{"name", "phase" + std::to_string(p)}, {"tools", tools}});
  }
  return json::object{{"name", "n"}, {"plan", json::object{{"phases", list}}}};
}

TEST(ParseCreateRequest, TwentyDistinctToolsAreAccepted) {
  auto r = ParseCreateRequest(WithTools(20), kLimits);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->at("plan").at("phases").at(0).at("tools").as_array().size(), 20u);
}

TEST(ParseCreateRequest, TwentyOneDistinctToolsAreRejectedNamingTheTool) {
  std::string msg =
      ExpectInvalid(ParseCreateRequest(WithTools(21), kLimits), "plan.phases[0].tools[20]");
  EXPECT_NE(msg.find("20"), std::string::npos) << msg;
}

TEST(ParseCreateRequest, DistinctToolsAreCountedAcrossPhases) {
  // 11 + 10: the 21st distinct tool is the last of the second phase.
  ExpectInvalid(ParseCreateRequest(WithTools(21, 2), kLimits), "plan.phases[1].tools[9]");
}

TEST(ParseCreateRequest, RepeatedToolsCountOnceTowardsTheDistinctLimit) {
  json::array tools;
  for (int i = 0; i < 40; ++i) {
    tools.push_back(
        json::object{{"tool_name", "tool_" + std::to_string(i % 20)}, {"agent_type", "a"}});
  }
  json::value body = {{"name", "n"},
                      {"plan", {{"phases", json::array{{{"name", "p"}, {"tools", tools}}}}}}};
  auto r = ParseCreateRequest(body, kLimits);
  ASSERT_TRUE(r.has_value()) << r.error().message;
}

TEST(ParseCreateRequest, TooManyPlannedToolSlotsAreRejected) {
  InputLimits limits;
  limits.max_planned_tools = 3;
  json::value body = J(R"({"name": "n", "plan": {"phases": [
      {"name": "a", "tools": [{"tool_name": "t", "agent_type": "x"},
                              {"tool_name": "t", "agent_type": "x"}]},
      {"name": "b", "tools": [{"tool_name": "t", "agent_type": "x"},
                              {"tool_name": "t", "agent_type": "x"}]}]}})");
  ExpectInvalid(ParseCreateRequest(body, limits), "plan.phases[1].tools[1]");
}

TEST(ParseCreateRequest, DuplicatePhaseIdIsRejected) {
  ExpectInvalid(ParseCreateRequest(J(R"({"name": "n", "plan": {"phases": [
                    {"name": "A"}, {"name": "B", "id": "A"}]}})"),
                                   kLimits),
                "plan.phases[1].id");
}

TEST(ParseCreateRequest, UnknownTopLevelFieldIsRejectedListingAllowedFields) {
  std::string msg =
      ExpectInvalid(ParseCreateRequest(J(R"({"name": "n", "owner": "x"})"), kLimits), "owner");
  EXPECT_NE(msg.find("name, entities, plan, settings, runner"), std::string::npos) << msg;
}

TEST(ParseCreateRequest, UnknownNestedFieldsAreRejectedWithTheirPath) {
  ExpectInvalid(
      ParseCreateRequest(J(R"({"name": "n", "entities": [{"type": "a", "value": "b", "x": 1}]})"),
                         kLimits),
      "entities[0].x");
  ExpectInvalid(ParseCreateRequest(J(R"({"name": "n", "plan": {"phases": [], "x": 1}})"), kLimits),
                "plan.x");
  ExpectInvalid(ParseCreateRequest(J(R"({"name": "n", "plan": {"phases": [
                    {"name": "p", "order": 3}]}})"),
                                   kLimits),
                "plan.phases[0].order");
  ExpectInvalid(ParseCreateRequest(J(R"({"name": "n", "plan": {"phases": [
                    {"name": "p", "tools": [{"tool_name": "t", "agent_type": "a",
                                             "x": 1}]}]}})"),
                                   kLimits),
                "plan.phases[0].tools[0].x");
}

json::value WithSettingsOfSize(size_t bytes) {
  // {"x":"..."} serializes to 8 bytes plus the string.
  return json::object{{"name", "n"},
                      {"settings", json::object{{"x", std::string(bytes - 8, 'a')}}}};
}

TEST(ParseCreateRequest, SettingsUpTo50KBAreAccepted) {
  json::value body = WithSettingsOfSize(50 * 1024);
  ASSERT_EQ(json::serialize(body.at("settings")).size(), 50u * 1024);
  auto r = ParseCreateRequest(body, kLimits);
  ASSERT_TRUE(r.has_value()) << r.error().message;
}

TEST(ParseCreateRequest, SettingsOver50KBAreRejected) {
  std::string msg =
      ExpectInvalid(ParseCreateRequest(WithSettingsOfSize(50 * 1024 + 1), kLimits), "settings");
  EXPECT_NE(msg.find("50 KB"), std::string::npos) << msg;
}

TEST(ParseCreateRequest, MissingNameIsRejected) {
  ExpectInvalid(ParseCreateRequest(J(R"({})"), kLimits), "name");
  ExpectInvalid(ParseCreateRequest(J(R"({"entities": []})"), kLimits), "name");
}

TEST(ParseCreateRequest, NameLengthIsBounded) {
  ExpectInvalid(ParseCreateRequest(J(R"({"name": ""})"), kLimits), "name");
  json::value at_limit = {{"name", std::string(255, 'n')}};
  EXPECT_TRUE(ParseCreateRequest(at_limit, kLimits).has_value());
  json::value over = {{"name", std::string(256, 'n')}};
  ExpectInvalid(ParseCreateRequest(over, kLimits), "name");
}

TEST(ParseCreateRequest, WrongTypesAreRejectedWithTheirPath) {
  ExpectInvalid(ParseCreateRequest(J(R"([])"), kLimits), "");
  ExpectInvalid(ParseCreateRequest(J(R"("name")"), kLimits), "");
  ExpectInvalid(ParseCreateRequest(J(R"({"name": 5})"), kLimits), "name");
  ExpectInvalid(ParseCreateRequest(J(R"({"name": null})"), kLimits), "name");
  ExpectInvalid(ParseCreateRequest(J(R"({"name": "n", "entities": {}})"), kLimits), "entities");
  ExpectInvalid(ParseCreateRequest(J(R"({"name": "n", "entities": ["ip:1"]})"), kLimits),
                "entities[0]");
  ExpectInvalid(
      ParseCreateRequest(J(R"({"name": "n", "entities": [{"type": 1, "value": "v"}]})"), kLimits),
      "entities[0].type");
  ExpectInvalid(ParseCreateRequest(J(R"({"name": "n", "entities": [{"type": "t"}]})"), kLimits),
                "entities[0].value");
  ExpectInvalid(ParseCreateRequest(J(R"({"name": "n", "entities": [{"type": "t", "value": "v",
                                                     "metadata": []}]})"),
                                   kLimits),
                "entities[0].metadata");
  ExpectInvalid(ParseCreateRequest(J(R"({"name": "n", "plan": []})"), kLimits), "plan");
  ExpectInvalid(ParseCreateRequest(J(R"({"name": "n", "plan": {"phases": {}}})"), kLimits),
                "plan.phases");
  ExpectInvalid(ParseCreateRequest(J(R"({"name": "n", "plan": {"phases": [{}]}})"), kLimits),
                "plan.phases[0].name");
  ExpectInvalid(ParseCreateRequest(J(R"({"name": "n", "plan": {"phases": [
                    {"name": "p", "estimated_duration_ms": 1.5}]}})"),
                                   kLimits),
                "plan.phases[0].estimated_duration_ms");
  ExpectInvalid(ParseCreateRequest(J(R"({"name": "n", "plan": {"phases": [
                    {"name": "p", "estimated_duration_ms": -1}]}})"),
                                   kLimits),
                "plan.phases[0].estimated_duration_ms");
  ExpectInvalid(ParseCreateRequest(J(R"({"name": "n", "plan": {"phases": [
                    {"name": "p", "tools": [{"tool_name": "t"}]}]}})"),
                                   kLimits),
                "plan.phases[0].tools[0].agent_type");
  ExpectInvalid(ParseCreateRequest(J(R"({"name": "n", "settings": "x"})"), kLimits), "settings");
  ExpectInvalid(ParseCreateRequest(J(R"({"name": "n", "runner": 1})"), kLimits), "runner");
}

// ---------------------------------------------------------------------------------------------
// ParseEventBatch

json::value Batch(std::string_view type, std::string_view data) {
  return json::object{
      {"events", json::array{json::object{{"event_type", type}, {"data", J(data)}}}}};
}

struct ValidEvent {
  EventType type;
  const char* data;
};

const ValidEvent kValidEvents[] = {
    {EventType::kStatusChange, R"({"to": "running", "reason": "go"})"},
    {EventType::kPhaseChange,
     R"({"phase_id": "collect", "status": "in_progress", "name": "Collect", "order": 2})"},
    {EventType::kToolQueued,
     R"({"tool_execution_id": "t1", "tool_name": "scan", "agent_type": "device",
         "phase_id": "collect", "max_retries": 3,
         "input": {"entity_id": "ip:1", "entity_type": "ip", "parameters": {"deep": true}}})"},
    {EventType::kToolStarted, R"({"tool_execution_id": "t1"})"},
    {EventType::kToolComplete,
     R"({"tool_execution_id": "t1", "execution_time_ms": 120,
         "result": {"success": true, "risk_score": 0.7, "findings": [{"f": 1}],
                    "metadata": {"m": 2}}})"},
    {EventType::kToolError,
     R"({"tool_execution_id": "t1", "will_retry": true, "execution_time_ms": 5,
         "error": {"code": "TIMEOUT", "message": "slow", "details": {"after_ms": 5}}})"},
    {EventType::kToolSkipped, R"({"tool_execution_id": "t1", "reason": "not needed"})"},
    {EventType::kRiskUpdated,
     R"({"overall": 0.4, "confidence": 0.9, "by_agent": {"device": 0.2, "network": 1}})"},
    {EventType::kEntityDiscovered,
     R"({"entity": {"type": "ip", "value": "1.2.3.4", "id": "ip-1", "label": "L",
                    "metadata": {}}})"},
    {EventType::kRelationshipDiscovered,
     R"({"relationship": {"source_entity_id": "a", "target_entity_id": "b",
                          "relationship_type": "uses", "id": "r1", "confidence": 0.5,
                          "metadata": {}}})"},
    {EventType::kErrorLogged,
     R"({"error": {"code": "E1", "message": "m", "severity": "critical",
                   "context": {"x": 1}}})"},
};

TEST(ParseEventBatch, EveryReportableTypeWithAValidPayloadIsAccepted) {
  EXPECT_EQ(std::size(kValidEvents), ReportableEventTypes().size());
  for (const ValidEvent& v : kValidEvents) {
    std::string_view name = EventTypeName(v.type);
    auto r = ParseEventBatch(Batch(name, v.data), kLimits);
    ASSERT_TRUE(r.has_value()) << name << ": " << r.error().field << ": " << r.error().message;
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ((*r)[0].type, v.type) << name;
    EXPECT_EQ(json::value((*r)[0].data), J(v.data)) << name;
    EXPECT_EQ((*r)[0].actor, "");
    EXPECT_EQ((*r)[0].key, "");
  }
}

TEST(ParseEventBatch, MinimalPayloadsAreAccepted) {
  const ValidEvent minimal[] = {
      {EventType::kStatusChange, R"({"to": "paused"})"},
      {EventType::kPhaseChange, R"({"phase_id": "p", "status": "completed"})"},
      {EventType::kToolQueued,
       R"({"tool_execution_id": "t", "tool_name": "n", "agent_type": "a"})"},
      {EventType::kToolComplete, R"({"tool_execution_id": "t"})"},
      {EventType::kToolError, R"({"tool_execution_id": "t", "error": {"code": "c",
                                                                      "message": "m"}})"},
      {EventType::kToolSkipped, R"({"tool_execution_id": "t"})"},
      {EventType::kRiskUpdated, R"({"overall": 0})"},
      {EventType::kEntityDiscovered, R"({"entity": {"type": "t", "value": "v"}})"},
      {EventType::kRelationshipDiscovered,
       R"({"relationship": {"source_entity_id": "a", "target_entity_id": "b",
                            "relationship_type": "r"}})"},
      {EventType::kErrorLogged, R"({"error": {"code": "c", "message": "m",
                                              "severity": "warning"}})"},
  };
  for (const ValidEvent& v : minimal) {
    auto r = ParseEventBatch(Batch(EventTypeName(v.type), v.data), kLimits);
    EXPECT_TRUE(r.has_value()) << EventTypeName(v.type) << ": " << r.error().message;
  }
}

TEST(ParseEventBatch, KeepsActorKeyAndOrder) {
  auto r = ParseEventBatch(J(R"({"events": [
      {"event_type": "tool_started", "actor": "net", "key": "k1",
       "data": {"tool_execution_id": "a"}},
      {"event_type": "tool_skipped", "data": {"tool_execution_id": "b"}}]})"),
                           kLimits);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].type, EventType::kToolStarted);
  EXPECT_EQ((*r)[0].actor, "net");
  EXPECT_EQ((*r)[0].key, "k1");
  EXPECT_EQ((*r)[1].type, EventType::kToolSkipped);
  EXPECT_EQ((*r)[1].key, "");
}

TEST(ParseEventBatch, InvestigationCreatedIsRefused) {
  ExpectInvalid(ParseEventBatch(Batch("investigation_created", R"({"name": "n"})"), kLimits),
                "events[0].event_type");
}

TEST(ParseEventBatch, UnknownEventTypeIsRejectedListingAllowedTypes) {
  std::string msg =
      ExpectInvalid(ParseEventBatch(Batch("tool_exploded", "{}"), kLimits), "events[0].event_type");
  for (EventType t : ReportableEventTypes()) {
    EXPECT_NE(msg.find(std::string(EventTypeName(t))), std::string::npos)
        << EventTypeName(t) << " missing from: " << msg;
  }
  EXPECT_EQ(msg.find("investigation_created"), std::string::npos) << msg;
}

TEST(ParseEventBatch, UnknownDataFieldIsRejectedWithItsPath) {
  std::string msg = ExpectInvalid(ParseEventBatch(J(R"({"events": [
      {"event_type": "tool_started", "data": {"tool_execution_id": "a"}},
      {"event_type": "tool_started", "data": {"tool_execution_id": "b", "bogus": 1}}]})"),
                                                  kLimits),
                                  "events[1].data.bogus");
  EXPECT_NE(msg.find("tool_execution_id"), std::string::npos) << msg;
}

TEST(ParseEventBatch, UnknownEventFieldIsRejected) {
  ExpectInvalid(ParseEventBatch(J(R"({"events": [{"event_type": "tool_started",
                                                  "data": {"tool_execution_id": "a"},
                                                  "event_id": "1_000000"}]})"),
                                kLimits),
                "events[0].event_id");
  ExpectInvalid(ParseEventBatch(J(R"({"events": [], "extra": 1})"), kLimits), "extra");
}

TEST(ParseEventBatch, RiskScoreMustBeWithinZeroAndOne) {
  for (const char* bad : {"1.5", "-0.1", "\"0.5\"", "true"}) {
    std::string data =
        std::string(R"({"tool_execution_id": "t", "result": {"risk_score": )") + bad + "}}";
    ExpectInvalid(ParseEventBatch(Batch("tool_complete", data), kLimits),
                  "events[0].data.result.risk_score");
  }
  for (const char* ok : {"0", "1", "0.25", "1.0"}) {
    std::string data =
        std::string(R"({"tool_execution_id": "t", "result": {"risk_score": )") + ok + "}}";
    EXPECT_TRUE(ParseEventBatch(Batch("tool_complete", data), kLimits).has_value()) << ok;
  }
}

// The wire type of findings is an array of objects (the earlier system's ToolExecutionResult);
// a finding reported as a string is made one, as the earlier system did.
TEST(ParseEventBatch, StringFindingsBecomeObjects) {
  auto batch = ParseEventBatch(Batch("tool_complete", R"({"tool_execution_id": "t", "result": {
      "findings": ["Finding 1", {"finding": "Finding 2", "severity": "high"}, ""]}})"),
                               kLimits);
  ASSERT_TRUE(batch.has_value()) << batch.error().message;
  EXPECT_EQ(batch->at(0).data.at("result").at("findings"),
            J(R"([{"finding": "Finding 1"}, {"finding": "Finding 2", "severity": "high"},
                  {"finding": ""}])"));
}

TEST(ParseEventBatch, FindingsThatAreNeitherObjectsNorStringsAreRejected) {
  for (const char* bad : {"1", "true", "null", "[\"a\"]"}) {
    std::string data =
        std::string(R"({"tool_execution_id": "t", "result": {"findings": [{}, )") + bad + "]}}";
    std::string msg = ExpectInvalid(ParseEventBatch(Batch("tool_complete", data), kLimits),
                                    "events[0].data.result.findings[1]");
    EXPECT_NE(msg.find("must be an object or a string"), std::string::npos) << msg;
  }
}

TEST(ParseEventBatch, OtherRangesAndTypesAreChecked) {
  ExpectInvalid(ParseEventBatch(Batch("risk_updated", R"({"overall": 1.01})"), kLimits),
                "events[0].data.overall");
  ExpectInvalid(ParseEventBatch(Batch("risk_updated", R"({"confidence": 0.5})"), kLimits),
                "events[0].data.overall");
  ExpectInvalid(
      ParseEventBatch(Batch("risk_updated", R"({"overall": 0.1, "confidence": 2})"), kLimits),
      "events[0].data.confidence");
  ExpectInvalid(
      ParseEventBatch(Batch("risk_updated", R"({"overall": 0.1, "by_agent": {"net": 1.5}})"),
                      kLimits),
      "events[0].data.by_agent.net");
  ExpectInvalid(ParseEventBatch(Batch("status_change", R"({"to": "sleeping"})"), kLimits),
                "events[0].data.to");
  ExpectInvalid(ParseEventBatch(Batch("status_change", R"({})"), kLimits), "events[0].data.to");
  ExpectInvalid(
      ParseEventBatch(Batch("phase_change", R"({"phase_id": "p", "status": "done"})"), kLimits),
      "events[0].data.status");
  ExpectInvalid(ParseEventBatch(Batch("tool_complete",
                                      R"({"tool_execution_id": "t", "execution_time_ms": -1})"),
                                kLimits),
                "events[0].data.execution_time_ms");
  ExpectInvalid(ParseEventBatch(Batch("tool_started", R"({"tool_execution_id": ""})"), kLimits),
                "events[0].data.tool_execution_id");
  ExpectInvalid(ParseEventBatch(Batch("tool_started", R"({"tool_execution_id": 7})"), kLimits),
                "events[0].data.tool_execution_id");
  ExpectInvalid(ParseEventBatch(Batch("tool_error", R"({"tool_execution_id": "t"})"), kLimits),
                "events[0].data.error");
  ExpectInvalid(ParseEventBatch(Batch("tool_error", R"({"tool_execution_id": "t",
                                                        "error": {"code": "c"}})"),
                                kLimits),
                "events[0].data.error.message");
  ExpectInvalid(ParseEventBatch(Batch("tool_error", R"({"tool_execution_id": "t",
                                                        "will_retry": "yes",
                                                        "error": {"code": "c",
                                                                  "message": "m"}})"),
                                kLimits),
                "events[0].data.will_retry");
  ExpectInvalid(
      ParseEventBatch(Batch("entity_discovered", R"({"entity": {"type": "t"}})"), kLimits),
      "events[0].data.entity.value");
  ExpectInvalid(ParseEventBatch(Batch("relationship_discovered",
                                      R"({"relationship": {"source_entity_id": "a",
                                                           "relationship_type": "r"}})"),
                                kLimits),
                "events[0].data.relationship.target_entity_id");
  ExpectInvalid(ParseEventBatch(Batch("tool_queued", R"({"tool_execution_id": "t",
                                                         "tool_name": "n", "agent_type": "a",
                                                         "input": {"x": 1}})"),
                                kLimits),
                "events[0].data.input.x");
}

TEST(ParseEventBatch, ErrorLoggedSeverityMustBeWarningErrorOrCritical) {
  for (const char* ok : {"warning", "error", "critical"}) {
    std::string data =
        std::string(R"({"error": {"code": "c", "message": "m", "severity": ")") + ok + "\"}}";
    EXPECT_TRUE(ParseEventBatch(Batch("error_logged", data), kLimits).has_value()) << ok;
  }
  std::string msg = ExpectInvalid(
      ParseEventBatch(
          Batch("error_logged", R"({"error": {"code": "c", "message": "m", "severity": "info"}})"),
          kLimits),
      "events[0].data.error.severity");
  EXPECT_NE(msg.find("warning, error, critical"), std::string::npos) << msg;
  ExpectInvalid(ParseEventBatch(
                    Batch("error_logged", R"({"error": {"code": "c", "message": "m"}})"), kLimits),
                "events[0].data.error.severity");
}

TEST(ParseEventBatch, EmptyOrMissingEventsAreRejected) {
  ExpectInvalid(ParseEventBatch(J(R"({"events": []})"), kLimits), "events");
  ExpectInvalid(ParseEventBatch(J(R"({})"), kLimits), "events");
  ExpectInvalid(ParseEventBatch(J(R"({"events": {}})"), kLimits), "events");
  ExpectInvalid(ParseEventBatch(J(R"([])"), kLimits), "");
}

json::value ManyEvents(size_t n) {
  json::array events;
  for (size_t i = 0; i < n; ++i) {
    events.push_back(json::object{{"event_type", "tool_started"},
                                  {"data", json::object{{"tool_execution_id", "t"}}}});
  }
  return json::object{{"events", std::move(events)}};
}

TEST(ParseEventBatch, MoreThanMaxBatchEventsAreRejected) {
  InputLimits limits;
  limits.max_batch_events = 3;
  auto ok = ParseEventBatch(ManyEvents(3), limits);
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(ok->size(), 3u);
  ExpectInvalid(ParseEventBatch(ManyEvents(4), limits), "events");
  // The default limit is 500.
  EXPECT_TRUE(ParseEventBatch(ManyEvents(500), kLimits).has_value());
  ExpectInvalid(ParseEventBatch(ManyEvents(501), kLimits), "events");
}

TEST(ParseEventBatch, OneInvalidEventRejectsTheWholeBatch) {
  ExpectInvalid(ParseEventBatch(J(R"({"events": [
      {"event_type": "tool_started", "data": {"tool_execution_id": "a"}},
      {"event_type": "tool_started", "data": {"tool_execution_id": "b"}},
      {"event_type": "tool_started", "data": {}}]})"),
                                kLimits),
                "events[2].data.tool_execution_id");
}

TEST(ParseEventBatch, EventShapeErrors) {
  ExpectInvalid(ParseEventBatch(J(R"({"events": [5]})"), kLimits), "events[0]");
  ExpectInvalid(ParseEventBatch(J(R"({"events": [{"event_type": "tool_started"}]})"), kLimits),
                "events[0].data");
  ExpectInvalid(ParseEventBatch(J(R"({"events": [{"data": {}}]})"), kLimits),
                "events[0].event_type");
  ExpectInvalid(ParseEventBatch(J(R"({"events": [{"event_type": "tool_started", "data": [],
                                                  "actor": "a"}]})"),
                                kLimits),
                "events[0].data");
  ExpectInvalid(ParseEventBatch(J(R"({"events": [{"event_type": "tool_started", "actor": 1,
                                                  "data": {"tool_execution_id": "t"}}]})"),
                                kLimits),
                "events[0].actor");
}

TEST(ParseEventBatch, OversizedDataIsRejected) {
  InputLimits limits;
  limits.max_result_bytes = 100;
  std::string reason(200, 'r');
  json::value body = {
      {"events", json::array{{{"event_type", "tool_skipped"},
                              {"data", {{"tool_execution_id", "t"}, {"reason", reason}}}}}}};
  ExpectInvalid(ParseEventBatch(body, limits), "events[0].data");
}

// ---------------------------------------------------------------------------------------------
// ParseTransition

TEST(ParseTransition, ExplicitTarget) {
  auto r = ParseTransition(J(R"({"to": "paused", "reason": "lunch"})"), std::nullopt);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->to, State::kPaused);
  EXPECT_EQ(r->reason, "lunch");
}

TEST(ParseTransition, ExplicitTargetIsRequiredWithoutImplied) {
  ExpectInvalid(ParseTransition(J(R"({})"), std::nullopt), "to");
  ExpectInvalid(ParseTransition(J(R"({"reason": "r"})"), std::nullopt), "to");
  std::string msg = ExpectInvalid(ParseTransition(J(R"({"to": "done"})"), std::nullopt), "to");
  EXPECT_NE(msg.find("retrying"), std::string::npos) << msg;
}

TEST(ParseTransition, ImpliedTarget) {
  auto r = ParseTransition(J(R"({"reason": "user asked"})"), State::kCancelled);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->to, State::kCancelled);
  EXPECT_EQ(r->reason, "user asked");
  auto empty = ParseTransition(J(R"({})"), State::kPaused);
  ASSERT_TRUE(empty.has_value()) << empty.error().message;
  EXPECT_EQ(empty->to, State::kPaused);
  EXPECT_EQ(empty->reason, "");
}

TEST(ParseTransition, RejectsUnknownFieldsAndBadTypes) {
  ExpectInvalid(ParseTransition(J(R"({"to": "paused", "why": "x"})"), std::nullopt), "why");
  ExpectInvalid(ParseTransition(J(R"({"reason": 5})"), State::kPaused), "reason");
  ExpectInvalid(ParseTransition(J(R"([])"), State::kPaused), "");
  json::value long_reason = {{"reason", std::string(1025, 'x')}};
  ExpectInvalid(ParseTransition(long_reason, State::kPaused), "reason");
}

// ---------------------------------------------------------------------------------------------
// ParseJsonBody

std::string Nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(ParseJsonBody, ParsesValidJson) {
  auto r = ParseJsonBody(R"({"a": [1, 2, {"b": null}]})");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, J(R"({"a": [1, 2, {"b": null}]})"));
}

TEST(ParseJsonBody, InvalidJsonIsInvalidArgument) {
  for (const char* bad : {"{", "{\"a\": }", "nope", "{} {}", "{\"a\": 1,}", "[1, 2"}) {
    auto r = ParseJsonBody(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
    EXPECT_NE(r.error().message.find("not valid JSON"), std::string::npos) << r.error().message;
  }
}

TEST(ParseJsonBody, EmptyBodyIsAnEmptyObject) {
  for (const char* empty : {"", " ", "\r\n\t "}) {
    auto r = ParseJsonBody(empty);
    ASSERT_TRUE(r.has_value()) << "'" << empty << "'";
    EXPECT_EQ(*r, json::value(json::object()));
  }
}

TEST(ParseJsonBody, DepthIsLimitedTo32) {
  auto ok = ParseJsonBody(Nested(32));
  EXPECT_TRUE(ok.has_value()) << ok.error().message;
  auto deep = ParseJsonBody(Nested(33));
  ASSERT_FALSE(deep.has_value());
  EXPECT_EQ(deep.error().code, ErrorCode::kInvalidArgument);
  auto very_deep = ParseJsonBody(Nested(10'000));
  ASSERT_FALSE(very_deep.has_value());
  EXPECT_EQ(very_deep.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace vigil::core

namespace vigil::core {
namespace {

TEST(TransitionInputTest, AShorthandAcceptsOnlyItsOwnTarget) {
  auto same =
      ParseTransition(boost::json::parse(R"({"to":"paused","reason":"r"})"), State::kPaused);
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(same->to, State::kPaused);
  auto other = ParseTransition(boost::json::parse(R"({"to":"running"})"), State::kPaused);
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(other.error().field, "to");
}

}  // namespace
}  // namespace vigil::core
