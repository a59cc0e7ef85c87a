#!/usr/bin/env bash
set -u
# Run from the repository root after `cargo build --release --examples`; needs wrk and python3.

target/release/examples/hello --quiet --keep-alive 120 --port 8202 2>/dev/null & pid=$!
sleep 0.3
echo "unloaded:"; wrk -t2 -c16 -d5 http://127.0.0.1:8202/ | grep -E "Requests/sec|Latency"
echo "RSS before idle connections: $(grep VmRSS /proc/$pid/status)"
python3 "$(dirname "$0")/idle.py" 8202 10000 25 & ipid=$!
sleep 12
echo "server threads: $(ls /proc/$pid/task | wc -l), open fds: $(ls /proc/$pid/fd | wc -l)"
echo "RSS with 10000 idle connections: $(grep VmRSS /proc/$pid/status)"
echo "loaded:"; wrk -t2 -c16 -d5 http://127.0.0.1:8202/ | grep -E "Requests/sec|Latency"
wait $ipid
kill -TERM $pid; wait $pid 2>/dev/null
