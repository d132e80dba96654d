#!/usr/bin/env bash
# Alternated before/after runs of bench/run.sh on the same machine: OLD then NEW, ROUNDS times,
# so both see the same conditions; then min / median / max of every figure per binary.
# The history scenario is seeded through the API for both (the same store content; the OLD
# binary cannot open a store seeded through NEW's store); BENCH_SEED=store seeds NEW's through
# its store instead (and OLD's through the API). Other BENCH_* variables as for run.sh.
# Usage: bench/compare.sh OLD_BINARY NEW_BINARY [ROUNDS] [SCENARIO...]   (default 3 rounds;
# scenarios: fresh history noscrape). Raw output in $BENCH_LOG (default: a temporary file).
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=$(realpath "$1") NEW=$(realpath "$2") ROUNDS=${3:-3}
shift 3 || shift $#
LOG=${BENCH_LOG:-$(mktemp)}
export BENCH_SEED=${BENCH_SEED:-api}
for round in $(seq 1 "$ROUNDS"); do
  for side in old new; do
    bin=$OLD; [ "$side" = new ] && bin=$NEW
    seed=$BENCH_SEED; [ "$side" = old ] && seed=api
    echo "== round $round: $side ($bin)" | tee -a "$LOG"
    BENCH_SEED=$seed bench/run.sh "$bin" "$@" 2>&1 | tee -a "$LOG" | grep '^RESULT' |
      sed "s/^RESULT/$side/" >>"$LOG.results"
  done
done
echo "== min / median / max over $ROUNDS rounds (raw: $LOG)"
python3 - "$LOG.results" <<'PY'
import re
import sys
from collections import defaultdict

UNITS = {"us": 0.001, "ms": 1, "s": 1000, "": 1}  # wrk's latencies, in ms
runs = defaultdict(list)
for line in open(sys.argv[1]):
    side, scenario, what, *figures = line.split()
    for figure in figures:
        key, _, value = figure.partition("=")
        m = re.fullmatch(r"([0-9.]+)(us|ms|s|)", value)
        if m:
            scale = UNITS[m.group(2)] if key == "p99" else 1
            runs[(scenario, what, key, side)].append(float(m.group(1)) * scale)
for (scenario, what, key, side), values in sorted(runs.items()):
    v = sorted(values)
    unit = " ms" if key == "p99" else ""
    print(f"{scenario:9} {what:17} {key:22} {side}: {v[0]:g} / {v[len(v) // 2]:g} / {v[-1]:g}{unit}")
PY
