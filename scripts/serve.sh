#!/usr/bin/env bash
# Install (once) into .venv and start the server on the embedded defaults:
# SQLite in ./data, the offline AI provider, no keys. Migrations run on start. The web app
# (web/) is built first when npm is installed and the build is missing or stale.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/everything-app ] || [ requirements.lock -nt .venv/.installed ]; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/pip install --quiet --disable-pip-version-check -c requirements.lock -e .
  touch .venv/.installed
fi
# The web app served at / (when npm is installed; else the API alone, and / says so). A
# failed build does not keep the API from starting (scripts/test.sh fails on it).
bash scripts/build-web.sh || echo "The web app did not build (see above); serving the API, with the previous build if any."
exec .venv/bin/everything-app serve "$@"
