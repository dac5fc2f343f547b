#!/usr/bin/env bash
# Starts `atiende serve` on a fresh data directory (or on DATABASE_URL), runs `atiende load`
# against it with its fake Twilio, stops the server and exits with load's status (1 when a
# message was lost or a reply sent twice). `make load` runs it with the defaults.
#
#   RATE=250 DURATION=30s scripts/load.sh --json          # extra arguments go to atiende load
#   DATABASE_URL=postgres://… RATE=500 scripts/load.sh
#
#   PG=1 RATE=500 scripts/load.sh                        # a throwaway Postgres database
#
# PG=1 creates a database on PG_ADMIN_URL (default: the local Postgres, trust auth) and drops
# it at the end; or set DATABASE_URL yourself (a database of its own: jobs a previous run
# left would be worked first). BIN: a built binary (default: built into a temporary directory); ADDR, SINK: where the
# server and the fake Twilio listen; SETTLE: the server's ATIENDE_TWILIO_SETTLE.
set -eu
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3} # as the Makefile
RATE=${RATE:-50}
DURATION=${DURATION:-10s}
ADDR=${ADDR:-127.0.0.1:18080}
SINK=${SINK:-127.0.0.1:19099}
work=$(mktemp -d)
server=
db=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  if [ -n "$db" ]; then psql "$PG_ADMIN_URL" -qAtc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
if [ "${PG:-}" = 1 ]; then
  PG_ADMIN_URL=${PG_ADMIN_URL:-postgresql://postgres@127.0.0.1:5432/postgres?sslmode=disable}
  db=atiende_load_$$
  psql "$PG_ADMIN_URL" -qAtc "CREATE DATABASE $db" >/dev/null
  export DATABASE_URL=${PG_ADMIN_URL%/*}/$db?sslmode=disable
fi
if [ -z "${BIN:-}" ]; then
  BIN=$work/atiende
  CGO_ENABLED=0 go build -o "$BIN" ./cmd/atiende
fi
export TWILIO_ACCOUNT_SID=${TWILIO_ACCOUNT_SID:-AC00000000000000000000000000load}
export TWILIO_AUTH_TOKEN=${TWILIO_AUTH_TOKEN:-00000000000000000000000000000load}
export TWILIO_FROM_NUMBER=${TWILIO_FROM_NUMBER:-+56229999999}
export TWILIO_WHATSAPP_FROM=${TWILIO_WHATSAPP_FROM:-whatsapp:+56229999999}
export ATIENDE_PUBLIC_URL=${ATIENDE_PUBLIC_URL:-https://atiende.example.cl}
# Every simulated web citizen comes from 127.0.0.1: the per-IP limit (ATIENDE_RATE_IP, meant
# for the real internet) would refuse all but 120 a minute, so it is off here unless set.
ATIENDE_RATE_IP=${ATIENDE_RATE_IP:-off} \
ATIENDE_ADDR=$ADDR ATIENDE_DATA_DIR=$work/data ATIENDE_TWILIO_API_URL=http://$SINK ATIENDE_TWILIO_SETTLE=${SETTLE:-1s} \
  "$BIN" serve 2>"$work/server.log" &
server=$!
for _ in $(seq 100); do
  curl -fs "http://$ADDR/healthz" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done
cpu() { awk '{print ($14+$15)/100}' "/proc/$server/stat" 2>/dev/null || echo 0; }
cpu0=$(cpu)
fault=
if [ -n "${FAULT:-}" ]; then
  (sleep "${FAULT_AT:-10}"; echo "fault at $(date -u +%H:%M:%S): $FAULT" >&2; sh -c "$FAULT") &
  fault=$!
fi
status=0
"$BIN" load --target "http://$ADDR" --sink "$SINK" --rate "$RATE" --duration "$DURATION" "$@" || status=$?
if [ -n "$fault" ]; then wait "$fault" || true; fi
echo "server CPU during the load and grace: $(awk -v a="$(cpu)" -v b="$cpu0" 'BEGIN{printf "%.1f", a-b}')s" >&2
if [ "$status" != 0 ]; then
  echo "load: exit $status; the server's last log lines:" >&2
  tail -n 20 "$work/server.log" >&2
fi
exit "$status"
