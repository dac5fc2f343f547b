#!/usr/bin/env bash
# Starts `atiende serve` on a fresh data directory (or on DATABASE_URL), runs `atiende load`
# against it with its fake Twilio, stops the server and exits with load's status (1 when a
# message was lost or a reply sent twice). `make load` runs it with the defaults.
#
#   RATE=250 DURATION=30s scripts/load.sh --json          # extra arguments go to atiende load
#   DATABASE_URL=postgres://… RATE=500 scripts/load.sh
#
# BIN: a built binary (default: built into a temporary directory); ADDR, SINK: where the
# server and the fake Twilio listen; SETTLE: the server's ATIENDE_TWILIO_SETTLE.
set -eu
RATE=${RATE:-50}
DURATION=${DURATION:-10s}
ADDR=${ADDR:-127.0.0.1:18080}
SINK=${SINK:-127.0.0.1:19099}
work=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
if [ -z "${BIN:-}" ]; then
  BIN=$work/atiende
  CGO_ENABLED=0 go build -o "$BIN" ./cmd/atiende
fi
export TWILIO_ACCOUNT_SID=${TWILIO_ACCOUNT_SID:-AC00000000000000000000000000load}
export TWILIO_AUTH_TOKEN=${TWILIO_AUTH_TOKEN:-00000000000000000000000000000load}
export TWILIO_FROM_NUMBER=${TWILIO_FROM_NUMBER:-+56229999999}
export TWILIO_WHATSAPP_FROM=${TWILIO_WHATSAPP_FROM:-whatsapp:+56229999999}
export ATIENDE_PUBLIC_URL=${ATIENDE_PUBLIC_URL:-https://atiende.example.cl}
ATIENDE_ADDR=$ADDR ATIENDE_DATA_DIR=$work/data ATIENDE_TWILIO_API_URL=http://$SINK ATIENDE_TWILIO_SETTLE=${SETTLE:-1s} \
  "$BIN" serve 2>"$work/server.log" &
server=$!
for _ in $(seq 100); do
  curl -fs "http://$ADDR/healthz" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done
status=0
"$BIN" load --target "http://$ADDR" --sink "$SINK" --rate "$RATE" --duration "$DURATION" "$@" || status=$?
if [ "$status" != 0 ]; then
  echo "load: exit $status; the server's last log lines:" >&2
  tail -n 20 "$work/server.log" >&2
fi
exit "$status"
