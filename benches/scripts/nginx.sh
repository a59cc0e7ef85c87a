#!/usr/bin/env bash
# Throughput through nginx in front of two hello instances, beside one instance direct, with
# wrk on loopback (all on this machine's cores). Run from the repository root after
# `cargo build --release -p gateway-examples --example hello`; needs nginx and wrk.
#
#   benches/scripts/nginx.sh [seconds per run, default 5] [connections, default 16]
set -eu
secs=${1:-5}; conns=${2:-16}
bin=target/release/examples/hello
dir=$(mktemp -d)
trap 'kill $(cat "$dir"/pids) 2>/dev/null; rm -rf "$dir"' EXIT
: >"$dir/pids"
$bin --quiet --port 18601 & echo $! >>"$dir/pids"
$bin --quiet --port 18602 & echo $! >>"$dir/pids"
mkdir -p "$dir/tmp"
cat >"$dir/nginx.conf" <<CONF
daemon off; master_process off; worker_processes 1; pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body; proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fcgi; uwsgi_temp_path $dir/tmp/uwsgi; scgi_temp_path $dir/tmp/scgi;
  upstream gateway { server 127.0.0.1:18601; server 127.0.0.1:18602; keepalive 32; }
  server { listen 127.0.0.1:18600;
    location / { proxy_pass http://gateway; proxy_http_version 1.1; proxy_set_header Connection ""; } }
}
CONF
/usr/sbin/nginx -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log" & echo $! >>"$dir/pids"
for port in 18600 18601 18602; do
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
done
run() { wrk -t2 -c"$conns" -d"${secs}s" --latency "$1" | awk -v name="$2" '/Requests\/sec/ {rps=$2} /99%/ {p99=$2} END {printf "%s: %s req/s, p99 %s\n", name, rps, p99}'; }
run http://127.0.0.1:18601/ "one instance direct"
run http://127.0.0.1:18600/ "nginx (1 worker) -> two instances"
