#!/bin/sh
# `vercel build` on this machine, offline and without a Vercel account: proves that the
# function and the static output build, with the CLI and Python the deployment uses.
#
# Builds a copy of the working tree (tracked and untracked files, not ignored ones: what a
# clean checkout gives Vercel) in .cache/vercel/app, so the developer's own .vercel link and
# local clutter (.venv, egg-info, caches) stay out of it. The output is in
# .cache/vercel/app/.vercel/output. Exits 3, saying why, when npm or Python 3.12 is missing.
set -eu

# Newer CLIs do not install on Node 20 here; .github/workflows/deploy.yml pins the same.
VERCEL_CLI_VERSION=58.10.0
# The uv that this CLI's Python builder asks for (UV_VERSION in @vercel/python).
UV_VERSION=0.10.11

cd "$(dirname "$0")/.."
root=$(pwd)
cache=$root/.cache/vercel
app=$cache/app

missing() { echo "$1" >&2; exit 3; }

command -v npm >/dev/null 2>&1 || missing "npm is not installed: the Vercel CLI comes from npm."

# pyenv's shims exist for every installed version but only run the selected one, so each
# candidate is asked to run.
python=""
for candidate in python3.12 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12 \
                 /usr/local/bin/python3.12 /usr/bin/python3.12; do
  python=$("$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 12); print(sys.executable)' \
           2>/dev/null) && break
  python=""
done
[ -n "$python" ] || missing "Python 3.12 is not installed: the function runs on Python 3.12 (api/.python-version)."

cli=$cache/node_modules/vercel/package.json
if ! grep -q "\"version\": \"$VERCEL_CLI_VERSION\"" "$cli" 2>/dev/null; then
  echo "Installing the Vercel CLI $VERCEL_CLI_VERSION into $cache"
  npm install --prefix "$cache" --no-audit --no-fund --loglevel=error "vercel@$VERCEL_CLI_VERSION"
fi
if [ "$("$cache/tools/bin/uv" --version 2>/dev/null)" != "uv $UV_VERSION" ]; then
  echo "Installing uv $UV_VERSION into $cache/tools"
  "$python" -m venv "$cache/tools"
  "$cache/tools/bin/pip" install --quiet "uv==$UV_VERSION"
fi

# The builder takes Python and uv from PATH; only these two are added, nothing else of tools/.
mkdir -p "$cache/bin"
ln -sf "$python" "$cache/bin/python3.12"
ln -sf "$cache/tools/bin/uv" "$cache/bin/uv"
PATH=$cache/bin:$cache/node_modules/.bin:$PATH
export PATH

# The builder installs api/uv.lock as it is (uv sync --frozen): a lock older than
# api/pyproject.toml would deploy other packages than the ones listed.
uv lock --check --project api --quiet \
  || { echo "api/uv.lock does not match api/pyproject.toml: run 'uv lock --project api'." >&2; exit 1; }

# A fresh copy of the tree each time; .vercel/ stays, with the builder's venv and uv cache.
mkdir -p "$app"
find "$app" -mindepth 1 -maxdepth 1 ! -name .vercel -exec rm -rf {} +
git ls-files -z --cached --others --exclude-standard --deduplicate \
  | (cd "$root" && tar --null --files-from=- --ignore-failed-read -cf -) \
  | tar -xf - -C "$app"

# An unlinked project: `vercel build` reads its settings from here instead of asking the API.
mkdir -p "$app/.vercel"
echo '{"projectId":"prj_local","orgId":"team_local","settings":{"framework":null}}' \
  > "$app/.vercel/project.json"

cd "$app"
VERCEL_TELEMETRY_DISABLED=1 vercel build --yes

"$python" - <<'EOF'
import json, os
config = json.load(open(".vercel/output/functions/api/index.func/.vc-config.json"))
files = config["filePathMap"].values()
size = sum(os.path.getsize(path) for path in files)
print(f"api/index.func: {len(files)} files, {size / 1e6:.1f} MB unzipped, {config['runtime']}")
EOF
