#!/usr/bin/env bash
# A peer server from ../shared/bench (built by its compare.sh) behind the flags the scripts here
# give a binary, so ab.sh can run it: `peer.sh limit --quiet --port N` runs `limit-peer N`.
#
#   benches/scripts/ab.sh "benches/scripts/peer.sh limit" target/release/examples/hello
#
# Peers: limit, hyper, tinyhttp, minihttp. BENCH_HOME as in compare.sh (/tmp/gateway-bench).
set -u
name=$1; shift
port=
while [ $# -gt 0 ]; do case $1 in --port) port=$2; shift 2;; *) shift;; esac; done
exec "${BENCH_HOME:-/tmp/gateway-bench}/target/release/$name-peer" "$port"
