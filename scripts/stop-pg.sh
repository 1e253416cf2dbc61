#!/usr/bin/env bash
# Stops a PostgreSQL started by scripts/start-pg.sh and removes what it created. Usage: scripts/stop-pg.sh DIR
set -euo pipefail

DIR="${1:-}"
if [[ -z "$DIR" ]]; then
  echo "usage: scripts/stop-pg.sh DIR   (the dir printed by scripts/start-pg.sh)" >&2
  exit 2
fi
if [[ ! -f "$DIR/data/PG_VERSION" ]]; then
  echo "stop-pg: $DIR is not a directory made by scripts/start-pg.sh" >&2
  exit 1
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [[ -z "$PGBIN" ]]; then
  echo "stop-pg: PostgreSQL binaries not found; install with: apt-get install postgresql" >&2
  exit 1
fi
if [[ -f "$DIR/data/postmaster.pid" ]]; then
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null
fi
# Remove only what start-pg.sh made, in case DIR was an existing directory given as PG_DIR.
rm -rf "$DIR/data" "$DIR/postgres.log" "$DIR/initdb.log"
rmdir "$DIR" 2>/dev/null || true
echo "postgres stopped: $DIR"
