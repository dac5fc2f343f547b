#!/usr/bin/env bash
# Makes Debian's Chromium available for the browser tests (chromedp). Installs the package
# when it is missing and we are root; prints where it is. Exit status 1 when it cannot be had:
# the browser tests then skip locally, and fail under CI=true.
set -u
for c in "${CHROMIUM_PATH:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -n "$c" ] && [ -x "$c" ]; then echo "$c"; exit 0; fi
done
if [ "$(id -u)" != 0 ]; then
  echo "ensure-chromium: chromium is not installed and this is not root; install Debian's chromium package" >&2
  exit 1
fi
echo "ensure-chromium: installing Debian's chromium package" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq chromium >/dev/null 2>&1; then
  apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1
fi
if [ -x /usr/bin/chromium ]; then echo /usr/bin/chromium; exit 0; fi
echo "ensure-chromium: could not install chromium" >&2
exit 1
