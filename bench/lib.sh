# shellcheck shell=bash disable=SC2034 # PID and TOKEN are used by the scripts that source this
# Shared by the bench scripts: start the release binary on $PORT over $DATA, log in as the
# first admin, create accommodations. Source it after setting BIN, PORT and DATA; RUNNER (e.g.
# "valgrind --tool=callgrind") runs the binary under a tool.
BASE="http://127.0.0.1:$PORT"

start() {
  # One client (wrk and curl on 127.0.0.1) takes every hold: no rate limit, no hold limits, no
  # per-client connection cap (the checks themselves still run).
  # shellcheck disable=SC2086 # RUNNER is a command line
  ALOJAMIENTOS_SERVER__LISTEN=127.0.0.1:$PORT ALOJAMIENTOS_SERVER__DATA_DIR=$DATA \
  ALOJAMIENTOS_RATE_LIMIT__ENABLED=false ALOJAMIENTOS_LOG__FILTER=${BENCH_LOG_FILTER:-warn} \
  ALOJAMIENTOS_HOLDS__PER_PHONE=0 ALOJAMIENTOS_HOLDS__PER_ADDRESS=0 \
  ALOJAMIENTOS_HOLDS__MAX_NIGHTS=0 ALOJAMIENTOS_HOLDS__MAX_SHARE_PERCENT=100 \
  ALOJAMIENTOS_SERVER__MAX_CONNECTIONS_PER_CLIENT=1024 \
    ${RUNNER:-} "$BIN" serve >>"$DATA/stdout" 2>>"$DATA/stderr" &
  PID=$!
  until curl -sf "$BASE/api/v1/readyz" >/dev/null; do sleep 0.005; done
}

login() {
  local password
  # The first admin's one-time password: in its 0600 file when stdout is not a terminal;
  # older binaries logged it (a JSON notice on stderr) or printed it (plain text on stdout).
  password=$(sed -n 's/^ *password: *//p' "$DATA/initial-admin-password" 2>/dev/null || true)
  [ -n "$password" ] || password=$(sed -n 's/.*"password":"\([0-9a-f]*\)".*/\1/p' "$DATA/stderr" | tail -1)
  [ -n "$password" ] || password=$(sed -n 's/^ *password: *//p' "$DATA/stdout" | tail -1)
  TOKEN=$(curl -sf "$BASE/api/v1/admin/login" -H 'content-type: application/json' \
    -d "{\"email\":\"admin@alojamientos.local\",\"password\":\"$password\"}" | sed 's/.*"token":"\([0-9a-f]*\)".*/\1/')
}

# admin METHOD PATH [JSON]: an authenticated admin API call.
admin() {
  curl -sf -X "$1" "$BASE$2" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' ${3:+-d "$3"}
}

create_units() {
  for i in $(seq 1 "$1"); do
    admin POST /api/v1/admin/accommodations \
      "{\"name\":\"Unidad $i\",\"kind\":\"room\",\"capacity\":4,\"base_price\":\"12000\"}" >/dev/null
  done
}
