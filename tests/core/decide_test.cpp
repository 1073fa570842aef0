#include "core/decide.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "core/input.hpp"

namespace vigil::core {
namespace {

// Ids minted in order ("inv_1", "run_2", ...), so that every decision is exactly repeatable.
DecideInput Input(std::string actor = "alice", int64_t now_ms = 1'700'000'000'000) {
  DecideInput input;
  input.actor = std::move(actor);
  input.now_ms = now_ms;
  auto next = std::make_shared<int>(0);
  input.mint_id = [next](const char* prefix) { return prefix + std::to_string(++*next); };
  return input;
}

Investigation Created(const DecideInput& input) {
  auto decision = Decide({}, CreateCommand{{{"name", "x"}}}, input);
  EXPECT_TRUE(decision.has_value()) << decision.error().message;
  return decision ? decision->after : Investigation{};
}

EventInput Error(int n, std::string key = "", std::string actor = "") {
  EventInput in;
  in.type = EventType::kErrorLogged;
  in.key = std::move(key);
  in.actor = std::move(actor);
  in.data = {
      {"error", {{"code", "E" + std::to_string(n)}, {"message", "m"}, {"severity", "warning"}}}};
  return in;
}

TEST(DecideTest, ACreateMintsItsIdsAndIsOwnedByWhoAsks) {
  auto d = Decide({}, CreateCommand{{{"name", "x"}}}, Input("alice"));
  ASSERT_TRUE(d.has_value()) << d.error().message;
  ASSERT_EQ(d->events.size(), 1u);
  const Event& e = d->events[0];
  EXPECT_EQ(e.type, EventType::kInvestigationCreated);
  EXPECT_EQ(e.investigation_id, "inv_1");
  EXPECT_EQ(e.run_id, "run_2");
  EXPECT_EQ(e.actor, "alice");
  EXPECT_EQ(e.data.at("owner"), "alice");
  EXPECT_FALSE(e.wire.empty());
  EXPECT_EQ(d->after.id, "inv_1");
  EXPECT_EQ(d->after.version, 1);
  EXPECT_EQ(d->after.last_event_id, e.id);
}

TEST(DecideTest, AReportNamesItsActorAndAssignsIncreasingIds) {
  DecideInput input = Input("alice");
  Investigation inv = Created(input);
  auto d = Decide(inv, ReportCommand{{Error(1), Error(2, "", "tool-agent")}}, input);
  ASSERT_TRUE(d.has_value()) << d.error().message;
  ASSERT_EQ(d->events.size(), 2u);
  EXPECT_EQ(d->events[0].actor, "alice");
  EXPECT_EQ(d->events[1].actor, "tool-agent");
  EXPECT_LT(inv.last_event_id, d->events[0].id);
  EXPECT_LT(d->events[0].id, d->events[1].id);
  ASSERT_EQ(d->items.size(), 2u);
  EXPECT_EQ(d->items[1].event_id, d->events[1].id);
  EXPECT_EQ(d->after.version, inv.version + 2);
}

TEST(DecideTest, AKeyIsAppendedOnceInTheBatchAndAcrossTheLog) {
  DecideInput input = Input();
  Investigation inv = Created(input);
  const EventId stored{1'600'000'000'000, 7};
  input.stored_key = [stored](const std::string& key) -> Result<std::optional<EventId>> {
    if (key == "old") return std::optional<EventId>(stored);
    return std::optional<EventId>();
  };
  auto d =
      Decide(inv, ReportCommand{{Error(1, "a"), Error(2, "a"), Error(3, "old"), Error(4)}}, input);
  ASSERT_TRUE(d.has_value()) << d.error().message;
  ASSERT_EQ(d->events.size(), 2u);  // E1 and E4
  ASSERT_EQ(d->items.size(), 4u);
  EXPECT_FALSE(d->items[0].duplicate);
  EXPECT_TRUE(d->items[1].duplicate);
  EXPECT_EQ(d->items[1].event_id, d->items[0].event_id);
  EXPECT_TRUE(d->items[2].duplicate);
  EXPECT_EQ(d->items[2].event_id, stored);
  EXPECT_EQ(d->items[3].event_id, d->events[1].id);
}

TEST(DecideTest, AnIllegalEventFailsTheWholeBatchNamingIt) {
  DecideInput input = Input();
  Investigation inv = Created(input);
  EventInput bad;
  bad.type = EventType::kToolComplete;
  bad.data = {{"tool_execution_id", "nope"}, {"result", boost::json::object{}}};
  auto d = Decide(inv, ReportCommand{{Error(1), bad}}, input);
  ASSERT_FALSE(d.has_value());
  EXPECT_TRUE(d.error().field.starts_with("events[1]")) << d.error().field;
  EXPECT_TRUE(d.error().message.starts_with("events[1]: ")) << d.error().message;
}

TEST(DecideTest, ATransitionSaysWhereItCameFromAndARetryStartsARun) {
  DecideInput input = Input();
  Investigation inv = Created(input);
  auto failed = Decide(inv, TransitionCommand{{State::kFailed, "broken"}}, input);
  ASSERT_TRUE(failed.has_value()) << failed.error().message;
  EXPECT_EQ(std::string_view(failed->events[0].data.at("from").as_string()), StateName(inv.state));
  EXPECT_EQ(failed->events[0].data.at("reason"), "broken");
  auto retry = Decide(failed->after, TransitionCommand{{State::kRetrying, ""}}, input);
  ASSERT_TRUE(retry.has_value()) << retry.error().message;
  EXPECT_EQ(retry->events[0].run_id, "run_3");  // inv_1 and run_2 went to the create
  EXPECT_EQ(retry->after.run_id, "run_3");
  // An illegal move names the request's own member.
  auto again = Decide(retry->after, TransitionCommand{{State::kCompleted, ""}}, input);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  EXPECT_EQ(again.error().field, "to");
}

TEST(DecideTest, TheSameInputDecidesTheSame) {
  auto a = Decide({}, CreateCommand{{{"name", "x"}}}, Input("bob", 42));
  auto b = Decide({}, CreateCommand{{{"name", "x"}}}, Input("bob", 42));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->events[0].wire, b->events[0].wire);
}

}  // namespace
}  // namespace vigil::core
