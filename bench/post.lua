-- wrk script: POST a batch of BATCH events (risk_updated) to URL with a bearer token (TOKEN).
-- Every request is acknowledged only after the batch is durable (fsynced).
local token = os.getenv("TOKEN")
local batch = tonumber(os.getenv("BATCH") or "1")
local label = os.getenv("LABEL") or ""

local events = {}
for i = 1, batch do
  events[i] = '{"event_type":"risk_updated","data":{"overall":0.5,"confidence":0.5}}'
end
wrk.method = "POST"
wrk.body = '{"events":[' .. table.concat(events, ",") .. ']}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token

done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'SUMMARY {"label":"%s","requests":%d,"rps":%.1f,"events_per_s":%.1f,"p50_us":%d,' ..
    '"p99_us":%d,"max_us":%d,"errors":%d,"non2xx3xx":%d}\n',
    label, summary.requests, summary.requests / secs, summary.requests * batch / secs,
    latency:percentile(50), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.timeout, e.status))
end
