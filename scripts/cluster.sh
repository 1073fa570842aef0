#!/usr/bin/env bash
# A vigil cluster on one machine: PostgreSQL, three `vigil serve` nodes on it, and nginx in front
# (deploy/nginx-vigil.conf), all on 127.0.0.1 — to try scaling out, not to run it for real
# (docs/deploy.md says how to).
#
#   scripts/cluster.sh start [OPTIONS]   install what is missing (scripts/install-deps.sh
#                                        --cluster: Debian's postgresql and nginx), start
#                                        everything, print the URL and how to sign in
#   scripts/cluster.sh stop [OPTIONS]    stop what `start` started (by the PIDs it recorded),
#                                        nothing else; the data stays for the next start
#   scripts/cluster.sh status [OPTIONS]  say what is running
#
# Options (each also an environment variable; the flag wins):
#   --dir DIR         CLUSTER_DIR        where everything lives (default: data/cluster)
#   --port N          CLUSTER_PORT       nginx's port (default 8080)
#   --node-port N     CLUSTER_NODE_PORT  the first node's port; the others follow (default 8081)
#   --pg-port N       CLUSTER_PG_PORT    PostgreSQL's port (default 55432)
#   --vigil PATH      CLUSTER_VIGIL      the vigil binary (default: build/vigil)
#
# In DIR: pg/ (the PostgreSQL cluster, made by initdb on first start; run as root, its files and
# server belong to the user `postgres` that Debian's package makes, since PostgreSQL refuses to run
# as root), pg-socket/, pg-password (the superuser's, random), jwt-secret, node{1,2,3}.log and
# .pid, nginx/ (its config, made from deploy/nginx-vigil.conf, logs and PID). Only node 1 runs the
# demo (--demo): every node runs the same built-in runner, which would otherwise simulate the same
# investigations three times over.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 1 ] || usage
action="$1"
shift
DIR="${CLUSTER_DIR:-$ROOT/data/cluster}"
PORT="${CLUSTER_PORT:-8080}"
NODE_PORT="${CLUSTER_NODE_PORT:-8081}"
PG_PORT="${CLUSTER_PG_PORT:-55432}"
VIGIL="${CLUSTER_VIGIL:-$ROOT/build/vigil}"
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || { echo "cluster: $1 needs a value" >&2; exit 2; }
  case "$1" in
    --dir) DIR="$2" ;;
    --port) PORT="$2" ;;
    --node-port) NODE_PORT="$2" ;;
    --pg-port) PG_PORT="$2" ;;
    --vigil) VIGIL="$2" ;;
    *) echo "cluster: unknown option $1" >&2; usage ;;
  esac
  shift 2
done
for setting in "PORT=$PORT" "NODE_PORT=$NODE_PORT" "PG_PORT=$PG_PORT"; do
  value="${setting#*=}"
  if ! [[ "$value" =~ ^[0-9]+$ ]] || [ "$value" -lt 1024 ] || [ "$value" -gt 65533 ]; then
    echo "cluster: CLUSTER_${setting%%=*} must be a port from 1024 to 65533, got '$value'" >&2
    exit 2
  fi
done
NODES=3
node_ports=()
for i in $(seq 1 $NODES); do node_ports+=($((NODE_PORT + i - 1))); done
for p in "${node_ports[@]}"; do
  if [ "$p" -eq "$PORT" ] || [ "$p" -eq "$PG_PORT" ]; then
    echo "cluster: the nodes' ports (${node_ports[*]}) overlap CLUSTER_PORT or CLUSTER_PG_PORT" >&2
    exit 2
  fi
done
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
NGINX_DIR="$DIR/nginx"
PG_DATA="$DIR/pg"
PG_SOCKET="$DIR/pg-socket"

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
if [ "$(id -u)" -eq 0 ]; then
  as_server() { runuser -u postgres -- "$@"; }
  pg_owner=postgres
else
  as_server() { "$@"; }
  pg_owner="$(id -un)"
fi

# The PID in FILE, if that process is alive and its command line contains WORD (so that a PID
# reused by another program after a crash is never signalled).
live_pid() {
  local file="$1" word="$2" pid
  [ -f "$file" ] || return 1
  pid="$(cat "$file")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$word" || return 1
  echo "$pid"
}

# Waits until CMD succeeds, at most SECONDS; false when it never did.
wait_until() {
  local seconds="$1"
  shift
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
}

# Sends TERM to the process in FILE (when it is WORD's), waits for it to end (KILL after SECONDS).
stop_pid() {
  local file="$1" word="$2" name="$3" seconds="$4" pid
  if pid="$(live_pid "$file" "$word")"; then
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_until "$seconds" bash -c "! kill -0 $pid"; then
      echo "cluster: $name (PID $pid) did not stop in ${seconds} s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    echo "cluster: stopped $name (PID $pid)"
  fi
  rm -f "$file"
}

pg_running() { [ -n "$(pg_bin)" ] && as_server "$(pg_bin)/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1; }

status() {
  local any=0 pid i
  if [ -d "$PG_DATA" ] && pg_running; then
    echo "postgresql: running on 127.0.0.1:$PG_PORT (data in $PG_DATA)"
    any=1
  else
    echo "postgresql: stopped"
  fi
  for i in $(seq 1 $NODES); do
    if pid="$(live_pid "$DIR/node$i.pid" vigil)"; then
      echo "node $i: running (PID $pid) on 127.0.0.1:${node_ports[$((i - 1))]}, log $DIR/node$i.log"
      any=1
    else
      echo "node $i: stopped"
    fi
  done
  if pid="$(live_pid "$NGINX_DIR/nginx.pid" nginx)"; then
    echo "nginx: running (PID $pid) on http://127.0.0.1:$PORT"
    any=1
  else
    echo "nginx: stopped"
  fi
  [ $any -eq 1 ]
}

stop() {
  stop_pid "$NGINX_DIR/nginx.pid" nginx nginx 10
  for i in $(seq $NODES -1 1); do stop_pid "$DIR/node$i.pid" vigil "node $i" 25; done
  if [ -d "$PG_DATA" ] && pg_running; then
    as_server "$(pg_bin)/pg_ctl" stop -D "$PG_DATA" -m fast -w -t 60 >/dev/null
    echo "cluster: stopped postgresql"
  fi
}

start_postgres() {
  local bin
  bin="$(pg_bin)"
  [ -n "$bin" ] && [ -x "$bin/initdb" ] || { echo "cluster: no PostgreSQL in /usr/lib/postgresql" >&2; exit 1; }
  if ! as_server test -x "$DIR"; then
    echo "cluster: the user $pg_owner cannot reach $DIR (a folder above it is not searchable:" \
         "chmod o+x it, or pass --dir somewhere it can)" >&2
    exit 1
  fi
  mkdir -p "$PG_SOCKET"
  chown "$pg_owner" "$PG_SOCKET"
  chmod 700 "$PG_SOCKET"
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$DIR/pg-password")
    if [ -d "$PG_DATA" ] && [ -n "$(ls -A "$PG_DATA")" ]; then
      echo "cluster: $PG_DATA is not empty but holds no PostgreSQL cluster; move it away" >&2
      exit 1
    fi
    mkdir -p "$PG_DATA"
    chown "$pg_owner" "$PG_DATA"
    chmod 700 "$PG_DATA"
    local pwfile="$DIR/pg-pwfile.tmp"
    (umask 077; cp "$DIR/pg-password" "$pwfile")
    chown "$pg_owner" "$pwfile"
    # Local (socket) connections are the server user's only (the socket's folder is 0700);
    # TCP needs the password.
    as_server "$bin/initdb" -D "$PG_DATA" -U postgres --pwfile="$pwfile" --auth-local=trust \
      --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 ||
      { rm -f "$pwfile"; cat "$DIR/initdb.log" >&2; exit 1; }
    rm -f "$pwfile"
    cat >>"$PG_DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_SOCKET'
unix_socket_permissions = 0700
max_connections = 100
CONF
    echo "cluster: made a PostgreSQL cluster in $PG_DATA"
  fi
  if ! pg_running; then
    touch "$DIR/pg.log"
    chown "$pg_owner" "$DIR/pg.log"
    as_server "$bin/pg_ctl" start -D "$PG_DATA" -o "-p $PG_PORT -k $PG_SOCKET" -l "$DIR/pg.log" -w -t 60 \
      >/dev/null || { echo "cluster: PostgreSQL did not start; its log:" >&2; tail -n 20 "$DIR/pg.log" >&2; exit 1; }
  fi
  if [ "$(as_server "$bin/psql" -h "$PG_SOCKET" -p "$PG_PORT" -U postgres -d postgres -tAc \
          "SELECT 1 FROM pg_database WHERE datname = 'vigil'")" != "1" ]; then
    as_server "$bin/createdb" -h "$PG_SOCKET" -p "$PG_PORT" -U postgres vigil
  fi
  echo "cluster: postgresql on 127.0.0.1:$PG_PORT"
}

start_nodes() {
  local url="postgresql://postgres@127.0.0.1:$PG_PORT/vigil" i port args pid
  [ -s "$DIR/jwt-secret" ] || (umask 077; head -c 48 /dev/urandom | base64 -w0 >"$DIR/jwt-secret")
  # The password goes by the environment (PGPASSWORD), never on a command line.
  PGPASSWORD="$(cat "$DIR/pg-password")" "$VIGIL" migrate --db "$url"
  for i in $(seq 1 $NODES); do
    port="${node_ports[$((i - 1))]}"
    if pid="$(live_pid "$DIR/node$i.pid" vigil)"; then
      echo "cluster: node $i already running (PID $pid)"
      continue
    fi
    args=(serve --listen "127.0.0.1:$port" --db "$url")
    [ ! -f "$ROOT/web/dist/index.html" ] || args+=(--web-root "$ROOT/web/dist")
    [ "$i" -ne 1 ] || args+=(--demo)
    VIGIL_JWT_SECRET="$(cat "$DIR/jwt-secret")" PGPASSWORD="$(cat "$DIR/pg-password")" \
      setsid "$VIGIL" "${args[@]}" >"$DIR/node$i.log" 2>&1 </dev/null &
    echo $! >"$DIR/node$i.pid"
  done
  for i in $(seq 1 $NODES); do
    port="${node_ports[$((i - 1))]}"
    if ! wait_until 30 curl -fsS "http://127.0.0.1:$port/healthz"; then
      echo "cluster: node $i did not answer on 127.0.0.1:$port within 30 s; its log:" >&2
      tail -n 20 "$DIR/node$i.log" >&2
      echo "cluster: scripts/cluster.sh stop stops what did start" >&2
      exit 1
    fi
  done
  echo "cluster: nodes on 127.0.0.1:${node_ports[*]} (node 1 runs the demo)"
}

start_nginx() {
  local pid
  if pid="$(live_pid "$NGINX_DIR/nginx.pid" nginx)"; then
    echo "cluster: nginx already running (PID $pid)"
    return
  fi
  mkdir -p "$NGINX_DIR/tmp"
  local user_line=""
  if [ "$(id -u)" -eq 0 ]; then
    user_line="user www-data;"  # the workers drop root; Debian's nginx package makes www-data
    chown www-data "$NGINX_DIR/tmp"
  fi
  sed -e "s/listen 127.0.0.1:8080;/listen 127.0.0.1:$PORT;/" \
      -e "s/127.0.0.1:8081 /127.0.0.1:${node_ports[0]} /" \
      -e "s/127.0.0.1:8082 /127.0.0.1:${node_ports[1]} /" \
      -e "s/127.0.0.1:8083 /127.0.0.1:${node_ports[2]} /" \
      "$ROOT/deploy/nginx-vigil.conf" >"$NGINX_DIR/vigil.conf"
  cat >"$NGINX_DIR/nginx.conf" <<CONF
# Made by scripts/cluster.sh; the vigil part is deploy/nginx-vigil.conf (vigil.conf here).
$user_line
worker_processes 1;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log warn;
events { worker_connections 4096; }
http {
    access_log $NGINX_DIR/access.log;
    client_body_temp_path $NGINX_DIR/tmp/body;
    proxy_temp_path $NGINX_DIR/tmp/proxy;
    fastcgi_temp_path $NGINX_DIR/tmp/fastcgi;
    uwsgi_temp_path $NGINX_DIR/tmp/uwsgi;
    scgi_temp_path $NGINX_DIR/tmp/scgi;
    include $NGINX_DIR/vigil.conf;
}
CONF
  local nginx=(nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -e "$NGINX_DIR/error.log")
  "${nginx[@]}" -t -q || { echo "cluster: nginx refused its configuration" >&2; exit 1; }
  "${nginx[@]}"
  if ! wait_until 10 curl -fsS "http://127.0.0.1:$PORT/healthz"; then
    echo "cluster: nginx did not answer on 127.0.0.1:$PORT; its log:" >&2
    tail -n 20 "$NGINX_DIR/error.log" >&2
    exit 1
  fi
  echo "cluster: nginx on 127.0.0.1:$PORT"
}

case "$action" in
  start)
    [ -x "$VIGIL" ] || { echo "cluster: no vigil binary at $VIGIL (make build)" >&2; exit 1; }
    "$ROOT/scripts/install-deps.sh" --cluster
    start_postgres
    start_nodes
    start_nginx
    login="$(grep -o 'http://[^ ]*/api/v1/auth/login?code=[A-Za-z0-9_-]*' "$DIR/node1.log" | tail -n 1 || true)"
    token="$(grep -o 'export TOKEN=.*' "$DIR/node1.log" | tail -n 1 || true)"
    cat <<TEXT

  vigil cluster: http://127.0.0.1:$PORT  (nginx; nodes on ${node_ports[*]}, PostgreSQL on $PG_PORT)

  the API through nginx, as the demo user (any node accepts the token):
    $token
    curl -H "Authorization: Bearer \$TOKEN" http://127.0.0.1:$PORT/api/v1/investigations

  sign a browser in (one use, within an hour). Browser sessions are kept in the memory of the
  node that opened them, so this link goes to node 1, and the browser stays on it:
    $login

  scripts/cluster.sh status | stop      logs: $DIR/node{1,2,3}.log, $NGINX_DIR/error.log
TEXT
    ;;
  stop) stop ;;
  status) status ;;
  *) usage ;;
esac
