#!/usr/bin/env bash
# iCal benchmarks of the release binary on this machine: latency of an export with 2,000 events,
# and quote latency with and without a sync round of 50 feeds (500 events each) running.
# Needs wrk, curl and python3 (serves the feeds). The parse + diff of a 10,000-event feed is
# `cargo run --release --example ical_parse`.
# Usage: bench/ical.sh [path/to/alojamientos]   (default: target/release/alojamientos)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/alojamientos}
PORT=${BENCH_PORT:-18081}
FEED_PORT=${BENCH_FEED_PORT:-18082}
DURATION=${BENCH_DURATION:-10s}
FEEDS=50
DATA=$(mktemp -d)
export BENCH_UNITS=$FEEDS
export ALOJAMIENTOS_ICAL__CHECK_SCHEDULE="0 0 0 1 1 *"   # syncs are started by this script
trap 'kill $PID $FEED_PID 2>/dev/null || true; rm -rf "$DATA"' EXIT
# shellcheck source=bench/lib.sh
source bench/lib.sh

day() { date -u -d "+$1 days" +%Y-%m-%d; }

start
login
create_units "$FEEDS"

echo "== filling accommodation 1 with 1,000 bookings and 1,000 owner blocks"
for i in $(seq 0 1999); do
  if (( i % 2 )); then
    admin POST /api/v1/admin/blocks \
      "{\"accommodation_id\":1,\"check_in\":\"$(day $((i + 2)))\",\"check_out\":\"$(day $((i + 3)))\",\"reason\":\"bench\"}" >/dev/null
  else
    admin POST /api/v1/admin/reservations \
      "{\"accommodation_id\":1,\"check_in\":\"$(day $((i + 2)))\",\"check_out\":\"$(day $((i + 3)))\",\"guests\":2,\"contact_name\":\"Bench\",\"contact_phone\":\"+5491122334455\",\"confirmed\":true}" >/dev/null
  fi
done
EXPORT=$(admin GET /api/v1/admin/accommodations/1/ical | sed 's/.*"export_path":"\([^"]*\)".*/\1/')
echo "events in the export: $(curl -sf "$BASE$EXPORT" | grep -c '^BEGIN:VEVENT')"
echo "== export with 2,000 events right after a change (cache cold), 20 requests"
for i in $(seq 1 20); do
  admin POST /api/v1/admin/blocks \
    "{\"accommodation_id\":1,\"check_in\":\"$(day $((3000 + i)))\",\"check_out\":\"$(day $((3001 + i)))\",\"reason\":\"bench\"}" >/dev/null
  curl -sf -o /dev/null -w '%{time_total}\n' "$BASE$EXPORT"
done | sort -n | awk '{t[NR]=$1*1000} END {printf "median %.2f ms, worst %.2f ms\n", t[int((NR+1)/2)], t[NR]}'
echo "== export with 2,000 events, unchanged (cached render), 1 connection, $DURATION"
wrk -t1 -c1 -d"$DURATION" --latency "$BASE$EXPORT" | grep -E 'Requests/sec|50%|99%|Non-2xx'

mkdir -p "$DATA/feeds"
{
  printf 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n'
  for i in $(seq 0 499); do
    printf 'BEGIN:VEVENT\r\nUID:bench-%d@ota.example\r\nDTSTART;VALUE=DATE:%s\r\nDTEND;VALUE=DATE:%s\r\nSUMMARY:Reserved\r\nDESCRIPTION:Reservation URL: https://ota.example/hosting/reservations/det\r\n ails/HM%08d\r\nEND:VEVENT\r\n' \
      "$i" "$(date -u -d "+$((400 + 3 * i)) days" +%Y%m%d)" "$(date -u -d "+$((402 + 3 * i)) days" +%Y%m%d)" "$i"
  done
  printf 'END:VCALENDAR\r\n'
} > "$DATA/feeds/feed.ics"
# The feed server and the sync trigger stand in for the OTAs and the scheduler: they run at the
# lowest priority so that what is measured is the server, not this script.
nice -n 19 python3 -m http.server --bind 127.0.0.1 --directory "$DATA/feeds" "$FEED_PORT" >/dev/null 2>&1 &
FEED_PID=$!
until curl -sf "http://127.0.0.1:$FEED_PORT/feed.ics" >/dev/null; do sleep 0.05; done
for i in $(seq 1 "$FEEDS"); do
  admin POST "/api/v1/admin/accommodations/$i/feeds" \
    "{\"url\":\"http://127.0.0.1:$FEED_PORT/feed.ics?unit=$i\",\"source\":\"other\"}" >/dev/null
done

# One round: 50 requests, 4 at a time, from low-priority curl processes: to each feed's "sync
# now" (`sync_round`), or to /readyz (`control_round`: the same client load with no sync work,
# to tell the cost of this script's own processes from the cost of syncing). Each waits only
# for its own requests (a bare `wait` would also wait for the feed server and never return).
round_of() {
  local pids=()
  for i in $(seq 1 "$FEEDS"); do
    nice -n 19 curl -sf -X "$1" "$BASE${2//\{i\}/$i}" -H "authorization: Bearer $TOKEN" >/dev/null &
    pids+=($!)
    if (( ${#pids[@]} == 4 )); then
      wait "${pids[@]}" || true
      pids=()
    fi
  done
  (( ${#pids[@]} == 0 )) || wait "${pids[@]}" || true
}
sync_round() { round_of POST '/api/v1/admin/accommodations/{i}/feeds/{i}/sync'; }
control_round() { round_of GET /api/v1/readyz; }
T0=$(date +%s%N); sync_round; T1=$(date +%s%N)
echo "== first sync round: 50 feeds x 500 events imported in $(( (T1 - T0) / 1000000 )) ms"

quotes() {
  wrk -t1 -c"$1" -d"$DURATION" --latency -s bench/quote.lua "$BASE" | grep -E 'Requests/sec|50%|99%|Non-2xx'
}
syncs() { curl -sf "$BASE/metrics" | awk '/^ical_sync_runs_total\{/ {s+=$2} END {print s}'; }
# Alternate quiet, control and syncing windows twice, at a moderate (4 connections) and a
# saturating (16 connections) quote load.
window() {
  local before
  before=$(syncs)
  ( while :; do "$1"; done ) &
  local loop=$!
  quotes "$2"
  kill "$loop" 2>/dev/null || true
  wait "$loop" 2>/dev/null || true
  echo "   feed syncs during the window: $(( $(syncs) - before ))"
}
for round in 1 2; do
  for c in 4 16; do
    echo "== [$round] quotes, $c connections, $DURATION, nothing else running"
    quotes "$c"
    echo "== [$round] quotes, $c connections, $DURATION, control: the same curl load on /readyz"
    window control_round "$c"
    echo "== [$round] quotes, $c connections, $DURATION, sync rounds of 50 feeds back to back"
    window sync_round "$c"
  done
done
