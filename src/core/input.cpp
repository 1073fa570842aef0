#include "core/input.hpp"

#include <initializer_list>
#include <set>

#include "base/json_text.hpp"
#include "base/json_util.hpp"
#include "base/strict_json.hpp"
#include "core/investigation.hpp"

namespace vigil::core {

namespace json = boost::json;

namespace {

// Collects the first problem found while reading a JSON body, so that the readers below can be
// called in sequence without an early return after each.
class Checker {
 public:
  bool ok() const { return !error_; }
  Error error() const { return *error_; }

  void Reject(std::string field, std::string message) {
    if (!error_) error_ = Error(ErrorCode::kInvalidArgument, std::move(message), std::move(field));
  }

  const json::object* AsObject(const json::value& v, const std::string& path) {
    if (v.is_object()) return &v.get_object();
    Reject(path,
           (path.empty() ? std::string("the body") : "'" + path + "'") + " must be a JSON object");
    return nullptr;
  }

  void Only(const json::object& o, const std::string& path,
            std::initializer_list<std::string_view> allowed) {
    for (const auto& kv : o) {
      bool known = false;
      for (std::string_view a : allowed) known = known || kv.key() == a;
      if (known) continue;
      std::string list;
      for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      Reject(Join(path, kv.key()),
             "unknown field '" + std::string(kv.key()) + "'; allowed: " + list);
      return;
    }
  }

  const json::value* Member(const json::object& o, const std::string& path, std::string_view key,
                            bool required) {
    auto it = o.find(key);
    if (it == o.end() || (it->value().is_null() && !required)) {
      if (required) Reject(Join(path, key), "'" + Join(path, key) + "' is required");
      return nullptr;
    }
    return &it->value();
  }

  std::string String(const json::object& o, const std::string& path, std::string_view key,
                     bool required, size_t max_len, size_t min_len = 1) {
    const json::value* v = Member(o, path, key, required);
    if (!v) return {};
    if (!v->is_string()) {
      Reject(Join(path, key), "'" + Join(path, key) + "' must be a string");
      return {};
    }
    const json::string& s = v->get_string();
    if (s.size() < min_len || s.size() > max_len) {
      Reject(Join(path, key), "'" + Join(path, key) + "' must be " + std::to_string(min_len) +
                                  " to " + std::to_string(max_len) + " characters");
      return {};
    }
    return std::string(s);
  }

  std::optional<double> Number(const json::object& o, const std::string& path, std::string_view key,
                               bool required, double min, double max) {
    const json::value* v = Member(o, path, key, required);
    if (!v) return std::nullopt;
    auto n = NumberOf(*v);
    if (!n || *n < min || *n > max) {
      Reject(Join(path, key),
             "'" + Join(path, key) + "' must be a number from " + Fmt(min) + " to " + Fmt(max));
      return std::nullopt;
    }
    return n;
  }

  std::optional<int64_t> Integer(const json::object& o, const std::string& path,
                                 std::string_view key, bool required, int64_t min, int64_t max) {
    const json::value* v = Member(o, path, key, required);
    if (!v) return std::nullopt;
    if (!v->is_int64() && !v->is_uint64()) {
      Reject(Join(path, key), "'" + Join(path, key) + "' must be an integer");
      return std::nullopt;
    }
    int64_t n = v->is_int64() ? v->get_int64() : static_cast<int64_t>(v->get_uint64());
    if ((v->is_uint64() && v->get_uint64() > static_cast<uint64_t>(max)) || n < min || n > max) {
      Reject(Join(path, key), "'" + Join(path, key) + "' must be from " + std::to_string(min) +
                                  " to " + std::to_string(max));
      return std::nullopt;
    }
    return n;
  }

  std::optional<bool> Bool(const json::object& o, const std::string& path, std::string_view key,
                           bool required) {
    const json::value* v = Member(o, path, key, required);
    if (!v) return std::nullopt;
    if (!v->is_bool()) {
      Reject(Join(path, key), "'" + Join(path, key) + "' must be true or false");
      return std::nullopt;
    }
    return v->get_bool();
  }

  const json::object* Object(const json::object& o, const std::string& path, std::string_view key,
                             bool required) {
    const json::value* v = Member(o, path, key, required);
    if (!v) return nullptr;
    return AsObject(*v, Join(path, key));
  }

  const json::array* Array(const json::object& o, const std::string& path, std::string_view key,
                           bool required, size_t max_items) {
    const json::value* v = Member(o, path, key, required);
    if (!v) return nullptr;
    if (!v->is_array()) {
      Reject(Join(path, key), "'" + Join(path, key) + "' must be an array");
      return nullptr;
    }
    if (v->get_array().size() > max_items) {
      Reject(Join(path, key),
             "'" + Join(path, key) + "' may have at most " + std::to_string(max_items) + " items");
      return nullptr;
    }
    return &v->get_array();
  }

  template <typename Names>
  std::string OneOf(const json::object& o, const std::string& path, std::string_view key,
                    bool required, const Names& names) {
    std::string s = String(o, path, key, required, 64);
    if (s.empty()) return s;
    std::string list;
    for (std::string_view n : names) {
      if (n == s) return s;
      list += (list.empty() ? "" : ", ") + std::string(n);
    }
    Reject(Join(path, key), "'" + Join(path, key) + "' must be one of: " + list);
    return {};
  }

  static std::string Join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
  }
  static std::string Index(const std::string& path, size_t i) {
    return path + "[" + std::to_string(i) + "]";
  }

 private:
  static std::string Fmt(double d) {
    std::string s = std::to_string(d);
    s.erase(s.find_last_not_of('0') + 1);
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  }

  std::optional<Error> error_;
};

constexpr std::string_view kPhaseStatuses[] = {"pending", "in_progress", "completed", "failed",
                                               "skipped"};
constexpr std::string_view kSeverities[] = {"warning", "error", "critical"};

// data for each reportable type; see the table in event.hpp.
void CheckEventData(Checker& c, EventType type, const json::object& d, const std::string& p,
                    const InputLimits& limits) {
  const size_t kId = 200, kStr = limits.max_string_length;
  switch (type) {
    case EventType::kInvestigationCreated:
      c.Reject(Checker::Join(p, "event_type"), "investigation_created is written by vigil only");
      return;
    case EventType::kStatusChange: {
      c.Only(d, p, {"to", "reason"});
      std::vector<std::string_view> states;
      for (State s : kAllStates) states.push_back(StateName(s));
      c.OneOf(d, p, "to", true, states);
      c.String(d, p, "reason", false, kStr, 0);
      return;
    }
    case EventType::kPhaseChange:
      c.Only(d, p, {"phase_id", "name", "order", "status"});
      c.String(d, p, "phase_id", true, kId);
      c.String(d, p, "name", false, kId);
      c.Integer(d, p, "order", false, 0, 1000);
      c.OneOf(d, p, "status", true, kPhaseStatuses);
      return;
    case EventType::kToolQueued: {
      c.Only(d, p,
             {"tool_execution_id", "tool_name", "agent_type", "phase_id", "input", "max_retries"});
      c.String(d, p, "tool_execution_id", true, kId);
      c.String(d, p, "tool_name", true, 100);
      c.String(d, p, "agent_type", true, 100);
      c.String(d, p, "phase_id", false, kId);
      c.Integer(d, p, "max_retries", false, 0, 100);
      if (const json::object* in = c.Object(d, p, "input", false)) {
        std::string ip = Checker::Join(p, "input");
        c.Only(*in, ip, {"entity_id", "entity_type", "parameters"});
        c.String(*in, ip, "entity_id", false, kStr, 0);
        c.String(*in, ip, "entity_type", false, 100, 0);
        c.Object(*in, ip, "parameters", false);
      }
      return;
    }
    case EventType::kToolStarted:
      c.Only(d, p, {"tool_execution_id"});
      c.String(d, p, "tool_execution_id", true, kId);
      return;
    case EventType::kToolComplete:
      c.Only(d, p, {"tool_execution_id", "result", "execution_time_ms"});
      c.String(d, p, "tool_execution_id", true, kId);
      c.Integer(d, p, "execution_time_ms", false, 0, int64_t{1} << 40);
      if (const json::object* r = c.Object(d, p, "result", false)) {
        std::string rp = Checker::Join(p, "result");
        c.Only(*r, rp, {"success", "risk_score", "findings", "metadata"});
        c.Bool(*r, rp, "success", false);
        c.Number(*r, rp, "risk_score", false, 0, 1);
        if (const json::array* findings = c.Array(*r, rp, "findings", false, 10'000)) {
          // Objects, or strings that NormalizeFindings makes into objects.
          for (size_t i = 0; i < findings->size() && c.ok(); ++i) {
            const json::value& f = (*findings)[i];
            if (f.is_object() || f.is_string()) continue;
            std::string fp = Checker::Index(Checker::Join(rp, "findings"), i);
            c.Reject(fp, "'" + fp + "' must be an object or a string");
          }
        }
        c.Object(*r, rp, "metadata", false);
      }
      return;
    case EventType::kToolError:
      c.Only(d, p, {"tool_execution_id", "error", "will_retry", "execution_time_ms"});
      c.String(d, p, "tool_execution_id", true, kId);
      c.Bool(d, p, "will_retry", false);
      c.Integer(d, p, "execution_time_ms", false, 0, int64_t{1} << 40);
      if (const json::object* e = c.Object(d, p, "error", true)) {
        std::string ep = Checker::Join(p, "error");
        c.Only(*e, ep, {"code", "message", "details"});
        c.String(*e, ep, "code", true, 100);
        c.String(*e, ep, "message", true, kStr);
      }
      return;
    case EventType::kToolSkipped:
      c.Only(d, p, {"tool_execution_id", "reason"});
      c.String(d, p, "tool_execution_id", true, kId);
      c.String(d, p, "reason", false, kStr, 0);
      return;
    case EventType::kRiskUpdated:
      c.Only(d, p, {"overall", "by_agent", "confidence"});
      c.Number(d, p, "overall", true, 0, 1);
      c.Number(d, p, "confidence", false, 0, 1);
      if (const json::object* by = c.Object(d, p, "by_agent", false)) {
        std::string bp = Checker::Join(p, "by_agent");
        for (const auto& kv : *by) c.Number(*by, bp, kv.key(), true, 0, 1);
      }
      return;
    case EventType::kEntityDiscovered:
      c.Only(d, p, {"entity"});
      if (const json::object* e = c.Object(d, p, "entity", true)) {
        std::string ep = Checker::Join(p, "entity");
        c.Only(*e, ep, {"id", "type", "value", "label", "metadata"});
        c.String(*e, ep, "id", false, kId);
        c.String(*e, ep, "type", true, 100);
        c.String(*e, ep, "value", true, kStr);
        c.String(*e, ep, "label", false, kStr, 0);
        c.Object(*e, ep, "metadata", false);
      }
      return;
    case EventType::kRelationshipDiscovered:
      c.Only(d, p, {"relationship"});
      if (const json::object* r = c.Object(d, p, "relationship", true)) {
        std::string rp = Checker::Join(p, "relationship");
        c.Only(*r, rp,
               {"id", "source_entity_id", "target_entity_id", "relationship_type", "confidence",
                "metadata"});
        c.String(*r, rp, "id", false, kId);
        c.String(*r, rp, "source_entity_id", true, kStr);
        c.String(*r, rp, "target_entity_id", true, kStr);
        c.String(*r, rp, "relationship_type", true, 100);
        c.Number(*r, rp, "confidence", false, 0, 1);
        c.Object(*r, rp, "metadata", false);
      }
      return;
    case EventType::kErrorLogged:
      c.Only(d, p, {"error"});
      if (const json::object* e = c.Object(d, p, "error", true)) {
        std::string ep = Checker::Join(p, "error");
        c.Only(*e, ep, {"code", "message", "severity", "context"});
        c.String(*e, ep, "code", true, 100);
        c.String(*e, ep, "message", true, kStr);
        c.OneOf(*e, ep, "severity", true, kSeverities);
        c.Object(*e, ep, "context", false);
      }
      return;
  }
}

// What a valid event's data is stored as, where the wire has one form for what may be reported
// in two: findings given as strings become objects.
void NormalizeData(EventType type, json::object& d) {
  if (type != EventType::kToolComplete) return;
  auto result = d.find("result");
  if (result == d.end() || !result->value().is_object()) return;
  json::object& r = result->value().get_object();
  if (auto f = r.find("findings"); f != r.end() && f->value().is_array()) {
    NormalizeFindings(f->value().get_array());
  }
}

}  // namespace

Result<json::value> ParseJsonBody(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return json::object();
  return ParseStrictJson(body);
}

Result<json::object> ParseCreateRequest(const json::value& body, const InputLimits& limits) {
  Checker c;
  const json::object* o = c.AsObject(body, "");
  if (!o) return Fail(c.error());
  c.Only(*o, "", {"name", "entities", "plan", "settings", "runner"});
  json::object out;
  out["name"] = c.String(*o, "", "name", true, limits.max_name_length);

  json::array entities;
  std::set<std::string> entity_ids;
  if (const json::array* list = c.Array(*o, "", "entities", false, limits.max_entities)) {
    for (size_t i = 0; i < list->size() && c.ok(); ++i) {
      std::string p = Checker::Index("entities", i);
      const json::object* e = c.AsObject((*list)[i], p);
      if (!e) break;
      c.Only(*e, p, {"type", "value", "label", "metadata"});
      std::string type = c.String(*e, p, "type", true, 100);
      std::string value = c.String(*e, p, "value", true, limits.max_string_length);
      std::string label = c.String(*e, p, "label", false, limits.max_string_length, 0);
      const json::object* metadata = c.Object(*e, p, "metadata", false);
      std::string id = type + ":" + value;
      if (c.ok() && !entity_ids.insert(id).second) c.Reject(p, "entity " + id + " is listed twice");
      entities.push_back(json::object{{"id", id},
                                      {"type", type},
                                      {"value", value},
                                      {"label", label.empty() ? type + ": " + value : label},
                                      {"metadata", metadata ? *metadata : json::object()}});
    }
  }
  out["entities"] = std::move(entities);

  json::array phases;
  if (const json::object* plan = c.Object(*o, "", "plan", false)) {
    c.Only(*plan, "plan", {"phases"});
    std::set<std::string> phase_ids, tool_names;
    size_t slots = 0;
    if (const json::array* list = c.Array(*plan, "plan", "phases", false, limits.max_phases)) {
      for (size_t i = 0; i < list->size() && c.ok(); ++i) {
        std::string p = Checker::Index("plan.phases", i);
        const json::object* ph = c.AsObject((*list)[i], p);
        if (!ph) break;
        c.Only(*ph, p, {"id", "name", "estimated_duration_ms", "tools"});
        std::string name = c.String(*ph, p, "name", true, 100);
        std::string id = c.String(*ph, p, "id", false, 100);
        if (id.empty()) id = name;
        if (c.ok() && !phase_ids.insert(id).second) {
          c.Reject(Checker::Join(p, "id"), "phase id '" + id + "' is used twice");
        }
        auto estimate = c.Integer(*ph, p, "estimated_duration_ms", false, 0, int64_t{1} << 40);
        json::array tools;
        if (const json::array* tl = c.Array(*ph, p, "tools", false, limits.max_planned_tools)) {
          for (size_t j = 0; j < tl->size() && c.ok(); ++j) {
            std::string tp = Checker::Index(Checker::Join(p, "tools"), j);
            const json::object* t = c.AsObject((*tl)[j], tp);
            if (!t) break;
            c.Only(*t, tp, {"tool_name", "agent_type"});
            std::string tool = c.String(*t, tp, "tool_name", true, 100);
            std::string agent = c.String(*t, tp, "agent_type", true, 100);
            tool_names.insert(tool);
            if (c.ok() && tool_names.size() > limits.max_selected_tools) {
              c.Reject(tp, "a plan may select at most " +
                               std::to_string(limits.max_selected_tools) + " distinct tools");
            }
            if (c.ok() && ++slots > limits.max_planned_tools) {
              c.Reject(tp, "a plan may have at most " + std::to_string(limits.max_planned_tools) +
                               " planned tools");
            }
            tools.push_back(json::object{{"tool_name", tool}, {"agent_type", agent}});
          }
        }
        phases.push_back(json::object{{"id", id},
                                      {"name", name},
                                      {"order", static_cast<int64_t>(i)},
                                      {"estimated_duration_ms", estimate.value_or(0)},
                                      {"tools", std::move(tools)}});
      }
    }
  }
  out["plan"] = json::object{{"phases", std::move(phases)}};

  if (const json::object* settings = c.Object(*o, "", "settings", false)) {
    if (c.ok() && ToJsonText(*settings).size() > limits.max_settings_bytes) {
      c.Reject("settings", "'settings' may be at most " +
                               std::to_string(limits.max_settings_bytes / 1024) + " KB");
    }
    out["settings"] = *settings;
  } else {
    out["settings"] = json::object();
  }
  constexpr std::string_view kRunners[] = {"simulated"};
  std::string runner = c.OneOf(*o, "", "runner", false, kRunners);
  out["runner"] = runner.empty() ? json::value(nullptr) : json::value(runner);
  if (!c.ok()) return Fail(c.error());
  return out;
}

Result<std::vector<EventInput>> ParseEventBatch(const json::value& body,
                                                const InputLimits& limits) {
  Checker c;
  const json::object* o = c.AsObject(body, "");
  if (!o) return Fail(c.error());
  c.Only(*o, "", {"events"});
  const json::array* list = c.Array(*o, "", "events", true, limits.max_batch_events);
  if (!c.ok()) return Fail(c.error());
  if (list->empty()) return Fail(ErrorCode::kInvalidArgument, "'events' is empty", "events");

  std::vector<std::string_view> types;
  for (EventType t : ReportableEventTypes()) types.push_back(EventTypeName(t));
  std::vector<EventInput> out;
  out.reserve(list->size());
  for (size_t i = 0; i < list->size() && c.ok(); ++i) {
    std::string p = Checker::Index("events", i);
    const json::object* e = c.AsObject((*list)[i], p);
    if (!e) break;
    c.Only(*e, p, {"event_type", "key", "actor", "data"});
    std::string type_name = c.OneOf(*e, p, "event_type", true, types);
    EventInput in;
    in.key = c.String(*e, p, "key", false, 200);
    in.actor = c.String(*e, p, "actor", false, 128);
    const json::object* data = c.Object(*e, p, "data", true);
    if (!c.ok()) break;
    in.type = *ParseEventType(type_name);
    CheckEventData(c, in.type, *data, Checker::Join(p, "data"), limits);
    if (c.ok() && ToJsonText(*data).size() > limits.max_result_bytes) {
      c.Reject(Checker::Join(p, "data"), "an event's data may be at most " +
                                             std::to_string(limits.max_result_bytes / 1024) +
                                             " KB");
    }
    in.data = *data;
    if (c.ok()) NormalizeData(in.type, in.data);
    out.push_back(std::move(in));
  }
  if (!c.ok()) return Fail(c.error());
  return out;
}

Result<TransitionInput> ParseTransition(const json::value& body, std::optional<State> implied) {
  Checker c;
  const json::object* o = c.AsObject(body, "");
  if (!o) return Fail(c.error());
  c.Only(*o, "", {"to", "reason"});
  std::vector<std::string_view> states;
  for (State s : kAllStates) states.push_back(StateName(s));
  std::string to = c.OneOf(*o, "", "to", !implied, states);
  TransitionInput out;
  if (implied) {
    out.to = *implied;
    if (c.ok() && !to.empty() && to != StateName(*implied)) {
      c.Reject("to", "this action moves to '" + std::string(StateName(*implied)) +
                         "'; 'to' may only repeat that");
    }
  } else if (c.ok()) {
    out.to = *ParseState(to);
  }
  out.reason = c.String(*o, "", "reason", false, 1024, 0);
  if (!c.ok()) return Fail(c.error());
  return out;
}

}  // namespace vigil::core
