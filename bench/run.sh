#!/usr/bin/env bash
# Load benchmark of the release binary on this machine (server and load generator share it).
# Measures: durable holds/s and p99 at 64 clients, quotes/s, peak RSS under that load, and
# time to ready with BENCH_READY_ROWS reservations in the store. Needs wrk and curl.
# Usage: bench/run.sh [path/to/alojamientos]   (default: target/release/alojamientos)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/alojamientos}
UNITS=${BENCH_UNITS:-100}
DURATION=${BENCH_DURATION:-15s}
READY_ROWS=${BENCH_READY_ROWS:-100000}
PORT=${BENCH_PORT:-18080}
DATA=$(mktemp -d)
export BENCH_UNITS=$UNITS BENCH_THREADS=2
trap 'kill $PID 2>/dev/null || true; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$DATA"' EXIT
# shellcheck source=bench/lib.sh
source bench/lib.sh

start
login
create_units "$UNITS"

metrics_dump() { curl -sf "$BASE/metrics" > "${BENCH_METRICS:-/dev/null}"; }
peak_rss() { awk '/VmHWM/ {print int($2/1024) " MB"}' "/proc/$PID/status"; }

echo "== durable pre-reservations (POST /api/v1/reservations), 64 connections, $DURATION"
wrk -t2 -c64 -d"$DURATION" --latency -s bench/reserve.lua "$BASE" | grep -E 'Requests/sec|Latency|50%|99%|Non-2xx|requests in'
echo "peak RSS so far: $(peak_rss)"; metrics_dump

echo "== quotes (GET /api/v1/accommodations/{id}/quote), 64 connections, $DURATION"
wrk -t2 -c64 -d"$DURATION" --latency -s bench/quote.lua "$BASE" | grep -E 'Requests/sec|Latency|50%|99%|Non-2xx|requests in'
echo "peak RSS under load: $(peak_rss)"

ROWS=$(admin GET /api/v1/admin/stats | sed 's/.*"pre_reserved":\([0-9]*\).*/\1/')
OFFSET=0
while [ "$ROWS" -lt "$READY_ROWS" ]; do
  OFFSET=$((OFFSET + 2000))
  BENCH_OFFSET=$OFFSET wrk -t2 -c64 -d5s -s bench/reserve.lua "$BASE" >/dev/null
  ROWS=$(admin GET /api/v1/admin/stats | sed 's/.*"pre_reserved":\([0-9]*\).*/\1/')
done
kill -TERM $PID; wait $PID || true
echo "== time to ready with $ROWS reservations in a $(du -h "$DATA/alojamientos.redb" | cut -f1) store"
T0=$(date +%s%N); start; T1=$(date +%s%N)
echo "ready in $(( (T1 - T0) / 1000000 )) ms"
kill -KILL $PID; wait $PID 2>/dev/null || true
echo "== time to ready after kill -9 (redb repairs the file on open)"
T0=$(date +%s%N); start; T1=$(date +%s%N)
echo "ready in $(( (T1 - T0) / 1000000 )) ms"
