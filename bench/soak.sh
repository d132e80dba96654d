#!/usr/bin/env bash
# The soak against the release build: SOAK_SECONDS (3600) of steady mixed load at ~10 % of
# capacity (rates in tests/api/reliability/soak.rs), RSS, open fds and p50/p99 sampled every 10 s. The load
# generator runs at nice 19; the server it starts is put back to normal priority.
#   bench/soak.sh        # target/reliability/soak.csv and soak.md
#   SOAK_SERVER_ENV="SERVER__CACHE_SIZE_MB=4" bench/soak.sh   # the same with a setting changed
set -euo pipefail
cd "$(dirname "$0")/.."
export SOAK_SECONDS=${SOAK_SECONDS:-3600} SOAK_SAMPLE_SECONDS=${SOAK_SAMPLE_SECONDS:-10}
nice -n 19 cargo test --release --locked --test api reliability::soak -- --nocapture 2>&1 | tee target/soak.log | grep -E 'test result|panicked'
cat target/reliability/soak.md
