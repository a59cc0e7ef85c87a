#!/usr/bin/env bash
# Server memory under malformed traffic (issue 8): hello's RSS sampled every 10 s through
# BASE seconds of normal keep-alive traffic, MAL seconds of malformed requests on fresh
# connections (benches/scripts/malformed.py: ~60 kinds, 12 threads, about one core), and COOL
# seconds with no client. Run from the repository root after
# `cargo build --release --example hello`; writes /tmp/gateway-memory.csv.
#
#   benches/scripts/memory.sh [BASE_S=60] [MAL_S=1500] [COOL_S=60] [PORT=18182]
set -u
base=${1:-60} mal=${2:-1500} cool=${3:-60} port=${4:-18182}
here=$(dirname "$0"); out=/tmp/gateway-memory.csv; phase=$(mktemp)
echo baseline > "$phase"
target/release/examples/hello --port "$port" --quiet 2>/dev/null & server=$!
sleep 0.5
python3 "$here/rss_sample.py" $server "$out" 10 "$phase" & sampler=$!
python3 "$here/malformed.py" --port "$port" --normal --threads 2 --pause 0.1 --seconds "$base" >/dev/null 2>&1
echo malformed > "$phase"
python3 "$here/malformed.py" --port "$port" --threads 12 --seconds "$mal" >/dev/null 2>&1
echo idle > "$phase"
sleep "$cool"
grep -E "VmRSS|VmHWM" /proc/$server/status
kill -INT $server; wait $server
wait $sampler
rm -f "$phase"
echo "samples: $out"
