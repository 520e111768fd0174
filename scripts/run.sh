#!/usr/bin/env bash
# Installs what is missing, builds confabd and starts it on the embedded default:
# SQLite under ./data, listening on http://localhost:8080, serving the browser client built into
# web/dist. Extra arguments go to confabd and override those defaults (scripts/run.sh --listen
# 127.0.0.1:9000); so do CONFAB_* environment variables and a --config file.
#
# The defaults are confabd's own built-in defaults, so this script passes no option of its own:
# an option on the command line would rank above the environment and the config file, and a
# second --listen from the caller would be refused as given twice.
#
# CONFABD=/path/to/confabd runs that binary instead, skipping the install and the builds.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${CONFABD:-}" ]]; then
  scripts/install-deps.sh
  cmake --preset release -DCONFAB_TESTS=OFF >/dev/null
  cmake --build build/release --target confabd
  scripts/build-web.sh
  CONFABD=build/release/src/server/confabd
fi
echo "Confab: starting (default address http://localhost:8080; the 'listening' line gives the real one; Ctrl-C stops it)" >&2
exec "$CONFABD" "$@"
