#!/usr/bin/env bash
# Throughput and latency percentiles of one server binary under wrk, for quick A/B runs of two
# builds (alternate them; one run of one binary varies by 10-30 % on a shared machine).
#
#   benches/scripts/latency.sh target/release/examples/hello            # c=1 and c=16
#   LEVELS="1 16 256" D=5 benches/scripts/latency.sh /tmp/hello-base --threads 2
#
# The binary must take --quiet --port N (and any further arguments given here) and answer GET /.
set -u
bin=$1; shift
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
"$bin" --quiet --port "$port" "$@" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.05; done
for c in ${LEVELS:-1 16}; do
  t=2; [ "$c" = 1 ] && t=1
  wrk -t$t -c"$c" -d1 "http://127.0.0.1:$port/" >/dev/null 2>&1
  out=$(wrk -t$t -c"$c" -d"${D:-5}" --latency "http://127.0.0.1:$port/" 2>&1)
  rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
  p50=$(awk '/ 50%/{print $2}' <<<"$out")
  p99=$(awk '/ 99%/{print $2}' <<<"$out")
  echo "c=$c req/s=$rps p50=$p50 p99=$p99"
done
kill "$pid"; wait "$pid" 2>/dev/null
