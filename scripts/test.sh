#!/usr/bin/env bash
# The whole test suite: unit tests, the store contract on SQLite and PostgreSQL, and integration
# tests against real servers, which this script installs (when root) and starts on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-test-packages.sh
# The CLI tests run the built command (dist/); rebuild what changed (unless the caller just built
# it: .ci/run's `npm ci` does, through the prepare script).
if [[ -z "${AIRLOCK_TEST_BUILT:-}" ]]; then npm run --silent build; fi

free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

WORK="$(mktemp -d -t airlock-test.XXXXXX)"
chmod 755 "$WORK" # the postgres user must reach $WORK/pg
cleanup() {
  [[ -d "$WORK/pg/data" ]] && bash scripts/stop-pg.sh "$WORK/pg" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

if [[ -z "${AIRLOCK_TEST_DATABASE_URL:-}" ]]; then
  port="$(free_port)"
  PGPORT="$port" PG_DIR="$WORK/pg" bash scripts/start-pg.sh >&2
  export AIRLOCK_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/airlock_test"
fi

# Every benchmark in its seconds-long smoke mode, with the checks it applies to its own runs
# (before the tests, so that the test runner's summary stays the last thing CI prints).
node --import tsx bench/smoke.ts

# Unit files (src/) run two at a time: each keeps to its own temp dirs and port-0 sockets. Those
# on PostgreSQL run with the rest, one at a time: result events are read up to the cluster-wide
# snapshot xmin, so an open transaction of another file (in another database) holds them back.
ON_PG='AIRLOCK_TEST_DATABASE_URL|contract/harness'
mapfile -t UNIT < <(find src -name '*.test.ts' | sort | xargs grep -LE "$ON_PG")
mapfile -t SERIAL < <(
  find src -name '*.test.ts' | sort | xargs grep -lE "$ON_PG"
  find test -name '*.test.ts' | sort
)
unit=0
node --import tsx --test --test-concurrency=2 "${UNIT[@]}" || unit=$?
rest=0
node --import tsx --test --test-concurrency=1 "${SERIAL[@]}" || rest=$?
if [[ $unit -ne 0 ]]; then echo "# the unit files run two at a time (above) FAILED" >&2; fi
[[ $unit -eq 0 && $rest -eq 0 ]]
