#!/usr/bin/env bash
# The test suite's quick correctness check of confab-bench (ctest: bench_check): starts a
# throwaway confabd on SQLite, runs `confab-bench check` (a small group fan-out and a reconnect
# storm) and fails on any loss, duplicate or reorder.
#   bench/check.sh <confabd> <confab-bench>
set -euo pipefail
confabd=$1 bench=$2
dir=$(mktemp -d /tmp/confab-bench-check.XXXXXX)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
storage=(--storage sqlite --sqlite-path "$dir/confab.db")
"$confabd" --listen 127.0.0.1:0 --port-file "$dir/port" "${storage[@]}" --argon2-ops 1 --argon2-mem-kib 8 \
  --rate-per-sec 1000000 --rate-burst 1000000 --log-level warn >"$dir/confabd.log" 2>&1 &
pid=$!
for _ in $(seq 100); do [[ -s "$dir/port" ]] && break; sleep 0.1; done
[[ -s "$dir/port" ]] || { cat "$dir/confabd.log"; exit 1; }
"$bench" check --target "127.0.0.1:$(cat "$dir/port")" --pid "$pid" --max-seconds 120 >"$dir/result.json"
echo "confab-bench check passed: $(cut -c1-300 "$dir/result.json")"
