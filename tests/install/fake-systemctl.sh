#!/usr/bin/env bash
# Stand-in for systemctl in tests/install/upgrade_rollback.sh: runs $PREFIX/current/alojamientos
# serve in the background (pid in $STATE/pid); `restart` and `stop` are what install.sh uses.
# With $STATE/reactivate present, the next `stop` plays socket activation: a connection queued
# on the socket starts the service again at once, as $REACTIVATE_AS, ready before `stop` returns.
set -euo pipefail
stop() {
  if [ -f "$STATE/pid" ]; then
    pid=$(cat "$STATE/pid")
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    rm -f "$STATE/pid"
  fi
}
case "$1" in
  stop)
    stop
    if [ -f "$STATE/reactivate" ]; then
      rm -f "$STATE/reactivate"
      "$REACTIVATE_AS" serve >>"$STATE/server.log" 2>&1 &
      echo $! >"$STATE/pid"
      for _ in $(seq 1 200); do curl -fsS -o /dev/null "$READY_URL" 2>/dev/null && break; sleep 0.05; done
    fi
    ;;
  restart)
    stop
    "$PREFIX/current/alojamientos" serve >>"$STATE/server.log" 2>&1 &
    echo $! >"$STATE/pid"
    ;;
  *) echo "fake-systemctl: unsupported $1" >&2; exit 2 ;;
esac
