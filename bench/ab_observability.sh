#!/usr/bin/env bash
# What tracing and metrics cost (issue 17): the same confabd with them on (the defaults: metrics
# recorded, --trace-sample 0.0001) and off (--no-metrics --trace-sample 0), started alternately,
# in the fan-out benchmark (SQLite, two groups of 100, 50 senders each, 1 000 messages/s: 96 000
# deliveries/s, which one node keeps up with here; compared by CPU per delivery) and the persist
# benchmark (PostgreSQL, closed loop: compared by durable sends/s and CPU per send). Writes one JSON line per run to
# bench/results/full/observability_cost.jsonl and prints a line each; docs/performance.md has the
# table.
#
#   bench/ab_observability.sh            ROUNDS (default 3), DUR seconds per run (default 8)
#
# Loopback only; every server it starts is stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release
[[ -x $bin/bench/confab-bench && -x $bin/src/server/confabd ]] ||
  { echo "build confabd and confab-bench first (cmake --build build/release --target confabd confab-bench)" >&2; exit 2; }
rounds=${ROUNDS:-3}; dur=${DUR:-8}
out=bench/results/full/observability_cost.jsonl
ulimit -n "$(ulimit -Hn)"
work=$(mktemp -d /tmp/confab-obs.XXXXXX); chmod 755 "$work"
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
declare -A extra=([on]="" [off]="--no-metrics --trace-sample 0")
start() {  # start NAME STORAGE_ARGS...
  local name=$1; shift
  rm -f "$work/port"
  # shellcheck disable=SC2086
  "$bin/src/server/confabd" --listen 127.0.0.1:0 --port-file "$work/port" "${fast[@]}" "$@" ${extra[$name]} \
    >"$work/$name.log" 2>&1 &
  pid=$!
  for _ in $(seq 200); do [[ -s $work/port ]] && break; sleep 0.05; done
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; }
record() {  # record NAME SCENARIO ROUND
  python3 - "$work/r.json" "$1" "$2" "$3" "$out" <<'PY'
import json, sys
path, name, scenario, rnd, out = sys.argv[1:]
d = json.load(open(path))["result"]
if scenario == "fanout":
    s = d["steps"][0]
    row = {"rate": s["deliveries_per_sec"], "unit": "deliveries/s", "cpu_us": s["server_cpu_us_per_delivery"],
           "p99_ms": s["deliver_latency"]["p99_ms"]}
else:
    row = {"rate": d["durable_sends_per_sec"], "unit": "sends/s", "cpu_us": d["server_cpu_s"] / d["acks"] * 1e6,
           "p99_ms": d["ack_latency"]["p99_ms"]}
row.update({"observability": name, "scenario": scenario, "round": int(rnd)})
with open("/proc/loadavg") as f:
    row["load"] = float(f.read().split()[0])
with open(out, "a") as f:
    f.write(json.dumps(row) + "\n")
print(f"{scenario:>7} {name:>3} round {rnd}: {row['rate']:9.0f} {row['unit']}, {row['cpu_us']:6.2f} µs CPU each, "
      f"p99 {row['p99_ms']:.1f} ms, load {row['load']}")
PY
}
: >"$out"
for r in $(seq "$rounds"); do
  for name in on off; do
    start "$name" --storage sqlite --sqlite-path "$work/fan_${name}_$r.db"
    "$bin/bench/confab-bench" fanout --target "127.0.0.1:$(cat "$work/port")" --pid "$pid" --group-size 100 --groups 2 \
      --senders 50 --rate 1000 --duration "$dur" --json "$work/r.json" >/dev/null 2>"$work/err" ||
      { echo "fanout $name round $r: confab-bench failed"; tail -3 "$work/err"; }
    stop
    record "$name" fanout "$r"
  done
  for name in on off; do
    db="obs_${name}_$r"
    PGOPTIONS="-c client_min_messages=warning" psql "$dsn" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
    start "$name" --storage postgres --pg-dsn "${dsn%dbname=*}dbname=$db"
    "$bin/bench/confab-bench" persist --target "127.0.0.1:$(cat "$work/port")" --pid "$pid" --senders 128 --inflight 4 \
      --duration "$dur" --json "$work/r.json" >/dev/null 2>"$work/err" ||
      { echo "persist $name round $r: confab-bench failed"; tail -3 "$work/err"; }
    stop
    record "$name" persist "$r"
  done
done
echo "results in $out"
