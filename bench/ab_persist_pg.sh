#!/usr/bin/env bash
# Two or more confabd builds side by side on PostgreSQL: durable sends (confab-bench persist) and
# confabd's CPU per send, the builds started alternately on fresh databases of one PostgreSQL
# server, so that a change is measured against the build before it on the same machine.
#
#   bench/ab_persist_pg.sh NAME=PATH_TO_CONFABD[,EXTRA_ARG...] ...
#   e.g. bench/ab_persist_pg.sh before=/tmp/old/confabd after=build/release/src/server/confabd \
#          noindex=build/release/src/server/confabd,--no-search-index
#
# ROUNDS (default 3), DUR seconds per round (default 10), LOAD senders x inflight (default 64x4).
# Prints one line per build and round. Loopback only; every server it starts is stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -ge 1 ]] || { sed -n 2,10p "$0" >&2; exit 2; }
bench=build/release/bench/confab-bench
[[ -x $bench ]] || { echo "build confab-bench first (cmake --build build/release --target confab-bench)" >&2; exit 2; }
rounds=${ROUNDS:-3}; dur=${DUR:-10}; load=${LOAD:-64x4}
ulimit -n "$(ulimit -Hn)"
work=$(mktemp -d /tmp/confab-ab.XXXXXX); chmod 755 "$work"
pid=
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null || true
  scripts/pg-test-server.sh stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
scripts/pg-test-server.sh start "$work/pg" >/dev/null
dsn=$(cat "$work/pg/dsn")
fast=(--argon2-ops 1 --argon2-mem-kib 8 --rate-per-sec 1000000 --rate-burst 1000000 --max-connections 19800
  --log-level warn --threads 2)
for r in $(seq "$rounds"); do
  for spec in "$@"; do
    name=${spec%%=*}
    IFS=, read -r -a cmd <<<"${spec#*=}"
    db="ab_${name}_$r"
    PGOPTIONS="-c client_min_messages=warning" psql "$dsn" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
    rm -f "$work/port"
    "${cmd[0]}" --listen 127.0.0.1:0 --port-file "$work/port" "${fast[@]}" --storage postgres \
      --pg-dsn "${dsn%dbname=*}dbname=$db" "${cmd[@]:1}" >"$work/$name.log" 2>&1 &
    pid=$!
    for _ in $(seq 200); do [[ -s $work/port ]] && break; sleep 0.05; done
    "$bench" persist --target "127.0.0.1:$(cat "$work/port")" --pid "$pid" --senders "${load%x*}" \
      --inflight "${load#*x}" --duration "$dur" --json "$work/r.json" >/dev/null 2>"$work/err" ||
      { echo "$name round $r: confab-bench failed"; tail -3 "$work/err"; }
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
    python3 - "$work/r.json" "$name" "$r" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["result"]
rate = d["durable_sends_per_sec"]
cpu = d["server_cpu_s"] / d["acks"] * 1e6 if d["acks"] else float("nan")
with open("/proc/loadavg") as f: load = f.read().split()[0]
print(f"{sys.argv[2]:>12} round {sys.argv[3]}: {rate:8.0f} sends/s, confabd {d['server_cpu_s']:.2f} s CPU"
      f" ({cpu:.0f} µs per send), load {load}")
PY
  done
done
