#!/usr/bin/env bash
# A quick correctness check of confab-bench's peer adapter (bench/confab_bench/peer.hpp): starts
# each relay of bench/peers/ on loopback, runs a small fan-out and one-to-one chat against it and
# fails on any loss, gap, reorder or protocol error (confab-bench exits 1). Installs the relays'
# npm packages from the lockfile first if they are missing. Bounded: --max-seconds per run.
#   bench/peers/check.sh <confab-bench>
set -euo pipefail
bench=$(realpath "$1")
cd "$(dirname "$0")"
[[ node_modules/.package-lock.json -nt package-lock.json ]] || npm ci --no-audit --no-fund --loglevel=error
dir=$(mktemp -d /tmp/confab-peers-check.XXXXXX)
pid=
trap '[[ -n $pid ]] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
for relay in ws-relay socketio; do
  node "${relay%-relay}-relay.js" "$dir/$relay.port" >"$dir/$relay.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do [[ -s $dir/$relay.port ]] && break; sleep 0.1; done
  [[ -s $dir/$relay.port ]] || { cat "$dir/$relay.log"; exit 1; }
  t=(--protocol "$relay" --target "127.0.0.1:$(cat "$dir/$relay.port")" --pid "$pid" --max-seconds 120)
  "$bench" fanout "${t[@]}" --group-size 20 --groups 3 --senders 20 --rate 300 --duration 2 >"$dir/fanout.json"
  "$bench" chat "${t[@]}" --pairs 50 --rates 500 --duration 2 >"$dir/chat.json"
  echo "$relay: fan-out and chat checked, no violation"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
done
