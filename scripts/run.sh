#!/usr/bin/env bash
# Installs what is missing, builds confabd and starts it on the embedded default:
# SQLite under ./data, listening on http://localhost:8080, serving the browser client built into
# web/dist. Extra arguments go to confabd.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release -DCONFAB_TESTS=OFF >/dev/null
cmake --build build/release --target confabd
scripts/build-web.sh
mkdir -p data
echo "Confab: open http://localhost:8080 (Ctrl-C stops it)"
exec build/release/src/server/confabd --listen 127.0.0.1:8080 --storage sqlite --sqlite-path data/confab.db \
  --web-root web/dist "$@"
