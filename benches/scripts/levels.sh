#!/usr/bin/env bash
# c=1, then c=16 on the same server process, as compare.sh runs its levels (1 s warm-up and
# 5 s measured each): prints c=16's req/s and p99, and the CPU ticks of each worker thread
# (two non-zero counts: no extra poller slot opened). The c=16 tail of a server can depend on
# what ran on it before; ab.sh starts a fresh server per level and cannot show that.
#
#   benches/scripts/levels.sh target/release/examples/hello   # five runs
set -u
bin=$1; runs=${RUNS:-5}
for _ in $(seq "$runs"); do
  port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  "$bin" --quiet --port "$port" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
  wrk -t1 -c1 -d1 "http://127.0.0.1:$port/" >/dev/null
  wrk -t1 -c1 -d5 "http://127.0.0.1:$port/" >/dev/null
  wrk -t2 -c16 -d1 "http://127.0.0.1:$port/" >/dev/null
  res=$(wrk -t2 -c16 -d5 --latency "http://127.0.0.1:$port/")
  ticks=$(for t in /proc/$pid/task/*; do
    [[ $(cat "$t/comm") == gateway-worker* ]] && awk '{printf "%d ", $14 + $15}' "$t/stat"
  done)
  echo "c=16 $(awk '/Requests\/sec/{print $2}' <<<"$res") req/s, p99 $(awk '/ 99%/{print $2}' <<<"$res"); worker CPU ticks: $ticks"
  kill "$pid"; wait "$pid" 2>/dev/null
done
