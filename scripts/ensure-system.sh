#!/bin/sh
# System packages the tests and benches use: a Chromium for Playwright, espeak-ng for real
# speech, and nginx, ab and wrk for `make scale`, `make soak` and `make bench`.
# Installs them with apt when they are missing and we are root; otherwise explains.
set -eu

need=""
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need="$need chromium"
command -v espeak-ng >/dev/null 2>&1 || need="$need espeak-ng"
# nginx for the two-instance scale test; ab (apache2-utils) and wrk for load and benchmarks.
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need="$need nginx"
command -v ab >/dev/null 2>&1 || need="$need apache2-utils"
command -v wrk >/dev/null 2>&1 || need="$need wrk"

if [ -n "$need" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing system packages:$need"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
  else
    echo "Missing system packages:$need (install them with your package manager)." >&2
  fi
fi

# No system Chromium (e.g. macOS): let Playwright fetch its own, where the network allows.
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  .venv/bin/playwright install chromium || echo "Could not get a Chromium for browser tests." >&2
fi
