#!/usr/bin/env bash
# Build the web app (web/, TypeScript + React, Vite) into the package, where `serve` serves it
# at / (src/everything_app/webapp/static/), when the build is missing or older than any file of
# web/ (package.json, package-lock.json, index.html, the Vite config, src/**). Run by
# scripts/serve.sh and scripts/test.sh. Without npm: one line saying the API runs without the
# web app, and success; with CI=true a missing npm fails (the browser tests need the app).
set -euo pipefail
cd "$(dirname "$0")/.."
built=src/everything_app/webapp/static/index.html
if [ ! -f web/package.json ]; then
  exit 0  # a checkout without the web app's source: nothing to build
fi
if ! command -v npm >/dev/null 2>&1; then
  if [ "${CI:-}" = "true" ]; then
    echo "npm not found: the web app (web/) cannot be built (CI=true: required)" >&2
    exit 1
  fi
  echo "npm not found: the API runs without the web app (install Node.js 20+ and npm to build web/)"
  exit 0
fi
if [ -f "$built" ] && [ -z "$(find web -path web/node_modules -prune -o -type f -newer "$built" -print -quit)" ]; then
  exit 0  # up to date
fi
echo "Building the web app (web/ -> src/everything_app/webapp/static/)"
(cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build)
# A gzip copy beside each text asset, which the server sends to clients that accept gzip.
assets=src/everything_app/webapp/static/assets
[ ! -d "$assets" ] || find "$assets" -type f \( -name '*.js' -o -name '*.css' -o -name '*.svg' -o -name '*.json' \) -exec gzip -9 --keep --force {} +
