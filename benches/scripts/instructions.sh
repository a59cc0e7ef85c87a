#!/usr/bin/env bash
# User-space instructions per request of examples/hello, counted by callgrind (repeatable
# whatever the machine is doing). Run from the repository root after
# `cargo build --release --example hello`; needs valgrind and python3. Prints the total and
# leaves callgrind.out.hello for callgrind_annotate.
#
#   benches/scripts/instructions.sh [requests per connection, default 5000]
#   BIN=target/release/examples/routed_hello benches/scripts/instructions.sh   # another server
#   (it must take --quiet --port N --threads N and answer GET / with "Hello World")
#   REQUEST=browser benches/scripts/instructions.sh   # a browser's 700-byte head instead of wrk's
#   CONNS=1 benches/scripts/instructions.sh   # one connection: the keep-alive fast path
set -u
n=${1:-5000}; conns=${CONNS:-4}; port=18181
out=callgrind.out.hello
valgrind --tool=callgrind --callgrind-out-file=$out \
  "${BIN:-target/release/examples/hello}" --quiet --port $port --threads 2 >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.2; done
python3 "$(dirname "$0")/keepalive_load.py" $port "$n" $conns
kill -INT $pid; wait $pid 2>/dev/null
total=$(awk '/^summary:|^totals:/{print $2; exit}' $out)
echo "instructions: $total in all, $((total / (n * conns))) per request ($((n * conns)) requests)"
