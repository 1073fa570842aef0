#!/usr/bin/env bash
# Instructions per request on the two hottest read paths, counted (not timed) with callgrind, so
# that a change of a few percent can be judged on a noisy machine:
#   304    GET /progress with the current ETag in If-None-Match, keep-alive, one connection
#   200    GET /progress without it
# Each binary runs under `valgrind --tool=callgrind` twice per path: once with WARM requests, once
# with WARM + COUNT. The difference of the totals divided by COUNT is the cost of one request,
# without start-up, warm-up or shutdown. One I/O thread; the rate limit on, with a budget too
# large to refuse anything, so its bookkeeping is counted.
#
#   bench/callgrind.sh [VIGIL_BINARY ...]        default: build/vigil
#   COUNT=20000 WARM=2000 bench/callgrind.sh a/vigil b/vigil
#
# Prints one row per binary. Traffic goes to 127.0.0.1 only; every run is bounded in count.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COUNT="${COUNT:-20000}"
WARM="${WARM:-2000}"
[ $# -gt 0 ] || set -- "$ROOT/build/vigil"
command -v valgrind > /dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 2; }

WORK="$(mktemp -d)"
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
export VIGIL_JWT_SECRET="callgrind-bench-secret-0123456789abcdefghij"

# run BINARY PATH_KIND REQUESTS -> prints the run's total instructions
run() {
  local bin="$1" kind="$2" n="$3" dir
  dir="$(mktemp -d -p "$WORK")"
  "$bin" migrate --db "$dir/vigil.db" > /dev/null
  valgrind --tool=callgrind --callgrind-out-file="$dir/out" "$bin" serve --threads 1 \
    --read-threads 1 --listen 127.0.0.1:0 --port-file "$dir/port" --db "$dir/vigil.db" \
    --rate-limit-max-requests 1000000 --log-level warn > "$dir/log" 2>&1 &
  PID=$!
  for _ in $(seq 1 300); do [ -s "$dir/port" ] && break; sleep 0.1; done
  [ -s "$dir/port" ] || { echo "vigil did not start: $(cat "$dir/log")" >&2; exit 1; }
  local token
  token="$("$bin" token --user bench --roles read,dev)"
  python3 - "$(cat "$dir/port")" "$token" "$kind" "$n" <<'PY'
import http.client, json, sys
port, token, kind, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
auth = {"Authorization": "Bearer " + token}
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
c.request("POST", "/api/v1/investigations", json.dumps({"name": "callgrind"}),
          {**auth, "Content-Type": "application/json"})
r = c.getresponse(); body = json.loads(r.read()); assert r.status == 201, body
path = "/api/v1/investigations/%s/progress" % body["investigation_id"]
c.request("GET", path, headers=auth); r = c.getresponse(); r.read()
etag = r.getheader("ETag")
headers = {**auth, "If-None-Match": etag} if kind == "304" else auth
want = 304 if kind == "304" else 200
for _ in range(n):
    c.request("GET", path, headers=headers); r = c.getresponse(); r.read()
    assert r.status == want, r.status
PY
  kill -TERM "$PID"
  wait "$PID" 2>/dev/null || true
  PID=""
  awk '/^(summary|totals):/ {print $2; exit}' "$dir/out"
}

printf '| binary | instructions per 304 | instructions per 200 /progress |\n| --- | --- | --- |\n'
for bin in "$@"; do
  row="| \`$bin\`"
  for kind in 304 200; do
    low="$(run "$bin" "$kind" "$WARM")"
    high="$(run "$bin" "$kind" $((WARM + COUNT)))"
    row="$row | $(( (high - low) / COUNT ))"
  done
  echo "$row |"
done
