#!/usr/bin/env bash
# Install everything into .venv, then lint, type-check and run the whole test suite.
# PostgreSQL (127.0.0.1:5432, user postgres, database test) and Redis (127.0.0.1:6379) are
# used when present; with CI=true they are required.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[test]'
# The real npm clients (AI SDK) the chat tests drive; without node those tests skip (CI: fail).
if command -v npm >/dev/null 2>&1; then
  (cd tests/js && npm ci --silent --no-audit --no-fund)
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/pytest "$@"
