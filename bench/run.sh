#!/usr/bin/env bash
# End-to-end benchmarks of vigil, side by side with the peers in ../shared/peers (nginx serving a
# static JSON file with its ETag, and a minimal epoll "ceiling" server), in one run on this machine.
#
#   bench/run.sh [--duration 10] [--quick]
#
# Every server is pinned to CPU 0 and runs alone; wrk is pinned to CPU 1. Traffic goes to
# 127.0.0.1 only; every load runs for a bounded time. Writes raw lines and a markdown table to
# bench/results/<stamp>/ and prints the table.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS_SRC="$ROOT/../shared/peers"
DUR=10
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DUR="$2"; shift 2;;
    --quick) DUR=3; shift;;
    *) echo "unknown argument: $1" >&2; exit 2;;
  esac
done
[ "$DUR" -le 30 ] || { echo "--duration is at most 30 s" >&2; exit 2; }

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
taskset -c 0 "$VIGIL" serve --listen "127.0.0.1:$VPORT" --db "$OUT/bench.db" --threads 1 \
  --log-level warn > "$OUT/vigil.log" 2>&1 &
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
wrk_run "vigil 304 c64" poll.lua "$PROGRESS" 64 TOKEN="$TOKEN" INM="$VETAG"
wrk_run "vigil 304 c256" poll.lua "$PROGRESS" 256 TOKEN="$TOKEN" INM="$VETAG"
wrk_run "vigil 200 progress (30 tools) c64" poll.lua "$PROGRESS" 64 TOKEN="$TOKEN"
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
VRSS=$(awk '/VmRSS/{print $2}' "/proc/$VPID/status")
kill "$VPID"; wait "$VPID" 2>/dev/null || true

# ---------------------------------------------------------------------------------------------
# nginx (static file with ETag), one worker on CPU 0
"$PEERS/nginx/start.sh" --port "$NPORT" --workers 1 --cpus 0 > "$OUT/nginx.log" 2>&1 &
NPID=$!; PIDS+=("$NPID")
wait_port "$NPORT"
NURL="http://127.0.0.1:$NPORT/api/v1/investigations/inv-7f3c2a91/progress"
NETAG=$(etag_of "$NURL")
wrk_run "nginx 304 c64" poll.lua "$NURL" 64 TOKEN="$TOKEN" INM="$NETAG"
wrk_run "nginx 304 c256" poll.lua "$NURL" 256 TOKEN="$TOKEN" INM="$NETAG"
wrk_run "nginx 200 c64" poll.lua "$NURL" 64 TOKEN="$TOKEN"
kill -QUIT "$NPID"; wait "$NPID" 2>/dev/null || true

# the ceiling: a minimal single-threaded epoll server, one write per answer
taskset -c 0 "$PEERS/run/bin/ceiling-server" --port "$CPORT" --json "$PEERS/nginx/www/progress.json" \
  > "$OUT/ceiling.log" 2>&1 &
CPID=$!; PIDS+=("$CPID")
wait_port "$CPORT"
CURL_="http://127.0.0.1:$CPORT/api/v1/investigations/inv-7f3c2a91/progress"
CETAG=$(etag_of "$CURL_")
wrk_run "ceiling 304 c64" poll.lua "$CURL_" 64 TOKEN="$TOKEN" INM="$CETAG"
wrk_run "ceiling 304 c256" poll.lua "$CURL_" 256 TOKEN="$TOKEN" INM="$CETAG"
wrk_run "ceiling 200 c64" poll.lua "$CURL_" 64 TOKEN="$TOKEN"
kill "$CPID"; wait "$CPID" 2>/dev/null || true

# ---------------------------------------------------------------------------------------------
{
  echo "# vigil benchmarks, $STAMP"
  echo
  echo "$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')); servers on CPU 0 alone, wrk -t1 on CPU 1, ${DUR} s per row, 127.0.0.1."
  echo
  echo "| workload | requests/s | events/s | p50 ms | p99 ms | max ms | errors |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  while IFS= read -r line; do
    label=$(echo "$line" | sed -E 's/.*"label":"([^"]*)".*/\1/')
    num() { echo "$line" | grep -o "\"$1\":[0-9.]*" | cut -d: -f2 || true; }
    ev=$(num events_per_s); [ -z "$ev" ] && ev="—" || ev=$(printf '%.0f' "$ev")
    printf '| %s | %.0f | %s | %.2f | %.2f | %.1f | %s |\n' "$label" "$(num rps)" "$ev" \
      "$(echo "$(num p50_us)/1000" | bc -l)" "$(echo "$(num p99_us)/1000" | bc -l)" \
      "$(echo "$(num max_us)/1000" | bc -l)" "$(( $(num errors) + $(num non2xx3xx) ))"
  done < "$OUT/summary.jsonl"
  echo
  echo "- paging the 10,000-event log with limit=1000: $pages requests, ${PAGING_MS} ms in all (curl, one connection per request)"
  echo "- /progress body of the 30-tool investigation: $PROGRESS_BYTES bytes; nginx's static file: $(wc -c < "$PEERS/nginx/www/progress.json") bytes"
  echo "- vigil RSS after the run: $((VRSS / 1024)) MiB"
} | tee "$OUT/table.md"
