#!/usr/bin/env bash
# Script-level test of systemd/install.sh with a fake systemctl: first install, an upgrade to a
# second build (pre-upgrade backup taken, switch, ready), an upgrade to a binary that fails to
# start (automatic rollback to the previous version within seconds, data intact), and the same
# while socket activation starts the previous version during the rollback (the store is then in
# use: no restore, the rollback still succeeds).
# Needs target/debug/alojamientos (cargo build).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$PWD/target/debug/alojamientos
[ -x "$bin" ] || { echo "build first: cargo build"; exit 1; }

work=$(mktemp -d)
cleanup() { PREFIX=$work/opt STATE=$work tests/install/fake-systemctl.sh stop || true; rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export PREFIX=$work/opt STATE=$work BIN_LINK=$work/bin-alojamientos CONFIG=$work/none.toml
export SYSTEMCTL=$PWD/tests/install/fake-systemctl.sh READY_TIMEOUT=10
export READY_URL=http://127.0.0.1:$port/api/v1/readyz
export ALOJAMIENTOS_SERVER__DATA_DIR=$work/data ALOJAMIENTOS_SERVER__LISTEN=127.0.0.1:$port
export ALOJAMIENTOS_LOG__FILTER=warn
fail() { echo "FAIL: $*"; tail -20 "$work/server.log" 2>/dev/null; exit 1; }

# Build 2: the same program, different bytes (trailing data is ignored by the ELF loader).
cp "$bin" "$work/build2"; echo "second build" >>"$work/build2"
# A release that cannot start: answers `version` but exits 1 on `serve`.
cat >"$work/broken" <<'SH'
#!/bin/sh
case "$*" in *version*) echo "alojamientos 9.9.9";; *) echo "boom" >&2; exit 1;; esac
SH
chmod +x "$work/broken"

echo "== first install"
systemd/install.sh "$bin" || fail "first install"
first=$(readlink "$PREFIX/current")
curl -fsS "$READY_URL" >/dev/null || fail "not ready after the first install"

echo "== upgrade to a second build"
systemd/install.sh "$work/build2" || fail "upgrade"
second=$(readlink "$PREFIX/current")
[ "$second" != "$first" ] || fail "current did not move"
ls "$PREFIX"/pre-upgrade/*.redb >/dev/null || fail "no pre-upgrade backup"
backups=("$PREFIX"/pre-upgrade/*.redb)
"$bin" check "${backups[0]}" >/dev/null || fail "pre-upgrade backup does not check"
[ "$(readlink -f "$BIN_LINK")" = "$(readlink -f "$PREFIX/$second/alojamientos")" ] || fail "bin link"

echo "== upgrade to a broken release rolls back"
start=$(date +%s)
if systemd/install.sh "$work/broken" 2>"$work/rollback.log"; then fail "a broken upgrade succeeded"; fi
took=$(( $(date +%s) - start ))
grep -q "rolled back" "$work/rollback.log" || { cat "$work/rollback.log"; fail "no rollback message"; }
[ "$(readlink "$PREFIX/current")" = "$second" ] || fail "current is not the previous version"
curl -fsS "$READY_URL" >/dev/null || fail "not ready after rollback"
backups=("$PREFIX"/pre-upgrade/*.redb)
[ "${#backups[@]}" -eq 2 ] || fail "expected two pre-upgrade backups"
echo "rollback after a failed upgrade: ${took} s in all (READY_TIMEOUT=10 s of it waiting for the broken release)"

echo "== the same while a queued connection starts the previous version during the rollback"
touch "$STATE/reactivate"
if REACTIVATE_AS=$PREFIX/$second/alojamientos systemd/install.sh "$work/broken" 2>"$work/rollback2.log"; then
  fail "a broken upgrade succeeded"
fi
grep -q "in use again" "$work/rollback2.log" || { cat "$work/rollback2.log"; fail "the store in use was not recognised"; }
if grep -q "refuses the store" "$work/rollback2.log"; then fail "restored a store in use"; fi
grep -q "rolled back" "$work/rollback2.log" || { cat "$work/rollback2.log"; fail "no rollback message"; }
[ "$(readlink "$PREFIX/current")" = "$second" ] || fail "current is not the previous version"
curl -fsS "$READY_URL" >/dev/null || fail "not ready after the second rollback"
echo "PASS"
