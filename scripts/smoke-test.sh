#!/usr/bin/env bash
# Smoke test of a live alojamientos install:
#   scripts/smoke-test.sh http://127.0.0.1:8080
# Checks health, readiness, metrics, a quote, and an iCal export. Optional environment:
# METRICS_URL (default BASE_URL/metrics), METRICS_TOKEN (when metrics.token is set),
# ADMIN_TOKEN (a session from POST /api/v1/admin/login: finds the export URL itself) or
# ICAL_EXPORT_PATH (/api/v1/ical/export/<id>/<token>.ics). Exits non-zero on the first failure.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 BASE_URL" >&2; exit 2; }
base=${1%/}
api=$base/api/v1
pass() { printf 'ok    %s\n' "$*"; }
fail() { printf 'FAIL  %s\n' "$*"; exit 1; }
get() { curl -sS -m 10 "$@"; }

code=$(get -o /tmp/smoke-health.$$ -w '%{http_code}' "$api/healthz") || fail "healthz: no answer from $base"
status=$(jq -r .status </tmp/smoke-health.$$); rm -f /tmp/smoke-health.$$
[ "$code" = 200 ] || fail "healthz answered $code ($status)"
pass "healthz $status"

[ "$(get -o /dev/null -w '%{http_code}' "$api/readyz")" = 200 ] || fail "readyz is not 200"
pass "readyz"

metrics_url=${METRICS_URL:-$base/metrics}
auth=()
[ -z "${METRICS_TOKEN:-}" ] || auth=(-H "authorization: Bearer $METRICS_TOKEN")
# Read whole before matching: with pipefail, `curl | grep -q` fails when grep stops reading a
# large page early (curl gets SIGPIPE).
metrics=$(get "${auth[@]}" "$metrics_url") || fail "metrics at $metrics_url: no answer"
grep -q '^http_requests_total{' <<<"$metrics" || fail "metrics at $metrics_url lack http_requests_total"
pass "metrics"

id=$(get "$api/accommodations" | jq -r '.[0].id // empty')
[ -n "$id" ] || fail "no active accommodation to quote"
check_in=$(date -u -d '+60 days' +%F); check_out=$(date -u -d '+63 days' +%F)
total=$(get -f "$api/accommodations/$id/quote?check_in=$check_in&check_out=$check_out&guests=1" | jq -r .total_price)
if [ -z "$total" ] || [ "$total" = null ]; then fail "quote for accommodation $id has no total_price"; fi
pass "quote $check_in..$check_out for accommodation $id: $total"

export_path=${ICAL_EXPORT_PATH:-}
if [ -z "$export_path" ] && [ -n "${ADMIN_TOKEN:-}" ]; then
  export_path=$(get -f -H "authorization: Bearer $ADMIN_TOKEN" "$api/admin/accommodations/$id/ical" | jq -r .export_path)
fi
if [ -n "$export_path" ]; then
  calendar=$(get -f "$base$export_path") || fail "iCal export $export_path: no answer"
  [[ $calendar == BEGIN:VCALENDAR* ]] || fail "iCal export $export_path is not a calendar"
  pass "iCal export"
else
  echo "skip  iCal export (set ADMIN_TOKEN or ICAL_EXPORT_PATH)"
fi
echo "smoke test passed: $base"
