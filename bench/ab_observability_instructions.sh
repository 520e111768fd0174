#!/usr/bin/env bash
# What tracing and metrics cost (issue 17), counted in instructions: the A/B of
# bench/ab_observability.sh resolves about ±5 % of throughput on this machine (timing noise of
# two shared cores); this one counts the instructions confabd executes (valgrind's callgrind, so
# exact and independent of what else the machine is doing) with them on (the defaults) and off
# (--no-metrics --trace-sample 0), per unit of work:
#   fanout   SQLite, a group of 100 with 10 senders at 20 messages/s (per delivery)
#   chat     SQLite, 100 one-to-one conversations at 300 messages/s (per message sent)
#   persist  PostgreSQL, 16 closed-loop senders × 2 in flight (per durable send)
# Each setting runs a short and a long run (SHORT, LONG seconds; default 5 and 15); the cost per
# unit is the difference of their instructions over the difference of their units, so start-up,
# registration and the connections' set-up cancel out. ROUNDS (default 2) pairs of runs each.
# Writes one JSON line per setting and round to bench/results/full/observability_instructions.jsonl;
# docs/performance.md has the table. Callgrind runs confabd about 25x slower, hence the low rates.
#
# Loopback only; every server it starts is stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-build/release}  # BIN: another build directory (e.g. a copy, to keep building meanwhile)
[[ -x $bin/bench/confab-bench && -x $bin/src/server/confabd ]] ||
  { echo "build confabd and confab-bench first (cmake --build build/release --target confabd confab-bench)" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 2; }
rounds=${ROUNDS:-2}; short=${SHORT:-5}; long=${LONG:-15}
scenarios=${SCENARIOS:-fanout chat persist}
out=bench/results/full/observability_instructions.jsonl
ulimit -n "$(ulimit -Hn)"
work=$(mktemp -d /tmp/confab-obsi.XXXXXX); chmod 755 "$work"
pid=
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null || true
  scripts/pg-test-server.sh stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
scripts/pg-test-server.sh start "$work/pg" >/dev/null
dsn=$(cat "$work/pg/dsn")
fast=(--argon2-ops 1 --argon2-mem-kib 8 --rate-per-sec 1000000 --rate-burst 1000000 --log-level warn --threads 2)
declare -A extra=([on]="" [off]="--no-metrics --trace-sample 0")

# run SETTING SCENARIO SECONDS: one confabd under callgrind, one bench run; prints "instructions units".
run() {
  local name=$1 scenario=$2 secs=$3 storage
  rm -f "$work/port" "$work/cg.out"
  if [[ $scenario == persist ]]; then
    local db="obsi_$RANDOM$RANDOM"
    PGOPTIONS="-c client_min_messages=warning" psql "$dsn" -qc "CREATE DATABASE $db" >/dev/null
    storage=(--storage postgres --pg-dsn "${dsn%dbname=*}dbname=$db")
  else
    storage=(--storage sqlite --sqlite-path "$work/$RANDOM$RANDOM.db")
  fi
  # shellcheck disable=SC2086
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$bin/src/server/confabd" --listen 127.0.0.1:0 \
    --port-file "$work/port" "${fast[@]}" "${storage[@]}" ${extra[$name]} >"$work/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 600); do [[ -s $work/port ]] && break; sleep 0.1; done
  [[ -s $work/port ]] || { echo "confabd did not start" >&2; tail -5 "$work/server.log" >&2; exit 1; }
  local target=(--target "127.0.0.1:$(cat "$work/port")" --duration "$secs" --json "$work/r.json")
  case $scenario in
    fanout) "$bin/bench/confab-bench" fanout "${target[@]}" --group-size 100 --groups 1 --senders 10 --rate 20 ;;
    chat) "$bin/bench/confab-bench" chat "${target[@]}" --pairs 100 --rates 300 ;;
    persist) "$bin/bench/confab-bench" persist "${target[@]}" --senders 16 --inflight 2 ;;
  esac >/dev/null 2>"$work/err" || { echo "$scenario $name: confab-bench failed" >&2; tail -3 "$work/err" >&2; exit 1; }
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=
  python3 - "$work/r.json" "$work/cg.out" "$scenario" <<'PY'
import json, sys
r, cg, scenario = sys.argv[1:]
d = json.load(open(r))
assert d["ok"], "the run's checks failed"
d = d["result"]
units = {"fanout": lambda: d["steps"][0]["deliveries"], "chat": lambda: d["steps"][0]["acks"],
         "persist": lambda: d["acks"]}[scenario]()
total = next(int(l.split()[1]) for l in open(cg) if l.startswith("totals:"))
print(total, units)
PY
}

: >"$out"
for r in $(seq "$rounds"); do
  for scenario in $scenarios; do
    for name in on off; do
      read -r i1 u1 < <(run "$name" "$scenario" "$short")
      read -r i2 u2 < <(run "$name" "$scenario" "$long")
      python3 - "$out" "$name" "$scenario" "$r" "$i1" "$u1" "$i2" "$u2" <<'PY'
import json, sys
out, name, scenario, rnd = sys.argv[1:5]
i1, u1, i2, u2 = map(int, sys.argv[5:])
unit = {"fanout": "delivery", "chat": "message", "persist": "durable send"}[scenario]
row = {"observability": name, "scenario": scenario, "round": int(rnd), "unit": unit,
       "short": {"instructions": i1, "units": u1}, "long": {"instructions": i2, "units": u2},
       "instructions_per_unit": (i2 - i1) / (u2 - u1)}
with open(out, "a") as f:
    f.write(json.dumps(row) + "\n")
print(f"{scenario:>7} {name:>3} round {rnd}: {row['instructions_per_unit']:9.0f} instructions per {unit} "
      f"({u1} and {u2} units)")
PY
    done
  done
done
echo "results in $out"
