#!/usr/bin/env bash
# The crash loop against the release build: CRASH_KILLS (50) SIGKILLs at random moments under
# mixed load, each followed by `alojamientos check`, a restart and a full verification
# (tests/api/reliability/crash_loop.rs). The whole run (load generator and the server it starts) is niced.
#   bench/crash-loop.sh            # report in target/reliability/crash-loop.json
set -euo pipefail
cd "$(dirname "$0")/.."
export CRASH_KILLS=${CRASH_KILLS:-50}
nice -n 19 cargo test --release --locked --test api reliability::crash_loop -- --nocapture 2>&1 | tee target/crash-loop.log | grep -E '^kill |test result|panicked'
jq '{date, kills, seconds, acknowledged_writes, lost, payments_notified, payments_applied_twice,
     whatsapp_sent, whatsapp_duplicates, emails_sent, email_duplicates, duplicates_per_kill}' \
  target/reliability/crash-loop.json
