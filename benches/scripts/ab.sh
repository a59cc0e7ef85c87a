#!/usr/bin/env bash
# A/B of two server binaries under wrk, alternated in ABBA order (so drift over the run cancels),
# many short runs per level: on a shared, noisy machine one run of one binary varies by 10-30 %,
# and only the distribution of many alternated runs tells a change from noise.
#
#   benches/scripts/ab.sh /tmp/hello-base target/release/examples/hello
#   ROUNDS=10 LEVELS="1 16 256" D=3 benches/scripts/ab.sh A B -- --threads 2
#
# Each binary must take --quiet --port N (and any arguments after --) and answer GET /; A or B
# may be a command with arguments, such as "benches/scripts/peer.sh limit" (a peer server).
# Prints per level: each binary's median and mean req/s (with its standard error), median p99 and
# every run, and B/A of the medians.
set -u
a=$1; b=$2; shift 2
[ "${1:-}" = "--" ] && shift
rounds=${ROUNDS:-8}; levels=${LEVELS:-"1 16 256"}; d=${D:-3}
out=$(mktemp -d)
one() { # bin label level
  local port pid res
  port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  # Word-split on purpose: a binary may come with arguments ("benches/scripts/peer.sh limit").
  # shellcheck disable=SC2086
  $1 --quiet --port "$port" "${@:4}" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.05; done
  local t=2; [ "$3" = 1 ] && t=1
  wrk -t$t -c"$3" -d1 "http://127.0.0.1:$port/" >/dev/null 2>&1
  res=$(wrk -t$t -c"$3" -d"$d" --latency "http://127.0.0.1:$port/" 2>&1)
  kill "$pid"; wait "$pid" 2>/dev/null
  local rps p99
  rps=$(awk '/Requests\/sec/{print $2}' <<<"$res")
  p99=$(awk '/ 99%/{v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' <<<"$res")
  echo "$rps $p99" >>"$out/$2.$3"
}
for level in $levels; do
  for r in $(seq "$rounds"); do
    if [ $((r % 2)) = 1 ]; then order="A B"; else order="B A"; fi
    for x in $order; do
      if [ "$x" = A ]; then one "$a" A "$level" "$@"; else one "$b" B "$level" "$@"; fi
    done
  done
  python3 - "$out" "$level" <<'PY'
import sys, statistics as st
out, level = sys.argv[1], sys.argv[2]
rows = {}
for x in "AB":
    data = [tuple(map(float, l.split())) for l in open(f"{out}/{x}.{level}") if l.strip()]
    rps = [r for r, _ in data]; p99 = [p for _, p in data]
    rows[x] = (st.median(rps), st.mean(rps), st.stdev(rps) / len(rps) ** 0.5 if len(rps) > 1 else 0, st.median(p99), len(rps))
for x in "AB":
    m, mean, se, p, n = rows[x]
    print(f"c={level} {x}: median {m:,.0f} req/s, mean {mean:,.0f} ± {se:,.0f} (n={n}), median p99 {p:.2f} ms")
    runs = sorted(float(l.split()[0]) for l in open(f"{out}/{x}.{level}") if l.strip())
    print(f"      runs (k req/s, sorted): {' '.join(f'{r / 1000:.1f}' for r in runs)}")
print(f"c={level} B/A median req/s: {rows['B'][0] / rows['A'][0]:.3f}")
PY
done
rm -rf "$out"
