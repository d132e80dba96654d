#!/usr/bin/env bash
# Coverage-guided fuzzing of every target in fuzz/ (cargo-fuzz, libFuzzer, nightly), niced.
#   bench/fuzz.sh                 # every target, FUZZ_SECONDS (600) each
#   bench/fuzz.sh ical money      # some targets
# Needs: rustup toolchain install nightly --profile minimal; cargo install cargo-fuzz.
# Writes target/fuzz/<target>.log and a summary table (target, seconds, executions, exec/s,
# corpus, findings) to target/fuzz/summary.md; keeps a minimised corpus as
# fuzz/corpus/<target>/min-* (committed, replayed by tests/fuzz_replay.rs). A crash leaves its
# input in fuzz/artifacts/<target>/: fix it and copy it to fuzz/regressions/<target>/.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
seconds=${FUZZ_SECONDS:-600}
out=target/fuzz
mkdir -p "$out"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(ical config json_bodies mp_webhook wa_webhook nlu csv money phone)

(cd fuzz && nice -n 19 cargo +nightly fuzz build) || exit 1
summary=$out/summary.md
{
  echo "| target | seconds | executions | exec/s | corpus (minimised) | findings |"
  echo "|---|---|---|---|---|---|"
} >"$summary"
for t in "${targets[@]}"; do
  echo "== fuzzing $t for ${seconds}s"
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  before=$(find "fuzz/artifacts/$t" -type f | wc -l)
  (cd fuzz && nice -n 19 cargo +nightly fuzz run "$t" -- \
      -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=4096 -timeout=30) \
      >"$out/$t.log" 2>&1
  status=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/$t.log" | grep -o '[0-9]*$' | tail -1)
  elapsed=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$out/$t.log" | grep -o 'in [0-9]*' | grep -o '[0-9]*' | tail -1)
  found=$(( $(find "fuzz/artifacts/$t" -type f | wc -l) - before ))
  # Minimise the corpus and keep it as min-* beside the seeds.
  min=$(mktemp -d)
  (cd fuzz && nice -n 19 cargo +nightly fuzz cmin "$t" >/dev/null 2>&1) || true
  find "fuzz/corpus/$t" -type f ! -name 'seed-*' ! -name 'min-*' -exec mv {} "$min/" \;
  find "fuzz/corpus/$t" -type f -name 'min-*' -delete
  for f in "$min"/*; do [ -e "$f" ] && mv "$f" "fuzz/corpus/$t/min-$(basename "$f")"; done
  rmdir "$min" 2>/dev/null || rm -rf "$min"
  kept=$(find "fuzz/corpus/$t" -type f | wc -l)
  rate=$(( ${execs:-0} / ${elapsed:-1} ))
  echo "| $t | ${elapsed:-?} | ${execs:-?} | $rate | $kept | $found (exit $status) |" >>"$summary"
done
cat "$summary"
