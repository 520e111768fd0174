#!/usr/bin/env bash
# Runs a throwaway PostgreSQL 15 server for tests.
#
#   scripts/pg-test-server.sh start DIR   initdb into DIR/data, start on 127.0.0.1:<free port>,
#                                          (a leftover server this script made in DIR is stopped
#                                          and replaced first),
#                                          write the libpq DSN to DIR/dsn (and the port to
#                                          DIR/port), wait until it is ready; prints the DSN
#   scripts/pg-test-server.sh stop DIR    stop the server (fast shutdown) and remove DIR; a
#                                          missing DIR is fine, a DIR start did not make is refused
# Logs: DIR/server.log, DIR/initdb.log.
#
# The server is for tests only: trust authentication, superuser "confab", TCP on loopback only,
# its Unix socket in DIR. fsync stays on (the tests check durability); only initdb skips syncing.
# Tests create their own databases with CREATE DATABASE over the DSN.
#
# PostgreSQL refuses to run as root, so as root (CI) DIR is handed to the "postgres" system user
# (created as "confabpg" if the postgresql package did not create "postgres") and the server runs
# as that user via runuser. DIR's parents must then be traversable by that user (/tmp is fine).
# Unix socket paths are limited to ~107 bytes, so keep DIR short.
#
# Environment: PG_BIN overrides the folder with initdb/pg_ctl (default: PostgreSQL 15's).
set -euo pipefail

usage() {
  echo "usage: $0 start DIR | stop DIR" >&2
  exit 2
}

die() {
  echo "pg-test-server: $*" >&2
  exit 1
}

[[ $# -eq 2 ]] || usage
cmd=$1
dir=$2
[[ -n $dir ]] || usage
[[ $dir == /* ]] || dir="$PWD/$dir"
dir=${dir%/}
[[ -n $dir && $dir != / ]] || die "refusing to use / as DIR"

marker="$dir/.confab-pg-test"

if [[ -n ${PG_BIN:-} ]]; then
  bin=$PG_BIN
elif [[ -x /usr/lib/postgresql/15/bin/pg_ctl ]]; then
  bin=/usr/lib/postgresql/15/bin
elif command -v pg_config >/dev/null && [[ -x "$(pg_config --bindir)/pg_ctl" ]]; then
  bin=$(pg_config --bindir)
else
  die "cannot find PostgreSQL binaries (set PG_BIN)"
fi

# as_pg CMD...: runs CMD as the server's owner (postgres system user when we are root).
pg_user=""
if [[ $(id -u) -eq 0 ]]; then
  if id -u postgres >/dev/null 2>&1; then
    pg_user=postgres
  else
    if ! id -u confabpg >/dev/null 2>&1; then
      useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin confabpg ||
        die "cannot create system user confabpg"
    fi
    pg_user=confabpg
  fi
fi

as_pg() {
  if [[ -n $pg_user ]]; then
    runuser -u "$pg_user" -- "$@"
  else
    "$@"
  fi
}

free_port() {
  if command -v python3 >/dev/null; then
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
  else
    echo $((20000 + RANDOM % 40000))
  fi
}

start() {
  if [[ -e $marker ]]; then
    # Left by an earlier run that never reached its stop (an interrupted test run): replace it.
    echo "pg-test-server: stopping a leftover server in $dir" >&2
    stop
  fi
  if [[ -e $dir ]]; then
    [[ -d $dir ]] || die "$dir exists and is not a directory"
    [[ -z $(ls -A "$dir") ]] || die "$dir is not empty (stop it first, or pick another DIR)"
  fi
  mkdir -p "$dir"
  chmod 0755 "$dir"
  touch "$marker"
  if [[ -n $pg_user ]]; then
    chown "$pg_user:" "$dir"
    as_pg test -w "$dir" ||
      die "user $pg_user cannot reach $dir: every parent folder must be traversable (o+x); use one under /tmp"
  fi
  # Server tools complain when the working directory is not readable by their user.
  cd "$dir"

  local locale=C
  if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then locale=C.UTF-8; fi
  as_pg "$bin/initdb" -D "$dir/data" -U confab -A trust --no-sync -E UTF8 --locale="$locale" \
    >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    die "initdb failed"
  }

  # Everything but the port, which is chosen (and retried) at start.
  cat >>"$dir/data/postgresql.conf" <<EOF

# confab test server
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = on
synchronous_commit = on
full_page_writes = on
max_connections = 200
log_min_messages = warning
log_line_prefix = '%m [%p] '
EOF

  local port attempt
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    if as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "-p $port" start >/dev/null; then
      local _
      for _ in $(seq 1 100); do
        if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U confab -d postgres; then
          echo "host=127.0.0.1 port=$port user=confab dbname=postgres" >"$dir/dsn"
          echo "$port" >"$dir/port"
          cat "$dir/dsn"
          return 0
        fi
        sleep 0.1
      done
      as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
      tail -n 30 "$dir/server.log" >&2 || true
      die "server started but is not accepting connections on port $port"
    fi
    # Most likely the port was taken between choosing and binding it: try another.
    echo "pg-test-server: start on port $port failed (attempt $attempt)" >&2
  done
  tail -n 30 "$dir/server.log" >&2 || true
  die "cannot start PostgreSQL"
}

stop() {
  [[ -e $dir ]] || return 0
  [[ -e $marker ]] || die "$dir was not made by this script (no $marker); not removing it"
  if [[ -f "$dir/data/postmaster.pid" ]]; then
    (cd "$dir" && as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null) ||
      echo "pg-test-server: pg_ctl stop failed (server already gone?)" >&2
  fi
  rm -rf -- "$dir"
}

case $cmd in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
