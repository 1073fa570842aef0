#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests: the ctest fixture "postgres" (tests/CMakeLists.txt)
# starts it before the first test that needs it and stops it after the last.
#
#   scripts/test-postgres.sh start STATE_DIR   initdb in a new folder under /tmp, start the server on
#                                              a free port of 127.0.0.1 (its socket in that folder),
#                                              wait until it accepts connections, and write its
#                                              URL (superuser, password, no database) to
#                                              STATE_DIR/url
#   scripts/test-postgres.sh stop STATE_DIR    stop it and remove its folder and STATE_DIR/url
#   scripts/test-postgres.sh pause STATE_DIR   stop the server as an outage would (pg_ctl stop -m
#                                              fast: open sessions are ended), keeping its data
#   scripts/test-postgres.sh resume STATE_DIR  start a paused server again, on the same port
#
# The fault tests start a server of their own with a STATE_DIR of their own, to pause and resume
# it without disturbing the tests that share the fixture's.
# Run as root, the server runs as the user `postgres` (the Debian package makes it), since
# PostgreSQL refuses to run as root; otherwise as the current user. It uses Debian's binaries
# (/usr/lib/postgresql/*/bin, from `scripts/install-deps.sh --postgres`). Tests reach it over TCP
# with a random password, so no other local user can. A server left behind by an interrupted run
# is stopped by the next start.
set -euo pipefail

usage() { echo "usage: $0 start|stop|pause|resume STATE_DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
action="$1"
state="$2"

bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "test-postgres: no PostgreSQL server in /usr/lib/postgresql; run scripts/install-deps.sh --postgres" >&2
  exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
  as_server() { runuser -u postgres -- "$@"; }
  owner=postgres
else
  as_server() { "$@"; }
  owner="$(id -un)"
fi

stop() {
  local data
  [ -f "$state/data_dir" ] || return 0
  data="$(cat "$state/data_dir")"
  if [ -f "$data/pgdata/postmaster.pid" ]; then
    # fast: roll back what is open and stop; -w waits (pg_ctl's own deadline, 60 s).
    as_server "$bin/pg_ctl" stop -D "$data/pgdata" -m fast -w -t 60 >/dev/null 2>&1 ||
      as_server "$bin/pg_ctl" stop -D "$data/pgdata" -m immediate -w -t 30 >/dev/null 2>&1 || true
  fi
  case "$data" in /tmp/vigil-postgres-*) rm -rf "$data" ;; esac
  rm -f "$state/data_dir" "$state/url" "$state/port"
}

case "$action" in
  pause)
    data="$(cat "$state/data_dir")"
    as_server "$bin/pg_ctl" stop -D "$data/pgdata" -m fast -w -t 60 >/dev/null
    echo "test-postgres: paused"
    ;;
  resume)
    data="$(cat "$state/data_dir")"
    as_server "$bin/pg_ctl" start -D "$data/pgdata" -o "-p $(cat "$state/port")" \
      -l "$data/server.log" -w -t 60 >/dev/null
    echo "test-postgres: resumed"
    ;;
  stop)
    stop
    echo "test-postgres: stopped"
    ;;
  start)
    mkdir -p "$state"
    stop  # whatever an interrupted run left
    data="$(mktemp -d /tmp/vigil-postgres-XXXXXX)"
    echo "$data" > "$state/data_dir"
    chown "$owner" "$data"
    chmod 700 "$data"
    password="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
    printf '%s\n' "$password" > "$data/pwfile"
    chown "$owner" "$data/pwfile"
    as_server "$bin/initdb" -D "$data/pgdata" -U postgres --pwfile="$data/pwfile" \
      --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
      >"$data/initdb.log" 2>&1 || { cat "$data/initdb.log" >&2; exit 1; }
    rm -f "$data/pwfile"
    # A throwaway cluster: fsync and full-page writes off make the tests fast, and are acceptable
    # ONLY here — a crash of this server loses its data, which nobody keeps. vigil itself still
    # asks for synchronous_commit on, so its commits go through the same path as in production.
    cat >>"$data/pgdata/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$data'
max_connections = 300
fsync = off
full_page_writes = off
logging_collector = off
EOF
    # A free port: try a random one; if the server cannot bind it (taken meanwhile), another.
    started=
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
      port=$((20000 + RANDOM % 40000))
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue  # something listens there
      # -w: pg_ctl waits until the server accepts connections, at most -t seconds.
      if as_server "$bin/pg_ctl" start -D "$data/pgdata" -o "-p $port" -l "$data/server.log" \
           -w -t 60 >/dev/null 2>&1; then
        started=1
        break
      fi
      grep -q "could not bind\|could not create listen socket" "$data/server.log" 2>/dev/null ||
        break
    done
    if [ -z "$started" ]; then
      echo "test-postgres: the server did not start; its log:" >&2
      cat "$data/server.log" >&2 || true
      exit 1
    fi
    umask 077
    echo "postgresql://postgres:$password@127.0.0.1:$port" > "$state/url"
    echo "$port" > "$state/port"
    echo "test-postgres: listening on 127.0.0.1:$port (data in $data)"
    ;;
  *) usage ;;
esac
