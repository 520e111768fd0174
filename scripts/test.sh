#!/usr/bin/env bash
# Installs what is missing (PostgreSQL server included), builds, and runs the whole test suite
# twice: an optimised build, then the AddressSanitizer + UndefinedBehaviorSanitizer build.
# ctest's pg fixture starts and stops its own PostgreSQL server on a free loopback port.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test

jobs=$(nproc)
status=0
# The npm packages of the push stand-ins (tests/push-standins), which ctest's push_standins_test and
# sender_test use.
(cd tests/push-standins && npm ci --no-audit --no-fund --loglevel=error) || status=1
for preset in release asan; do
  echo "=== $preset: configure and build"
  cmake --preset "$preset" -DCONFAB_TESTS=ON >/dev/null
  cmake --build "build/$preset" -j "$jobs"
  echo "=== $preset: test"
  # Two tests at a time in both builds (the sanitised build's 52 tests took 463 s so, against
  # about 900 s one at a time; its timeouts are sized for the slower build).
  ctest --test-dir "build/$preset" --output-on-failure --timeout 900 -j 2 || status=1
done

# The clang build: compiles the server with clang's lock analysis as errors (-Werror=thread-safety
# over core/thread_annotations.hpp) and builds the fuzz targets. Built only; its tests are not run
# a third time.
echo "=== clang: configure and build (thread-safety analysis, fuzz targets)"
if ! { cmake --preset clang -DCONFAB_TESTS=ON >/dev/null && cmake --build build/clang -j "$jobs" --target confabd relay_fuzz frame_fuzz emoji_fuzz mentions_fuzz tokenizer_fuzz query_fuzz push_fuzz; }; then
  status=1
fi

# The browser client: its unit tests (node's test runner), then the browser tests, which start the
# release confabd built above and drive Debian's Chromium (playwright-core). Screenshots are saved
# in web/test-results/screenshots.
echo "=== web: build, type check, unit tests, browser tests"
if scripts/build-web.sh; then
  (cd web && npm run --silent typecheck && npm run --silent test:unit) || status=1
  (cd web && CONFAB_BINARY="$PWD/../build/release/src/server/confabd" npm run --silent test:browser) || status=1
else
  status=1
fi
exit $status
