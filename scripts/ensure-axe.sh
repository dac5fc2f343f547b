#!/usr/bin/env bash
# Makes axe-core (the accessibility engine, from the npm registry) available to the browser
# tests, which inject it into the pages they open. Installs a pinned version once into the
# user's cache; prints the path of axe.min.js. Exit status 1 when it cannot be had: the
# accessibility checks then skip locally, and fail under CI=true.
set -u
version=4.14.1
dir="${XDG_CACHE_HOME:-$HOME/.cache}/atiende/axe-core-$version"
file="$dir/node_modules/axe-core/axe.min.js"
if [ -s "$file" ]; then echo "$file"; exit 0; fi
if ! command -v npm >/dev/null 2>&1; then
  echo "ensure-axe: npm is not installed (Debian's npm package); the accessibility checks will skip" >&2
  exit 1
fi
mkdir -p "$dir"
echo "ensure-axe: installing axe-core@$version from the npm registry" >&2
if npm install --silent --no-audit --no-fund --prefix "$dir" "axe-core@$version" >/dev/null 2>&1 && [ -s "$file" ]; then
  echo "$file"; exit 0
fi
echo "ensure-axe: could not install axe-core@$version" >&2
exit 1
