#include "support/api_calls.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

namespace vigil::test {

namespace json = boost::json;

Headers BearerJson(const std::string& token) {
  return {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
}

std::string CreateInvestigation(HttpClient& client, const Headers& who, const std::string& name) {
  json::object tool{{"tool_name", "ip_reputation"}, {"agent_type", "network"}};
  json::object phase{{"name", "network"}, {"tools", json::array{tool}}};
  json::object body{
      {"name", name},
      {"entities", json::array{json::object{{"type", "ip"}, {"value", "203.0.113.7"}}}},
      {"plan", json::object{{"phases", json::array{phase}}}}};
  HttpResult r = client.Post("/api/v1/investigations", json::serialize(body), who);
  EXPECT_EQ(r.status, 201) << r.body;
  if (r.status != 201) return "";
  return std::string(r.Json().at("investigation_id").as_string());
}

json::object ErrorLoggedEvent(int n, const std::string& actor, size_t pad) {
  json::object error{{"code", "E" + std::to_string(n)},
                     {"message", "event " + std::to_string(n)},
                     {"severity", "warning"}};
  if (pad > 0) error["context"] = json::object{{"pad", std::string(pad, 'x')}};
  json::object event{{"event_type", "error_logged"}, {"data", json::object{{"error", error}}}};
  if (!actor.empty()) event["actor"] = actor;
  return event;
}

std::vector<std::string> ReportErrors(HttpClient& client, const std::string& id, const Headers& who,
                                      int first, int n, int batch, const std::string& actor,
                                      size_t pad) {
  std::vector<std::string> ids;
  for (int done = 0; done < n;) {
    json::array events;
    for (int i = 0; i < batch && done < n; ++i, ++done) {
      events.push_back(ErrorLoggedEvent(first + done, actor, pad));
    }
    HttpResult r = client.Post("/api/v1/investigations/" + id + "/events",
                               json::serialize(json::object{{"events", events}}), who);
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) break;
    json::value v = r.Json();  // kept alive for the loop
    for (const auto& item : v.at("events").as_array()) {
      ids.emplace_back(item.at("event_id").as_string());
    }
  }
  return ids;
}

std::vector<json::value> ReadLog(HttpClient& client, const std::string& id, const Headers& who) {
  std::vector<json::value> items;
  std::string since = "0_000000";
  for (;;) {
    HttpResult r =
        client.Get("/api/v1/investigations/" + id + "/events?limit=1000&since=" + since, who);
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) break;
    json::value page = r.Json();
    for (const auto& item : page.at("items").as_array()) items.push_back(item);
    if (!page.at("has_more").as_bool()) break;
    since = std::string(page.at("next_cursor").as_string());
  }
  return items;
}

}  // namespace vigil::test
