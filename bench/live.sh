#!/usr/bin/env bash
# Live-delivery (Server-Sent Events) benchmarks of vigil, side by side with nginx + nchan from
# ../shared/peers, in one run on this machine.
#
#   bench/live.sh [--quick] [--vigil PATH]
#   bench/live.sh --table bench/results/<stamp>     (only print the table of an earlier run again)
#
#   1. one investigation (one nchan channel), 1,000 subscribers, 20 events/s
#   2. the same with 10,000 subscribers
#   3. 1,000 investigations (nchan: channels) with 10 subscribers each
#   4. memory per idle stream: server RSS growth / open idle streams (10,000)
#   5. reconnect storm: 10,000 streams dropped at once (RST) while events keep flowing; all
#      reconnect with Last-Event-ID; time until all are back and caught up; loss, duplicates
#
# Cases 1 and 2 also run bench/fanout_floor.cpp: the same fan-out with bare sockets and no
# server at all, the lower bound of what any server can do on this machine.
#
# 1, 2 and 4 use the peers' sse-fanout; 3 and 5 use bench/live_driver.cpp (built here with g++),
# which sse-fanout cannot do (it publishes to one channel and does not reconnect). vigil's first
# frame on a fresh stream is a `snapshot` (no "seq" inside), counted as a foreign event; streams
# use ?progress=false so no coalesced progress frames (which would carry the error contexts) come.
#
# Every server is started fresh for each case (clean RSS deltas), pinned to CPU 0 (vigil with
# --threads 1, nginx with one worker); the load tools run on CPU 1. Traffic goes to 127.0.0.1
# only; every tool has its own runtime cap and runs under `timeout`; every process started here
# is stopped by its PID on exit. Writes live.md (the table) and live-raw.txt (one JSON line per
# run, and vigil's /metrics after each case) to bench/results/<stamp>/ and prints the table.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS_SRC="$ROOT/../shared/peers"
VIGIL="$ROOT/build/vigil"
QUICK=0 TABLE_ONLY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; shift;;
    --vigil) VIGIL="$2"; shift 2;;
    --table) TABLE_ONLY="$2"; shift 2;;
    *) echo "unknown argument: $1" >&2; exit 2;;
  esac
done
[ -x "$VIGIL" ] || { echo "no vigil binary at $VIGIL (build it, or pass --vigil PATH)" >&2; exit 2; }
VIGIL="$(cd "$(dirname "$VIGIL")" && pwd)/$(basename "$VIGIL")"

table() {  # DIR: the markdown table of the run in DIR
  local raw="$1/live-raw.txt"
  echo "# vigil live delivery (SSE) vs nginx + nchan, $(basename "$1")"
  echo
  sed -n 's/^PARAMS\t//p' "$raw"
  echo
  echo "$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')); each server fresh per case, pinned to CPU 0 (vigil --threads 1, nginx 1 worker); load tools on CPU 1; 127.0.0.1; one run per cell, so noisy on a shared machine."
  echo
  echo "| case | server | streams | events | delivered / expected | p50 ms | p99 ms | max ms | lost | dup | RSS/stream KB | server CPU | notes |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
  awk -F'\t' '
    function num(s, key,   r) {  # first "key":number in s
      if (match(s, "\"" key "\":-?[0-9.]+")) { r = substr(s, RSTART, RLENGTH); sub(/^"[^"]*":/, "", r); return r + 0 }
      return ""
    }
    function obj(s, key) {  # the first "key":{...} (flat) object in s
      if (match(s, "\"" key "\":\\{[^}]*\\}")) return substr(s, RSTART, RLENGTH)
      return ""
    }
    function ms(us) { return us == "" ? "—" : sprintf("%.1f", us / 1000) }
    $1 == "METRICS" { split($3, kv, " "); met[$2, kv[1]] = kv[2]; next }
    $1 == "RESULT" { order[++n] = $2 SUBSEP $3; line[$2, $3] = $4; next }
    $1 == "FLOOR" { order[++n] = $2 SUBSEP "floor"; line[$2, "floor"] = $3; next }
    END {
      title["1-one"] = "1. one investigation"
      title["2-one-10k"] = "2. one investigation, more streams"
      title["3-many"] = "3. many investigations"
      title["4-idle"] = "4. idle streams: memory"
      title["5-storm"] = "5. reconnect storm"
      for (i = 1; i <= n; i++) {
        split(order[i], p, SUBSEP); c = p[1]; srv = p[2]; s = line[c, srv]
        if (s ~ /"error"/) {
          printf "| %s | %s | — | — | — | — | — | — | — | — | — | — | %s |\n", title[c], srv, s
          continue
        }
        if (srv == "floor") {
          lat = obj(s, "latency_us"); pass = obj(s, "pass_ms")
          printf "| %s | bare sockets (the floor) | %s | %s | %s / %s | %s | %s | %s | %s | — | — | sender %.1f µs/send, reader %.1f µs/message | one write() per socket per round, no server; a round took %.1f ms (p50), %.1f ms (max); achieved %s rounds/s |\n", title[c],
            num(s, "subs"), num(s, "events"), num(s, "received"), num(s, "expected"),
            ms(num(lat, "p50")), ms(num(lat, "p99")), ms(num(lat, "max")), num(s, "expected") - num(s, "received"),
            num(s, "sender_us_per_send"), num(s, "reader_us_per_message"), num(pass, "p50"), num(pass, "max"), num(s, "achieved_rate")
          continue
        }
        lat = obj(s, "latency_us"); sched = obj(s, "latency_from_schedule_us")
        cpu = num(s, "cpu_s_publish"); pms = num(s, "publish_phase_ms"); recv = num(s, "deliveries_received")
        cpus = (pms > 0) ? sprintf("%.0f %%", 100 * cpu / (pms / 1000)) : "—"
        if (recv > 0) cpus = cpus sprintf(", %.1f µs/delivery", cpu * 1e6 / recv)
        rss = num(s, "rss_bytes_per_conn")  # the server one comes first
        notes = "achieved " num(s, "achieved_rate") " ev/s; from-schedule p99 " ms(num(sched, "p99")) " ms"
        notes = notes "; foreign " num(s, "foreign_events")
        if (num(s, "connect_failed") + num(s, "http_errors") > 0) notes = notes "; connect failed " num(s, "connect_failed") " (first status " num(s, "first_bad_status") ")"
        if (num(s, "disconnects_during_run") > 0) notes = notes "; disconnects " num(s, "disconnects_during_run")
        if (num(s, "out_of_order") > 0) notes = notes "; out of order " num(s, "out_of_order")
        if (num(s, "wrong_channel") > 0) notes = notes "; WRONG CHANNEL " num(s, "wrong_channel")
        if (num(s, "publish_errors") > 0) notes = notes "; publish errors " num(s, "publish_errors")
        if (match(s, /"event_types":\{[^}]*\}/)) { et = substr(s, RSTART + 14, RLENGTH - 14); gsub(/"/, "", et); notes = notes "; frames " et }
        st = obj(s, "storm")
        if (st != "") {
          if (match(s, /"catchup_ms":\{[^}]*\}/)) cu = substr(s, RSTART, RLENGTH); else cu = ""
          notes = notes "; **storm: dropped " num(st, "dropped") " after event " num(st, "after_message") ", all reconnected in " num(st, "reconnect_all_ms") " ms (failed " num(st, "reconnect_failed") "), caught up p50 " num(cu, "p50") " / max " num(cu, "max") " ms, not caught up " num(st, "not_caught_up") "**"
        }
        if (srv == "vigil" && met[c, "vigil_live_slow_subscribers_cut_total"] != "")
          notes = notes "; metrics: cut " met[c, "vigil_live_slow_subscribers_cut_total"] ", resets " met[c, "vigil_live_resets_total"] ", refused " met[c, "vigil_live_streams_refused_total"] ", replays " met[c, "vigil_live_replays_total"]
        streams = num(s, "connected")
        if (num(s, "channels") > 1) streams = streams " (" num(s, "channels") " × " num(s, "subs_per_channel") ")"
        printf "| %s | %s | %s | %s | %s / %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", title[c], srv,
          streams, num(s, "publish_ok"), recv, num(s, "deliveries_expected"),
          ms(num(lat, "p50")), ms(num(lat, "p99")), ms(num(lat, "max")), num(s, "lost"), num(s, "duplicates"),
          (rss == "" ? "—" : sprintf("%.1f", rss / 1024)), cpus, notes
      }
    }' "$raw"
  echo
  echo "- Latency: from the publisher's clock just before it writes the POST to the subscriber's read (CLOCK_REALTIME, same host). vigil answers a report after its fsync; nchan after its local fan-out. \"from-schedule\" also counts time a message waited on the publisher (coordinated omission)."
  echo "- RSS/stream: (server VmRSS with all streams connected − before) / streams, after a settle (3 s for case 4); for nginx master + worker. Kernel socket memory is not included."
  echo "- Server CPU: server CPU time during the publish phase / its wall time (100 % = one core), and per delivery."
  echo "- The floor: bench/fanout_floor.cpp on the same two CPUs (sender on CPU 0, reader on CPU 1) writes each round to every socket with plain blocking send() calls and reads them with epoll, with no server in between; latency from just before a round's first send to the read. No server that writes every event to every socket can beat its round time on this machine."
  echo "- foreign: frames without a seq (vigil: one snapshot per fresh stream, caught_up per resume; nchan: none)."
  echo "- Storm: every stream is dropped with RST at once; reconnects (at most 1024 in flight) carry Last-Event-ID (the id of the last frame received). Caught up = has every event whose publish had started when it got its 200 back."
  sed -n 's/^ELAPSED\t/- bench\/live.sh took /p' "$raw"
}


if [ -n "$TABLE_ONLY" ]; then table "$TABLE_ONLY"; exit 0; fi

# Counts: N subscribers, M events, R events/s. Scenario 3: T channels x K subscribers, M3 events
# per channel, R3 events/s in all. Scenario 5: storm S5 seconds into M5 events at 20/s.
if [ "$QUICK" = 1 ]; then
  N1=200 M1=20 N2=1000 M2=20 T3=50 K3=4 M3=3 R3=50 N4=1000 N5=1000 M5=60 S5=1.5
else
  N1=1000 M1=200 N2=10000 M2=200 T3=1000 K3=10 M3=5 R3=250 N4=10000 N5=10000 M5=300 S5=5
fi
RATE=20
MAXRT=120  # seconds, cap of each load tool run

STAMP="$(date +%Y%m%d-%H%M%S)"
OUT="$ROOT/bench/results/$STAMP"
mkdir -p "$OUT"
RAW="$OUT/live-raw.txt"
: > "$RAW"
printf 'PARAMS\t%s\n' "Counts: case 1 $N1 streams x $M1 events, case 2 $N2 x $M2, both at $RATE events/s; case 3 $T3 investigations (channels) x $K3 streams, $M3 events each, $R3 events/s in all; case 4 $N4 idle streams; case 5 $N5 streams, $M5 events at $RATE/s, all dropped ${S5} s in. vigil: $VIGIL (built $(stat -c %y "$VIGIL" | cut -d. -f1))." >> "$RAW"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
T_START=$SECONDS

SRV_PID="" SRV_KIND="" SRV_PIDS="" PORT=18300 NEXT_PORT=18300 LOAD_PID=""
stop_server() {
  if [ -n "$SRV_PID" ] && kill -0 "$SRV_PID" 2>/dev/null; then
    if [ "$SRV_KIND" = nginx ]; then kill -QUIT "$SRV_PID" 2>/dev/null || true
    else kill -TERM "$SRV_PID" 2>/dev/null || true; fi
    for _ in $(seq 100); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SRV_PID" 2>/dev/null || true
    wait "$SRV_PID" 2>/dev/null || true
  fi
  SRV_PID=""
}
cleanup() {
  if [ -n "$LOAD_PID" ]; then kill "$LOAD_PID" 2>/dev/null || true; fi
  stop_server
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The peers' tree is read-only where it is shared; build and run it from a copy.
cp -r "$PEERS_SRC" "$OUT/peers"
PEERS="$OUT/peers"
rm -rf "$PEERS/run/nginx"
"$PEERS/sse-fanout/build.sh" > /dev/null
FANOUT="$PEERS/run/bin/sse-fanout"
DRIVER="$OUT/live-driver"
g++ -O2 -std=c++17 -Wall -Wextra -pthread -o "$DRIVER" "$ROOT/bench/live_driver.cpp"
FLOOR="$OUT/fanout-floor"
g++ -O2 -std=c++17 -Wall -Wextra -o "$FLOOR" "$ROOT/bench/fanout_floor.cpp"

wait_http() {  # wait (at most 10 s) until URL answers
  for _ in $(seq 100); do
    curl -s -o /dev/null -m 1 "$1" && return 0
    sleep 0.1
  done
  echo "nothing answers at $1" >&2
  return 1
}

# Every server gets a port of its own, so no connection of an earlier case lingers on it.
export VIGIL_JWT_SECRET="bench-live-secret-0123456789abcdefghijklmnop"
start_vigil() {  # TAG
  stop_server
  PORT=$NEXT_PORT; NEXT_PORT=$((NEXT_PORT + 1))
  "$VIGIL" migrate --db "$OUT/vigil-$1.db" > /dev/null
  RATE_LIMIT_ENABLED=false LIVE_MAX_STREAMS=30000 LIVE_MAX_STREAMS_PER_USER=30000 taskset -c 0 "$VIGIL" serve \
    --listen "127.0.0.1:$PORT" --db "$OUT/vigil-$1.db" --threads 1 --log-level warn \
    > "$OUT/vigil-$1.log" 2>&1 &
  SRV_PID=$!; SRV_KIND=vigil; SRV_PIDS=$SRV_PID
  wait_http "http://127.0.0.1:$PORT/healthz"
  API="http://127.0.0.1:$PORT/api/v1"
}
start_nginx() {  # TAG
  stop_server
  PORT=$NEXT_PORT; NEXT_PORT=$((NEXT_PORT + 1))
  "$PEERS/nginx/start.sh" --name nginx --port "$PORT" --workers 1 --cpus 0 >> "$OUT/nginx-$1.log" 2>&1 &
  SRV_PID=$!; SRV_KIND=nginx
  wait_http "http://127.0.0.1:$PORT/progress.json"
  SRV_PIDS="$SRV_PID"
  for p in $(pgrep -P "$SRV_PID"); do SRV_PIDS="$SRV_PIDS,$p"; done   # master + worker
}

TOKEN="$("$VIGIL" token --user bench --roles read,dev --ttl 2h)"
ADMIN="$("$VIGIL" token --user bench-admin --roles read,dev,admin --ttl 2h)"
AUTH="Authorization: Bearer $TOKEN"
EVENT='{"event_type":"error_logged","actor":"bench","data":{"error":{"code":"bench","message":"m","severity":"warning","context":{"seq":{seq},"sent_us":{sent_us},"sched_us":{sched_us},"pad":"{pad}"}}}}'
VBODY="{\"events\":[$EVENT]}"
VSUB='/runs/current/stream?progress=false'
NEED_START=0

create_inv() {  # prints the new investigation's id
  local id
  id=$(curl -s -m 10 -H "$AUTH" -H 'Content-Type: application/json' "$API/investigations" \
         -d '{"name":"live bench"}' | sed -nE 's/.*"investigation_id":"([^"]+)".*/\1/p')
  [ -n "$id" ] || { echo "creating an investigation failed" >&2; return 1; }
  if [ "$NEED_START" = 1 ]; then curl -s -o /dev/null -m 10 -H "$AUTH" -X POST "$API/investigations/$id/start"; fi
  echo "$id"
}
metrics() {  # TAG: vigil's /metrics into the raw file (without the per-investigation gauge)
  curl -s -m 10 -H "Authorization: Bearer $ADMIN" "http://127.0.0.1:$PORT/metrics" \
    | grep -E '^vigil_(sse|live)_' | grep -v investigation_subscribers | sed "s/^/METRICS\t$1\t/" >> "$RAW" || true
}
record() {  # CASE SERVER FILE: one result line into the raw file
  if [ -s "$3" ] && head -c1 "$3" | grep -q '{'; then
    printf 'RESULT\t%s\t%s\t%s\n' "$1" "$2" "$(head -n1 "$3")" >> "$RAW"
  else
    printf 'RESULT\t%s\t%s\t{"error":"no result; see %s"}\n' "$1" "$2" "$(basename "$3" .json).stderr" >> "$RAW"
  fi
}
run_load() {  # OUTFILE CMD...: on CPU 1, bounded, killable by the trap
  local out="$1"; shift
  taskset -c 1 timeout $((MAXRT + 30)) "$@" > "$out" 2> "${out%.json}.stderr" &
  LOAD_PID=$!
  wait "$LOAD_PID" || echo "  ($(basename "$out"): exit $?)" >&2
  LOAD_PID=""
}
say() { echo "[$((SECONDS - T_START)) s] $*" >&2; }

# Before anything: is error_logged accepted by a fresh investigation (docs/api.md section 5)?
start_vigil probe
ID=$(create_inv)
code=$(curl -s -o /dev/null -w '%{http_code}' -H "$AUTH" -H 'Content-Type: application/json' \
         "$API/investigations/$ID/events" -d "{\"events\":[$(echo "$EVENT" | sed 's/{seq}/0/; s/{sent_us}/0/; s/{sched_us}/0/; s/{pad}//')]}")
if [ "$code" != 200 ]; then
  NEED_START=1
  ID=$(create_inv)
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "$AUTH" -H 'Content-Type: application/json' \
           "$API/investigations/$ID/events" -d "{\"events\":[$(echo "$EVENT" | sed 's/{seq}/0/; s/{sent_us}/0/; s/{sched_us}/0/; s/{pad}//')]}")
  [ "$code" = 200 ] || { echo "error_logged is refused ($code) even after /start; stopping" >&2; exit 1; }
fi
stop_server

# ---------------------------------------------------------------------------------------------
# 1, 2: one investigation / channel, sse-fanout.
fanout() {  # CASE N M [sse-fanout options...]
  local case="$1" n="$2" m="$3"; shift 3
  say "$case vigil: $n subscribers, $m events"
  start_vigil "$case"
  local id; id=$(create_inv)
  run_load "$OUT/$case-vigil.json" "$FANOUT" --sub-url "$API/investigations/$id$VSUB" \
    --pub-url "$API/investigations/$id/events" --pub-body "$VBODY" --sub-header "$AUTH" --pub-header "$AUTH" \
    -n "$n" -m "$m" --rate "$RATE" --server-pid "$SRV_PID" --max-runtime-s "$MAXRT" --label "$case vigil" "$@"
  record "$case" vigil "$OUT/$case-vigil.json"
  metrics "$case"
  say "$case nchan: $n subscribers, $m events"
  start_nginx "$case"
  run_load "$OUT/$case-nchan.json" "$FANOUT" --sub-url "http://127.0.0.1:$PORT/sub/{channel}" \
    --pub-url "http://127.0.0.1:$PORT/pub/{channel}" \
    -n "$n" -m "$m" --rate "$RATE" --server-pid "$SRV_PID" --max-runtime-s "$MAXRT" --label "$case nchan" "$@"
  record "$case" nchan "$OUT/$case-nchan.json"
  stop_server
  if [ "$n" -gt 1 ] && [ "$m" -gt 1 ]; then
    say "$case floor: $n bare sockets, $m rounds"
    run_floor "$case" --subs "$n" --events "$m" --rate "$RATE"
  fi
}
run_floor() {  # CASE ARGS...: bare sockets, no server (pins itself: sender CPU 0, reader CPU 1)
  local case="$1"; shift
  timeout $((MAXRT + 30)) "$FLOOR" "$@" --max-runtime-s "$MAXRT" > "$OUT/$case-floor.json" 2> "$OUT/$case-floor.stderr" || true
  if [ -s "$OUT/$case-floor.json" ]; then printf 'FLOOR\t%s\t%s\n' "$case" "$(head -n1 "$OUT/$case-floor.json")" >> "$RAW"; fi
}
fanout 1-one "$N1" "$M1"
fanout 2-one-10k "$N2" "$M2"

# ---------------------------------------------------------------------------------------------
# 3: T investigations / channels with K subscribers each, live-driver.
say "3-many vigil: creating $T3 investigations"
start_vigil 3-many
for _ in $(seq "$T3"); do create_inv; done > "$OUT/3-many-vigil.channels"
[ "$(wc -l < "$OUT/3-many-vigil.channels")" = "$T3" ] || { echo "could not create $T3 investigations" >&2; exit 1; }
say "3-many vigil: $T3 x $K3 subscribers, $M3 events each"
run_load "$OUT/3-many-vigil.json" "$DRIVER" --sub-url "$API/investigations/{channel}$VSUB" \
  --pub-url "$API/investigations/{channel}/events" --pub-body "$VBODY" --sub-header "$AUTH" --pub-header "$AUTH" \
  --channels-file "$OUT/3-many-vigil.channels" -k "$K3" -m "$M3" --rate "$R3" --pub-conns 8 \
  --server-pid "$SRV_PID" --max-runtime-s "$MAXRT" --label "3-many vigil"
record 3-many vigil "$OUT/3-many-vigil.json"
metrics 3-many
say "3-many nchan: $T3 x $K3 subscribers, $M3 events each"
start_nginx 3-many
seq -f "many-$STAMP-%g" 0 $((T3 - 1)) > "$OUT/3-many-nchan.channels"
run_load "$OUT/3-many-nchan.json" "$DRIVER" --sub-url "http://127.0.0.1:$PORT/sub/{channel}" \
  --pub-url "http://127.0.0.1:$PORT/pub/{channel}" --channels-file "$OUT/3-many-nchan.channels" \
  -k "$K3" -m "$M3" --rate "$R3" --pub-conns 8 --server-pid "$SRV_PIDS" --max-runtime-s "$MAXRT" --label "3-many nchan"
record 3-many nchan "$OUT/3-many-nchan.json"
stop_server

# ---------------------------------------------------------------------------------------------
# 4: idle streams, sse-fanout (one event at the end, so the run also checks they still work).
fanout 4-idle "$N4" 1 --settle-s 3

# ---------------------------------------------------------------------------------------------
# 5: reconnect storm, live-driver.
say "5-storm vigil: $N5 streams, drop all at ${S5} s, $M5 events"
start_vigil 5-storm
ID=$(create_inv)
run_load "$OUT/5-storm-vigil.json" "$DRIVER" --sub-url "$API/investigations/{channel}$VSUB" \
  --pub-url "$API/investigations/{channel}/events" --pub-body "$VBODY" --sub-header "$AUTH" --pub-header "$AUTH" \
  --channel "$ID" -k "$N5" -m "$M5" --rate "$RATE" --storm-at-s "$S5" --storm-concurrency 1024 \
  --server-pid "$SRV_PID" --max-runtime-s "$MAXRT" --label "5-storm vigil"
record 5-storm vigil "$OUT/5-storm-vigil.json"
metrics 5-storm
say "5-storm nchan: $N5 streams, drop all at ${S5} s, $M5 events"
start_nginx 5-storm
run_load "$OUT/5-storm-nchan.json" "$DRIVER" --sub-url "http://127.0.0.1:$PORT/sub/{channel}" \
  --pub-url "http://127.0.0.1:$PORT/pub/{channel}" --channel "storm-$STAMP" \
  -k "$N5" -m "$M5" --rate "$RATE" --storm-at-s "$S5" --storm-concurrency 1024 \
  --server-pid "$SRV_PIDS" --max-runtime-s "$MAXRT" --label "5-storm nchan"
record 5-storm nchan "$OUT/5-storm-nchan.json"
stop_server
printf 'ELAPSED\t%s s (%s counts)\n' "$((SECONDS - T_START))" "$([ "$QUICK" = 1 ] && echo quick || echo full)" >> "$RAW"
table "$OUT" | tee "$OUT/live.md"

