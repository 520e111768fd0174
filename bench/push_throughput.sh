#!/usr/bin/env bash
# Pushes per second through confabd's push queue to the loopback FCM stand-in, on PostgreSQL
# (issue 15): USERS members of one group, each with an FCM target, MESSAGES messages sent into it.
# With a grace period (GRACE_MS, default 5000) longer than the sends take, the pushes are all queued
# before the first comes due, so the queue drains as fast as the worker can: "pushes_per_s" is the
# drain rate between 10 % and 90 % of the pushes accepted by the stand-in, and "cpu_us_per_push"
# each process's CPU in that window (confabd, the Node stand-in, PostgreSQL's backends). Also:
# every push accepted exactly once ("distinct", "duplicates"), the whole run's time, confabd's RSS once every
# push is queued and at most while they drain, the queue's size in PostgreSQL, and the delay from
# each message's commit (its send's answer) plus the grace period to the stand-in's receipt of each
# push (p50, p99, max; also confab_push_delay_seconds' p99 bucket from /metrics).
# RATE (messages per second, default 0: as fast as they are answered) paces the sends instead: with
# a small GRACE_MS that measures the commit-to-push delay at a rate the worker keeps up with.
#
# PROVIDER=apns sends to the APNs stand-in instead (HTTP/2, token auth): duplicates there are
# requests libcurl re-sent on a broken HTTP/2 connection.
#
#   bench/push_throughput.sh       env: USERS (999) MESSAGES (20) GRACE_MS (5000) RATE (0) PROVIDER (fcm)
#
# KEEP_LOGS=DIR copies confabd's and the stand-ins' logs there at the end.
# Needs build/release (confabd) and `npm ci` in tests/push-standins. Loopback only; every process
# it starts is stopped. Prints one JSON line.
set -euo pipefail
cd "$(dirname "$0")/.."
users=${USERS:-999}; messages=${MESSAGES:-20}; grace=${GRACE_MS:-5000}; rate=${RATE:-0}; provider=${PROVIDER:-fcm}
[[ $provider == fcm || $provider == apns ]] || { echo "PROVIDER is fcm or apns" >&2; exit 2; }
confabd=build/release/src/server/confabd
[[ -x $confabd ]] || { echo "build confabd first" >&2; exit 2; }
work=$(mktemp -d /tmp/confab-pushbench.XXXXXX); chmod 755 "$work"
pids=()
cleanup() {
  [[ -z ${KEEP_LOGS:-} ]] || cp "$work"/*.log "$work"/*.out "$work"/*.err "$KEEP_LOGS"/ 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  scripts/pg-test-server.sh stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$work/tls.key" -out "$work/tls.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/apns.p8" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/sa.pem" 2>/dev/null
python3 - "$work" <<'EOF'
import json, sys
w = sys.argv[1]
json.dump({"type": "service_account", "project_id": "bench", "private_key_id": "k1",
           "private_key": open(w + "/sa.pem").read(), "client_email": "push@bench.iam.gserviceaccount.com",
           "token_uri": "https://oauth2.googleapis.com/token"}, open(w + "/sa.json", "w"))
EOF
node tests/push-standins/standins.mjs --cert "$work/tls.pem" --key "$work/tls.key" --service-account "$work/sa.json" \
  --apns-key "$work/apns.p8" --apns-key-id KEYID12345 --apns-team-id TEAMID1234 >"$work/standins.out" 2>"$work/standins.err" &
pids+=($!)
standins_pid=$!
for _ in $(seq 100); do grep -q control "$work/standins.out" 2>/dev/null && break; sleep 0.1; done
url() { python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())[sys.argv[2]])" "$work/standins.out" "$1"; }
fcm=$(url fcm); apns=$(url apns); control=$(url control)

scripts/pg-test-server.sh start "$work/pg" >/dev/null
dsn=$(cat "$work/pg/dsn")
"$confabd" --listen 127.0.0.1:0 --port-file "$work/port" --metrics-listen 127.0.0.1:0 --storage postgres --pg-dsn "$dsn" \
  --argon2-ops 1 --argon2-mem-kib 8 --rate-per-sec 1000000 --rate-burst 1000000 --log-level info \
  --push-fcm-account "$work/sa.json" --push-fcm-url "$fcm" --push-fcm-token-url "$fcm/token" \
  --push-apns-key "$work/apns.p8" --push-apns-key-id KEYID12345 --push-apns-team-id TEAMID1234 --push-apns-url "$apns" \
  --push-ca-file "$work/tls.pem" --push-grace-ms "$grace" >"$work/confabd.log" 2>&1 &
pids+=($!)
confabd_pid=$!
for _ in $(seq 100); do [[ -s $work/port ]] && break; sleep 0.1; done
port=$(cat "$work/port")
metrics_port=$(grep -o '"serving /metrics".*' "$work/confabd.log" | grep -o '"port":[0-9]*' | cut -d: -f2 || true)

python3 - "$port" "$control" "$users" "$messages" "$confabd_pid" "$metrics_port" "$standins_pid" "$(head -1 "$work/pg/data/postmaster.pid")" "$grace" "$rate" "$dsn" "$provider" <<'EOF'
import json, os, sys, time, urllib.request
port, control, users, messages, pid, mport = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
standins_pid, postmaster = sys.argv[7], sys.argv[8]
grace, send_rate, dsn, provider = int(sys.argv[9]), float(sys.argv[10]), sys.argv[11], sys.argv[12]
import subprocess
def rss_kib():
    return int(open(f"/proc/{pid}/status").read().split("VmRSS:")[1].split()[0])
tick = os.sysconf("SC_CLK_TCK")
def cpu(p):  # user + system seconds of a process
    try:
        f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / tick
    except OSError:
        return 0.0
def pg_cpu():  # the postmaster's live children (backends and workers)
    kids = [d for d in os.listdir("/proc") if d.isdigit()]
    total = 0.0
    for k in kids:
        try:
            if open(f"/proc/{k}/stat").read().rsplit(")", 1)[1].split()[1] == postmaster:
                total += cpu(k)
        except OSError:
            pass
    return total
def cpus():
    return {"confabd": cpu(pid), "standins": cpu(standins_pid), "postgres": pg_cpu()}
def call(op, body, token=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/{op}", json.dumps(body).encode(),
                                 {"Content-Type": "application/json", **({"Authorization": "Bearer " + token} if token else {})})
    return json.load(urllib.request.urlopen(req))
def received():
    return json.load(urllib.request.urlopen(control + "/control/counts"))["requests"][provider]
def distinct_pushes():  # (token, conversation, seq) of every push the stand-in accepted
    req = urllib.request.Request(control + "/control/received", b"{}", {"Content-Type": "application/json"})
    got = json.load(urllib.request.urlopen(req))[provider]
    if provider == "apns":
        keys = {(r["device_token"], r["payload"].get("conversation_id"), r["payload"].get("seq")) for r in got}
    else:
        keys = {(r["token"], r["message"]["data"].get("conversation_id"), r["message"]["data"].get("seq")) for r in got}
    return len(got), len(keys), got
owner = call("register", {"username": "owner", "password": "password123"})
ids = []
for i in range(users):
    u = call("register", {"username": f"u{i}", "password": "password123"})
    target = {"kind": "fcm", "token": f"tok{i}"} if provider == "fcm" else \
        {"kind": "apns", "token": f"{i:064x}", "topic": "com.example.bench", "environment": "production"}
    call("push_register", {"target": target}, u["token"])
    ids.append(u["user_id"])
conv = call("create_group", {"title": "bench", "members": ids}, owner["token"])["conv"]
total = users * messages
t0 = time.monotonic()
committed_ms = {}  # seq -> wall time of the send's answer (after its commit)
for m in range(messages):
    if send_rate > 0:
        time.sleep(max(0.0, t0 + m / send_rate - time.monotonic()))
    r = call("send", {"conv": conv, "client_id": f"m{m}", "text": "x"}, owner["token"])
    committed_ms[str(r["seq"])] = time.time() * 1000
sent_s = time.monotonic() - t0
rss_queued = rss_kib()
queue_rows, queue_bytes = map(int, subprocess.run(
    ["psql", dsn, "-Atc", "SELECT COUNT(*), pg_total_relation_size('push_queue') FROM push_queue"],
    capture_output=True, text=True, check=True).stdout.strip().split("|"))
rss_max = rss_queued
deadline = t0 + 600
samples = []  # (time, pushes accepted, cpu) every 0.1 s
while time.monotonic() < deadline:
    samples.append((time.monotonic(), received(), cpus()))
    rss_max = max(rss_max, rss_kib())
    if samples[-1][1] >= total:
        break
    time.sleep(0.1)
elapsed = time.monotonic() - t0
got = received()
lo = next(s for s in samples if s[1] >= 0.1 * total)
hi = next((s for s in samples if s[1] >= 0.9 * total), samples[-1])
drained = max(hi[1] - lo[1], 1)
rate = drained / max(hi[0] - lo[0], 1e-9)
accepted, distinct, pushes = distinct_pushes()
def seq_of(r):
    return str(r["payload"]["seq"]) if provider == "apns" else r["message"]["data"]["seq"]
delays = sorted(r["received_ms"] - committed_ms[seq_of(r)] - grace for r in pushes)
pct = lambda q: round(delays[min(len(delays) - 1, int(q * len(delays)))]) if delays else None
p99 = None
if mport:
    text = urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics").read().decode()
    buckets = [(float(l.split('le="')[1].split('"')[0].replace("+Inf", "inf")), float(l.split()[-1]))
               for l in text.splitlines() if l.startswith("confab_push_delay_seconds_bucket")]
    n = max(c for _, c in buckets) if buckets else 0
    for le, c in sorted(buckets):
        if n and c >= 0.99 * n:
            p99 = le
            break
print(json.dumps({"backend": "postgres", "provider": provider, "members": users, "messages": messages, "pushes": got, "expected": total, "distinct": distinct, "duplicates": accepted - distinct,
                  "grace_ms": grace, "send_rate": send_rate, "sends_s": round(sent_s, 2), "seconds": round(elapsed, 2), "pushes_per_s": round(rate) if send_rate == 0 else None,
                  "delay_ms": {"p50": pct(0.5), "p99": pct(0.99), "max": round(delays[-1]) if delays else None},
                  "delay_p99_le_s": p99, "queue_rows": queue_rows, "queue_mib": round(queue_bytes / 2**20, 1),
                  "confabd_rss_kib": {"queued": rss_queued, "max_draining": rss_max},
                  "cpu_us_per_push": {k: round(1e6 * (hi[2][k] - lo[2][k]) / drained, 1) for k in lo[2]} if send_rate == 0 else None}))
EOF
