#include "core/event.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <set>
#include <string>

#include "base/result.hpp"

namespace vigil::core {
namespace {

namespace json = boost::json;

TEST(EventType, NamesRoundTrip) {
  std::set<std::string> names;
  for (EventType t : AllEventTypes()) {
    std::string name(EventTypeName(t));
    names.insert(name);
    auto parsed = ParseEventType(name);
    ASSERT_TRUE(parsed.has_value()) << name;
    EXPECT_EQ(*parsed, t);
  }
  EXPECT_EQ(names,
            (std::set<std::string>{"investigation_created", "status_change", "phase_change",
                                   "tool_queued", "tool_started", "tool_complete", "tool_error",
                                   "tool_skipped", "risk_updated", "entity_discovered",
                                   "relationship_discovered", "error_logged"}));
  for (const char* bad : {"", "tool_completed", "Tool_Complete", "status"}) {
    EXPECT_FALSE(ParseEventType(bad).has_value()) << bad;
  }
}

TEST(EventType, ReportableTypesAreAllButInvestigationCreated) {
  auto all = AllEventTypes();
  auto reportable = ReportableEventTypes();
  EXPECT_EQ(reportable.size() + 1, all.size());
  for (EventType t : reportable) EXPECT_NE(t, EventType::kInvestigationCreated);
}

TEST(EventToJson, WireForm) {
  Event e;
  e.id = {1730668800000, 127};
  e.investigation_id = "inv-1";
  e.run_id = "run_1";
  e.type = EventType::kToolComplete;
  e.actor = "network_agent";
  e.data = {{"tool_execution_id", "t1"}};
  e.key = "idem-1";  // not on the wire
  EXPECT_EQ(json::value(EventToJson(e)), json::parse(R"({
    "event_id": "1730668800000_000127", "investigation_id": "inv-1", "run_id": "run_1",
    "event_type": "tool_complete", "actor": "network_agent",
    "timestamp": "2024-11-03T21:20:00.000Z", "data": {"tool_execution_id": "t1"}})"));
}

TEST(ErrorCodeName, StableNames) {
  EXPECT_STREQ(ErrorCodeName(ErrorCode::kInvalidArgument), "invalid_argument");
  EXPECT_STREQ(ErrorCodeName(ErrorCode::kConflict), "conflict");
  EXPECT_STREQ(ErrorCodeName(ErrorCode::kStaleVersion), "stale_version");
  EXPECT_STREQ(ErrorCodeName(ErrorCode::kNotFound), "not_found");
  EXPECT_STREQ(ErrorCodeName(ErrorCode::kUnsupportedMedia), "unsupported_media_type");
  EXPECT_STREQ(ErrorCodeName(ErrorCode::kInternal), "internal");
}

}  // namespace
}  // namespace vigil::core
