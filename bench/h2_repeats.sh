#!/usr/bin/env bash
# Does libcurl send an HTTP/2 request twice? (docs/push.md, "HTTP"; issue 15.) The curl command
# line (the same libcurl 7.88 and nghttp2 that confabd's push sender links) POSTs REQUESTS
# requests, each to its own path, 256 at a time over HTTP/2 to two servers on loopback in turn:
# nginx, and a bare Node.js HTTP/2 server like the one the APNs stand-in runs on. Each server
# counts the requests it handled per path; a path handled twice is a repeat. Prints one JSON line
# per server: requests sent, handled, repeats, and (Node only) streams it saw reset.
#
#   bench/h2_repeats.sh        env: REQUESTS (20000) ROUNDS (3)
#
# Needs curl, nginx (Debian: nginx-light) and node. Loopback only; every process it starts is stopped.
set -euo pipefail
requests=${REQUESTS:-20000}; rounds=${ROUNDS:-3}
for tool in curl nginx node; do command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 2; }; done
work=$(mktemp -d /tmp/confab-h2rep.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -s $work/nginx.pid ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# curl's config: one POST per path.
run_curl() {
  python3 - "$1" "$requests" >"$work/urls.cfg" <<'EOF'
import sys
for i in range(int(sys.argv[2])):
    print(f'url = "https://127.0.0.1:{sys.argv[1]}/p/{i}"\noutput = "/dev/null"')
EOF
  for _ in $(seq "$rounds"); do
    curl -s -d x --http2 --cacert "$work/cert.pem" --parallel --parallel-max 256 -K "$work/urls.cfg" >/dev/null 2>&1 || true
  done
}

# nginx: an HTTP/2 server answering 200; its access log lists every request it handled.
port=$(free_port)
mkdir -p "$work/body"
cat >"$work/nginx.conf" <<EOF
worker_processes 1;
error_log $work/nginx.err;
pid $work/nginx.pid;
events { worker_connections 4096; }
http {
  access_log $work/access.log;
  client_body_temp_path $work/body;
  server {
    listen 127.0.0.1:$port ssl http2;
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    location / { return 200 '{}'; }
  }
}
EOF
nginx -c "$work/nginx.conf" -p "$work"
sleep 0.3
run_curl "$port"
kill "$(cat "$work/nginx.pid")"; sleep 0.3
python3 - "$work/access.log" "$requests" "$rounds" <<'EOF'
import collections, json, sys
paths = collections.Counter(line.split()[6] for line in open(sys.argv[1]))
want = int(sys.argv[2]) * int(sys.argv[3])
print(json.dumps({"server": "nginx", "sent": want, "handled": sum(paths.values()),
                  "repeats": sum(max(0, n - int(sys.argv[3])) for n in paths.values())}))
EOF

# Node.js: node:http2's server, answering 200 on the next turn of the event loop.
cat >"$work/server.mjs" <<'EOF'
import fs from 'node:fs';
import http2 from 'node:http2';
const [key, cert] = [fs.readFileSync(process.argv[2]), fs.readFileSync(process.argv[3])];
const paths = new Map();
let reset = 0;
const server = http2.createSecureServer({ key, cert }, (req, res) => {
  req.resume();
  req.on('end', () => {
    paths.set(req.url, (paths.get(req.url) ?? 0) + 1);
    setImmediate(() => { res.writeHead(200); res.end('{}'); });
  });
});
server.on('session', (s) => s.on('stream', (st) => st.on('error', () => { reset += 1; })));
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.on('SIGTERM', () => {
  console.error(JSON.stringify({ handled: [...paths.values()].reduce((a, b) => a + b, 0), counts: [...paths.values()], reset }));
  process.exit(0);
});
EOF
node "$work/server.mjs" "$work/key.pem" "$work/cert.pem" >"$work/node.port" 2>"$work/node.out" &
pids+=($!)
for _ in $(seq 50); do [[ -s $work/node.port ]] && break; sleep 0.1; done
run_curl "$(cat "$work/node.port")"
kill "${pids[-1]}"; sleep 0.5
python3 - "$work/node.out" "$requests" "$rounds" <<'EOF'
import json, sys
r = json.loads(open(sys.argv[1]).read())
print(json.dumps({"server": "node " + __import__("subprocess").run(["node", "--version"], capture_output=True, text=True).stdout.strip(),
                  "sent": int(sys.argv[2]) * int(sys.argv[3]), "handled": r["handled"],
                  "repeats": sum(max(0, n - int(sys.argv[3])) for n in r["counts"]), "streams_reset": r["reset"]}))
EOF
