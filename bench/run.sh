#!/usr/bin/env bash
# Load benchmark of the release binary on this machine (server and load generator share it).
# Usage: bench/run.sh [path/to/alojamientos] [SCENARIO...]   (default binary:
# target/release/alojamientos; scenarios also from BENCH_SCENARIOS; default: fresh history noscrape)
#   fresh     an empty store: durable holds/s and p99 at 64 clients, quotes/s, peak RSS; then
#             time to ready with BENCH_READY_ROWS holds taken through the API (0 skips it)
#   history   the same holds and quotes on a store with a long history (below), after its live
#             stays; then time to ready with that store, clean and after kill -9
#   growth    holds on a fresh store in BENCH_GROWTH_WINDOWS (4) back-to-back windows of
#             BENCH_DURATION: holds/s and the store's size as it grows (compare with history)
#   pair      the history store and a fresh one served at once, holds windows alternating between
#             them, then quotes windows the same way (BENCH_PAIR_ROUNDS rounds, 3): the fairest
#             history-vs-fresh comparison here
#   noscrape  BENCH_NOSCRAPE_REQUESTS requests (default 10 M: quotes plus a few holds) and no
#             /metrics scrape; RSS every 10 s, and its spread after the first tenth
# History (BENCH_SEED):
#   store  BENCH_HISTORY reservations (default 1 M) of every status on 100 accommodations,
#          written through the store by examples/seed_history (BENCH_SEEDER, default beside the
#          binary: target/release/examples/seed_history; `cargo build --release --example
#          seed_history`): completed stays and blocks over the past 5 years, confirmed stays
#          filling the next 5, cancelled and expired holds. The default when the seeder exists.
#   api    the same live stays (confirmed, filling the next BENCH_YEARS years) through the admin
#          API, plus BENCH_API_HOLDS holds (default 200 000) that lapse and expire: works with
#          any binary, e.g. main's before this seeder existed, so both sides see the same store.
# Build the binary and the seeder with two commands, `cargo build --release --bin alojamientos`
# then `cargo build --release --example seed_history`: one command building both unifies the
# dev-dependencies' features into the binary (tokio's test-util), so it is not the binary a
# host runs (a different file; its speed was not measured apart).
# Needs wrk, curl and python3. BENCH_DURATION (15s), BENCH_UNITS (100), BENCH_PORT tune it.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${1:-target/release/alojamientos}")
shift || true
SCENARIOS=${*:-${BENCH_SCENARIOS:-fresh history noscrape}}
UNITS=${BENCH_UNITS:-100}
DURATION=${BENCH_DURATION:-15s}
READY_ROWS=${BENCH_READY_ROWS:-100000}
PORT=${BENCH_PORT:-18080}
YEARS=${BENCH_YEARS:-5}
SEEDER=${BENCH_SEEDER:-$(dirname "$BIN")/examples/seed_history}
[ -x "$SEEDER" ] && SEED=${BENCH_SEED:-store} || SEED=${BENCH_SEED:-api}
export BENCH_UNITS=$UNITS BENCH_THREADS=2
DATA='' PID=''
cleanup() { [ -z "$PID" ] || kill "$PID" 2>/dev/null || true; [ -n "${BENCH_KEEP:-}" ] || [ -z "$DATA" ] || rm -rf "$DATA"; }
trap cleanup EXIT
# shellcheck source=bench/lib.sh
source bench/lib.sh

fresh_data() { cleanup; DATA=$(mktemp -d); PID=; }
peak_rss() { awk '/VmHWM/ {print int($2/1024) " MB"}' "/proc/$PID/status"; }
rss_mb() { awk '/VmRSS/ {print int($2/1024)}' "/proc/$PID/status"; }
stop() { kill -TERM "$PID"; wait "$PID" || true; PID=; }
# rps / p99 OUT: requests per second and the 99th percentile in wrk's output.
rps() { echo "$1" | awk '/Requests\/sec/ {print $2}'; }
p99() { echo "$1" | awk '$1 == "99%" {print $2}'; }
# result WHAT FIGURES...: one machine-readable line per figure (bench/compare.sh reads them).
result() { local what=$1; shift; echo "RESULT $SCENARIO $what $*"; }
wrk_run() { # SCRIPT OFFSET WHAT: also samples the server's RSS every 0.2 s meanwhile
  local out
  (while kill -0 "$PID" 2>/dev/null; do rss_mb; sleep 0.2; done) >"$DATA/rss.samples" &
  local sampler=$!
  out=$(BENCH_OFFSET=$2 wrk -t2 -c64 -d"$DURATION" --latency -s "bench/$1" "$BASE")
  kill "$sampler"; wait "$sampler" 2>/dev/null || true
  echo "$out" | grep -E 'Requests/sec|Latency|50%|99%|Non-2xx|requests in'
  local rss
  rss=$(sort -n "$DATA/rss.samples" | tail -1)
  echo "max RSS during the run: $rss MB"
  result "$3" "rps=$(rps "$out")" "p99=$(p99 "$out")" \
    "non2xx=$(echo "$out" | awk '/Non-2xx/ {print $5}')" "max_rss_mb=$rss"
}
holds_and_quotes() { # OFFSET
  echo "== durable pre-reservations (POST /api/v1/reservations), 64 connections, $DURATION"
  wrk_run reserve.lua "$1" holds
  echo "peak RSS so far: $(peak_rss)"; curl -sf "$BASE/metrics" >"${BENCH_METRICS:-/dev/null}"
  echo "== quotes (GET /api/v1/accommodations/{id}/quote), 64 connections, $DURATION"
  wrk_run quote.lua "$1" quotes
  echo "peak RSS since start (VmHWM, includes the argon2 password hash at login): $(peak_rss)"
  result peak_rss "mb=$(peak_rss | cut -d' ' -f1)"
}
time_to_ready() { # WHAT LABEL
  echo "== time to ready $1"
  local t0 t1
  t0=$(date +%s%N); start; t1=$(date +%s%N)
  echo "ready in $(( (t1 - t0) / 1000000 )) ms"
  result "$2" "ms=$(( (t1 - t0) / 1000000 ))"
}
ready_after_restarts() {
  stop
  echo "store: $(du -h "$DATA/alojamientos.redb" | cut -f1)"
  time_to_ready "(clean shutdown before)" ready_clean
  # Killed while it takes holds, so the last commit is one of the load's, not the start's.
  BENCH_OFFSET=$((${OFFSET:-0} + 9000)) wrk -t1 -c8 -d3s -s bench/reserve.lua "$BASE" >/dev/null &
  local load=$!
  sleep 1.5
  kill -KILL "$PID"; wait "$PID" 2>/dev/null || true
  wait "$load" || true
  time_to_ready "after kill -9 during holds (redb repairs the file on open)" ready_after_kill
}

fresh() {
  echo "#### fresh store"
  fresh_data; start; login; create_units "$UNITS"
  holds_and_quotes 0
  [ "$READY_ROWS" -gt 0 ] || return 0
  local rows offset=0
  rows=$(admin GET /api/v1/admin/stats | sed 's/.*"pre_reserved":\([0-9]*\).*/\1/')
  while [ "$rows" -lt "$READY_ROWS" ]; do
    offset=$((offset + 2000))
    BENCH_OFFSET=$offset wrk -t2 -c64 -d5s -s bench/reserve.lua "$BASE" >/dev/null
    rows=$(admin GET /api/v1/admin/stats | sed 's/.*"pre_reserved":\([0-9]*\).*/\1/')
  done
  echo "$rows reservations"
  ready_after_restarts
}

seed_api() {
  local holds=${BENCH_API_HOLDS:-200000} far=$((YEARS * 366 + 3 + 3000))
  ALOJAMIENTOS_RESERVATIONS__HOLD_DURATION=1s start; login; create_units "$UNITS"
  BENCH_TOKEN=$TOKEN BENCH_YEARS=$YEARS bench/load.py "$BASE" live 0 16
  BENCH_OFFSET=$far bench/load.py "$BASE" hold "$holds" 16
  echo "waiting for the expiry job to expire $holds lapsed holds"
  until [ "$(admin GET /api/v1/admin/stats | sed 's/.*"pre_reserved":\([0-9]*\).*/\1/')" = 0 ]; do
    sleep 2
  done
  admin GET /api/v1/admin/stats; echo
  stop
  OFFSET=$((YEARS * 366 + 3))
}

seed_store() {
  local out
  out=$("$SEEDER" "$DATA" "${BENCH_HISTORY:-1000000}" "$UNITS" "$YEARS")
  echo "$out"
  OFFSET=$(echo "$out" | sed -n 's/.*BENCH_OFFSET=\([0-9]*\).*/\1/p')
  # The seeder leaves gigabytes of dirty pages: written back during the holds, they slow every
  # fdatasync (~12k instead of ~14k holds/s at 1 M, 2026-12-07). A store that grew over years
  # has none, so write them now.
  sync
  echo "store files (MB): $(cd "$DATA" && du -m ./*.redb | tr '\t\n' '  ')"
}

history() {
  echo "#### history store (seeded through the $SEED)"
  fresh_data
  "seed_$SEED"
  start
  holds_and_quotes "$OFFSET"
  ready_after_restarts
}

growth() {
  local windows=${BENCH_GROWTH_WINDOWS:-4} w out reservations=0
  echo "#### growth: holds on a fresh store, $windows windows of $DURATION back to back"
  fresh_data; start; login; create_units "$UNITS"
  for w in $(seq 1 "$windows"); do
    # Each window books nights after the previous one's (about 2,200 nights per unit in 15 s).
    out=$(BENCH_OFFSET=$(((w - 1) * 2600)) wrk -t2 -c64 -d"$DURATION" --latency -s bench/reserve.lua "$BASE")
    reservations=$((reservations + $(echo "$out" | awk '/requests in/ {print $1}')))
    echo "window $w: $(rps "$out") holds/s, p99 $(p99 "$out"), about $reservations reservations," \
      "store $(du -m "$DATA/alojamientos.redb" | cut -f1) MB"
    result "window$w" "rps=$(rps "$out")" \
      "reservations=$reservations" "store_mb=$(du -m "$DATA/alojamientos.redb" | cut -f1)"
  done
}

pair() {
  # The seeded 1 M store and a fresh one served at once, BENCH_PAIR_ROUNDS (3) rounds of one
  # holds window and one quotes window on each: both sides see the same moment of a machine
  # whose speed drifts.
  local rounds=${BENCH_PAIR_ROUNDS:-3} r out hist_pid hist_data hist_base
  echo "#### pair: holds and quotes windows alternating between a $SEED-seeded history store and a fresh one"
  fresh_data; "seed_$SEED"; start
  hist_pid=$PID hist_data=$DATA hist_base=$BASE
  DATA=$(mktemp -d); PORT=$((PORT + 1)); BASE="http://127.0.0.1:$PORT"
  start; login; create_units "$UNITS"
  for r in $(seq 1 "$rounds"); do
    for kind in holds quotes; do
      local script=reserve.lua
      [ "$kind" = holds ] || script=quote.lua
      # Odd rounds start with the history store, even ones with the fresh one.
      for side in $([ $((r % 2)) = 1 ] && echo history fresh || echo fresh history); do
        if [ "$side" = history ]; then
          out=$(BENCH_OFFSET=$((OFFSET + (r - 1) * 2600)) wrk -t2 -c64 -d"$DURATION" --latency -s "bench/$script" "$hist_base")
        else
          out=$(BENCH_OFFSET=$(((r - 1) * 2600)) wrk -t2 -c64 -d"$DURATION" --latency -s "bench/$script" "$BASE")
        fi
        echo "round $r $side: $(rps "$out") $kind/s, p99 $(p99 "$out")"
        result "$([ "$kind" = holds ] || echo quotes_)$side$r" "rps=$(rps "$out")" "p99=$(p99 "$out")"
      done
    done
  done
  kill "$hist_pid"; wait "$hist_pid" || true
  [ -n "${BENCH_KEEP:-}" ] || rm -rf "$hist_data"
  PORT=$((PORT - 1)); BASE="http://127.0.0.1:$PORT"
}

noscrape() {
  local total=${BENCH_NOSCRAPE_REQUESTS:-10000000} done=0 round=0 started samples=()
  echo "#### no scrape: $total requests (quotes, and holds on 4 connections), RSS every 10 s"
  fresh_data; start; login; create_units "$UNITS"
  started=$(date +%s)
  while [ "$done" -lt "$total" ]; do
    round=$((round + 1))
    BENCH_OFFSET=$((round * 1000)) wrk -t1 -c4 -d10s -s bench/reserve.lua "$BASE" >"$DATA/holds.out" &
    local quotes=$!
    wrk -t2 -c60 -d10s -s bench/quote.lua "$BASE" >"$DATA/quotes.out"
    wait "$quotes"
    done=$((done + $(cat "$DATA/holds.out" "$DATA/quotes.out" | awk '/requests in/ {n += $1} END {print n}')))
    samples+=("$(rss_mb)")
    echo "t=$(( $(date +%s) - started ))s requests=$done rss=${samples[-1]} MB"
  done
  local skip=$(( ${#samples[@]} / 10 )) after
  after=("${samples[@]:$skip}")
  local lo hi
  lo=$(printf '%s\n' "${after[@]}" | sort -n | head -1)
  hi=$(printf '%s\n' "${after[@]}" | sort -n | tail -1)
  echo "RSS after warm-up: min $lo MB, max $hi MB; peak $(peak_rss)"
  result rss "after_warmup_min_mb=$lo" "after_warmup_max_mb=$hi" "spread_mb=$((hi - lo))" \
    "peak_mb=$(peak_rss | cut -d' ' -f1)" "requests=$done"
}

for SCENARIO in $SCENARIOS; do
  "$SCENARIO"
done
