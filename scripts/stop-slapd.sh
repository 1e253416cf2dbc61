#!/usr/bin/env bash
# Stops a slapd started by scripts/start-slapd.sh and removes its directory. Usage: scripts/stop-slapd.sh DIR
set -euo pipefail

DIR="${1:-}"
if [[ -z "$DIR" ]]; then
  echo "usage: scripts/stop-slapd.sh DIR   (the dir printed by scripts/start-slapd.sh)" >&2
  exit 2
fi
if [[ ! -f "$DIR/slapd.conf" ]]; then
  echo "stop-slapd: $DIR is not a directory made by scripts/start-slapd.sh" >&2
  exit 1
fi
if [[ -f "$DIR/slapd.pid" ]]; then
  pid="$(cat "$DIR/slapd.pid")"
  if kill "$pid" 2>/dev/null; then
    # slapd removes its pid file on a clean shutdown; wait up to 5 s, then force it.
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  fi
fi
# Remove only what start-slapd.sh made, in case DIR was an existing directory given as LDAP_DIR.
rm -rf "$DIR/db"
rm -f "$DIR"/{slapd.conf,slapd.pid,slapd.args,slapd.stderr,slapadd.log,seed.ldif,ca.pem,ca-key.pem,cert.pem,key.pem}
rmdir "$DIR" 2>/dev/null || true
echo "slapd stopped: $DIR"
