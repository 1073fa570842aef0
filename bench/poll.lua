-- wrk script: GET with a bearer token (TOKEN) and, when INM is set, If-None-Match.
-- Prints one "SUMMARY {json}" line at the end (latencies in microseconds).
local inm = os.getenv("INM")
local token = os.getenv("TOKEN")
local label = os.getenv("LABEL") or ""

wrk.method = "GET"
wrk.headers["Accept"] = "application/json"
if token ~= nil and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
if inm ~= nil and inm ~= "" then wrk.headers["If-None-Match"] = inm end

statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'SUMMARY {"label":"%s","requests":%d,"rps":%.1f,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"errors":%d,"non2xx3xx":%d}\n',
    label, summary.requests, summary.requests / secs, latency:percentile(50),
    latency:percentile(99), latency.max, e.connect + e.read + e.write + e.timeout, e.status))
end
