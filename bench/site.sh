#!/usr/bin/env bash
# Guest site benchmark of the release binary on this machine (server and load generator share
# it). Measures: /alojamientos/{slug} rendered at 64 connections (req/s, p50, p99; photos not
# requested), the first visit's bytes before images (HTML + CSS + JS, gzip), and a 12 MP
# JPEG upload (time, RSS before, at the peak and after). Needs wrk and curl; run after
# `cargo build --release --bin alojamientos` and `cargo build --release --example make_photo`
# (two commands: built together, the binary gets tokio's test-util feature, see bench/run.sh).
# Usage: bench/site.sh [path/to/alojamientos]   (default: target/release/alojamientos)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/alojamientos}
DURATION=${BENCH_DURATION:-15s}
PORT=${BENCH_PORT:-18081}
DATA=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT
# shellcheck source=bench/lib.sh
source bench/lib.sh

start
login
create_units 3
DESC="Cabaña de madera entre los coihues, con hogar a leña, deck con vista al lago y parrilla."
for id in 1 2 3; do
  admin PUT "/api/v1/admin/accommodations/$id/content" \
    "{\"slug\":\"unidad-$id\",\"amenities\":[\"wifi\",\"parrilla\",\"pileta\",\"cochera\",\"hogar\"],\"notes\":\"$DESC\",\"house_rules\":\"No se permiten fiestas.\"}" >/dev/null
done
target/release/examples/make_photo "$DATA/photo.jpg" 1600 1066 >/dev/null
for id in 1 2 3; do
  for _ in 1 2 3; do
    curl -sf "$BASE/api/v1/admin/accommodations/$id/photos?alt=Foto" -H "authorization: Bearer $TOKEN" \
      --data-binary "@$DATA/photo.jpg" >/dev/null
  done
done

echo "== GET /alojamientos/unidad-1 (server render, no photos), 64 connections, $DURATION"
wrk -t2 -c64 -d"$DURATION" --latency "$BASE/alojamientos/unidad-1" | grep -E 'Requests/sec|Latency|50%|99%|Non-2xx|requests in'

echo "== the same at 8 connections (latency with less queueing)"
wrk -t2 -c8 -d"$DURATION" --latency "$BASE/alojamientos/unidad-1" | grep -E 'Requests/sec|50%|99%'
echo "server-side time per page (http_request_duration_seconds, both runs):"
curl -sf "$BASE/metrics" | grep '^http_request_duration_seconds' | grep 'route="/alojamientos/{slug}"' | grep -E 'quantile="0.(5|99)"|_sum|_count|le="0.005"' || true

echo "== first visit before images (gzip)"
page=$(curl -s -H 'accept-encoding: gzip' -o "$DATA/page.gz" -w '%{size_download}' "$BASE/alojamientos/unidad-1")
html=$(gunzip -c "$DATA/page.gz")
css=$(grep -o '/sitio/assets/site\.[0-9a-f]*\.css' <<<"$html" | head -1)
js=$(grep -o '/sitio/assets/site\.[0-9a-f]*\.js' <<<"$html" | head -1)
css_b=$(curl -s -H 'accept-encoding: gzip' -o /dev/null -w '%{size_download}' "$BASE$css")
js_b=$(curl -s -H 'accept-encoding: gzip' -o /dev/null -w '%{size_download}' "$BASE$js")
echo "page $page B + css $css_b B + js $js_b B = $((page + css_b + js_b)) B"
home=$(curl -s -H 'accept-encoding: gzip' -o /dev/null -w '%{size_download}' "$BASE/")
echo "home page $home B (+ the same css and js)"

echo "== 12 MP JPEG upload"
target/release/examples/make_photo "$DATA/12mp.jpg" 4000 3000
rss() { awk '/VmRSS/ {print int($2/1024)}' "/proc/$PID/status"; }
cpu() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
sleep 1
before=$(rss)
cpu0=$(cpu)
t=$(curl -sf -o /dev/null -w '%{time_total}' "$BASE/api/v1/admin/accommodations/1/photos?alt=Grande" \
  -H "authorization: Bearer $TOKEN" --data-binary "@$DATA/12mp.jpg")
cpu1=$(cpu)
peak=$(awk '/VmHWM/ {print int($2/1024)}' "/proc/$PID/status")
sleep 5
after=$(rss)
echo "processed and stored in ${t}s wall, $(( (cpu1 - cpu0) * 10 )) ms CPU; RSS before ${before} MB, peak ${peak} MB, 5 s after ${after} MB"
curl -sf "$BASE/metrics" | grep '^site_photo_processing_seconds' | grep -E '_sum|_count' || true
