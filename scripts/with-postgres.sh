#!/usr/bin/env bash
# Runs CMD with a private, throw-away PostgreSQL server: a cluster initialised in a temp
# folder under /tmp, listening only on a unix socket in that folder and on 127.0.0.1 at a
# free port; BRIDLE_TEST_PG_URL points at it while CMD runs. The server is stopped and the
# cluster deleted on exit, also when CMD fails. Without PostgreSQL binaries, CMD runs without
# the variable (the PostgreSQL tests then skip with a message).
#   scripts/with-postgres.sh ctest --test-dir build
set -uo pipefail
[ $# -ge 1 ] || { echo "usage: $0 CMD..." >&2; exit 2; }

bindir="${BRIDLE_PG_BINDIR:-}"
if [ -z "$bindir" ]; then
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && bindir="$d"; done
fi
if [ -z "$bindir" ] && command -v initdb >/dev/null 2>&1; then bindir="$(dirname "$(command -v initdb)")"; fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ] || [ ! -x "$bindir/pg_ctl" ]; then
  echo "with-postgres: PostgreSQL binaries not found; running without BRIDLE_TEST_PG_URL" >&2
  exec "$@"
fi

# PostgreSQL refuses to run as root: run the server as the postgres user (or nobody).
as_user=()
if [ "$(id -u)" = 0 ]; then
  runas=postgres
  id "$runas" >/dev/null 2>&1 || runas=nobody
  as_user=(runuser -u "$runas" --)
fi

tmp="$(mktemp -d /tmp/bridle-pg.XXXXXX)"
[ "$(id -u)" = 0 ] && chown "$runas" "$tmp"
chmod 700 "$tmp"
data="$tmp/data"
cleanup() {
  "${as_user[@]}" "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)))"
if ! "${as_user[@]}" "$bindir/initdb" -D "$data" -U bridle --auth=trust -E UTF8 --locale=C >"$tmp/initdb.log" 2>&1; then
  echo "with-postgres: initdb failed; running without BRIDLE_TEST_PG_URL" >&2
  cat "$tmp/initdb.log" >&2
  "$@"
  exit $?
fi
opts="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$tmp -c fsync=off -c max_connections=100"
if ! "${as_user[@]}" "$bindir/pg_ctl" -D "$data" -o "$opts" -l "$tmp/server.log" -w -t 60 start >/dev/null 2>&1; then
  echo "with-postgres: the server did not start; running without BRIDLE_TEST_PG_URL" >&2
  cat "$tmp/server.log" >&2
  "$@"
  exit $?
fi
export BRIDLE_TEST_PG_URL="postgresql://bridle@127.0.0.1:$port/postgres"
echo "with-postgres: private PostgreSQL on 127.0.0.1:$port (socket in $tmp)" >&2
"$@"
exit $?
