// /events: producers report batches (POST); watchers page the log with a cursor (GET).
#include <charconv>

#include "api/api.hpp"
#include "api/handler_util.hpp"
#include "api/preconditions.hpp"
#include "base/json_text.hpp"
#include "core/cursor.hpp"
#include "core/etag.hpp"
#include "http/conditional.hpp"

namespace vigil::api {

namespace json = boost::json;
using http::Request;
using http::Responder;

namespace {

void Report(const ApiContext& ctx, const Request& req, Responder respond) {
  if (auto ok = RequireWriter(req); !ok) return RespondError(req, respond, ok.error());
  auto body = JsonBody(req);
  if (!body) return RespondError(req, respond, body.error());
  auto events = core::ParseEventBatch(*body, ctx.options.limits);
  if (!events) return RespondError(req, respond, events.error());
  WithIfMatch(
      ctx, req, respond,
      [&ctx, &req, respond, events = std::move(*events)](std::optional<int64_t> expected) mutable {
        ctx.engine.Execute(
            req.principal, req.path_params[0], core::ReportCommand{std::move(events)}, expected,
            [&req, respond](Result<engine::CommandOutcome> r) {
              if (!r) return RespondError(req, respond, WriteError(req, r.error()));
              json::array items;
              size_t duplicates = 0;
              for (const auto& item : r->items) {
                duplicates += item.duplicate;
                items.push_back(json::object{{"index", item.index},
                                             {"event_id", core::FormatEventId(item.event_id)},
                                             {"duplicate", item.duplicate}});
              }
              const core::Investigation& inv = r->snapshot->investigation();
              json::object out{{"investigation_id", inv.id},
                               {"version", inv.version},
                               {"last_event_id", core::FormatEventId(inv.last_event_id)},
                               {"appended", r->items.size() - duplicates},
                               {"duplicates", duplicates},
                               {"events", std::move(items)}};
              http::Response res = Json(200, ToJsonText(out));
              res.Set("ETag", r->snapshot->etag());
              respond(std::move(res));
            });
      });
}

struct FeedQuery {
  core::EventId after;
  size_t limit = 100;
  std::vector<core::EventType> types;
  std::string types_text;
};

Result<FeedQuery> ParseFeedQuery(const ApiContext& ctx, const Request& req) {
  FeedQuery q;
  if (auto since = req.Query("since"); since && !since->empty()) {
    auto id = core::ParseEventId(*since);
    if (!id) {
      return Fail(ErrorCode::kInvalidArgument,
                  "malformed cursor '" + std::string(*since) +
                      "'; expected {timestamp_ms}_{sequence:06d}, e.g. 1730668800000_000127",
                  "since");
    }
    q.after = *id;  // "0_000000" (zero) is the start of the log, like no `since`
  }
  auto limit =
      LimitParam(req, ctx.options.event_feed_default_limit, ctx.options.event_feed_max_limit);
  if (!limit) return Fail(limit.error());
  q.limit = *limit;
  if (auto types = req.Query("event_type"); types && !types->empty()) {
    q.types_text = *types;
    std::string_view rest = *types;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view name = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      auto type = core::ParseEventType(name);
      if (!type) {
        std::string allowed;
        for (core::EventType t : core::AllEventTypes()) {
          allowed += (allowed.empty() ? "" : ", ") + std::string(core::EventTypeName(t));
        }
        return Fail(ErrorCode::kInvalidArgument,
                    "unknown event_type '" + std::string(name) + "'; allowed: " + allowed,
                    "event_type");
      }
      q.types.push_back(*type);
    }
  }
  return q;
}

// Covers the query and the log's head: a page can only change when the investigation's version
// does, so the same tag is right for every page a client holds.
std::string FeedETag(const engine::Snapshot& s, const FeedQuery& q) {
  core::TagHasher h;
  h.Add(s.etag()).Add(core::FormatEventId(q.after)).Add(q.limit).Add(q.types_text);
  return core::StrongETag(h.Hash32(), {.prefix = "e", .version = s.version()});
}

// The body of an /events page around the items' stored wire forms.
template <typename Headers>
http::Response FeedPage(const std::vector<engine::SharedEventPtr>& events, bool has_more,
                        std::optional<int> interval, const std::string& etag,
                        const Headers& headers) {
  std::string body;
  size_t size = 256;
  for (const auto& e : events) size += e->wire().size() + 1;
  body.reserve(size);
  JsonWriter w(body);
  w.BeginObject().Key("items").BeginArray();
  for (const auto& e : events) w.Raw(e->wire());
  w.EndArray();
  w.Key("next_cursor");
  events.empty() ? w.Null() : w.String(core::FormatEventId(events.back()->id()));
  w.Key("has_more").Bool(has_more);
  w.Key("poll_after_seconds");
  interval ? w.Int((*interval + 999) / 1000) : w.Null();
  w.Key("etag").String(etag);
  w.EndObject();
  http::Response res = http::JsonResponse(200, std::move(body));
  headers(res);
  return res;
}

// The page `q` of the log of `snapshot`'s investigation, or a 304.
void Page(const ApiContext& ctx, const Request& req, Responder respond,
          engine::SnapshotPtr snapshot, const FeedQuery& q) {
  std::string etag = FeedETag(*snapshot, q);
  auto interval = RecommendedIntervalMs(ctx.options, snapshot->state());
  auto headers = [etag, interval](http::Response& res) {
    res.Set("ETag", etag);
    res.Set("Cache-Control", "private, no-cache");
    if (interval) res.Set("X-Recommended-Interval", std::to_string(*interval));
  };
  std::string_view inm = req.Header("if-none-match");
  if (!inm.empty() && http::IfNoneMatchMatches(inm, etag)) {
    http::Response res;
    res.status = 304;
    headers(res);
    return respond(std::move(res));
  }
  ctx.engine.ReadLog(req.principal, {snapshot->id(), q.after, q.limit, q.types},
                     [respond, &req, headers, etag, interval](Result<engine::EventPage> page) {
                       if (!page) return RespondError(req, respond, page.error());
                       respond(FeedPage(page->events, page->more, interval, etag, headers));
                     });
}

void Feed(const ApiContext& ctx, const Request& req, Responder respond) {
  auto q = ParseFeedQuery(ctx, req);
  if (!q) return RespondError(req, respond, q.error());
  ctx.engine.Get(req.principal, req.path_params[0],
                 [&ctx, &req, respond, q = std::move(*q)](Result<engine::SnapshotPtr> r) mutable {
                   if (!r) return RespondError(req, respond, r.error());
                   const core::CursorExpiry expiry(
                       int64_t{ctx.options.event_feed_cursor_expiry_days} * 86'400'000);
                   const int64_t now = ctx.clock.NowMs();
                   if (!expiry.MustNameEvent(q.after, now)) return Page(ctx, req, respond, *r, q);
                   // An old cursor is usable if vigil handed it out: the id of an event of this
                   // log. Only such cursors take this read; the investigation was found visible
                   // above.
                   engine::SnapshotPtr snapshot = *r;
                   std::string id = snapshot->id();
                   ctx.engine.HasEvent(
                       req.principal, id, q.after,
                       [&ctx, &req, respond, snapshot = std::move(snapshot), q = std::move(q),
                        expiry, now](Result<bool> found) {
                         if (!found) return RespondError(req, respond, found.error());
                         if (auto usable = expiry.Check(q.after, *found, now, "since"); !usable) {
                           return RespondError(req, respond, usable.error());
                         }
                         Page(ctx, req, respond, snapshot, q);
                       });
                 });
}

}  // namespace

void RegisterEventRoutes(http::Router& router, const ApiContext& ctx) {
  router.Add(http::Method::kPost, "/api/v1/investigations/{id}/events",
             [&ctx](const Request& q, Responder r) { Report(ctx, q, r); },
             {.budget = http::Budget::kReport});
  router.Add(http::Method::kGet, "/api/v1/investigations/{id}/events",
             [&ctx](const Request& q, Responder r) { Feed(ctx, q, r); },
             {.budget = http::Budget::kRead, .conditional = true});
}

}  // namespace vigil::api
