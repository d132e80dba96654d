#!/usr/bin/env bash
# Instructions per request on the server side, counted by valgrind's callgrind: unlike wall
# clock figures, immune to whatever else runs on the machine. Starts BINARY under callgrind,
# warms up, then counts COUNT requests of KIND from bench/load.py (CONNECTIONS at a time).
# Usage: bench/callgrind.sh BINARY KIND [COUNT] [CONNECTIONS]   (KIND: hold, quote, healthz)
# BENCH_DATA=DIR starts from a copy of the data directory DIR (e.g. a seeded history store,
# whose accommodations 1..BENCH_UNITS exist); BENCH_OFFSET moves the dates (days).
# Leaves the profile and its annotation in $BENCH_OUT (default: a new temporary directory).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "$1") KIND=$2 COUNT=${3:-2000} CONNECTIONS=${4:-16}
PORT=${BENCH_PORT:-18090}
UNITS=${BENCH_UNITS:-100}
DATA=$(mktemp -d)
OUT=${BENCH_OUT:-$(mktemp -d)}
mkdir -p "$OUT"
export BENCH_UNITS=$UNITS
trap 'kill $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT
RUNNER="valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=$OUT/callgrind.out"
# shellcheck source=bench/lib.sh
source bench/lib.sh
[ -z "${BENCH_DATA:-}" ] || cp -a "$BENCH_DATA"/. "$DATA"/
start
if [ -z "${BENCH_DATA:-}" ]; then login; create_units "$UNITS"; fi
OFFSET=${BENCH_OFFSET:-0}
BENCH_OFFSET=$((OFFSET + 3000)) bench/load.py "$BASE" "$KIND" 300 "$CONNECTIONS" >/dev/null
callgrind_control -i on "$PID" >/dev/null 2>&1
BENCH_OFFSET=$OFFSET bench/load.py "$BASE" "$KIND" "$COUNT" "$CONNECTIONS" | tee "$OUT/load.json"
callgrind_control -d "$PID" >/dev/null 2>&1
callgrind_control -i off "$PID" >/dev/null 2>&1
until dump=$(find "$OUT" -name "callgrind.out.*" | head -1) && [ -n "$dump" ]; do sleep 0.1; done
sleep 1
total=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$dump")
{ callgrind_annotate --inclusive=yes "$dump" 2>/dev/null || true; } | head -100 >"$OUT/inclusive.txt"
{ callgrind_annotate "$dump" 2>/dev/null || true; } | head -80 >"$OUT/self.txt"
echo "$KIND: $((total / COUNT)) instructions per request ($total for $COUNT; profile in $OUT)"
