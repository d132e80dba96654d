#!/usr/bin/env bash
# Install or upgrade alojamientos with automatic rollback.
#
#   sudo systemd/install.sh path/to/alojamientos
#
# Each version goes to its own directory (/opt/alojamientos/versions/<version>-<sha256 prefix>);
# /opt/alojamientos/current is a symlink switched atomically (rename), and
# /usr/local/bin/alojamientos points through it. Before switching, the running version takes a
# backup (alojamientos backup --out /opt/alojamientos/pre-upgrade/...). After the restart the
# script waits for /api/v1/readyz; if the new version is not ready within READY_TIMEOUT
# seconds, it switches back to the previous version, restores the pre-upgrade backup when the
# previous binary refuses the store (the schema moved), restarts, and exits 1.
#
# Settings (environment): PREFIX (/opt/alojamientos), BIN_LINK (/usr/local/bin/alojamientos),
# SERVICE (alojamientos), CONFIG (/etc/alojamientos/alojamientos.toml), READY_URL
# (http://127.0.0.1:8080/api/v1/readyz), READY_TIMEOUT (60), SYSTEMCTL (systemctl),
# ALOJAMIENTOS_SERVER__DATA_DIR (/var/lib/alojamientos, as in the unit), RESTART (yes; "no"
# installs and switches without restarting, for machines where systemd is not running).
# The Debian package's postinst runs this same script (packaging/deb/).
set -euo pipefail

PREFIX=${PREFIX:-/opt/alojamientos}
BIN_LINK=${BIN_LINK:-/usr/local/bin/alojamientos}
SERVICE=${SERVICE:-alojamientos}
CONFIG=${CONFIG:-/etc/alojamientos/alojamientos.toml}
READY_URL=${READY_URL:-http://127.0.0.1:8080/api/v1/readyz}
READY_TIMEOUT=${READY_TIMEOUT:-60}
SYSTEMCTL=${SYSTEMCTL:-systemctl}
RESTART=${RESTART:-yes}
# The unit gives the server its data directory through this variable; the CLI verbs run here
# (backup, check, restore) need the same one.
export ALOJAMIENTOS_SERVER__DATA_DIR=${ALOJAMIENTOS_SERVER__DATA_DIR:-/var/lib/alojamientos}

log() { printf '%s install: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "$*"; exit 1; }

[ $# -eq 1 ] || die "usage: $0 BINARY"
new_bin=$1
[ -x "$new_bin" ] || die "$new_bin is not an executable"

cli() { # cli BINARY ARGS...: runs a CLI verb with the config file when there is one
  local bin=$1; shift
  if [ -f "$CONFIG" ]; then "$bin" --config "$CONFIG" "$@"; else "$bin" "$@"; fi
}

wait_ready() {
  local deadline=$((SECONDS + READY_TIMEOUT))
  while [ $SECONDS -lt $deadline ]; do
    if curl -fsS -m 2 -o /dev/null "$READY_URL" 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  return 1
}

switch_to() { # atomic: a new symlink renamed over the old one
  ln -sfn "$1" "$PREFIX/current.new"
  mv -Tf "$PREFIX/current.new" "$PREFIX/current"
}

version=$("$new_bin" version | awk '{print $2}') || die "$new_bin does not run (version)"
[ -n "$version" ] || die "$new_bin printed no version"
sum=$(sha256sum "$new_bin" | cut -c1-12)
id="$version-$sum"
mkdir -p "$PREFIX/versions/$id" "$PREFIX/pre-upgrade"
install -m 0755 "$new_bin" "$PREFIX/versions/$id/alojamientos.new"
mv -f "$PREFIX/versions/$id/alojamientos.new" "$PREFIX/versions/$id/alojamientos"

previous=""
if [ -L "$PREFIX/current" ]; then previous=$(readlink "$PREFIX/current"); fi
if [ "$previous" = "versions/$id" ]; then log "version $id is already current"; exit 0; fi

backup=""
if [ -n "$previous" ]; then
  backup="$PREFIX/pre-upgrade/$(date -u +%Y%m%dT%H%M%SZ)-from-${previous#versions/}.redb"
  log "backup before upgrading from ${previous#versions/}: $backup"
  cli "$PREFIX/$previous/alojamientos" backup --out "$backup" >/dev/null \
    || die "the pre-upgrade backup failed; nothing was changed"
fi

log "switching to $id"
switch_to "versions/$id"
ln -sfn "$PREFIX/current/alojamientos" "$BIN_LINK.new" && mv -Tf "$BIN_LINK.new" "$BIN_LINK"
if [ "$RESTART" = no ]; then log "switched to $id; not restarting (RESTART=no)"; exit 0; fi
started=$SECONDS
"$SYSTEMCTL" restart "$SERVICE" || true
if wait_ready; then
  log "version $id is ready after $((SECONDS - started)) s"
  exit 0
fi

log "version $id is not ready after ${READY_TIMEOUT} s"
[ -n "$previous" ] || die "first install failed and there is nothing to roll back to"
rollback_started=$SECONDS
"$SYSTEMCTL" stop "$SERVICE" || true
switch_to "$previous"
# With socket activation, a connection arriving after the stop starts the service again, now
# the previous version: the store is then in use, which says nothing against it (the
# readiness wait below decides). Only a check that reads the store and refuses it restores.
# `check` says "already in use" while a server is opening the store and "the server holds"
# once it serves.
if ! refusal=$(cli "$PREFIX/$previous/alojamientos" check 2>&1 >/dev/null); then
  case $refusal in
    *"already in use"* | *"the server holds"*)
      log "the store is in use again (socket activation): not restoring" ;;
    *)
      log "the previous version refuses the store (schema moved?): restoring $backup"
      cli "$PREFIX/$previous/alojamientos" restore "$backup" >/dev/null
      ;;
  esac
fi
"$SYSTEMCTL" restart "$SERVICE" || true
if wait_ready; then
  die "rolled back to ${previous#versions/} in $((SECONDS - rollback_started)) s; $id is kept in $PREFIX/versions for inspection"
fi
die "rollback to ${previous#versions/} is not ready either: see journalctl -u $SERVICE"
