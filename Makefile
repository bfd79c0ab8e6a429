# Parley: `make run` serves the app; `make test` runs every test. Both start from nothing.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	&& { command -v $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# llama-cpp-python builds from source: pip keeps the wheel in its cache, so only the
# first install on a machine is slow. Never pass --no-cache-dir here.
RUN_EXTRAS := local,speech
TEST_EXTRAS := local,speech,dev
# Every install takes the versions in the lock, so CI and a newcomer get what was tested.
# `make lock` regenerates it on purpose (uv resolves for every Python and platform).
LOCK := constraints.txt

.PHONY: run test lint check browsers services webkit bench soak scale clean lock

$(PY):
	@test -n "$(PYTHON)" || { echo "Parley needs Python 3.11 or newer on PATH."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.run-installed: pyproject.toml $(LOCK) | $(PY)
	$(PIP) install --quiet -c $(LOCK) -e '.[$(RUN_EXTRAS)]'
	@touch $@

$(VENV)/.test-installed: pyproject.toml $(LOCK) | $(PY)
	$(PIP) install --quiet -c $(LOCK) -e '.[$(TEST_EXTRAS)]'
	@touch $@ $(VENV)/.run-installed

lock: | $(PY)
	$(PIP) install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --universal --python-version 3.11 \
		--extra local --extra speech --extra dev --no-emit-package pip \
		--no-emit-package setuptools --quiet -o $(LOCK)

run: $(VENV)/.run-installed
	$(VENV)/bin/parley serve

check: $(VENV)/.test-installed
	$(VENV)/bin/ruff check parley tests bench api
	$(VENV)/bin/mypy
	scripts/actionlint.sh

browsers: $(VENV)/.test-installed
	scripts/ensure-system.sh

services:
	scripts/ensure-services.sh

test: check browsers services
	$(VENV)/bin/pytest

# The WebKit lane alone: the app's flows in WebKitGTK at iPhone size (tests/webkit).
webkit: browsers
	$(VENV)/bin/pytest -m webkit

bench: browsers
	$(PY) -m bench

soak: browsers
	$(PY) -m bench.soak

scale: browsers services
	$(PY) -m bench.scale

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache test-artifacts
