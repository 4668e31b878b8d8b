#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests: a new cluster (Debian's `postgresql`
# package, installed by scripts/setup.sh) in a temp dir, on a free loopback port, with
# trust authentication on loopback only and fsync off. Nothing outside the temp dir
# is touched and no system service is started.
#
#   eval "$(scripts/postgres.sh start)"   # exports SB_TEST_POSTGRES_URL, SB_TEST_POSTGRES_DIR
#   scripts/postgres.sh stop "$SB_TEST_POSTGRES_DIR"
#
# PostgreSQL refuses to run as root: as root the cluster runs as the `postgres` user
# the package creates.
set -euo pipefail

bindir() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
  if [ -z "$d" ] || [ ! -x "$d/initdb" ]; then
    echo "postgres.sh: no PostgreSQL server found under /usr/lib/postgresql (scripts/setup.sh installs Debian's postgresql)" >&2
    exit 1
  fi
  echo "$d"
}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

port_is_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
  local bin dir port
  bin="$(bindir)"
  dir="$(mktemp -d "${TMPDIR:-/tmp}/switchboard-pg.XXXXXX")"
  chmod 755 "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    exit 1
  }
  for _ in $(seq 1 20); do
    port=$(( 20000 + RANDOM % 40000 ))
    port_is_free "$port" || continue
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
        start >/dev/null; then
      echo "export SB_TEST_POSTGRES_URL='postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable'"
      echo "export SB_TEST_POSTGRES_DIR='$dir'"
      echo "postgres.sh: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($dir)" >&2
      return 0
    fi
  done
  cat "$dir/server.log" >&2 || true
  echo "postgres.sh: could not start PostgreSQL" >&2
  exit 1
}

stop() {
  local dir="${1:?usage: postgres.sh stop DIR}"
  [ -d "$dir/data" ] || return 0
  as_owner "$(bindir)/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: postgres.sh start | stop DIR" >&2; exit 2 ;;
esac
