#!/usr/bin/env bash
# Throw-away PostgreSQL for tests on 127.0.0.1:${PGPORT:-54329} (trust auth, no fsync), with database airlock_test.
# Usage: scripts/start-pg.sh            (PG_DIR=/some/dir to choose the directory)
#        export AIRLOCK_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:54329/airlock_test
# Stop:  scripts/stop-pg.sh DIR
set -euo pipefail

fail() {
  echo "start-pg: $*" >&2
  exit 1
}

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [[ -z "$PGBIN" || ! -x "$PGBIN/initdb" || ! -x "$PGBIN/pg_ctl" ]]; then
  fail "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin; install with: apt-get install postgresql"
fi
# initdb and postgres refuse to run as root, so they run as the 'postgres' user.
id postgres >/dev/null 2>&1 || fail "no 'postgres' system user; install with: apt-get install postgresql"
command -v runuser >/dev/null || fail "runuser not found (util-linux)"

PORT="${PGPORT:-54329}"
DIR="${PG_DIR:-$(mktemp -d -t pgtest.XXXXXX)}"
[[ -e "$DIR/data" ]] && fail "$DIR/data already exists; stop it with scripts/stop-pg.sh $DIR and remove it, or choose another PG_DIR"
mkdir -p "$DIR"
chown postgres:postgres "$DIR"

runuser -u postgres -- "$PGBIN/initdb" -D "$DIR/data" -A trust -U postgres -E UTF8 --no-sync >"$DIR/initdb.log" 2>&1 ||
  fail "initdb failed, see $DIR/initdb.log"
# Test settings: loopback only, socket in DIR, durability off (the data is thrown away).
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/postgres.log" -w -t 30 start \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  >/dev/null || fail "postgres did not start on port $PORT (port in use?), see $DIR/postgres.log"
runuser -u postgres -- "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres airlock_test ||
  fail "createdb airlock_test failed"

echo "postgres up: postgres://postgres@127.0.0.1:$PORT/airlock_test pid $(head -1 "$DIR/data/postmaster.pid") dir $DIR"
