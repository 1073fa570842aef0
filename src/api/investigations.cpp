// /api/v1/investigations: create, list, read, and move through the lifecycle.
#include <charconv>

#include "api/api.hpp"
#include "api/handler_util.hpp"
#include "api/preconditions.hpp"
#include "base/clock.hpp"
#include "base/json_text.hpp"
#include "core/lifecycle.hpp"
#include "http/conditional.hpp"

namespace vigil::api {

namespace json = boost::json;
using http::Request;
using http::Responder;

namespace {

void Create(const ApiContext& ctx, const Request& req, Responder respond) {
  if (auto ok = RequireWriter(req); !ok) return RespondError(req, respond, ok.error());
  auto body = JsonBody(req);
  if (!body) return RespondError(req, respond, body.error());
  auto data = core::ParseCreateRequest(*body, ctx.options.limits);
  if (!data) return RespondError(req, respond, data.error());
  ctx.engine.Create(req.principal, std::move(*data),
                    [&req, respond](Result<engine::SnapshotPtr> r) {
                      if (!r) return RespondError(req, respond, r.error());
                      http::Response res = Json(201, (*r)->investigation_json());
                      res.Set("Location", "/api/v1/investigations/" + (*r)->id());
                      res.Set("ETag", (*r)->etag());
                      respond(std::move(res));
                    });
}

// "1730668800000:inv_..." — the position of the last item of a page, newest first.
std::string ListCursor(const store::InvestigationRow& row) {
  return std::to_string(row.created_at_ms) + ":" + row.id;
}

std::optional<std::pair<int64_t, std::string>> ParseListCursor(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size())
    return std::nullopt;
  int64_t ms = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + colon, ms);
  if (ec != std::errc() || end != text.data() + colon) return std::nullopt;
  return std::make_pair(ms, std::string(text.substr(colon + 1)));
}

json::object RowToJson(const store::InvestigationRow& row) {
  return json::object{
      {"investigation_id", row.id},
      {"owner", row.owner},
      {"name", row.name},
      {"state", core::StateName(row.state)},
      {"status", core::ProgressStatus(row.state)},
      {"lifecycle_stage", core::LifecycleStage(row.state)},
      {"run_id", row.run_id},
      {"version", row.version},
      {"completion_percent", row.completion_percent},
      {"last_event_id", row.last_event_id.IsZero()
                            ? json::value(nullptr)
                            : json::value(core::FormatEventId(row.last_event_id))},
      {"created_at", FormatIsoMs(row.created_at_ms)},
      {"updated_at", FormatIsoMs(row.updated_at_ms)},
  };
}

void List(const ApiContext& ctx, const Request& req, Responder respond) {
  store::InvestigationQuery query;
  if (!req.principal.is_admin) {
    query.owner = req.principal.subject;
  } else if (auto owner = req.Query("owner")) {
    query.owner = std::string(*owner);
  }
  if (auto status = req.Query("status")) {
    // A comma-separated list of values from either vocabulary: "running,paused" or "queued".
    std::string_view rest = *status;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      std::vector<core::State> states = core::StatesWithProgressStatus(item);
      if (auto s = core::ParseState(item)) states.push_back(*s);
      if (states.empty()) {
        return RespondError(
            req, respond,
            Error(ErrorCode::kInvalidArgument,
                  "unknown status '" + std::string(item) +
                      "'; use pending, initializing, running, paused, completed, failed, "
                      "cancelled, or a state (created, queued, completing, retrying)",
                  "status"));
      }
      query.states.insert(query.states.end(), states.begin(), states.end());
    }
  }
  auto limit = LimitParam(req, ctx.options.list_default_limit, ctx.options.list_max_limit);
  if (!limit) return RespondError(req, respond, limit.error());
  query.limit = *limit + 1;
  if (auto cursor = req.Query("cursor")) {
    query.after = ParseListCursor(*cursor);
    if (!query.after) {
      return RespondError(req, respond,
                          Error(ErrorCode::kInvalidArgument, "malformed cursor", "cursor"));
    }
  }
  ctx.engine.List(
      query, [&req, respond, limit = *limit](Result<std::vector<store::InvestigationRow>> rows) {
        if (!rows) return RespondError(req, respond, rows.error());
        bool has_more = rows->size() > limit;
        if (has_more) rows->resize(limit);
        json::array items;
        for (const auto& row : *rows) items.push_back(RowToJson(row));
        json::object body{{"items", std::move(items)},
                          {"next_cursor",
                           has_more ? json::value(ListCursor(rows->back())) : json::value(nullptr)},
                          {"has_more", has_more}};
        respond(Json(200, ToJsonText(body)));
      });
}

void Read(const ApiContext& ctx, const Request& req, Responder respond) {
  ctx.engine.Get(req.principal, req.path_params[0], [&req, respond](Result<engine::SnapshotPtr> r) {
    if (!r) return RespondError(req, respond, r.error());
    // The investigation's body changes exactly when its version does, as /progress's does.
    std::string_view inm = req.Header("if-none-match");
    http::Response res;
    if (!inm.empty() && http::IfNoneMatchMatches(inm, (*r)->etag())) {
      res.status = 304;
    } else {
      res = Json(200, (*r)->investigation_json());
    }
    res.Set("ETag", (*r)->etag());
    res.Set("Cache-Control", "private, no-cache");
    respond(std::move(res));
  });
}

void Transition(const ApiContext& ctx, const Request& req, Responder respond,
                std::optional<core::State> implied) {
  if (auto ok = RequireWriter(req); !ok) return RespondError(req, respond, ok.error());
  auto body = JsonBody(req);
  if (!body) return RespondError(req, respond, body.error());
  auto input = core::ParseTransition(*body, implied);
  if (!input) return RespondError(req, respond, input.error());
  WithIfMatch(ctx, req, respond,
              [&ctx, &req, respond, input = std::move(*input)](std::optional<int64_t> expected) {
                ctx.engine.Execute(
                    req.principal, req.path_params[0], core::TransitionCommand{input}, expected,
                    [&req, respond](Result<engine::CommandOutcome> r) {
                      if (!r) return RespondError(req, respond, WriteError(req, r.error()));
                      http::Response res = Json(200, r->snapshot->investigation_json());
                      res.Set("ETag", r->snapshot->etag());
                      respond(std::move(res));
                    });
              });
}

}  // namespace

void RegisterInvestigationRoutes(http::Router& router, const ApiContext& ctx) {
  using http::Method;
  const std::string base = "/api/v1/investigations";
  router.Add(Method::kPost, base, [&ctx](const Request& q, Responder r) { Create(ctx, q, r); });
  router.Add(Method::kGet, base, [&ctx](const Request& q, Responder r) { List(ctx, q, r); });
  router.Add(Method::kGet, base + "/{id}",
             [&ctx](const Request& q, Responder r) { Read(ctx, q, r); },
             {.budget = http::Budget::kRead, .conditional = true});
  router.Add(Method::kPost, base + "/{id}/transitions",
             [&ctx](const Request& q, Responder r) { Transition(ctx, q, r, std::nullopt); },
             {.budget = http::Budget::kReport});
  const std::pair<const char*, core::State> shorthands[] = {
      {"start", core::State::kQueued},   {"pause", core::State::kPaused},
      {"resume", core::State::kRunning}, {"cancel", core::State::kCancelled},
      {"retry", core::State::kRetrying},
  };
  for (const auto& [verb, state] : shorthands) {
    router.Add(
        Method::kPost, base + "/{id}/" + verb,
        [&ctx, state = state](const Request& q, Responder r) { Transition(ctx, q, r, state); },
        {.budget = http::Budget::kReport});
  }
}

}  // namespace vigil::api
