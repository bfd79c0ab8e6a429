#!/bin/sh
# System packages the tests and benches use: a Chromium for Playwright, WebKitGTK for the
# WebKit lane, espeak-ng for real speech, and nginx, ab and wrk for `make scale`, `make soak`
# and `make bench`.
# Installs them with apt when they are missing and we are root; otherwise explains.
set -eu

need=""
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need="$need chromium"
command -v espeak-ng >/dev/null 2>&1 || need="$need espeak-ng"
# sox mixes silences and room noise into the turn-taking corpus (bench/turns).
command -v sox >/dev/null 2>&1 || need="$need sox"
# nginx for the two-instance scale test; ab (apache2-utils) and wrk for load and benchmarks.
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need="$need nginx"
command -v ab >/dev/null 2>&1 || need="$need apache2-utils"
command -v wrk >/dev/null 2>&1 || need="$need wrk"
# shellcheck: actionlint (make check) reads the workflows' run: steps with it.
command -v shellcheck >/dev/null 2>&1 || need="$need shellcheck"
# The WebKit lane (tests/webkit): WebKitWebDriver, a virtual display, WebKitGTK for the
# phone-sized test browser (run by the system python3 with PyGObject), and GStreamer's
# plugins for getUserMedia and MediaRecorder (audio/mp4 needs "bad", AAC needs "libav").
[ -x /usr/bin/WebKitWebDriver ] || need="$need webkit2gtk-driver"
command -v Xvfb >/dev/null 2>&1 || need="$need xvfb"
command -v xauth >/dev/null 2>&1 || need="$need xauth"
if command -v dpkg-query >/dev/null 2>&1; then
  for pkg in gir1.2-webkit2-4.1 python3-gi gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
             gstreamer1.0-plugins-bad gstreamer1.0-libav; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" \
      || need="$need $pkg"
  done
fi

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
