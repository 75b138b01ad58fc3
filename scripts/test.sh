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
# The web app the browser tests (tests/webapp) drive, built when stale; CI=true: npm required.
bash scripts/build-web.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
# The whole suite (slow tests included) on 4 worker processes: much of a test's time is
# waiting (on PostgreSQL, on servers it started), so 4 keep 2 cores busy. Each worker has
# its own databases (tests/conftest.py). Workers take tests 4 at a time from one queue that
# starts with the slow ones, so the run does not end on one worker alone in a long test.
# The inner loop, without the slow tests: .venv/bin/pytest -n 4 -m "not slow"
.venv/bin/pytest -n 4 --dist load --maxschedchunk 4 "$@"
