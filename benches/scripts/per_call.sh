#!/usr/bin/env bash
# Inclusive instructions per call of one function in one criterion bench, counted by
# callgrind (repeatable whatever the machine is doing). Run from the repository root:
#
#   benches/scripts/per_call.sh BENCH_BINARY 'bench name filter' 'function pattern'
#   benches/scripts/per_call.sh target/release/deps/handlers-XXXX 'hello, #' 'BaseHandler::run'
set -eu
out=$(mktemp)
valgrind --tool=callgrind --callgrind-out-file="$out" "$1" --bench "$2" --profile-time 2 >/dev/null 2>&1
callgrind_annotate --tree=calling --inclusive=yes "$out" 2>/dev/null |
  grep -E "^ *[0-9,]+ .*>.*$3 \([0-9,]+x\)" | head -1 |
  sed -E 's/^ *([0-9,]+) .*\(([0-9,]+)x\).*/\1 \2/' | tr -d , |
  awk -v name="$2" '{ printf "%s: %d instructions per call (%d calls)\n", name, $1 / $2, $2 }'
rm -f "$out"
