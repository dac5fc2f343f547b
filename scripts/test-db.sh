#!/usr/bin/env bash
# Makes a Postgres 15 available for the tests and prints an admin URL for it (the tests create
# a throwaway database per test). Uses TEST_DATABASE_URL, or a server already running on
# 127.0.0.1:5432; otherwise, as root, installs Debian's postgresql and starts it.
# Exit status 1 when no server can be had: the Postgres tests then skip locally and fail under
# CI=true. `make test` runs it once before the tests, then scripts/ensure-pgvector.sh.
set -u
url=${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/postgres?sslmode=disable}
ready() { psql "$url" -qAtc 'select 1' >/dev/null 2>&1; }
if command -v psql >/dev/null 2>&1 && ready; then echo "$url"; exit 0; fi
if [ -n "${TEST_DATABASE_URL:-}" ]; then
  echo "test-db: TEST_DATABASE_URL does not answer" >&2; exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "test-db: no Postgres on 127.0.0.1:5432 and not root to install one" >&2; exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "test-db: installing Debian's postgresql" >&2
  (apt-get install -y -qq postgresql >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq postgresql >/dev/null 2>&1; })
fi
version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
if [ -n "$version" ]; then
  pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 || true
  # Trust local TCP connections for the tests, as this machine kind's own server does.
  hba=/etc/postgresql/$version/main/pg_hba.conf
  if ! grep -q "atiende-tests" "$hba" 2>/dev/null; then
    sed -i '1i host all all 127.0.0.1/32 trust # atiende-tests' "$hba" && pg_ctlcluster --skip-systemctl-redirect "$version" main reload >/dev/null 2>&1
  fi
fi
for _ in $(seq 1 30); do
  if ready; then echo "$url"; exit 0; fi
  sleep 1
done
echo "test-db: Postgres did not come up" >&2
exit 1
