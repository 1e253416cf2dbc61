#!/usr/bin/env bash
# Stops an nginx started by scripts/start-nginx.sh (its directory is left to the test). Usage: scripts/stop-nginx.sh DIR
set -euo pipefail

DIR="${1:-}"
if [[ -z "$DIR" || ! -f "$DIR/nginx.conf" ]]; then
  echo "usage: scripts/stop-nginx.sh DIR   (a directory prepared by scripts/start-nginx.sh)" >&2
  exit 2
fi
if [[ -s "$DIR/nginx.pid" ]]; then
  pid="$(cat "$DIR/nginx.pid")"
  # SIGQUIT: graceful shutdown; wait up to 5 s, then force it.
  if kill -QUIT "$pid" 2>/dev/null; then
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  fi
fi
rm -f "$DIR/nginx.pid"
echo "nginx stopped: $DIR"
