#!/usr/bin/env bash
# WhatsApp channel benchmarks of the release binary on this machine: NLU time per message over
# the golden set, then signed text messages at BENCH_RATE/s (200) for BENCH_DURATION_S (30) s
# against the webhook, with a fake Graph API served by the driver (examples/whatsapp_load.rs):
# webhook acknowledgement latency and message-to-reply latency (reply handed to the Graph API).
# Usage: bench/whatsapp.sh [path/to/alojamientos]   (default: target/release/alojamientos)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/alojamientos}
PORT=${BENCH_PORT:-18083}
GRAPH_PORT=${BENCH_GRAPH_PORT:-18084}
SECRET=bench-app-secret
DATA=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT
cargo build --release --quiet --example nlu_bench --example whatsapp_load

echo "== NLU, one message at a time"
target/release/examples/nlu_bench

export ALOJAMIENTOS_WHATSAPP__API_BASE_URL=http://127.0.0.1:$GRAPH_PORT
export ALOJAMIENTOS_WHATSAPP__PHONE_NUMBER_ID=1
export ALOJAMIENTOS_WHATSAPP__ACCESS_TOKEN=bench-token
export ALOJAMIENTOS_WHATSAPP__APP_SECRET=$SECRET
# shellcheck source=bench/lib.sh
source bench/lib.sh
start
login
create_units 3

echo "== ${BENCH_RATE:-200} text messages/s for ${BENCH_DURATION_S:-30} s"
BENCH_BASE=$BASE BENCH_SECRET=$SECRET BENCH_GRAPH_PORT=$GRAPH_PORT \
  BENCH_RATE=${BENCH_RATE:-200} BENCH_SECONDS=${BENCH_DURATION_S:-30} \
  target/release/examples/whatsapp_load
echo "peak RSS of the server: $(awk '/VmHWM/ {print $2 / 1024 " MB"}' "/proc/$PID/status")"
