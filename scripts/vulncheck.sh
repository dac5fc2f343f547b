#!/bin/sh
# vulncheck: govulncheck over the module, for `make lint`.
#
# The database is, by default, a pinned snapshot of the Go vulnerability database: the OSV
# files that the module golang.org/x/vulndb ships (data/osv), indexed with that module's own
# cmd/indexdb into the layout govulncheck reads (-db file://). Both come from the Go module
# proxy, so the check works where vuln.go.dev cannot be reached and gives the same answer
# on every machine until VULNDB_VERSION is moved on (do so when upgrading dependencies:
# the newest version is in `go list -m -versions golang.org/x/vulndb`, or the proxy's
# @latest). VULNDB=https://vuln.go.dev checks against the live database instead.
#
# Exit status: 0 clean, 3 when code of this module reaches a known vulnerability.
set -eu
GOVULNCHECK=golang.org/x/vuln/cmd/govulncheck@v1.9.0
VULNDB_MOD=golang.org/x/vulndb
VULNDB_VERSION=${VULNDB_VERSION:-v0.0.0-20261105234957-e22db6528018}

db=${VULNDB:-}
if [ -z "$db" ]; then
	go mod download "$VULNDB_MOD@$VULNDB_VERSION"
	osv="$(go env GOMODCACHE)/$VULNDB_MOD@$VULNDB_VERSION/data/osv"
	out="${XDG_CACHE_HOME:-$HOME/.cache}/atiende/vulndb-$VULNDB_VERSION"
	if [ ! -f "$out/index/db.json" ]; then
		echo "vulncheck: indexing $VULNDB_MOD@$VULNDB_VERSION ($(ls "$osv" | wc -l) OSV entries) into $out" >&2
		rm -rf "$out.tmp"
		mkdir -p "$(dirname "$out")"
		go run "$VULNDB_MOD/cmd/indexdb@$VULNDB_VERSION" -vulns "$osv" -out "$out.tmp"
		rm -rf "$out"
		mv "$out.tmp" "$out"
	fi
	db="file://$out"
fi
echo "vulncheck: $GOVULNCHECK -db $db" >&2
exec go run "$GOVULNCHECK" -db "$db" ./...
