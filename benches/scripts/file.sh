#!/usr/bin/env bash
# Serves ${BIG_FILE:-/tmp/big.bin} with and without sendfile; prints wall time, throughput and server CPU.
# Run from the repository root after `cargo build --release --examples`. Makes a 1 GiB file first:
#   head -c 1073741824 /dev/urandom > /tmp/big.bin
set -u
for mode in sendfile no-sendfile; do
  flag=""; [ $mode = no-sendfile ] && flag="--no-sendfile"
  target/release/examples/sendfile --port 8201 --file ${BIG_FILE:-/tmp/big.bin} $flag 2>/dev/null & pid=$!
  sleep 0.3
  curl -s -o /dev/null http://127.0.0.1:8201/ # warm the page cache
  read -r u0 s0 < <(awk '{print $14, $15}' /proc/$pid/stat)
  for i in 1 2 3; do
    curl -s -o /dev/null -w "$mode run $i: %{size_download} bytes in %{time_total}s = %{speed_download} B/s\n" http://127.0.0.1:8201/
  done
  read -r u1 s1 < <(awk '{print $14, $15}' /proc/$pid/stat)
  tck=$(getconf CLK_TCK)
  echo "$mode: server CPU for 3 GiB: user $(( (u1-u0)*1000/tck )) ms, sys $(( (s1-s0)*1000/tck )) ms"
  kill -TERM $pid; wait $pid 2>/dev/null
done
