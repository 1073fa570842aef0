#!/usr/bin/env bash
# End-to-end benchmarks of vigil, side by side with the peers in ../shared/peers (nginx serving a
# static JSON file with its ETag, and a minimal epoll "ceiling" server), in one run on this machine.
#
#   bench/run.sh [--duration 5] [--rounds 3] [--quick]
#
# Every server is pinned to CPU 0, wrk to CPU 1; only one server is under load at a time. The
# machine is shared and noisy, so the polling workloads that compare vigil with its peers run in
# interleaved rounds (vigil, nginx, ceiling, vigil, ...) and the table gives each one's median.
# Traffic goes to 127.0.0.1 only; every load runs for a bounded time. Writes raw lines and a
# markdown table to bench/results/<stamp>/ and prints the table.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS_SRC="$ROOT/../shared/peers"
DUR=5 ROUNDS=3
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DUR="$2"; shift 2;;
    --rounds) ROUNDS="$2"; shift 2;;
    --quick) DUR=2; ROUNDS=1; shift;;
    *) echo "unknown argument: $1" >&2; exit 2;;
  esac
done
[ "$DUR" -le 30 ] || { echo "--duration is at most 30 s" >&2; exit 2; }
[ "$ROUNDS" -ge 1 ] && [ "$ROUNDS" -le 9 ] || { echo "--rounds is 1 to 9" >&2; exit 2; }

STAMP="$(date +%Y%m%d-%H%M%S)"
OUT="$ROOT/bench/results/$STAMP"
mkdir -p "$OUT"
RAW="$OUT/raw.txt"
VIGIL="$ROOT/build/vigil"
VPORT=18200 NPORT=18080 CPORT=18090
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# The peers' tree is read-only where it is shared; build and run it from a copy.
cp -r "$PEERS_SRC" "$OUT/peers"
PEERS="$OUT/peers"
"$PEERS/sse-fanout/build.sh" > /dev/null

wait_port() {  # wait (at most 10 s) until something answers on 127.0.0.1:$1
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0
    sleep 0.1
  done
  echo "nothing listens on $1" >&2
  return 1
}

# wrk_run LABEL SCRIPT URL CONNECTIONS [ENV=VALUE ...]
wrk_run() {
  local label="$1" script="$2" url="$3" conns="$4"; shift 4
  env LABEL="$label" "$@" taskset -c 1 timeout $((DUR + 20)) \
    wrk -t1 -c"$conns" -d"${DUR}s" --timeout 5s --latency -s "$ROOT/bench/$script" "$url" \
    | tee -a "$RAW" | grep '^SUMMARY' | sed 's/^SUMMARY //' >> "$OUT/summary.jsonl"
}

etag_of() { curl -s -D - -o /dev/null "$@" | awk -F': ' 'tolower($1)=="etag"{print $2}' | tr -d '\r'; }

# ---------------------------------------------------------------------------------------------
# vigil
export VIGIL_JWT_SECRET="bench-secret-0123456789abcdefghijklmnopqrstuv"
"$VIGIL" migrate --db "$OUT/bench.db" > /dev/null
RATE_LIMIT_ENABLED=false taskset -c 0 "$VIGIL" serve --listen "127.0.0.1:$VPORT" --db "$OUT/bench.db" --threads 1 \
  --web-root "$ROOT/web/dist" --log-level warn > "$OUT/vigil.log" 2>&1 &
VPID=$!; PIDS+=("$VPID")
wait_port "$VPORT"
TOKEN="$("$VIGIL" token --user bench --roles read,dev)"
API="http://127.0.0.1:$VPORT/api/v1"
H=(-H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json")

# A 30-tool investigation: three phases of ten planned tools, each queued, started and completed.
tools() { local p=$1; for i in $(seq 1 10); do printf '{"tool_name":"tool_%02d","agent_type":"agent_%d"}' $(( (p*10+i-1) % 20 + 1 )) "$p"; if [ "$i" -lt 10 ]; then printf ','; fi; done; }
PLAN="{\"phases\":[{\"name\":\"p0\",\"tools\":[$(tools 0)]},{\"name\":\"p1\",\"tools\":[$(tools 1)]},{\"name\":\"p2\",\"tools\":[$(tools 2)]}]}"
ID30=$(curl -s "${H[@]}" "$API/investigations" -d "{\"name\":\"thirty tools\",\"entities\":[{\"type\":\"ip\",\"value\":\"203.0.113.7\"}],\"plan\":$PLAN}" | sed -E 's/.*"investigation_id":"([^"]+)".*/\1/')
curl -s -o /dev/null "${H[@]}" -X POST "$API/investigations/$ID30/start"
EV='{"event_type":"status_change","data":{"to":"initializing"}},{"event_type":"status_change","data":{"to":"running"}}'
for p in 0 1 2; do
  for i in $(seq 1 10); do
    n=$(( (p*10+i-1) % 20 + 1 )); t=$(printf 'tool_%02d' $n); x="x$p-$i"
    EV="$EV,{\"event_type\":\"tool_queued\",\"actor\":\"agent_${p}\",\"data\":{\"tool_execution_id\":\"$x\",\"tool_name\":\"$t\",\"agent_type\":\"agent_$p\",\"phase_id\":\"p$p\",\"input\":{\"entity_id\":\"ip:203.0.113.7\",\"entity_type\":\"ip\"}}}"
    EV="$EV,{\"event_type\":\"tool_started\",\"data\":{\"tool_execution_id\":\"$x\"}}"
    EV="$EV,{\"event_type\":\"tool_complete\",\"data\":{\"tool_execution_id\":\"$x\",\"result\":{\"risk_score\":0.42,\"findings\":[{\"finding\":\"listed\",\"severity\":\"medium\"}]}}}"
  done
done
curl -s -o /dev/null -w '' "${H[@]}" "$API/investigations/$ID30/events" -d "{\"events\":[$EV]}"

# A 10,000-event log.
BATCH=$(for i in $(seq 1 500); do printf '{"event_type":"risk_updated","data":{"overall":0.5}}'; if [ "$i" -lt 500 ]; then printf ','; fi; done)
ID10K=$(curl -s "${H[@]}" "$API/investigations" -d '{"name":"ten thousand events"}' | sed -E 's/.*"investigation_id":"([^"]+)".*/\1/')
for _ in $(seq 1 20); do
  curl -s -o /dev/null "${H[@]}" "$API/investigations/$ID10K/events" -d "{\"events\":[$BATCH]}"
done
MID=$(curl -s "${H[@]}" "$API/investigations/$ID10K/events?limit=1000" | grep -o '"next_cursor":"[^"]*"' | cut -d'"' -f4)

PROGRESS="$API/investigations/$ID30/progress"
VETAG=$(etag_of -H "Authorization: Bearer $TOKEN" "$PROGRESS")
wrk_run "vigil 200 events (100 of 10k) c64" poll.lua "$API/investigations/$ID10K/events?limit=100&since=$MID" 64 TOKEN="$TOKEN"
PROGRESS_BYTES=$(curl -s -H "Authorization: Bearer $TOKEN" "$PROGRESS" | wc -c)

# Appends: one event per request, and batches of 100; every answer waits for the fsync.
IDW=$(curl -s "${H[@]}" "$API/investigations" -d '{"name":"append target"}' | sed -E 's/.*"investigation_id":"([^"]+)".*/\1/')
wrk_run "vigil append 1/request c16" post.lua "$API/investigations/$IDW/events" 16 TOKEN="$TOKEN" BATCH=1
wrk_run "vigil append 100/request c16" post.lua "$API/investigations/$IDW/events" 16 TOKEN="$TOKEN" BATCH=100

# Paging the 10,000-event log with limit 1000.
t0=$(date +%s%N); cursor=""; pages=0
while :; do
  page=$(curl -s -H "Authorization: Bearer $TOKEN" "$API/investigations/$ID10K/events?limit=1000${cursor:+&since=$cursor}")
  pages=$((pages + 1))
  echo "$page" | grep -q '"has_more":true' || break
  cursor=$(echo "$page" | grep -o '"next_cursor":"[^"]*"' | cut -d'"' -f4)
done
t1=$(date +%s%N)
PAGING_MS=$(( (t1 - t0) / 1000000 ))

# ---------------------------------------------------------------------------------------------
# The peers, beside vigil: nginx (static file with ETag, one worker) and the ceiling (a minimal
# single-threaded epoll server, one write per answer), both on CPU 0.
"$PEERS/nginx/start.sh" --port "$NPORT" --workers 1 --cpus 0 > "$OUT/nginx.log" 2>&1 &
NPID=$!; PIDS+=("$NPID")
taskset -c 0 "$PEERS/run/bin/ceiling-server" --port "$CPORT" --json "$PEERS/nginx/www/progress.json" \
  > "$OUT/ceiling.log" 2>&1 &
CPID=$!; PIDS+=("$CPID")
wait_port "$NPORT"; wait_port "$CPORT"
NURL="http://127.0.0.1:$NPORT/api/v1/investigations/inv-7f3c2a91/progress"
# The UI's largest file, the same bytes from both (no Accept-Encoding: identity, as nginx sends it).
ASSET="$(cd "$ROOT/web/dist" && ls assets/index-*.js | head -1)"
cp "$ROOT/web/dist/$ASSET" "$PEERS/run/nginx/www/ui-asset.js"
VASSET="http://127.0.0.1:$VPORT/$ASSET"; NASSET="http://127.0.0.1:$NPORT/ui-asset.js"
ASSET_BYTES=$(wc -c < "$ROOT/web/dist/$ASSET")
CURL_="http://127.0.0.1:$CPORT/api/v1/investigations/inv-7f3c2a91/progress"
NETAG=$(etag_of "$NURL"); CETAG=$(etag_of "$CURL_")

for round in $(seq 1 "$ROUNDS"); do
  wrk_run "vigil 304 c64" poll.lua "$PROGRESS" 64 TOKEN="$TOKEN" INM="$VETAG"
  wrk_run "nginx 304 c64" poll.lua "$NURL" 64 TOKEN="$TOKEN" INM="$NETAG"
  wrk_run "ceiling 304 c64" poll.lua "$CURL_" 64 TOKEN="$TOKEN" INM="$CETAG"
  wrk_run "vigil 304 c256" poll.lua "$PROGRESS" 256 TOKEN="$TOKEN" INM="$VETAG"
  wrk_run "nginx 304 c256" poll.lua "$NURL" 256 TOKEN="$TOKEN" INM="$NETAG"
  wrk_run "ceiling 304 c256" poll.lua "$CURL_" 256 TOKEN="$TOKEN" INM="$CETAG"
  wrk_run "vigil 200 progress (30 tools) c64" poll.lua "$PROGRESS" 64 TOKEN="$TOKEN"
  wrk_run "nginx 200 c64" poll.lua "$NURL" 64 TOKEN="$TOKEN"
  wrk_run "ceiling 200 c64" poll.lua "$CURL_" 64 TOKEN="$TOKEN"
  wrk_run "vigil UI file c64" poll.lua "$VASSET" 64 TOKEN="$TOKEN"
  wrk_run "nginx UI file c64" poll.lua "$NASSET" 64 TOKEN="$TOKEN"
done
VRSS=$(awk '/VmRSS/{print $2}' "/proc/$VPID/status")

# ---------------------------------------------------------------------------------------------
{
  echo "# vigil benchmarks, $STAMP"
  echo
  echo "$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')); servers on CPU 0, one under load at a time; wrk -t1 on CPU 1; ${DUR} s per run; polling workloads in ${ROUNDS} interleaved rounds; 127.0.0.1."
  echo
  echo "| workload | runs | requests/s | events/s | p50 ms | p99 ms | errors |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  # One row per workload, in first-seen order; each figure is the median of its runs.
  awk '
    function num(line, key) {
      if (match(line, "\"" key "\":[0-9.]+")) return substr(line, RSTART + length(key) + 3, RLENGTH - length(key) - 3) + 0
      return -1
    }
    function median(list,   n, a, i, j, t) {
      n = split(list, a, " ")
      for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    {
      match($0, /"label":"[^"]*"/); label = substr($0, RSTART + 9, RLENGTH - 10)
      if (!(label in runs)) order[++count] = label
      runs[label]++
      rps[label] = rps[label] " " num($0, "rps")
      ev[label] = ev[label] " " num($0, "events_per_s")
      p50[label] = p50[label] " " num($0, "p50_us")
      p99[label] = p99[label] " " num($0, "p99_us")
      errs[label] += num($0, "errors") + num($0, "non2xx3xx")
    }
    END {
      for (i = 1; i <= count; i++) {
        l = order[i]; e = median(ev[l])
        es = (e < 0) ? "—" : sprintf("%.0f", e)
        printf "| %s | %d | %.0f | %s | %.2f | %.2f | %d |\n", l, runs[l], median(rps[l]), es, median(p50[l]) / 1000, median(p99[l]) / 1000, errs[l]
      }
    }' "$OUT/summary.jsonl"
  echo
  echo "- paging the 10,000-event log with limit=1000: $pages requests, ${PAGING_MS} ms in all (curl, one connection per request)"
  echo "- /progress body of the 30-tool investigation: $PROGRESS_BYTES bytes; nginx's static file: $(wc -c < "$PEERS/nginx/www/progress.json") bytes"
  echo "- UI file: the UI's largest asset, $ASSET_BYTES bytes, without compression, from vigil's memory and from nginx (sendfile)"
  echo "- vigil RSS after the run: $((VRSS / 1024)) MiB"
} | tee "$OUT/table.md"
