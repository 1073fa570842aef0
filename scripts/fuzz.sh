#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang and runs them.
#
#   scripts/fuzz.sh            each target for FUZZ_SECONDS (60) from its corpus, in a scratch copy
#   scripts/fuzz.sh --smoke    each target over its checked-in corpus, then 2,000 mutations (make test)
#
# A crash stops the script with the target's exit status and leaves the crashing input
# (crash-*) in the scratch directory, named in the output.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${FUZZ_BUILD:-$ROOT/build-fuzz}"
SECONDS_EACH="${FUZZ_SECONDS:-60}"
SMOKE=0
[ "${1:-}" = "--smoke" ] && SMOKE=1

cmake -S "$ROOT/fuzz" -B "$BUILD" -G Ninja -DCMAKE_CXX_COMPILER=clang++ > /dev/null
cmake --build "$BUILD" -j "${JOBS:-2}"

SCRATCH="$(mktemp -d)"
for target in cursor event_batch conditional router jwt request_framing; do
  corpus="$ROOT/fuzz/corpus/$target"
  work="$SCRATCH/$target"
  mkdir -p "$work"
  if [ "$SMOKE" = 1 ]; then
    echo "fuzz $target: corpus and 2000 mutations"
    (cd "$work" && "$BUILD/fuzz_$target" -runs=2000 -max_total_time=30 -print_final_stats=0 \
      "$work" "$corpus" 2>&1 | tail -n 2)
  else
    echo "fuzz $target: ${SECONDS_EACH} s"
    (cd "$work" && "$BUILD/fuzz_$target" -max_total_time="$SECONDS_EACH" "$work" "$corpus" 2>&1 \
      | tail -n 4)
  fi
done
rm -rf "$SCRATCH"
