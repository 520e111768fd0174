#!/usr/bin/env python3
"""Renders bench/results/<mode>/*.json into docs/performance.md (between the bench markers) and
plots into docs/img/ with gnuplot. Usage: bench/render.py bench/results/quick"""
import glob
import json
import os
import subprocess
import sys

res_dir = sys.argv[1]
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
img_dir = os.path.join(root, "docs", "img")
os.makedirs(img_dir, exist_ok=True)


def load(name):
    p = os.path.join(res_dir, name + ".json")
    if not os.path.exists(p):
        return None
    with open(p) as f:
        text = f.read().strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return json.loads(text.splitlines()[-1])


def ms(h, key):
    return "%.1f" % h[key] if h and h.get("count") else "–"


def viol(v):
    return str(sum(v.get(k, 0) for k in ("duplicates", "gaps", "reorders")) + v.get("lost", 0))


def throughput_plot(name, rows, title, xlabel, extra, alt):
    """deliveries/s (left axis) and p99 ms (right axis) against x, as docs/img/<name>.png."""
    path = os.path.join(res_dir, name + ".dat")
    with open(path, "w") as f:
        for row in rows:
            f.write("%d %f %f\n" % row)
    script = ["set terminal pngcairo size 800,450 noenhanced", "set output '%s/%s.png'" % (img_dir, name),
              "set title '%s'" % title, "set xlabel '%s'" % xlabel] + extra + [
              "set ylabel 'deliveries/s'", "set y2label 'p99 ms'", "set y2tics", "set ytics nomirror", "set grid",
              "plot '%s' using 1:2 with linespoints title 'deliveries/s', '%s' using 1:3 axes x1y2 with linespoints title 'p99 ms'" % (path, path)]
    subprocess.run(["gnuplot"], input="\n".join(script), text=True, check=True)
    out.append("![%s](img/%s.png)" % (alt, name))
    out.append("")


machine = load("machine") or {}


def side_by_side():
    """The side-by-side table of Confab and the relays of bench/peers/ (bench/run.sh side_by_side)."""
    cfg = load("side")
    if not cfg:
        return None
    servers = [("ws", "Node `ws` relay"), ("socketio", "socket.io"), ("sqlite", "Confab SQLite"),
               ("postgres", "Confab PostgreSQL")]
    peers = [s_ for s_ in servers if s_[0] in ("ws", "socketio")]

    def clean(st):
        v = st["violations"]
        return st["lost"] == 0 and not any(v.get(k, 0) for k in ("duplicates", "gaps", "reorders", "protocol_errors", "send_errors"))

    def best(r, key):
        """(value, text) of the best clean step with p99 send->deliver < 50 ms; "≥" when that was the
        top step (the capacity may be higher than the steps went)."""
        steps = r["result"]["steps"] if r else []
        ok = [st for st in steps if clean(st) and st["deliver_latency"].get("count") and st["deliver_latency"]["p99_ms"] < 50]
        if not ok:
            return (None, "< %.0f (no step)" % steps[0]["target_rate"]) if steps else None
        b = max(ok, key=lambda st: st[key])
        top = b is steps[-1] and len(steps) == len(cfg["fan_rates" if key == "deliveries_per_sec" else "chat_rates"])
        return b[key], ("≥ %.0f" if top else "%.0f") % b[key]

    def fixed(r, rate, key, aux_key, pg):
        """(CPU figure, text) at the fixed-rate step; says so when the server fell short of the rate
        (overloaded: its CPU per message then reflects bigger batches, not the fixed rate)."""
        for st in (r["result"]["steps"] if r else []):
            if abs(st["target_rate"] - rate) < 0.5:
                text = "%.1f" % st[key] + (" + %.1f in PostgreSQL" % st.get(aux_key, 0.0) if pg else "")
                p99 = st["deliver_latency"].get("p99_ms", 0)
                if st["sends_per_sec"] < 0.95 * rate:
                    text += " (overloaded: %.0f msgs/s achieved)" % st["sends_per_sec"]
                elif p99 >= 50:
                    text += " (at p99 %.0f ms)" % p99
                return st[key] + (st.get(aux_key, 0.0) if pg else 0.0), text  # ratios count PostgreSQL's CPU too
        return None

    reps = cfg.get("repeats", 1)

    def median(vs):
        """The median run's (value, text); runs without a value count as the lowest."""
        vs = sorted((v for v in vs if v), key=lambda v: v[0] if v[0] is not None else float("-inf"))
        return vs[(len(vs) - 1) // 2] if vs else None

    figures = {}  # (row, server) -> (value, text), the median over the repeats
    total_viol = {}
    for srv, _ in servers:
        runs = {"viol": [], "any": False}
        for rep_ in range(1, reps + 1):
            i, f, c = (load("side_%s_%s_r%d" % (scen, srv, rep_)) for scen in ("idle", "fanout", "chat"))
            if i:
                x = i["result"]
                runs.setdefault("idle", []).append((x.get("rss_marginal_per_connection_kib"), "%.2f (%.2f)" % (
                    x["rss_per_connection_kib"], x.get("rss_marginal_per_connection_kib", 0))))
            pg = srv == "postgres"
            for key, v in (("fan", best(f, "deliveries_per_sec")),
                           ("fancpu", fixed(f, cfg["fan_fixed_rate"], "server_cpu_us_per_delivery", "aux_cpu_us_per_delivery", pg)),
                           ("chat", best(c, "sends_per_sec")),
                           ("chatcpu", fixed(c, cfg["chat_fixed_rate"], "server_cpu_us_per_send", "aux_cpu_us_per_send", pg))):
                runs.setdefault(key, []).append(v)
            for r in (f, c):
                for st in (r["result"]["steps"] if r else []):
                    runs["viol"].append(int(viol(dict(st["violations"], lost=st["lost"]))))
                runs["any"] = runs["any"] or bool(r)
        for key in ("idle", "fan", "fancpu", "chat", "chatcpu"):
            m = median(runs.get(key, []))
            if m:
                figures[(key, srv)] = m
        total_viol[srv] = sum(runs["viol"]) if runs["any"] else None

    rows = [("idle", "KiB per idle connection at %d (marginal %d→%d)" % (cfg["idle_connections"], cfg["idle_from"], cfg["idle_connections"])),
            ("fan", "fan-out deliveries/s at p99 < 50 ms (%d groups × 100, every member sending)" % cfg["fan_groups"]),
            ("fancpu", "fan-out server CPU µs per delivery at %d deliveries/s" % (cfg["fan_fixed_rate"] * cfg["fan_group_size"])),
            ("chat", "1:1 msgs/s at p99 < 50 ms (%d pairs, both sides sending)" % cfg["chat_pairs"]),
            ("chatcpu", "1:1 server CPU µs per message at %d msgs/s" % cfg["chat_fixed_rate"])]
    o = []
    o.append("Scale `%s`: %d idle connections, %d groups of 100, %d pairs, %s s per step; %s; load average %s before the "
             "runs." % (cfg["scale"], cfg["idle_connections"], cfg["fan_groups"], cfg["chat_pairs"], cfg["step_seconds"],
                        "medians of %d runs, each server started afresh for each" % reps if reps > 1 else "one run",
                        cfg.get("loadavg_before", "?")))
    o.append("")
    o.append("Measured %s on %s (%s CPUs), generator (%d threads) and server sharing the machine, "
             "one server at a time. Ratios are Confab's figure over the relay's (memory and CPU: lower is better; "
             "throughput: higher is better; Confab PostgreSQL's CPU ratios count PostgreSQL's CPU too); ≥: the top step stayed under 50 ms, so the capacity was not reached. "
             "Reproduce: `%sbench/run.sh %s` (JSON in `%s/side_*.json`)." % (
                 machine.get("date", "?"), machine.get("cpu", "?"), machine.get("cpus", "?"),
                 cfg.get("generator_threads", 1),
                 "SIDE_REPEATS=%d " % reps if machine.get("mode") == "peers" and reps > 1 else "", machine.get("mode", "?"),
                 os.path.relpath(res_dir, root)))
    o.append("")
    o.append("| figure | " + " | ".join(n for _, n in servers) + " |")
    o.append("|---|" + "---:|" * len(servers))
    for key, label in rows:
        cells = []
        for srv, _ in servers:
            v = figures.get((key, srv))
            if not v:
                cells.append("–")
                continue
            text = v[1]
            if srv in ("sqlite", "postgres") and v[0]:
                rs = []
                for p_, pn in peers:
                    pv = figures.get((key, p_))
                    if pv and pv[0]:
                        rs.append("%.2g× %s" % (v[0] / pv[0], "ws" if p_ == "ws" else "socket.io"))
                if rs:
                    text = "**%s** (%s)" % (text, ", ".join(rs))
            cells.append(text)
        o.append("| %s | %s |" % (label, " | ".join(cells)))
    o.append("| violations (lost, duplicate, gap, reorder), all runs | %s |" % " | ".join(
        "–" if total_viol.get(srv) is None else str(total_viol[srv]) for srv, _ in servers))
    o.append("")
    o.append("Every step%s (achieved rate, latency, server and generator CPU):" % (" of the first run" if reps > 1 else ""))
    o.append("")
    o.append("| server | scenario | target msgs/s | achieved | deliveries/s | deliver p50 | p99 | server CPU µs/delivery | µs/message | generator µs/delivery | violations |")
    o.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for srv, name in servers:
        for scen, label in (("fanout", "fan-out"), ("chat", "1:1")):
            r = load("side_%s_%s_r1" % (scen, srv))
            for st in (r["result"]["steps"] if r else []):
                d = st["deliver_latency"]
                aux = " + %.1f" % st["aux_cpu_us_per_delivery"] if st.get("aux_cpu_s") else ""
                auxm = " + %.1f" % st["aux_cpu_us_per_send"] if st.get("aux_cpu_s") else ""
                o.append("| %s | %s | %.0f | %.0f | %.0f | %s | %s | %.1f%s | %.1f%s | %.1f | %s |" % (
                    name, label, st["target_rate"], st["sends_per_sec"], st["deliveries_per_sec"], ms(d, "p50_ms"),
                    ms(d, "p99_ms"), st["server_cpu_us_per_delivery"], aux, st.get("server_cpu_us_per_send", 0), auxm,
                    st.get("generator_cpu_us_per_delivery", 0), viol(dict(st["violations"], lost=st["lost"]))))
    o.append("")
    return o


def replace_block(text, name, lines):
    begin, end = "<!-- %s:begin -->" % name, "<!-- %s:end -->" % name
    block = begin + "\n" + "\n".join(lines) + "\n" + end
    if begin in text:
        return text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    return text + "\n" + block + "\n"


doc = os.path.join(root, "docs", "performance.md")
side = side_by_side()
if machine.get("mode") == "peers":
    # bench/run.sh peers: the side-by-side section only; the other results stay as they are.
    with open(doc) as f:
        text = f.read()
    if side:
        text = replace_block(text, "side", side)
    with open(doc, "w") as f:
        f.write(text)
    sys.exit(0)

out = []
out.append("Measured on %s (%s CPUs, kernel %s), mode `%s`, %s. Generator and servers share the machine."
           % (machine.get("cpu", "?"), machine.get("cpus", "?"), machine.get("kernel", "?"),
              machine.get("mode", "?"), machine.get("date", "?")))
out.append("")
out.append("Reproduce: `bench/run.sh %s` (JSON in `%s/`)." % (machine.get("mode", "quick"), os.path.relpath(res_dir, root)))
out.append("")

# 1. idle
out.append("### 1. Idle connections (one node, SQLite)")
out.append("")
out.append("| connections | nodes | connects/s | server RSS before | after | per connection | failures | target |")
out.append("|---:|---:|---:|---:|---:|---:|---:|---|")
for name in ("idle_5000", "idle_19000", "idle_100k"):
    r = load(name)
    if r:
        x = r["result"]
        out.append("| %d | %d | %.0f | %.1f MiB | %.1f MiB | **%.1f KiB** | %d | ≤ 2 KiB |" % (
            x["connections"], r.get("nodes", 1), x["connects_per_sec"], x["server_rss_before_kib"] / 1024,
            x["server_rss_after_kib"] / 1024, x["rss_per_connection_kib"], x.get("connect_failures", 0)))
out.append("")

# 2. chat
chat_rows = {}
out.append("### 2. One-on-one chat, stepped rate (500 pairs, every device sending)")
out.append("")
out.append("| backend | target msgs/s | achieved | deliveries/s | deliver p50 | p99 | p99.9 | ack p99 | server CPU µs/delivery | violations |")
out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for backend in ("sqlite", "postgres"):
    r = load("chat_" + backend)
    if not r:
        continue
    rows = []
    for s in r["result"]["steps"]:
        d = s["deliver_latency"]
        out.append("| %s | %.0f | %.0f | %.0f | %s | %s | %s | %s | %.1f | %s |" % (
            backend, s["target_rate"], s["sends_per_sec"], s["deliveries_per_sec"], ms(d, "p50_ms"), ms(d, "p99_ms"),
            ms(d, "p999_ms"), ms(s["ack_latency"], "p99_ms"), s["server_cpu_us_per_delivery"],
            viol(dict(s["violations"], lost=s["lost"]))))
        rows.append((s["sends_per_sec"], d.get("p50_ms", 0), d.get("p99_ms", 0)))
    chat_rows[backend] = rows
    out.append("| %s | **highest rate with p99 < 50 ms: %.0f msgs/s** | | | | | | | | |" % (backend, r["result"]["best_rate_p99_under_50ms"]))
out.append("")
if chat_rows:
    script = ["set terminal pngcairo size 800,450 noenhanced", "set output '%s/chat_latency.png'" % img_dir,
              "set title 'One-on-one chat: send-to-deliver latency against load'", "set xlabel 'messages/s'",
              "set ylabel 'ms'", "set logscale y", "set key left top", "set grid"]
    plots = []
    for b, rows in chat_rows.items():
        path = os.path.join(res_dir, "chat_%s.dat" % b)
        with open(path, "w") as f:
            for row in rows:
                f.write("%f %f %f\n" % row)
        plots.append("'%s' using 1:2 with linespoints title '%s p50'" % (path, b))
        plots.append("'%s' using 1:3 with linespoints title '%s p99'" % (path, b))
    script.append("plot " + ", ".join(plots))
    subprocess.run(["gnuplot"], input="\n".join(script), text=True, check=True)
    out.append("![chat latency](img/chat_latency.png)")
    out.append("")

# 3. fan-out
out.append("### 3. Group fan-out (one node, SQLite)")
out.append("")
out.append("Several senders per group, stepped total message rate; bold: the highest step with p99 "
           "send→deliver under 50 ms. Server CPU per delivery is split into the busiest server thread "
           "(the storage writer) and the total.")
out.append("")
out.append("| group size | groups × senders | msgs/s | deliveries/s | deliver p50 | p99 | max | server CPU µs/delivery (busiest thread) | violations | target |")
out.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
fan_rows = []
for g in (10, 100, 1000):
    r = load("fanout_%d" % g)
    if not r:
        continue
    steps = r["result"]["steps"]
    ok = [s for s in steps if s["deliver_latency"].get("count") and s["deliver_latency"]["p99_ms"] < 50 and s["lost"] == 0]
    best = max(ok, key=lambda s: s["deliveries_per_sec"]) if ok else None
    senders = r["result"].get("senders_per_group", "?")
    for s in steps:
        d = s["deliver_latency"]
        rate = "%.0f" % s["deliveries_per_sec"]
        if s is best:
            rate = "**" + rate + "**"
        out.append("| %d | %d × %s | %.0f | %s | %s | %s | %s | %.1f (%.1f) | %s | ≥ 150 000/s, p99 < 50 ms |" % (
            g, r["result"]["groups"], senders, s["sends_per_sec"], rate, ms(d, "p50_ms"), ms(d, "p99_ms"),
            ms(d, "max_ms"), s["server_cpu_us_per_delivery"], s.get("server_busiest_thread_cpu_us_per_delivery", 0),
            viol(dict(s["violations"], lost=s["lost"]))))
    top = best or max(steps, key=lambda s: s["deliveries_per_sec"])
    fan_rows.append((g, top["deliveries_per_sec"], top["deliver_latency"].get("p99_ms", 0)))
out.append("")
if fan_rows:
    throughput_plot("fanout", fan_rows, "Group fan-out: best deliveries/s (p99 < 50 ms) and its p99 by group size",
                    "members", ["set logscale x"], "fan-out")

# 4. persistence
out.append("### 4. Durable sends to saturation (closed-loop senders over WebSocket, direct conversations)")
out.append("")
out.append("Each sender keeps a fixed number of sends in flight; more in flight makes group-commit batches "
           "bigger and waits longer. The target counts only loads with p99 send→ack under 50 ms (bold: the best such).")
out.append("")
out.append("| backend | senders × in flight | durable sends/s | ack p50 | p99 | max | server CPU per send | target |")
out.append("|---|---:|---:|---:|---:|---:|---:|---|")
persist_rows = []
for backend, target in (("sqlite", "≥ 10 000/s"), ("postgres", "≥ 20 000/s, p99 < 50 ms")):
    runs = []
    for p in sorted(glob.glob(os.path.join(res_dir, "persist_%s_*.json" % backend))):
        load_name = os.path.basename(p)[len("persist_%s_" % backend):-len(".json")]
        r = load(os.path.basename(p)[:-len(".json")])
        if r:
            s_, i_ = (int(v) for v in load_name.split("x"))
            runs.append((s_ * i_, load_name, r["result"]))
    runs.sort(key=lambda t: t[0])
    ok = [x for _, _, x in runs if x["ack_latency"].get("count") and x["ack_latency"]["p99_ms"] < 50]
    best = max(ok, key=lambda x: x["durable_sends_per_sec"]) if ok else None
    for _, name, x in runs:
        a = x["ack_latency"]
        rate = "%.0f" % x["durable_sends_per_sec"]
        if x is best:
            rate = "**" + rate + "**"
        cpu = "%.0f µs" % (x["server_cpu_s"] * 1e6 / x["acks"]) if x.get("acks") else "–"
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            backend, name.replace("x", " × "), rate, ms(a, "p50_ms"), ms(a, "p99_ms"), ms(a, "max_ms"), cpu, target))
out.append("")
out.append("Storage alone (`store_send_bench`: concurrent `store::send` calls into one group, no network):")
out.append("")
out.append("| backend | senders | members | msgs/s | ack p50 | p99 |")
out.append("|---|---:|---:|---:|---:|---:|")
for name in ("store_sqlite", "store_postgres", "store_sqlite_256x2", "store_postgres_256x2"):
    r = load(name)
    if r:
        out.append("| %s | %d | %d | %.0f | %.1f ms | %.1f ms |" % (
            r["backend"], r["senders"], r["members"], r["msgs_per_sec"], r["ack_p50_us"] / 1000, r["ack_p99_us"] / 1000))
out.append("")

# 5. scale-out
out.append("### 5. Scale-out: groups of 100 through haproxy, 1–3 nodes on PostgreSQL + Redis")
out.append("")
first = load("scaleout_1")
if first:
    out.append("The same fixed load on 1, 2 and 3 nodes (%s groups × %s senders, %.0f msgs/s in total); all nodes, "
               "PostgreSQL, Redis, haproxy and the generator share the 2 cores, so this shows what spreading costs, "
               "not capacity." % (first["result"]["groups"], first["result"].get("senders_per_group", "?"),
                                  first["result"]["steps"][0]["target_rate"]))
    out.append("")
out.append("| nodes | msgs/s | deliveries/s | deliver p50 | p99 | server CPU µs/delivery (all nodes) | violations |")
out.append("|---:|---:|---:|---:|---:|---:|---:|")
so_rows = []
for n in (1, 2, 3):
    r = load("scaleout_%d" % n)
    if not r:
        continue
    s = r["result"]["steps"][0]
    d = s["deliver_latency"]
    out.append("| %d | %.0f | %.0f | %s | %s | %.1f | %s |" % (n, s["sends_per_sec"], s["deliveries_per_sec"], ms(d, "p50_ms"),
                                                            ms(d, "p99_ms"), s["server_cpu_us_per_delivery"],
                                                            viol(dict(s["violations"], lost=s["lost"]))))
    so_rows.append((n, s["deliveries_per_sec"], d.get("p99_ms", 0)))
out.append("")
if so_rows:
    throughput_plot("scaleout", so_rows, "Scale-out on one 2-core machine: deliveries/s and p99 by node count", "nodes",
                    ["set xtics 1"], "scale-out")

# 5b. writers on several nodes
w1, w3 = load("writers_1"), load("writers_3")
if w1 or w3:
    out.append("### 5b. Writers on 1 and 3 nodes into groups whose members overlap (PostgreSQL)")
    out.append("")
    x = (w1 or w3)["result"]
    out.append("%d HTTP senders (one send at a time each), %d groups, each sender in two groups; straight to the "
               "nodes, one PostgreSQL. Batch re-runs are counted from the nodes' logs." % (x["senders"], x["groups"]))
    out.append("")
    out.append("| nodes | durable sends/s | ack p50 | p99 | send errors | batch re-runs (per 1 000 sends) |")
    out.append("|---:|---:|---:|---:|---:|---:|")
    for r in (w1, w3):
        if not r:
            continue
        x = r["result"]
        a = x["ack_latency"]
        per = x.get("batch_reruns_per_1000_sends")
        out.append("| %d | %.0f | %s | %s | %d | %s (%s) |" % (
            x["nodes"], x["durable_sends_per_sec"], ms(a, "p50_ms"), ms(a, "p99_ms"), x.get("send_errors", 0),
            x.get("batch_reruns", "?"), "%.2f" % per if per is not None else "?"))
    out.append("")

# 5c. one-to-one chat on several nodes (the capacity planner's relay cost and its validation)
sc = [(n, load("scaleout_chat_%d_r1" % n)) for n in (1, 2, 3)]
if any(r for _, r in sc):
    out.append("### 5c. One-to-one chat on 1–3 nodes of one PostgreSQL and Redis (straight to the nodes)")
    out.append("")
    out.append("Both members of every pair on different nodes once there are two; the nodes, PostgreSQL, Redis and "
               "the generator share the 2 cores. The first of three rounds; `confab plan --validate N` predicts the "
               "highest rate each keeps up with from the 1- and 2-node rounds' medians (docs/scaling.md; measured "
               "after the other results here, on 3 December 2026, by `bench/run.sh full 'scaleout_chat_.*'`).")
    out.append("")
    out.append("| nodes | best msgs/s with p99 < 50 ms | highest rate kept up with (≥ 95 % sent) | at that rate: confabd "
               "CPU µs/msg (all nodes) | PostgreSQL CPU µs/msg | generator CPU µs/msg | violations |")
    out.append("|---:|---:|---:|---:|---:|---:|---:|")
    for n, r in sc:
        if not r:
            continue
        steps = [s for s in r["result"]["steps"] if s["lost"] == 0]
        ok = [s for s in steps if s["deliver_latency"].get("p99_ms", 1e9) < 50]
        kept = [s for s in steps if s["sends_per_sec"] >= 0.95 * s["target_rate"]]
        if not kept:
            out.append("| %d | none | none | | | | |" % n)
            continue
        s = max(kept, key=lambda x: x["target_rate"])
        per = s["deliveries_per_sec"] / s["sends_per_sec"]
        out.append("| %d | %s | %.0f | %.1f | %.1f | %.1f | %s |" % (
            n, "%.0f" % max(x["sends_per_sec"] for x in ok) if ok else "none", s["sends_per_sec"],
            s["server_cpu_us_per_delivery"] * per, s.get("aux_cpu_us_per_send", 0),
            s["generator_cpu_us_per_delivery"] * per, viol(dict(s["violations"], lost=s["lost"]))))
    out.append("")

# 6. storm
out.append("### 6. Reconnect storm (groups of 10, 5 messages missed per device)")
out.append("")
out.append("| devices | reconnected | caught up | seconds until all caught up | deliveries / expected | violations | target |")
out.append("|---:|---:|---|---:|---:|---:|---|")
r = load("storm")
if r:
    x = r["result"]
    out.append("| %d | %d | %s | **%.2f** | %d / %d | %s | 10 000 within 10 s |" % (
        x["devices"], x["reconnected"], "yes" if x["caught_up"] else "NO", x["seconds_to_catch_up"], x["deliveries"],
        x["deliveries_expected"], viol(x["violations"])))
out.append("")

# 7. history
out.append("### 7. History pages at random depths (limit 50, over HTTP)")
out.append("")
out.append("| conversation length | pages | p50 | p99 | max | wrong pages | target |")
out.append("|---:|---:|---:|---:|---:|---:|---|")
r = load("history")
if r:
    x = r["result"]
    h = x["page_latency"]
    out.append("| %d | %d | %s ms | **%s ms** | %s ms | %d | p99 < 5 ms |" % (x["messages"], x["pages"], ms(h, "p50_ms"), ms(h, "p99_ms"), ms(h, "max_ms"), x["wrong_pages"]))
out.append("")

# 8. mixed workload
out.append("### 8. Conversations people live in: a mixed workload (20 groups of 5, every member sending)")
out.append("")
out.append("64 % messages, 20 % thread replies, 10 % reactions toggled, 5 % edits, 1 % deletes, each member a "
           "closed loop with 2 operations outstanding. Checked: every device's final state of every message "
           "(text, edited, deleted, reaction counts, thread reply count) equals every other device's and history's.")
out.append("")
out.append("| backend | operations/s | p50 ack | p99 ack | server CPU per operation | messages checked | state differences (devices / history) | violations |")
out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
for backend in ("sqlite", "postgres"):
    r = load("mixed_" + backend)
    if not r:
        continue
    x = r["result"]
    a = x["ack_latency"]
    out.append("| %s | **%.0f** | %s ms | %s ms | %.0f µs | %d | %d / %d | %s |" % (
        backend, x["operations_per_sec"], ms(a, "p50_ms"), ms(a, "p99_ms"), x["server_cpu_us_per_operation"],
        x["messages_checked"], x["state_differences_between_devices"], x["state_differences_with_history"],
        str(sum(x["violations"].get(k, 0) for k in ("duplicates", "gaps", "reorders", "send_errors")))))
out.append("")

# 9. channels (issue 12)
chans = [(b, load("channel_" + b)) for b in ("sqlite", "postgres")]
resumes = [(b, load("channel_resume_" + b)) for b in ("sqlite", "postgres")]
if any(r for _, r in chans + resumes):
    out.append("### 9. Channels (issue 12, one node)")
    out.append("")
    out.append("Fan-out: one channel; members beyond the connected ones made in bulk by SQL; several connected members "
               "send at a fixed total rate. Deliver = the `channel_event` frame reaching each connected member (the "
               "senders included). Violations: duplicates, gaps, reorders, lost deliveries, devices behind at the end.")
    out.append("")
    out.append("| backend | members | connected | senders | msgs/s | deliveries/s | ack p50 | ack p99 | deliver p50 | deliver p99 | max | server CPU µs/delivery | violations | target |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for backend, r in chans:
        if not r:
            continue
        x = r["result"]
        a, d = x["ack_latency"], x["deliver_latency"]
        v = int(viol(x["violations"])) + x["lost"] + x["devices_behind_at_end"]
        out.append("| %s | %d | %d | %d | %.0f | %.0f | %s | **%s** | %s | **%s** | %s | %.1f | %d | ack p99 < 50 ms, deliver p99 < 100 ms |" % (
            backend, x["members"], x["connected"], x["senders"], x["sends_per_sec"], x["deliveries_per_sec"], ms(a, "p50_ms"),
            ms(a, "p99_ms"), ms(d, "p50_ms"), ms(d, "p99_ms"), ms(d, "max_ms"), x["server_cpu_us_per_delivery"], v))
    out.append("")
    out.append("Resume: a device in many channels reconnects after some of them moved; connect → caught up (hello, "
               "`synced`, `channel_heads`, one `history` fill per moved channel, pipelined).")
    out.append("")
    out.append("| backend | channels | moved × messages | reconnects | caught up p50 | p99 | max | connect → synced p50 | requests per resume | missed / applied | wrong rounds | target |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for backend, r in resumes:
        if not r:
            continue
        x = r["result"]
        c = x["caught_up"]
        out.append("| %s | %d | %d × %d | %d | %s ms | **%s ms** | %s ms | %s ms | %.0f | %d / %d | %d | < 200 ms |" % (
            backend, x["channels"], x["moved_per_round"], x["messages_per_moved_channel"], x["rounds"], ms(c, "p50_ms"),
            ms(c, "p99_ms"), ms(c, "max_ms"), ms(x["connect_to_synced"], "p50_ms"), x["requests_per_resume"],
            x["missed_messages"], x["applied_messages"], x["wrong_rounds"] + x["timeouts"]))
    out.append("")

# micro
m = load("micro")
if m:
    out.append("### Micro-benchmarks (Google Benchmark)")
    out.append("")
    out.append("| benchmark | time per iteration | items/s |")
    out.append("|---|---:|---:|")
    for b in m["benchmarks"]:
        ips = b.get("items_per_second")
        out.append("| `%s` | %.0f ns | %s |" % (b["name"], b["real_time"], "%.0f" % ips if ips else ""))
    out.append("")

with open(doc) as f:
    text = f.read()
text = replace_block(text, "bench", out)
if side:
    text = replace_block(text, "side", side)
with open(doc, "w") as f:
    f.write(text)
