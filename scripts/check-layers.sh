#!/usr/bin/env bash
# The layering of src/ (docs/architecture.md), checked on every `make test` (a ctest), because
# header-only libraries make a wrong include build fine: a CMake target's links cannot stop it.
#
#   scripts/check-layers.sh [SRC]     check SRC (default: the project's src/); exit 1 on a breach
#   scripts/check-layers.sh --self-test
#                                     show that each rule fails on a tree that breaks it
#
# The rules, one table each:
#   USES       which project folders a folder may include from ("core/...", "store/...")
#   LIBRARIES  which outside libraries are only for some files (a regex on the include, and the
#              files allowed it)
#   SQL        SQL statements live in src/store/ only
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

declare -A USES=(
  [base]="base"
  [core]="base core"
  [store]="base core store"
  [engine]="base core store engine"
  [live]="base core store engine live"
  [http]="base core http"
  [api]="base core store engine live http api"
  [runner]="base core store engine runner"
  [app]="base core store engine live http api runner app"
)

# "regex on the included name|files that may include it (regex on the path below src/)"
LIBRARIES=(
  # Asio and Beast: the transport files only (the listener and its core, the session with its
  # deadline, answer hand-off and parser, the I/O executors, the stream sessions; the tail client).
  'boost/(asio|beast)|^(http/(server|stream_session|request_parser|io_executor|response_slot|deadline|server_core|session)\.(c|h)pp|app/tail\.cpp)$'
  # Database clients: their backend's folder only.
  '^sqlite3\.h$|^store/sqlite/'
  '^(libpq-fe|libpq/.*)\.h$|^store/postgres/'
  # Base and core never log and never do I/O.
  '^spdlog/|^(store|engine|live|http|api|runner|app)/'
  '^jwt\.h$|^http/'
  '^CLI/|^app/'
)

SQL_PATTERN='"[[:space:]]*(SELECT|INSERT[[:space:]]+INTO|UPDATE[[:space:]]+[A-Za-z_]+[[:space:]]+SET|DELETE[[:space:]]+FROM|CREATE[[:space:]]+(TABLE|INDEX|UNIQUE)|ALTER[[:space:]]+TABLE|DROP[[:space:]]+TABLE|PRAGMA)[[:space:]]'

check() {
  local src="$1" breaches=0 file rel folder line name allowed rule pattern files
  while IFS= read -r file; do
    rel="${file#"$src"/}"
    folder="${rel%%/*}"
    [ -n "${USES[$folder]+x}" ] || { echo "$rel: src/$folder/ is not in the layer table"; breaches=$((breaches + 1)); continue; }
    while IFS= read -r line; do
      if [[ "$line" =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\"([a-z_]+)/ ]]; then
        name="${BASH_REMATCH[1]}"
        if [[ " ${USES[$folder]} " != *" $name "* ]]; then
          echo "$rel: includes $name/ — src/$folder/ may use only: ${USES[$folder]}"
          breaches=$((breaches + 1))
        fi
      elif [[ "$line" =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\<([^\>]+)\> ]]; then
        name="${BASH_REMATCH[1]}"
        for rule in "${LIBRARIES[@]}"; do
          pattern="${rule%%|^*}"
          files="${rule#"$pattern"|}"
          if [[ "$name" =~ $pattern ]] && ! [[ "$rel" =~ $files ]]; then
            echo "$rel: includes <$name> — only $files may"
            breaches=$((breaches + 1))
          fi
        done
      fi
    done < <(grep -E '^[[:space:]]*#[[:space:]]*include' "$file" || true)
    if [ "$folder" != store ] && grep -nE "$SQL_PATTERN" "$file" > /dev/null; then
      echo "$rel: SQL outside src/store/: $(grep -nE "$SQL_PATTERN" "$file" | head -n 1)"
      breaches=$((breaches + 1))
    fi
  done < <(find "$src" -type f \( -name '*.cpp' -o -name '*.hpp' \) | sort)
  if [ "$breaches" -gt 0 ]; then
    echo "layering: $breaches breach(es) in $src"
    return 1
  fi
  echo "layering: $(find "$src" -type f \( -name '*.cpp' -o -name '*.hpp' \) | wc -l) files keep to their layers"
}

if [ "${1:-}" = "--self-test" ]; then
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
  # Each breach, planted alone in a copy of the tree, must fail the check.
  breaches=(
    'core/cursor.cpp|#include <boost/asio/io_context.hpp>'
    'core/cursor.cpp|#include "engine/engine.hpp"'
    'core/cursor.cpp|#include <spdlog/spdlog.h>'
    'base/clock.cpp|#include "core/event.hpp"'
    'http/router.cpp|#include "store/store.hpp"'
    'api/events.cpp|#include <boost/beast/http/message.hpp>'
    'api/events.cpp|#include <sqlite3.h>'
    'store/sqlite/sqlite_db.cpp|#include <libpq-fe.h>'
    'engine/engine.cpp|constexpr const char* kSql = "SELECT id FROM events WHERE 1";'
  )
  check "$ROOT/src" > /dev/null || { echo "self-test: the tree itself does not pass"; exit 1; }
  for b in "${breaches[@]}"; do
    target="${b%%|*}"
    text="${b#*|}"
    rm -rf "$scratch/src"
    cp -r "$ROOT/src" "$scratch/src"
    printf '%s\n' "$text" >> "$scratch/src/$target"
    if out="$(check "$scratch/src")"; then
      echo "self-test: '$text' in $target was not caught"
      exit 1
    fi
    echo "caught: $(echo "$out" | head -n 1)"
  done
  echo "self-test: every planted breach was caught"
  exit 0
fi

check "${1:-$ROOT/src}"
