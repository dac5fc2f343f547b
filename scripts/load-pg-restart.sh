#!/usr/bin/env bash
# Fault (c) of docs/reliability.md: Postgres restarted in the middle of a load. A server on a
# throwaway database; 10 s into a 30 s load at 50 msg/s the local cluster restarts
# (pg_ctlcluster, as root). Webhooks refused meanwhile are retried with the same MessageSid;
# the load fails if a message is lost or a reply sent twice.
#
# Other tests share this Postgres: run it rarely, when nobody's tests need the database.
set -eu
cd "$(dirname "$0")/.."
version=${PG_VERSION:-15}
PG=1 RATE=${RATE:-50} DURATION=${DURATION:-30s} FAULT_AT=${FAULT_AT:-10} \
  FAULT="pg_ctlcluster --skip-systemctl-redirect $version main restart" exec scripts/load.sh --grace 90s "$@"
