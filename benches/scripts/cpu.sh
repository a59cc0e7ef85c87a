#!/usr/bin/env bash
# CPU time per request of a server under wrk, from /proc/PID/stat: far steadier than req/s on
# a shared machine. Run from the repository root after `cargo build --release --example hello`.
#
#   benches/scripts/cpu.sh 'target/release/examples/hello --quiet --port {PORT}' [connections]
#   benches/scripts/cpu.sh '/tmp/gateway-bench/target/release/hyper-peer {PORT}' 16
set -u
cmd=$1; c=${2:-16}; port=$((20000 + RANDOM % 10000)); t=2; [ "$c" = 1 ] && t=1
eval "${cmd//\{PORT\}/$port} >/dev/null 2>&1 &"; pid=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
wrk -t$t -c"$c" -d1 "http://127.0.0.1:$port/" >/dev/null
read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$pid/stat")
out=$(wrk -t$t -c"$c" -d5 "http://127.0.0.1:$port/")
read -r u2 s2 < <(awk '{print $14, $15}' "/proc/$pid/stat")
kill "$pid"; wait "$pid" 2>/dev/null
n=$(awk '/requests in/{print $1}' <<<"$out")
rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
awk -v u=$((u2 - u1)) -v s=$((s2 - s1)) -v n="$n" -v t="$(getconf CLK_TCK)" -v r="$rps" \
  'BEGIN{printf "req/s %.0f, CPU per request: user %.2f us, system %.2f us\n", r, u/t*1e6/n, s/t*1e6/n}'
