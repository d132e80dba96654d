#!/usr/bin/env bash
# Coverage-guided fuzzing of every target in fuzz/ (cargo-fuzz, libFuzzer, nightly), niced.
#   bench/fuzz.sh                 # every target, FUZZ_SECONDS (600) each
#   bench/fuzz.sh ical money      # some targets
# Needs: rustup toolchain install nightly --profile minimal; cargo install cargo-fuzz.
# Writes target/fuzz/<target>.log and a summary table (target, seconds, executions, exec/s,
# corpus, findings) to target/fuzz/summary.md; keeps a minimised corpus as
# fuzz/corpus/<target>/min-* (committed, replayed by tests/api/reliability/fuzz_replay.rs). A crash leaves its
# input in fuzz/artifacts/<target>/: fix it and copy it to fuzz/regressions/<target>/.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
seconds=${FUZZ_SECONDS:-600}
out=target/fuzz
mkdir -p "$out"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(ical config json_bodies mp_webhook wa_webhook nlu csv money phone)

# Build once, then run the built binaries (so editing the sources meanwhile changes nothing).
(cd fuzz && nice -n 19 cargo +nightly fuzz build) || exit 1
bin_dir=fuzz/target/$(rustc -vV | sed -n 's/^host: //p')/release
summary=$out/summary.md
{
  echo "| target | seconds | executions | exec/s | corpus (minimised) | findings |"
  echo "|---|---|---|---|---|---|"
} >"$summary"
for t in "${targets[@]}"; do
  echo "== fuzzing $t for ${seconds}s"
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  before=$(find "fuzz/artifacts/$t" -type f | wc -l)
  # The HTTP targets run a server in the fuzzer's process: its threads' exit bookkeeping is
  # not a leak of the input under test, so LeakSanitizer is off for them.
  leaks=1
  case $t in json_bodies|mp_webhook|wa_webhook) leaks=0 ;; esac
  nice -n 19 "$bin_dir/$t" -artifact_prefix="fuzz/artifacts/$t/" -max_total_time="$seconds" \
      -print_final_stats=1 -rss_limit_mb=4096 -timeout=30 -detect_leaks=$leaks \
      "fuzz/corpus/$t" >"$out/$t.log" 2>&1
  status=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/$t.log" | grep -o '[0-9]*$' | tail -1)
  elapsed=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$out/$t.log" | grep -o 'in [0-9]*' | grep -o '[0-9]*' | tail -1)
  found=$(( $(find "fuzz/artifacts/$t" -type f | wc -l) - before ))
  # Keep a minimised corpus as min-* beside the seeds.
  min=$(mktemp -d)
  nice -n 19 "$bin_dir/$t" -merge=1 "$min" "fuzz/corpus/$t" >>"$out/$t.log" 2>&1 || true
  find "fuzz/corpus/$t" -type f ! -name 'seed-*' -delete
  for f in "$min"/*; do [ -e "$f" ] && mv "$f" "fuzz/corpus/$t/min-$(basename "$f")"; done
  rm -rf "$min"
  kept=$(find "fuzz/corpus/$t" -type f | wc -l)
  rate=$(( ${execs:-0} / ${elapsed:-1} ))
  echo "| $t | ${elapsed:-?} | ${execs:-?} | $rate | $kept | $found (exit $status) |" >>"$summary"
done
cat "$summary"
