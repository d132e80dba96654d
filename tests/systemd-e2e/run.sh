#!/usr/bin/env bash
# End-to-end test of the Debian package under a real systemd (PID 1 in a container).
#
#   sudo tests/systemd-e2e/run.sh
#
# Builds a Debian 12 rootfs with debootstrap (cached in $E2E_CACHE, default
# /var/cache/alojamientos-e2e), boots it with `systemd-nspawn -b --private-network` (its own
# loopback: nothing leaves the container) and runs each step inside with nsenter:
#   container 1: install the .deb on a fresh system (ready, dynamic user, no writes outside its
#     state directory, JSON logs in the journal); a restart under 200 req/s through socket
#     activation (0 lost or refused); watchdog (SIGSTOP → restarted); upgrade to a newer
#     package (pre-upgrade backup, data intact); upgrade to a build that cannot start
#     (automatic rollback, time reported); the scheduled backup job's snapshot passes `check`;
#     apt remove / purge keep the data, ALOJAMIENTOS_PURGE_DATA=yes purge deletes it.
#   container 2: README "Install on a VPS", the blocks marked <!-- e2e --> run word for word
#     (domain reservas.test), with pebble inside the container as the ACME CA: a certificate
#     is issued over ports 80/443 from systemd's sockets and served.
#
# Skips (exit 0, "SKIPPED: …") without root, systemd-nspawn or debootstrap, unless
# ALOJAMIENTOS_SYSTEMD_E2E=required (as .ci/run sets), which makes that a failure.
# E2E_KEEP=1 leaves the container running after the script ends, for a look inside.
# The binary is E2E_BINARY (default target/debug/alojamientos, built if missing). When it does
# not run in the container (a host glibc newer than Debian 12's), a static debug build is made
# in target/e2e-static (RUSTFLAGS=-C target-feature=+crt-static) and used instead.
set -euo pipefail
cd "$(dirname "$0")/../.."

required=${ALOJAMIENTOS_SYSTEMD_E2E:-}
skip() {
  if [ "$required" = required ]; then echo "FAIL: $* (ALOJAMIENTOS_SYSTEMD_E2E=required)"; exit 1; fi
  echo "SKIPPED: $*"
  exit 0
}
[ "$(id -u)" -eq 0 ] || skip "the real-systemd test needs root (systemd-nspawn)"
command -v systemd-nspawn >/dev/null || skip "no systemd-nspawn (apt-get install systemd-container)"
command -v debootstrap >/dev/null || skip "no debootstrap (apt-get install debootstrap)"
for tool in dpkg-deb help2man nsenter; do
  command -v "$tool" >/dev/null || skip "no $tool"
done

t_start=$EPOCHREALTIME
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
step_no=0
step() {
  step_no=$((step_no + 1))
  step_t=$EPOCHREALTIME
  printf '[%6s s] %d. %s\n' "$(elapsed "$t_start")" "$step_no" "$*"
}
ok() { printf '           ok in %s s%s\n' "$(elapsed "$step_t")" "${1:+: $1}"; }
note() { printf '           %s\n' "$*"; }
fail() {
  echo "FAIL (step $step_no): $*"
  if [ -n "${init:-}" ]; then
    in_ct journalctl -u alojamientos -n 40 --no-pager -o cat 2>/dev/null | sed 's/^/    | /' || true
  fi
  exit 1
}

# --- rootfs (cached) ------------------------------------------------------------------------
cache=${E2E_CACHE:-/var/cache/alojamientos-e2e}
mirror=${E2E_MIRROR:-http://deb.debian.org/debian}
include=systemd,systemd-sysv,dbus,curl,ca-certificates,procps,pebble,openssl
rootfs=$cache/rootfs-bookworm-$(printf '%s' "$include" | sha256sum | cut -c1-8)
step "Debian 12 rootfs ($rootfs)"
if [ ! -x "$rootfs/usr/lib/systemd/systemd" ]; then
  mkdir -p "$cache"
  rm -rf "$rootfs.tmp"
  debootstrap --variant=minbase --include="$include" bookworm "$rootfs.tmp" "$mirror" \
    >"$cache/debootstrap.log" 2>&1 || { tail -20 "$cache/debootstrap.log"; fail "debootstrap"; }
  rm -f "$rootfs.tmp/etc/hostname"
  mv "$rootfs.tmp" "$rootfs"
  ok "built (debootstrap --variant=minbase --include=$include)"
else
  ok "cached"
fi

# --- packages -------------------------------------------------------------------------------
work=$(mktemp -d /tmp/alojamientos-e2e.XXXXXX)
chmod 0755 "$work"
nspawn=""
init=""
stop_container() {
  if [ -n "$nspawn" ] && kill -0 "$nspawn" 2>/dev/null; then
    local t=$EPOCHREALTIME
    kill -TERM "$nspawn" 2>/dev/null || true
    wait "$nspawn" 2>/dev/null || true
    note "container stopped in $(elapsed "$t") s"
  fi
  nspawn=""
  init=""
}
cleanup() {
  if [ "${E2E_KEEP:-}" = 1 ] && [ -n "$nspawn" ]; then
    echo "E2E_KEEP=1: container left running (nsenter -t $init -a; stop: kill $nspawn); files in $work"
    return
  fi
  stop_container
  rm -rf "$work"
}
trap cleanup EXIT

step "packages"
bin=${E2E_BINARY:-target/debug/alojamientos}
if [ ! -x "$bin" ]; then cargo build --locked --quiet; fi
cp "$bin" "$rootfs/tmp/alojamientos-probe"
if ! chroot "$rootfs" /tmp/alojamientos-probe version >/dev/null 2>&1; then
  note "$bin does not run on Debian 12 (host glibc newer?): static debug build in target/e2e-static"
  RUSTFLAGS='-C target-feature=+crt-static' CARGO_TARGET_DIR=target/e2e-static \
    cargo build --locked --quiet --target x86_64-unknown-linux-gnu
  bin=target/e2e-static/x86_64-unknown-linux-gnu/debug/alojamientos
fi
rm -f "$rootfs/tmp/alojamientos-probe"
base=$("$bin" version | awk '{print $2}')
# Without debug information: a smaller package, built faster.
strip --strip-debug -o "$work/build1" "$bin"
bin=$work/build1
# Build 2: the same program, other bytes (the ELF loader ignores trailing data).
cp "$bin" "$work/build2"
echo "second build" >>"$work/build2"
# A build that cannot start: it answers version and --help, and exits 1 on serve.
cat >"$work/broken" <<SH
#!/bin/sh
case "\$*" in *version*) echo "alojamientos $base";; *--help*) echo "Usage: alojamientos";; *) echo boom >&2; exit 1;; esac
SH
chmod +x "$work/broken"
export DEB_COMPRESS=gzip
deb1=$(packaging/deb/build.sh "$bin" "$base+e2e.1" "$work")
deb2=$(packaging/deb/build.sh "$work/build2" "$base+e2e.2" "$work")
deb3=$(packaging/deb/build.sh "$work/broken" "$base+e2e.3" "$work")
ok "$(basename "$deb1"), $(basename "$deb2"), $(basename "$deb3") ($(du -h "$deb1" | cut -f1) each)"

# --- the container --------------------------------------------------------------------------
in_ct() {
  nsenter -t "$init" -a env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 TERM=dumb "$@"
}
boot() { # boot NAME: an ephemeral copy of the rootfs, /e2e bound to $work
  systemd-nspawn -D "$rootfs" --ephemeral -b --private-network --register=no --keep-unit \
    -M "$1" --bind="$work:/e2e" --console=pipe </dev/null >"$work/console-$1.log" 2>&1 &
  nspawn=$!
  local deadline=$((SECONDS + 60)) state=""
  while [ $SECONDS -lt $deadline ]; do
    init=$(pgrep -P "$nspawn" -x systemd || true)
    if [ -n "$init" ]; then
      state=$(in_ct systemctl is-system-running 2>/dev/null || true)
      case "$state" in running | degraded) break ;; esac
    fi
    sleep 0.2
  done
  case "$state" in
    running) ;;
    degraded) note "booted degraded: $(in_ct systemctl --failed --no-legend --plain | awk '{print $1}' | tr '\n' ' ')" ;;
    *) cat "$work/console-$1.log"; fail "the container did not boot (state: ${state:-none})" ;;
  esac
}
ready() { # ready [TIMEOUT]: polls readyz inside the container
  local deadline=$((SECONDS + ${1:-30}))
  while [ $SECONDS -lt $deadline ]; do
    in_ct curl -fsS -m 2 -o /dev/null http://127.0.0.1:8080/api/v1/readyz 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}
main_pid() { in_ct systemctl show -p MainPID --value alojamientos.service; }
api() { # api METHOD PATH [JSON]: admin API call inside the container; prints the body
  local body=()
  if [ $# -ge 3 ]; then body=(-d "$3"); fi
  in_ct curl -fsS -m 10 -X "$1" "http://127.0.0.1:8080/api/v1$2" \
    -H "authorization: Bearer $token" -H 'content-type: application/json' "${body[@]}"
}
json_field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" | head -1; }
# first_admin_password FILE: the password from the 0600 password file as the postinst and the
# README's step 5 show it ("  password: <hex>"); the journal never has it.
first_admin_password() { awk '/^ *password: / {print $2}' "$1" | head -1 | tr -d '\r'; }

step "boot container 1 (systemd-nspawn -b --private-network)"
boot alojamientos-e2e-1
ok "$(in_ct systemctl --version | head -1)"

step "install the package on a fresh system"
in_ct apt-get install -y -q "/e2e/$(basename "$deb1")" >"$work/install1.log" 2>&1 \
  || { cat "$work/install1.log"; fail "apt-get install"; }
in_ct systemctl is-active --quiet alojamientos.socket alojamientos.service || fail "not active"
ready 10 || fail "not ready after install"
password=$(first_admin_password "$work/install1.log")
[ -n "$password" ] || { cat "$work/install1.log"; fail "postinst did not show the first admin's password"; }
pid=$(main_pid)
uid=$(in_ct stat -c %u "/proc/$pid")
gid=$(in_ct stat -c %g "/proc/$pid")
# The dynamic user's name, asked of systemd itself (minbase has no nss-systemd).
user=$(in_ct busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
  org.freedesktop.systemd1.Manager LookupDynamicUserByUID u "$uid" | sed 's/^s "\(.*\)"$/\1/')
if [ "$user" != alojamientos ] || [ "$uid" -lt 61184 ] || [ "$uid" -gt 65519 ]; then
  fail "runs as $user ($uid), not the dynamic user"
fi
for dir in /etc/alojamientos /usr/lib /opt/alojamientos /var/lib /var/log /root /; do
  if in_ct nsenter -t "$pid" -m -S "$uid" -G "$gid" -- /bin/sh -c "echo x >'$dir/e2e-probe'" 2>/dev/null; then
    fail "the service can write to $dir"
  fi
done
in_ct nsenter -t "$pid" -m -S "$uid" -G "$gid" -- /bin/sh -c \
  'echo x >/var/lib/alojamientos/e2e-probe && rm /var/lib/alojamientos/e2e-probe' \
  || fail "the service cannot write its state directory"
json_lines=$(in_ct journalctl -u alojamientos -o cat --no-pager | grep -c '^{"timestamp":"[^"]*","level":"[A-Z]*","fields":{' || true)
[ "$json_lines" -gt 0 ] || fail "no JSON log lines in the journal"
in_ct journalctl -u alojamientos -o cat --no-pager | grep '"message":"serving"' | grep '^{' >/dev/null \
  || fail "the serving line is not JSON"
[ "$(in_ct stat -c %a /etc/alojamientos/secrets.env)" = 600 ] || fail "secrets.env is not 0600"
if in_ct journalctl -u alojamientos -o cat --no-pager | grep -qF "$password"; then
  fail "the first admin's one-time password is in the journal"
fi
[ "$(in_ct stat -c %a /var/lib/alojamientos/initial-admin-password)" = 600 ] \
  || fail "the first admin's password file is not 0600"
in_ct test -s /usr/share/man/man1/alojamientos.1.gz || fail "no man page"
in_ct alojamientos --help >/dev/null || fail "alojamientos --help"
ok "ready as dynamic user $user (uid $uid); writes refused outside /var/lib/alojamientos (/etc/alojamientos /usr/lib /opt/alojamientos /var/lib /var/log /root /); $json_lines JSON lines in the journal, the first admin's password not among them (0600 file)"

step "data: an accommodation and a reservation"
token=$(in_ct curl -fsS http://127.0.0.1:8080/api/v1/admin/login -H 'content-type: application/json' \
  -d "{\"email\":\"admin@alojamientos.local\",\"password\":\"$password\"}" | json_field token)
[ -n "$token" ] || fail "login"
unit=$(api POST /admin/accommodations '{"name":"Cabaña e2e","kind":"cabin","capacity":4,"base_price":"50000.00"}' \
  | sed -n 's/.*"id":\([0-9]*\).*/\1/p' | head -1)
[ -n "$unit" ] || fail "create accommodation"
check_in=$(date -u -d '+30 days' +%F)
check_out=$(date -u -d '+33 days' +%F)
code=$(in_ct curl -fsS http://127.0.0.1:8080/api/v1/reservations -H 'content-type: application/json' \
  -d "{\"accommodation_id\":$unit,\"check_in\":\"$check_in\",\"check_out\":\"$check_out\",\"guests\":2,\"contact_name\":\"Ana E2E\",\"contact_phone\":\"+54 9 11 2233-4455\"}" \
  | json_field code)
[ -n "$code" ] || fail "create reservation"
intact() { api GET "/admin/reservations/$code" | grep "\"code\":\"$code\"" >/dev/null || fail "reservation $code lost"; }
intact
ok "accommodation $unit, reservation $code"

step "socket activation: restart under 200 req/s"
# Four clients at 50 requests/s each (curl --rate, one new connection per request), 250 each.
# shellcheck disable=SC2016
in_ct sh -c 'for i in $(seq 1 250); do printf "url = \"http://127.0.0.1:8080/admin/\"\noutput = \"/dev/null\"\n"; done >/root/urls.cfg'
loads=()
for client in 1 2 3 4; do
  in_ct sh -c "curl -s --rate 50/s -H 'Connection: close' -w '%{http_code} %{time_total} %{exitcode} %{errormsg}\n' \
    -K /root/urls.cfg >/root/codes-$client.txt 2>/dev/null" &
  loads+=($!)
done
sleep 2
restart_t=$EPOCHREALTIME
in_ct systemctl restart alojamientos.service
restart_s=$(elapsed "$restart_t")
for load in "${loads[@]}"; do wait "$load" || true; done
load_s=$(elapsed "$step_t")
total=$(in_ct sh -c 'cat /root/codes-*.txt | wc -l')
good=$(in_ct sh -c 'cat /root/codes-*.txt | grep -c "^200 " || true')
slowest=$(in_ct sh -c 'cat /root/codes-*.txt | sort -k2 -n | tail -1 | cut -d" " -f2')
if [ "$total" -ne 1000 ] || [ "$good" -ne 1000 ]; then
  fail "$good of $total requests answered 200: $(in_ct sh -c 'cat /root/codes-*.txt | cut -d" " -f1 | sort | uniq -c | tr "\n" " "'); others: $(in_ct sh -c 'grep -hv "^200 " /root/codes-*.txt | head -5 | tr "\n" ";"')"
fi
ready 5 || fail "not ready after the restart"
ok "1000/1000 answered 200 in ${load_s} s (4 clients × 50/s) across a restart that took ${restart_s} s (slowest request ${slowest} s)"

step "watchdog: SIGSTOP of the main process"
watchdog_s=$(( $(in_ct systemctl show -p WatchdogUSec --value alojamientos.service | sed 's/s$//') ))
restart_sec=$(in_ct systemctl show -p RestartUSec --value alojamientos.service | sed 's/s$//')
before=$(main_pid)
stop_t=$EPOCHREALTIME
in_ct kill -STOP "$before"
deadline=$((SECONDS + watchdog_s + ${restart_sec%.*} + 30))
while [ $SECONDS -lt $deadline ]; do
  now=$(main_pid)
  if [ "$now" != "$before" ] && [ "$now" != 0 ] && ready 1; then break; fi
  sleep 0.5
done
took=$(elapsed "$stop_t")
[ "$(main_pid)" != "$before" ] || fail "not restarted within $((deadline - SECONDS)) s"
in_ct journalctl -u alojamientos --no-pager | grep "Watchdog timeout" >/dev/null || fail "no watchdog timeout in the journal"
limit=$(awk -v w="$watchdog_s" -v r="$restart_sec" 'BEGIN { print w + r + 5 }')
awk -v t="$took" -v l="$limit" 'BEGIN { exit !(t <= l) }' \
  || fail "restarted after $took s, more than WatchdogSec + RestartSec + 5 s ($limit s)"
intact
ok "watchdog timeout → restarted and ready after $took s (WatchdogSec ${watchdog_s} s + RestartSec ${restart_sec} s)"

step "upgrade to a newer package"
before_current=$(in_ct readlink /opt/alojamientos/current)
in_ct apt-get install -y -q "/e2e/$(basename "$deb2")" >"$work/install2.log" 2>&1 \
  || { cat "$work/install2.log"; fail "upgrade"; }
after_current=$(in_ct readlink /opt/alojamientos/current)
[ "$after_current" != "$before_current" ] || fail "current did not move"
backups=$(in_ct sh -c 'ls /opt/alojamientos/pre-upgrade/*.redb 2>/dev/null | wc -l')
[ "$backups" -eq 1 ] || fail "expected one pre-upgrade backup, found $backups"
in_ct sh -c 'alojamientos check /opt/alojamientos/pre-upgrade/*.redb' >/dev/null 2>&1 \
  || fail "the pre-upgrade backup does not check"
ready 5 || fail "not ready after the upgrade"
intact
ok "$before_current → $after_current; pre-upgrade backup taken and checked; data intact"

step "upgrade to a build that cannot start"
in_ct sh -c 'echo READY_TIMEOUT=15 >/etc/alojamientos/install.env'
upgrade_t=$EPOCHREALTIME
if in_ct apt-get install -y -q "/e2e/$(basename "$deb3")" >"$work/install3.log" 2>&1; then
  fail "a package that cannot start was installed"
fi
upgrade_s=$(elapsed "$upgrade_t")
rolled=$(grep -o 'rolled back to .* in [0-9]* s' "$work/install3.log" || true)
[ -n "$rolled" ] || { cat "$work/install3.log"; fail "no rollback"; }
[ "$(in_ct readlink /opt/alojamientos/current)" = "$after_current" ] || fail "current is not the previous version"
ready 5 || fail "not ready after the rollback"
intact
backups=$(in_ct sh -c 'ls /opt/alojamientos/pre-upgrade/*.redb | wc -l')
[ "$backups" -eq 2 ] || fail "expected two pre-upgrade backups, found $backups"
in_ct apt-get install -y -q --allow-downgrades "/e2e/$(basename "$deb2")" >"$work/install2b.log" 2>&1 \
  || { cat "$work/install2b.log"; fail "reinstalling the working package after the rollback"; }
ok "apt failed as it should; $rolled after the 15 s readiness wait, ${upgrade_s} s for the whole apt run; data intact; the working package reinstalled"

step "the scheduled backup job writes a snapshot that check accepts"
in_ct sh -c 'mkdir -p /etc/systemd/system/alojamientos.service.d && printf "[Service]\nEnvironment=\"ALOJAMIENTOS_BACKUP__SCHEDULE=*/2 * * * * *\"\n" >/etc/systemd/system/alojamientos.service.d/e2e-backup.conf'
in_ct systemctl daemon-reload
in_ct systemctl restart alojamientos.service
snapshot=""
deadline=$((SECONDS + 30))
while [ $SECONDS -lt $deadline ] && [ -z "$snapshot" ]; do
  snapshot=$(in_ct sh -c 'ls -t /var/lib/alojamientos/backups/*.redb 2>/dev/null | head -1' || true)
  sleep 0.5
done
[ -n "$snapshot" ] || fail "no scheduled snapshot"
in_ct sh -c "cd /var/lib/alojamientos/backups && sha256sum -c --quiet $(basename "$snapshot").sha256" || fail "sha256"
in_ct alojamientos check "$snapshot" >"$work/check.json" 2>"$work/check.log" \
  || { cat "$work/check.log"; fail "check refused $snapshot"; }
grep -q '"reservations": 1' "$work/check.json" || { cat "$work/check.json"; fail "the snapshot lacks the reservation"; }
in_ct rm /etc/systemd/system/alojamientos.service.d/e2e-backup.conf
in_ct systemctl daemon-reload
in_ct systemctl restart alojamientos.service
ready 10 || fail "not ready"
ok "$snapshot: checksum, integrity, schema and the reservation"

step "apt remove keeps the data; purge keeps it unless confirmed"
in_ct apt-get remove -y -q alojamientos >"$work/remove.log" 2>&1 || { cat "$work/remove.log"; fail "remove"; }
in_ct test ! -e /usr/bin/alojamientos || fail "the binary is still there"
in_ct systemctl is-active --quiet alojamientos.service && fail "still running after remove"
in_ct test -f /var/lib/alojamientos/alojamientos.redb || fail "remove deleted the store"
in_ct apt-get purge -y -q alojamientos >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "purge"; }
grep -q 'data is kept' "$work/purge.log" || fail "purge did not say the data is kept"
in_ct test -f /var/lib/alojamientos/alojamientos.redb || fail "purge deleted the store without confirmation"
in_ct test ! -e /etc/alojamientos/alojamientos.toml || fail "purge kept the config"
in_ct apt-get install -y -q "/e2e/$(basename "$deb2")" >"$work/install4.log" 2>&1 || { cat "$work/install4.log"; fail "reinstall"; }
ready 10 || fail "not ready after reinstalling"
intact
in_ct env ALOJAMIENTOS_PURGE_DATA=yes apt-get purge -y -q alojamientos >"$work/purge2.log" 2>&1 \
  || { cat "$work/purge2.log"; fail "purge with confirmation"; }
in_ct test ! -e /var/lib/private/alojamientos || fail "confirmed purge kept the data"
ok "remove and purge kept the store (reinstall found reservation $code); ALOJAMIENTOS_PURGE_DATA=yes purge deleted it"
stop_container

# --- container 2: README "Install on a VPS", word for word, with pebble as the CA ----------
step "boot container 2 with pebble as the ACME CA"
boot alojamientos-e2e-2
in_ct sh -c 'echo "127.0.0.1 reservas.test" >>/etc/hosts'
in_ct mkdir -p /etc/pebble-e2e
in_ct openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj /CN=pebble -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  -addext "basicConstraints=critical,CA:FALSE" \
  -keyout /etc/pebble-e2e/key.pem -out /etc/pebble-e2e/cert.pem 2>/dev/null
in_ct sh -c 'cat >/etc/pebble-e2e/pebble.json <<EOF
{"pebble": {"listenAddress": "127.0.0.1:14000", "managementListenAddress": "127.0.0.1:15000",
 "certificate": "/etc/pebble-e2e/cert.pem", "privateKey": "/etc/pebble-e2e/key.pem",
 "httpPort": 80, "tlsPort": 443, "ocspResponderURL": "", "externalAccountBindingRequired": false}}
EOF'
in_ct systemd-run --quiet --unit=pebble -E PEBBLE_VA_NOSLEEP=1 /usr/bin/pebble -config /etc/pebble-e2e/pebble.json
deadline=$((SECONDS + 20))
until in_ct curl -fsS -o /dev/null --cacert /etc/pebble-e2e/cert.pem https://127.0.0.1:14000/dir 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || fail "pebble does not answer"
  sleep 0.2
done
# Its issuing root goes into the container's trust store, as Let's Encrypt's is on a VPS.
in_ct sh -c 'curl -fsS --cacert /etc/pebble-e2e/cert.pem https://127.0.0.1:15000/roots/0 \
  >/usr/local/share/ca-certificates/pebble-e2e.crt && update-ca-certificates >/dev/null 2>&1'
ok "pebble answers at https://127.0.0.1:14000/dir; its root is trusted"

step "README \"Install on a VPS\": the marked steps, word for word"
# The blocks after <!-- e2e --> in README.md, in order. Substitutions: the domain and email;
# the .deb is already in the directory (no internet in the container: the download step is
# not marked); and, before the HTTPS step, the two test-only lines pointing ACME at pebble.
mkdir -p "$work/vps"
cp "$deb1" "$work/vps/alojamientos_amd64.deb"
awk '/^ *<!-- e2e -->$/ { grab = 1; next }
  grab && /^ *```/ { if (inside) { grab = 0; inside = 0 } else inside = 1; next }
  grab && inside { sub(/^   /, ""); print }' README.md >"$work/vps/steps.sh"
[ "$(wc -l <"$work/vps/steps.sh")" -gt 5 ] || fail "no marked steps in README.md"
sed -i -e 's/reservas\.example\.com\.ar/reservas.test/g' -e 's/vos@example\.com/host@reservas.test/g' "$work/vps/steps.sh"
cat >"$work/vps/pebble.sh" <<'SH'
sudo sed -i -e 's|^acme_directory = .*|acme_directory = "https://127.0.0.1:14000/dir"|' \
  -e 's|^# acme_ca_file = .*|acme_ca_file = "/etc/alojamientos/acme-ca.pem"|' /etc/alojamientos/alojamientos.toml
sudo install -m 0644 /etc/pebble-e2e/cert.pem /etc/alojamientos/acme-ca.pem
SH
sed -i '/^sudo systemctl enable --now alojamientos-https.socket/e cat '"$work"'/vps/pebble.sh' "$work/vps/steps.sh"
grep -q 'acme_ca_file' "$work/vps/steps.sh" || fail "the README has no HTTPS step to point at pebble"
# The container has no sudo: a stand-in that runs the command as root (we are root).
in_ct sh -c 'printf "#!/bin/sh\nexec \"\$@\"\n" >/usr/local/bin/sudo && chmod +x /usr/local/bin/sudo'
sed 's/^/             $ /' "$work/vps/steps.sh"
in_ct bash -c 'cd /e2e/vps && bash -euo pipefail steps.sh' >"$work/vps.log" 2>&1 \
  || { sed 's/^/    | /' "$work/vps.log"; fail "a README step failed"; }
grep -q '{"ready":true}' "$work/vps.log" || { cat "$work/vps.log"; fail "the README's HTTPS check did not print ready"; }
ok "$(grep -c . "$work/vps/steps.sh") lines ran; the README's own check printed {\"ready\":true} over HTTPS"

step "HTTPS from pebble through systemd's sockets on 80 and 443"
hsts=$(in_ct curl -fsS -D - -o /dev/null https://reservas.test/api/v1/readyz | grep -i '^strict-transport-security' | tr -d '\r')
[ -n "$hsts" ] || fail "no HSTS header"
location=$(in_ct curl -sS -D - -o /dev/null http://reservas.test/admin/ | grep -i '^location' | tr -d '\r')
[ "$location" = "location: https://reservas.test/admin/" ] || fail "port 80 answered: $location"
issuer=$(in_ct sh -c 'openssl s_client -connect 127.0.0.1:443 -servername reservas.test </dev/null 2>/dev/null | openssl x509 -noout -issuer -enddate' | tr '\n' ' ')
password=$(first_admin_password "$work/vps.log")
token=$(in_ct curl -fsS https://reservas.test/api/v1/admin/login -H 'content-type: application/json' \
  -d "{\"email\":\"admin@alojamientos.local\",\"password\":\"$password\"}" | json_field token)
setup=$(in_ct curl -fsS https://reservas.test/api/v1/admin/setup -H "authorization: Bearer $token")
echo "$setup" | grep -q '"https":{"mode":"acme"' || fail "the checklist does not show HTTPS by ACME: $setup"
echo "$setup" | grep -q '"webhook_url":"https://reservas.test/api/v1/webhooks/mercadopago"' \
  || fail "the checklist lacks the Mercado Pago webhook URL: $setup"
ok "$issuer; $hsts; port 80 → ${location#location: }; checklist: HTTPS by ACME, webhook URLs from the domain"

stop_container
printf '[%6s s] PASS: all %d steps\n' "$(elapsed "$t_start")" "$step_no"
