#!/usr/bin/env bash
# Stops a FreeRADIUS started by scripts/start-freeradius.sh and removes its directory. Usage: scripts/stop-freeradius.sh DIR
set -euo pipefail

DIR="${1:-}"
if [[ -z "$DIR" ]]; then
  echo "usage: scripts/stop-freeradius.sh DIR   (the dir printed by scripts/start-freeradius.sh)" >&2
  exit 2
fi
if [[ ! -f "$DIR/.airlock-freeradius" ]]; then
  echo "stop-freeradius: $DIR is not a directory made by scripts/start-freeradius.sh" >&2
  exit 1
fi
if [[ -f "$DIR/radiusd.pid" ]]; then
  PID="$(cat "$DIR/radiusd.pid")"
  if kill "$PID" 2>/dev/null; then
    for _ in $(seq 1 50); do
      kill -0 "$PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$PID" 2>/dev/null || true
  fi
fi
rm -rf "$DIR"
echo "freeradius stopped: $DIR"
