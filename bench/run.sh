#!/usr/bin/env bash
# The benchmark suite: starts its own servers on loopback, runs every confab-bench scenario,
# the storage and micro-benchmarks, writes JSON to bench/results/<mode>/ and renders the tables
# and plots of docs/performance.md (bench/render.py, gnuplot).
#
#   bench/run.sh quick    about two minutes: small counts, short steps
#   bench/run.sh full     the figures published in docs/performance.md (tens of minutes), the
#                         side-by-side comparison with the relays of bench/peers/ included
#   bench/run.sh peers    only the side-by-side scenarios (Node ws relay, socket.io, Confab on
#                         SQLite and on PostgreSQL) at a reduced scale, a few minutes; renders the
#                         side-by-side section of docs/performance.md only
#   bench/run.sh full 'persist_.*|store_.*'
#                         re-runs only the results whose names match the (bash) regex and keeps
#                         the others of that mode, then renders all of them
#
# Every server it starts is stopped on exit. Nothing leaves 127.0.0.0/8.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-quick}
only=${2:-}
[[ $mode == quick || $mode == full || $mode == peers ]] || { echo "usage: bench/run.sh quick|full|peers [NAME_REGEX]" >&2; exit 2; }
want() { [[ -z $only || $1 =~ ^($only)$ ]]; }

scripts/install-deps.sh --test
pkgs=(libbenchmark-dev gnuplot-nox)
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
if [[ ${#missing[@]} -gt 0 ]]; then
  sudo_cmd=(); [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
cmake --preset release -DCONFAB_TESTS=OFF >/dev/null
targets=(confabd confab-bench store_send_bench micro_bench)
[[ $mode == peers ]] && targets=(confabd confab-bench)
cmake --build build/release --target "${targets[@]}" -j "$(nproc)"
# The relays of bench/peers/, from their lockfile (again only when it changed: npm ci writes the
# hidden lockfile last).
if [[ $mode != quick && ! bench/peers/node_modules/.package-lock.json -nt bench/peers/package-lock.json ]]; then
  (cd bench/peers && npm ci --no-audit --no-fund --loglevel=error)
fi

bin=build/release
out=bench/results/$mode
if [[ -z $only ]]; then rm -rf "$out"; fi
mkdir -p "$out"
work=$(mktemp -d /tmp/confab-bench.XXXXXX)
chmod 755 "$work"  # the PostgreSQL server runs as postgres when we are root
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [[ -f $work/pg/dsn ]] && scripts/pg-test-server.sh stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)"  # 20 000 here: the generator and each node hold that many at most

fast=(--argon2-ops 1 --argon2-mem-kib 8 --rate-per-sec 1000000 --rate-burst 1000000 --max-connections 19800
  --log-level warn --threads 2)
# start_node NAME ARGS... : starts confabd, sets $port and $pid
start_node() {
  local name=$1; shift
  rm -f "$work/$name.port"
  "$bin/src/server/confabd" --listen 127.0.0.1:0 --port-file "$work/$name.port" "${fast[@]}" "$@" >"$work/$name.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 200); do [[ -s $work/$name.port ]] && break; sleep 0.05; done
  port=$(cat "$work/$name.port")
}
stop_node() { kill "$1"; wait "$1" 2>/dev/null || true; }
# start_peer NAME SCRIPT : starts a relay of bench/peers/ (node), sets $port and $pid
start_peer() {
  rm -f "$work/$1.port"
  node "bench/peers/$2" "$work/$1.port" >"$work/$1.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 200); do [[ -s $work/$1.port ]] && break; sleep 0.05; done
  port=$(cat "$work/$1.port")
}
bench() {  # bench RESULT_NAME ARGS...
  local name=$1; shift
  want "$name" || return 0
  echo "=== $name: confab-bench $*"
  "$bin/bench/confab-bench" "$@" --json "$out/$name.json" --max-seconds 900 >/dev/null 2>"$work/$name.err" || {
    echo "confab-bench $name failed (exit $?):"; tail -5 "$work/$name.err"; }
}

# --- side by side: the same scenarios against Confab (SQLite, PostgreSQL) and the in-memory relays
# a user would pick instead (bench/peers/): idle memory, marginal between two counts; groups of
# 100 with every member sending, stepped, the first step at the fixed rate whose CPU per delivery is
# compared; one-to-one pairs, both sides sending, stepped, the fixed-rate step likewise. One
# generator process (a process may hold 20 000 files; the server holds as many in its own).
# SIDE_REPEATS (default 3 in full, 1 in peers) runs the whole set that often, each server started
# afresh every time (results side_<scenario>_<server>_r<k>); the table shows the medians.
side_by_side() {
  local idle_n idle_from fan_groups fan_rates chat_pairs chat_rates side_step scale reps
  reps=${SIDE_REPEATS:-1}
  [[ $mode == full ]] && reps=${SIDE_REPEATS:-3}
  # CPU is compared at fixed rates, steps of their own: 400 msgs/s into groups of 100 (40 000
  # deliveries/s) and 10 000 one-to-one msgs/s. The first, lower step warms the server up (Node's
  # JIT, allocator and caches on both sides) before the fixed-rate one.
  local fan_fixed=400 chat_fixed=10000
  if [[ $mode == full ]]; then
    idle_from=5000; idle_n=19000; fan_groups=20; fan_rates=200,400,800,1200,1600,2000,2500,3000
    chat_pairs=5000; chat_rates=2500,5000,10000,15000,20000,30000,40000,50000; side_step=8; scale=full
  else
    idle_from=1000; idle_n=4000; fan_groups=4; fan_rates=200,400,800,1200,1600,2400; chat_pairs=1000
    chat_rates=2500,5000,10000,15000,20000,30000; side_step=3; scale=reduced
  fi
  # A run of other results only (bench/run.sh full 'persist_.*') leaves the side-by-side table alone:
  # without side.json, render.py keeps the section as it is.
  local any=0 s r0 sc
  for r0 in $(seq "$reps"); do for s in ws socketio sqlite postgres; do for sc in idle fanout chat; do
    want "side_${sc}_${s}_r$r0" && any=1
  done; done; done
  [[ $any == 1 ]] || return 0
  cat >"$out/side.json" <<JSON
{"scale":"$scale","idle_from":$idle_from,"idle_connections":$idle_n,"fan_groups":$fan_groups,"fan_group_size":100,
 "fan_rates":[$fan_rates],"fan_fixed_rate":$fan_fixed,"chat_pairs":$chat_pairs,"chat_rates":[$chat_rates],
 "chat_fixed_rate":$chat_fixed,"step_seconds":$side_step,"generator_threads":2,"repeats":$reps,"loadavg_before":"$(cut -d' ' -f1-3 /proc/loadavg)"}
JSON
  local server proto aux r
  for r in $(seq "$reps"); do
  for server in ws socketio sqlite postgres; do
    want "side_idle_${server}_r$r" || want "side_fanout_${server}_r$r" || want "side_chat_${server}_r$r" || continue
    proto=(--protocol confab); aux=()
    case $server in
      ws) start_peer ws ws-relay.js; proto=(--protocol ws-relay) ;;
      socketio) start_peer socketio socketio-relay.js; proto=(--protocol socketio) ;;
      sqlite) start_node side_sqlite --storage sqlite --sqlite-path "$work/side_sqlite_r$r/confab.db" ;;
      postgres)
        [[ -f $work/pg/dsn ]] || scripts/pg-test-server.sh start "$work/pg" >/dev/null
        PGOPTIONS="-c client_min_messages=warning" psql "$(cat "$work/pg/dsn")" -qc "DROP DATABASE IF EXISTS side" \
          -c "CREATE DATABASE side" >/dev/null
        local dsn; dsn=$(cat "$work/pg/dsn")
        start_node side_postgres --storage postgres --pg-dsn "${dsn%dbname=*}dbname=side"
        aux=(--aux-pid "$(head -1 "$work/pg/data/postmaster.pid")") ;;
    esac
    local t=(--target "127.0.0.1:$port" --pid "$pid" "${aux[@]}" "${proto[@]}" --threads 2)
    bench "side_idle_${server}_r$r" idle "${t[@]}" --connections "$idle_n" --marginal-from "$idle_from" --duration 1 --sources 4
    bench "side_fanout_${server}_r$r" fanout "${t[@]}" --group-size 100 --groups "$fan_groups" --senders 100 \
      --rates "$fan_rates" --duration "$side_step"
    bench "side_chat_${server}_r$r" chat "${t[@]}" --pairs "$chat_pairs" --rates "$chat_rates" --duration "$side_step" --sources 4
    stop_node "$pid"
  done
  done
}

if [[ $mode == peers ]]; then
  side_by_side
  { echo "{\"mode\":\"$mode\",\"date\":\"$(date -u +%F)\",\"cpus\":$(nproc),\"kernel\":\"$(uname -r)\",";
    echo "\"cpu\":\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')\"}"; } >"$out/machine.json"
  python3 bench/render.py "$out"
  echo "results in $out; the side-by-side section of docs/performance.md updated"
  exit 0
fi

if [[ $mode == quick ]]; then
  idle_n=(5000); chat_rates=500,1000,2000; step=3; fan=(10 100); fan_groups=(10 2); fan_senders=(2 20); fan_rates=(500,1000 300,600); scale_rate=300; persist_s=4; persist_load=(64x4 256x4)
  storm_n=2000; hist_n=20000; hist_pages=500
  scale_chat=(--pairs 200 --rates 1000,2000 --duration 3); storage_msgs=(1000 4000)
  chan=(--members 10000 --connections 500 --senders 5 --rate 50 --duration 5); resume=(--channels 200 --moved 20 --pending 3 --rounds 10)
else
  idle_n=(5000 19000); chat_rates=500,1000,2000,4000,8000; step=8; fan=(10 100 1000); fan_groups=(100 2 1); fan_senders=(2 50 20)
  fan_rates=(2000,4000,6000,8000,10000 600,1000,1400,1800,2200 60,100,140,180,220); scale_rate=600; persist_s=15
  persist_load=(64x4 128x4 256x4 512x4); storm_n=10000; hist_n=1000000; hist_pages=5000
  chan=(--members 100000 --connections 2000 --senders 10 --rate 50 --duration 30)
  resume=(--channels 1000 --moved 50 --pending 3 --rounds 50)
  scale_chat=(--pairs 1000 --rates 2000,3000,4000,5000,6000,7000,8000,9000,10000,11000,12000 --duration 5)
  storage_msgs=(3000 30000)
fi

# --- SQLite, one node
for backend in sqlite postgres; do
  if [[ $backend == sqlite ]]; then
    storage=(--storage sqlite --sqlite-path "$work/sqlite/confab.db")
    db=sqlite:$work/sqlite/confab.db
  else
    scripts/pg-test-server.sh start "$work/pg" >/dev/null
    storage=(--storage postgres --pg-dsn "$(cat "$work/pg/dsn")")
    db=postgres:$(cat "$work/pg/dsn")
  fi
  start_node "$backend" "${storage[@]}"
  if [[ $backend == sqlite ]]; then
    for n in "${idle_n[@]}"; do bench "idle_${n}" idle --target "127.0.0.1:$port" --pid "$pid" --connections "$n" --duration 1 --sources 4; done
    # Stepped total message rates per group size, several senders per group (a busy group): the
    # best step with p99 send->deliver under 50 ms is the figure; stepping stops past saturation.
    for i in "${!fan[@]}"; do
      bench "fanout_${fan[$i]}" fanout --target "127.0.0.1:$port" --pid "$pid" --group-size "${fan[$i]}" \
        --groups "${fan_groups[$i]}" --senders "${fan_senders[$i]}" --rates "${fan_rates[$i]}" --duration "$step"
    done
    bench storm storm --target "127.0.0.1:$port" --pid "$pid" --devices "$storm_n" --group-size 10 --pending 5 --sources 4
    bench history history --target "127.0.0.1:$port" --pid "$pid" --messages "$hist_n" --pages "$hist_pages"
  fi
  if [[ $backend == sqlite && $mode == full ]] && want idle_100k; then
    # 100 000 idle connections over six nodes (a process may hold 20 000 files): six confabd on
    # their own SQLite files, one generator process per node, all at once.
    stop_node "$pid"
    six=()
    for i in 1 2 3 4 5 6; do
      start_node "idle$i" --storage sqlite --sqlite-path "$work/idle$i/confab.db"
      six+=("$port:$pid")
    done
    gens=()
    for i in "${!six[@]}"; do
      p=${six[$i]%%:*}; q=${six[$i]##*:}
      "$bin/bench/confab-bench" idle --target "127.0.0.1:$p" --pid "$q" --connections 16667 --duration 5 --sources 8 \
        --json "$out/idle_100k_part$i.json" --max-seconds 900 >/dev/null 2>"$work/idle100k.$i.err" &
      gens+=($!)
    done
    echo "=== idle_100k: six nodes, six generators x 16 667 connections"
    for g in "${gens[@]}"; do wait "$g" || echo "an idle_100k generator failed"; done
    python3 - "$out" <<'PY'
import glob, json, sys
parts = [json.load(open(p))["result"] for p in sorted(glob.glob(sys.argv[1] + "/idle_100k_part*.json"))]
conns = sum(p["connections"] for p in parts)
before = sum(p["server_rss_before_kib"] for p in parts)
after = sum(p["server_rss_after_kib"] for p in parts)
json.dump({"scenario": "idle", "nodes": len(parts), "result": {
    "connections": conns, "connect_failures": sum(p["connect_failures"] for p in parts),
    "connects_per_sec": sum(p["connects_per_sec"] for p in parts),
    "server_rss_before_kib": before, "server_rss_after_kib": after,
    "rss_per_connection_kib": (after - before) / conns if conns else 0}}, open(sys.argv[1] + "/idle_100k.json", "w"))
PY
    for s6 in "${six[@]}"; do stop_node "${s6##*:}"; done
    start_node "$backend" "${storage[@]}"
  fi
  bench "chat_${backend}" chat --target "127.0.0.1:$port" --pid "$pid" --pairs 500 --rates "$chat_rates" --duration "$step"
  # Closed loop at rising concurrency (senders x sends in flight each): durable sends/s and ack
  # latency; more in flight means bigger group-commit batches and longer waits.
  for load in "${persist_load[@]}"; do
    # Each load starts from a settled PostgreSQL: the previous scenario's dead rows vacuumed,
    # statistics current and a checkpoint done (else autovacuum and the first writes after a
    # checkpoint, which log whole pages, land in whichever load runs next).
    if [[ $backend == postgres ]] && want "persist_${backend}_${load}"; then
      psql "$(cat "$work/pg/dsn")" -qc "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
    fi
    bench "persist_${backend}_${load}" persist --target "127.0.0.1:$port" --pid "$pid" --senders "${load%x*}" \
      --inflight "${load#*x}" --duration "$persist_s"
  done
  # Conversations people live in: messages, thread replies, reactions, edits and deletes from every
  # member at once; every device's final state of every message must equal history's.
  bench "mixed_${backend}" mixed --target "127.0.0.1:$port" --pid "$pid" --groups 20 --group-size 5 --inflight 2 \
    --duration "$persist_s"
  # issue 12: a channel of many members (those without a device made in bulk in the node's database),
  # a fixed message rate from several of the connected ones; then a device in many channels resuming.
  bench "channel_${backend}" channel --target "127.0.0.1:$port" --pid "$pid" --db "$db" --threads 2 --sources 4 "${chan[@]}"
  bench "channel_resume_${backend}" channel_resume --target "127.0.0.1:$port" --pid "$pid" "${resume[@]}"
  stop_node "$pid"
done

# --- scale-out: 1, 2, 3 nodes on PostgreSQL + Redis, through haproxy
redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
pids+=($!)
sleep 0.5
node_ports=(); node_pids=()
for n in 1 2 3; do
  start_node "node$n" --storage postgres --pg-dsn "$(cat "$work/pg/dsn")" --broker redis --redis "127.0.0.1:$redis_port"
  node_ports+=("$port"); node_pids+=("$pid")
done
lb_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
for count in 1 2 3; do
  export CONFAB_LB_BIND="127.0.0.1:$lb_port"
  for i in 1 2 3; do
    if (( i <= count )); then export "CONFAB_NODE$i=127.0.0.1:${node_ports[$((i-1))]}"; else export "CONFAB_NODE$i=127.0.0.1:1"; fi
  done
  haproxy -db -f deploy/haproxy.cfg >"$work/haproxy.$count.log" 2>&1 &
  hp=$!
  sleep 1.5
  pid_args=(); for p in "${node_pids[@]:0:$count}"; do pid_args+=(--pid "$p"); done
  bench "scaleout_${count}" fanout --target "127.0.0.1:$lb_port" "${pid_args[@]}" --group-size 100 --groups 2 --senders 50 \
    --rate "$scale_rate" --duration "$step"
  kill "$hp"; wait "$hp" 2>/dev/null || true
done

# --- one-to-one chat on 1, 2, 3 nodes of one PostgreSQL and Redis, straight to the nodes (the
# generator spreads connections round-robin, so the two members of every pair are on different
# nodes once there are two): the capacity planner's relay cost and its validation
# (docs/scaling.md). PostgreSQL's CPU is measured apart (aux).
# Three rounds of 1, 2, 3 nodes: on two shared cores a single run varies by a third.
pg_pid=$(head -1 "$work/pg/data/postmaster.pid")
for r in 1 2 3; do
  for count in 1 2 3; do
    want "scaleout_chat_${count}_r$r" || continue
    c_args=()
    for i in $(seq 0 $((count - 1))); do c_args+=(--target "127.0.0.1:${node_ports[$i]}" --pid "${node_pids[$i]}"); done
    bench "scaleout_chat_${count}_r$r" chat "${c_args[@]}" --aux-pid "$pg_pid" --threads 2 --sources 4 "${scale_chat[@]}"
  done
done

# One Redis process's rate of SPUBLISH (300-byte payloads, pipelined): the planner's broker figure.
if want redis; then
  redis-benchmark -h 127.0.0.1 -p "$redis_port" -n 400000 -P 16 -q --csv SPUBLISH confab-bench \
    "$(head -c 300 /dev/zero | tr '\0' x)" >"$work/redis.csv"
  rps=$(tail -1 "$work/redis.csv" | awk -F'","' '{print $2}')
  echo "{\"spublish_per_sec\": $rps, \"payload_bytes\": 300, \"pipeline\": 16}" >"$out/redis.json"
fi

# --- writers on several nodes: the same closed-loop load (48 HTTP senders, 4 groups whose members
# overlap) from 1 node and from 3 nodes on one PostgreSQL, straight to the nodes. The batch re-runs
# each run cost are counted from the nodes' logs ("storage batch re-run") into its JSON.
reruns() { cat "$work"/node{1,2,3}.log | grep -c "storage batch re-run" || true; }
for count in 1 3; do
  name="writers_${count}"
  want "$name" || continue
  psql "$(cat "$work/pg/dsn")" -qc "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
  w_args=()
  for i in $(seq 0 $((count - 1))); do w_args+=(--target "127.0.0.1:${node_ports[$i]}" --pid "${node_pids[$i]}"); done
  r0=$(reruns)
  bench "$name" writers "${w_args[@]}" --senders 48 --groups 4 --duration "$step"
  r1=$(reruns)
  [[ -f $out/$name.json ]] && python3 - "$out/$name.json" "$((r1 - r0))" <<'PY'
import json, sys
p, n = sys.argv[1], int(sys.argv[2])
with open(p) as f:
    lines = f.read().strip().splitlines()
d = json.loads(lines[-1])
d["result"]["batch_reruns"] = n
acks = d["result"].get("acks", 0)
d["result"]["batch_reruns_per_1000_sends"] = 1000.0 * n / acks if acks else None
with open(p, "w") as f:
    json.dump(d, f)
PY
done

# The scale-out nodes are not needed any more; the side-by-side runs want the machine to themselves.
for p in "${node_pids[@]}"; do stop_node "$p"; done
[[ $mode == full ]] && side_by_side

# --- storage and micro-benchmarks
# store_send_bench ARGS: senders, messages, members (one group); a fresh database each
store() {  # store RESULT_NAME BACKEND SENDERS MESSAGES MEMBERS
  local name=$1 backend=$2; shift 2
  want "$name" || return 0
  echo "=== $name: store_send_bench $backend $*"
  if [[ $backend == sqlite ]]; then
    rm -f "$work/store.db"*
    "$bin/bench/store_send_bench" sqlite "$work/store.db" "$@" >"$out/$name.json"
  else
    local db=${name//[^a-z0-9]/_}
    psql "$(cat "$work/pg/dsn")" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
    local dsn; dsn=$(cat "$work/pg/dsn")
    "$bin/bench/store_send_bench" postgres "${dsn%dbname=*}dbname=$db" "$@" >"$out/$name.json"
  fi
}
store store_sqlite sqlite 32 3000 10
store store_postgres postgres 32 3000 10
store store_sqlite_256x2 sqlite 256 20000 2
store store_postgres_256x2 postgres 256 20000 2
# The database's size per stored message (the planner's figure): fresh databases with two counts
# of messages in 10-member groups; the difference of their tables' sizes (indexes and TOAST
# included) over the difference of the counts, so the empty schema does not count.
if want storage_postgres; then
  sizes=()
  for n in "${storage_msgs[@]}"; do
    psql "$(cat "$work/pg/dsn")" -qc "DROP DATABASE IF EXISTS storage_$n" -c "CREATE DATABASE storage_$n" >/dev/null
    dsn=$(cat "$work/pg/dsn"); dsn="${dsn%dbname=*}dbname=storage_$n"
    "$bin/bench/store_send_bench" postgres "$dsn" 32 "$n" 10 >/dev/null
    sizes+=("$(psql "$dsn" -tAc "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
      WHERE c.relkind = 'r' AND s.nspname NOT IN ('pg_catalog', 'information_schema')")")
  done
  echo "{\"database_bytes\": $((sizes[1] - sizes[0])), \"messages\": $((storage_msgs[1] - storage_msgs[0])), \"members\": 10, \"text_bytes\": 22}" \
    >"$out/storage_postgres.json"
fi
want micro && echo "=== micro_bench" &&
"$bin/bench/micro_bench" --benchmark_min_time=0.2 --benchmark_format=json >"$out/micro.json" 2>/dev/null

{ echo "{\"mode\":\"$mode\",\"date\":\"$(date -u +%F)\",\"cpus\":$(nproc),\"kernel\":\"$(uname -r)\",";
  echo "\"cpu\":\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')\"}"; } >"$out/machine.json"
python3 bench/render.py "$out"
echo "results in $out; docs/performance.md and docs/img/ updated"
