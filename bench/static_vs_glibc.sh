#!/usr/bin/env bash
# Compares the static release binary (glibc crt-static + mimalloc) with the ordinary dynamic
# glibc build on bench/run.sh's load (durable holds, quotes), alternating runs so both see the
# same machine conditions. Builds both first (target/static and target/release).
# Usage: bench/static_vs_glibc.sh [rounds]   (BENCH_DURATION, default 10s per scenario)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-2}
export BENCH_DURATION=${BENCH_DURATION:-10s} BENCH_READY_ROWS=0
STATIC=target/static/x86_64-unknown-linux-gnu/release/alojamientos
DYNAMIC=target/release/alojamientos
RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --locked --quiet \
  --target x86_64-unknown-linux-gnu --target-dir target/static
cargo build --release --locked --quiet
file "$STATIC" "$DYNAMIC" | sed 's/, BuildID[^,]*//'
for round in $(seq 1 "$ROUNDS"); do
  for bin in "$STATIC" "$DYNAMIC"; do
    echo "== round $round: $bin"
    bench/run.sh "$bin" fresh | grep -E '^==|Requests/sec|^ +99%|max RSS'
  done
done
