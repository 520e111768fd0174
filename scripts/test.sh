#!/usr/bin/env bash
# Installs what is missing (PostgreSQL server included), builds, and runs the whole test suite
# twice: an optimised build, then the AddressSanitizer + UndefinedBehaviorSanitizer build.
# ctest's pg fixture starts and stops its own PostgreSQL server on a free loopback port.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test

jobs=$(nproc)
status=0
for preset in release asan; do
  echo "=== $preset: configure and build"
  cmake --preset "$preset" -DCONFAB_TESTS=ON >/dev/null
  cmake --build "build/$preset" -j "$jobs"
  echo "=== $preset: test"
  ctest --test-dir "build/$preset" --output-on-failure --timeout 900 || status=1
done
exit $status
