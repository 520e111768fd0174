#!/usr/bin/env bash
# Builds the browser client into web/dist (npm ci when the lockfile changed, then esbuild).
set -euo pipefail
cd "$(dirname "$0")/../web"
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build
