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
#
# Faults (docs/reliability.md): FAULT=command runs it FAULT_AT seconds in (default 10);
# KILL_AT=10 kills the server with SIGKILL 10 s in and starts it again on the same data
# RESTART_AFTER later (default 1 s): KILL_AT=10 RATE=500 DURATION=30s scripts/load.sh --grace 90s
#
# MODEL_DELAY=500ms: the server writes its answers with a language model, a fake one that
# atiende load serves on MODEL (default 127.0.0.1:19098) and that takes MODEL_DELAY to answer.
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
  server=$(cat "$work/server.pid" 2>/dev/null || true)
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  if [ -n "$server" ]; then while kill -0 "$server" 2>/dev/null; do sleep 0.1; done; fi
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
export TWILIO_ACCOUNT_SID=${TWILIO_ACCOUNT_SID:-AC0000000000000000000000000000beef} # AC and 32 hex digits, as the webhook checks
export TWILIO_AUTH_TOKEN=${TWILIO_AUTH_TOKEN:-00000000000000000000000000000load}
export TWILIO_FROM_NUMBER=${TWILIO_FROM_NUMBER:-+56229999999}
export TWILIO_WHATSAPP_FROM=${TWILIO_WHATSAPP_FROM:-whatsapp:+56229999999}
export ATIENDE_PUBLIC_URL=${ATIENDE_PUBLIC_URL:-https://atiende.example.cl}
# Every simulated web citizen comes from 127.0.0.1: the per-IP limit (ATIENDE_RATE_IP, meant
# for the real internet) would refuse all but 120 a minute, so it is off here unless set.
MODEL=${MODEL:-127.0.0.1:19098}
model_env=
model_args=
if [ -n "${MODEL_DELAY:-}" ]; then
  model_env="ATIENDE_LLM=openai ATIENDE_LLM_BASE_URL=http://$MODEL ATIENDE_LLM_MODEL=fake"
  model_args="--model $MODEL --model-delay $MODEL_DELAY"
fi
start_server() {
  env $model_env ATIENDE_RATE_IP=${ATIENDE_RATE_IP:-off} \
  ATIENDE_ADDR=$ADDR ATIENDE_DATA_DIR=$work/data ATIENDE_TWILIO_API_URL=http://$SINK ATIENDE_TWILIO_SETTLE=${SETTLE:-1s} \
    "$BIN" serve 2>>"$work/server.log" &
  echo $! >"$work/server.pid"
  for _ in $(seq 100); do
    curl -fs "http://$ADDR/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$(cat "$work/server.pid")" 2>/dev/null || { cat "$work/server.log" >&2; return 1; }
    sleep 0.1
  done
}
start_server || exit 1
server=$(cat "$work/server.pid")
cpu() { awk '{print ($14+$15)/100}' "/proc/$server/stat" 2>/dev/null || echo 0; }
cpu0=$(cpu)
fault=
if [ -n "${FAULT:-}" ]; then
  (sleep "${FAULT_AT:-10}"; echo "fault at $(date -u +%H:%M:%S): $FAULT" >&2; sh -c "$FAULT") &
  fault=$!
elif [ -n "${KILL_AT:-}" ]; then
  # kill -9 of the server KILL_AT seconds in, and a restart on the same data RESTART_AFTER later.
  (sleep "$KILL_AT"; echo "fault at $(date -u +%H:%M:%S): kill -9 of the server" >&2; kill -9 "$server"
   sleep "${RESTART_AFTER:-1}"; start_server && echo "restarted at $(date -u +%H:%M:%S)" >&2) &
  fault=$!
fi
status=0
# shellcheck disable=SC2086 # model_args is words
"$BIN" load --target "http://$ADDR" --sink "$SINK" --rate "$RATE" --duration "$DURATION" $model_args "$@" || status=$?
if [ -n "$fault" ]; then wait "$fault" || true; fi
server=$(cat "$work/server.pid")
[ -z "${KILL_AT:-}" ] || cpu0=0 # the restarted server's CPU since it started
echo "server CPU during the load and grace: $(awk -v a="$(cpu)" -v b="$cpu0" 'BEGIN{printf "%.1f", a-b}')s" >&2
if [ "$status" != 0 ]; then
  echo "load: exit $status; the server's last log lines:" >&2
  tail -n 20 "$work/server.log" >&2
fi
exit "$status"
