#!/usr/bin/env bash
# Makes the pgvector extension available to the local Postgres (the one scripts/test-db.sh
# finds or starts), for the retrieval in Postgres. This Debian (bookworm) does not package
# pgvector; its source package is in the newer suite trixie. So, when the extension is
# missing and we are root: add a deb-src line for trixie in an apt list of our own, with the
# mirror read from this machine's own apt sources; download the source package; build and
# install it against postgresql-server-dev for the server's major version.
# Usage: scripts/ensure-pgvector.sh ADMIN_URL. Exit status 1 when it cannot be had.
set -u
url=${1:?usage: ensure-pgvector.sh ADMIN_URL}
have() { [ "$(psql "$url" -qAtc "select count(*) from pg_available_extensions where name = 'vector'" 2>/dev/null)" = 1 ]; }
if have; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "ensure-pgvector: pgvector is missing and this is not root to build it" >&2; exit 1
fi
major=$(psql "$url" -qAtc "show server_version_num" 2>/dev/null | cut -c1-2)
if [ -z "$major" ] || [ ! -d "/usr/lib/postgresql/$major" ]; then
  echo "ensure-pgvector: the Postgres at $url is not a local Debian server; install pgvector on it" >&2; exit 1
fi
# The mirror: the first non-security URI of the machine's apt sources (deb822 or one-line).
mirror=$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n 1)
if [ -z "$mirror" ]; then
  mirror=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' | grep -v security | head -n 1)
fi
if [ -z "$mirror" ]; then
  echo "ensure-pgvector: no Debian mirror in /etc/apt/sources.list*" >&2; exit 1
fi
export DEBIAN_FRONTEND=noninteractive
list=/etc/apt/sources.list.d/atiende-trixie-src.list
echo "deb-src $mirror trixie main" > "$list"
echo "ensure-pgvector: building pgvector from trixie's source package ($mirror)" >&2
apt-get update -qq >/dev/null 2>&1 || { echo "ensure-pgvector: apt-get update failed" >&2; exit 1; }
apt-get install -y -qq "postgresql-server-dev-$major" build-essential dpkg-dev >/dev/null 2>&1 ||
  { echo "ensure-pgvector: cannot install postgresql-server-dev-$major" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(
  cd "$work" &&
  apt-get source --download-only pgvector >/dev/null 2>&1 &&
  dpkg-source -x pgvector_*.dsc src >/dev/null 2>&1 &&
  cd src &&
  make -s PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config" >/dev/null 2>&1 &&
  make -s PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config" install >/dev/null 2>&1
) || { echo "ensure-pgvector: could not build pgvector (in $work)" >&2; trap - EXIT; exit 1; }
if have; then exit 0; fi
echo "ensure-pgvector: built, but Postgres does not list the extension" >&2
exit 1
