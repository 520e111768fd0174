#!/usr/bin/env bash
# scripts/run.sh's option handling, on a built confabd (CONFABD skips the install and build):
# its defaults hold, and the caller's arguments, environment and config file override them.
# Usage: run_sh_test.sh <path to confabd>
set -uo pipefail
confabd="$1"
here="$(cd "$(dirname "$0")" && pwd)"
run_sh="$here/../../../scripts/run.sh"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0

# expect <description> <line wanted in the effective configuration> <run.sh arguments...>
expect() {
  local what="$1" want="$2"
  shift 2
  local out
  if ! out="$(CONFABD="$confabd" "$run_sh" "$@" --check-config 2>"$tmp/err")"; then
    echo "FAIL: $what: run.sh exited with an error: $(cat "$tmp/err")"
    failures=$((failures + 1))
  elif ! grep -qxF "$want" <<<"$out"; then
    echo "FAIL: $what: no line '$want' in:"
    echo "$out"
    failures=$((failures + 1))
  else
    echo "ok: $what"
  fi
}

unset CONFAB_LISTEN CONFAB_STORAGE CONFAB_SQLITE_PATH CONFAB_WEB_ROOT
expect "default address" "listen = 127.0.0.1:8080"
expect "default storage" "storage = sqlite"
expect "default database" "sqlite-path = data/confab.db"
expect "default client folder" "web-root = web/dist"
expect "--listen overrides the default" "listen = 127.0.0.1:9000" --listen 127.0.0.1:9000
expect "--listen=... overrides the default" "listen = 127.0.0.1:9003" --listen=127.0.0.1:9003
expect "other defaults stay with --listen" "sqlite-path = data/confab.db" --listen 127.0.0.1:9000
CONFAB_LISTEN=127.0.0.1:9001 expect "the environment overrides the default" "listen = 127.0.0.1:9001"
printf 'listen = 127.0.0.1:9002\nweb-root = /srv/confab-web\n' >"$tmp/confab.conf"
expect "a config file overrides the default" "listen = 127.0.0.1:9002" --config "$tmp/confab.conf"
expect "a config file sets web-root" "web-root = /srv/confab-web" --config "$tmp/confab.conf"

# A bad value still stops confabd with exit code 2 and names the option.
CONFABD="$confabd" "$run_sh" --threads 0 --check-config >/dev/null 2>"$tmp/err"
code=$?
if [[ $code -ne 2 ]] || ! grep -q -- "--threads" "$tmp/err"; then
  echo "FAIL: --threads 0: exit $code, stderr: $(cat "$tmp/err")"
  failures=$((failures + 1))
else
  echo "ok: a bad value is refused with exit code 2"
fi
exit $((failures > 0))
