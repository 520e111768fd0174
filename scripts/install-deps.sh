#!/usr/bin/env bash
# Installs what building (and, with --test, testing) Confab needs on Debian 12, if missing.
# Every package comes from Debian 12; see docs/architecture.md for why each is used.
set -euo pipefail

build_pkgs=(g++ cmake ninja-build pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev
  libboost-system1.81-dev libsodium-dev libpq-dev libsqlite3-dev libhiredis-dev
  libicu-dev libssl-dev libcurl4-openssl-dev)
test_pkgs=(libgtest-dev libgmock-dev postgresql-15 python3
  redis-server redis-tools haproxy clang libclang-rt-14-dev prometheus
  openssl)  # the push tests make their keys and the stand-ins' certificate with the openssl CLI

# The browser client (web/): Node.js and npm build it, Debian's Chromium runs its browser tests.
# A machine that already has node and npm (e.g. Node.js from another source, npm inside it) keeps them.
web_pkgs=()
command -v node >/dev/null || web_pkgs+=(nodejs)
command -v npm >/dev/null || web_pkgs+=(npm)
web_test_pkgs=(chromium)

pkgs=("${build_pkgs[@]}" "${web_pkgs[@]}")
if [[ "${1:-}" == "--test" ]]; then pkgs+=("${test_pkgs[@]}" "${web_test_pkgs[@]}"); fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "installing: ${missing[*]}"
sudo_cmd=()
[[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
