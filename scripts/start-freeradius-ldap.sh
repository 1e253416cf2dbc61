#!/usr/bin/env bash
# Throw-away FreeRADIUS on 127.0.0.1:${RADIUS_PORT:-18123} doing PAP against a slapd from
# scripts/start-slapd.sh by LDAP bind (rlm_ldap: search as the service account, bind as the user),
# the standard FreeRADIUS "PAP against LDAP" setup. Runs multi-threaded (-f, not -X) so that
# benchmarks see its real throughput. Prints "freeradius-ldap up on 127.0.0.1:PORT pid PID dir DIR".
# Usage: scripts/start-freeradius-ldap.sh
#   RADIUS_PORT=N         auth port (default 18123; use a free one)
#   RADDB_DIR=/some/dir   where the configuration copy goes (must be absent or empty; default mktemp)
#   LDAP_PORT=N           port of the slapd on 127.0.0.1 (required)
#   RADIUS_SECRET=S       shared secret of the 127.0.0.1 client (default testing123)
# The ldap module is Debian's stock mods-available/ldap with only server, port, identity
# (cn=airlock-svc,dc=example,dc=org / svcpw) and base_dn (ou=people,dc=example,dc=org) set; its
# connection pool keeps the stock values: start 5, min 3, max 32, spare 10 (from `thread pool`).
# Stop:  scripts/stop-freeradius.sh DIR
set -euo pipefail

fail() {
  echo "start-freeradius-ldap: $*" >&2
  exit 1
}

FREERADIUS=$(command -v freeradius || command -v radiusd || true)
[[ -n "$FREERADIUS" ]] || fail "freeradius not found; install with: apt-get install freeradius freeradius-ldap"
SOURCE_RADDB=/etc/freeradius/3.0
[[ -r "$SOURCE_RADDB/radiusd.conf" ]] ||
  fail "$SOURCE_RADDB/radiusd.conf not readable; install with: apt-get install freeradius"
[[ -e /usr/lib/freeradius/rlm_ldap.so ]] ||
  fail "/usr/lib/freeradius/rlm_ldap.so missing; install with: apt-get install freeradius-ldap"
id freerad >/dev/null 2>&1 || fail "no 'freerad' system user; install with: apt-get install freeradius"
[[ "$(id -u)" -eq 0 ]] || fail "must run as root (FreeRADIUS switches to the freerad user)"
[[ -n "${LDAP_PORT:-}" ]] || fail "LDAP_PORT is required (the port of a slapd from scripts/start-slapd.sh)"
[[ "$LDAP_PORT" =~ ^[0-9]+$ ]] || fail "LDAP_PORT must be a number, got '$LDAP_PORT'"

PORT="${RADIUS_PORT:-18123}"
SECRET="${RADIUS_SECRET:-testing123}"
if [[ -n "${RADDB_DIR:-}" ]]; then
  DIR="$RADDB_DIR"
  mkdir -p "$DIR"
  [[ -z "$(ls -A "$DIR")" ]] || fail "$DIR is not empty; stop it with scripts/stop-freeradius.sh $DIR, or choose another RADDB_DIR"
else
  DIR="$(mktemp -d -t raddb-ldap.XXXXXX)"
fi
touch "$DIR/.airlock-freeradius" # lets stop-freeradius.sh know it may remove DIR

cp -a "$SOURCE_RADDB/." "$DIR/"
# The default and inner-tunnel sites are off (inner-tunnel binds 18120); EAP needs certificates.
rm -f "$DIR"/sites-enabled/* "$DIR/mods-enabled/eap"

# Stock ldap module, five settings changed; each edit is checked so a changed package fails loudly.
LDAP_MOD="$DIR/mods-enabled/ldap"
rm -f "$LDAP_MOD"
sed -e "s|^\tserver = 'localhost'\$|\tserver = '127.0.0.1'|" \
  -e "s|^#\tport = 389\$|\tport = $LDAP_PORT|" \
  -e "s|^#\tidentity = .*\$|\tidentity = 'cn=airlock-svc,dc=example,dc=org'|" \
  -e "s|^#\tpassword = mypass\$|\tpassword = 'svcpw'|" \
  -e "s|^\tbase_dn = 'dc=example,dc=org'\$|\tbase_dn = 'ou=people,dc=example,dc=org'|" \
  "$SOURCE_RADDB/mods-available/ldap" >"$LDAP_MOD"
for expected in "server = '127.0.0.1'" "port = $LDAP_PORT" "identity = 'cn=airlock-svc" \
  "password = 'svcpw'" "base_dn = 'ou=people,dc=example,dc=org'"; do
  grep -q "^	$expected" "$LDAP_MOD" ||
    fail "could not set '$expected' in $SOURCE_RADDB/mods-available/ldap (unexpected freeradius-ldap version?)"
done

cat >"$DIR/sites-enabled/ldap-pap" <<CONF
server default {
  listen {
    type = auth
    ipaddr = 127.0.0.1
    port = $PORT
  }
  authorize {
    ldap
    if ((ok || updated) && User-Password) {
      update control {
        Auth-Type := ldap
      }
    }
  }
  authenticate {
    Auth-Type ldap {
      ldap
    }
  }
}
CONF
cat >"$DIR/clients.conf" <<CONF
client localhost {
  ipaddr = 127.0.0.1
  secret = "$SECRET"
}
CONF
# A private run directory, so that several instances do not share a pid file.
sed -i "s|^run_dir = .*|run_dir = $DIR/run|" "$DIR/radiusd.conf"
mkdir -p "$DIR/run"
chown -R freerad:freerad "$DIR"
# Unlike -X, -f drops to freerad before reading the modules: every parent of DIR must let it in.
runuser -u freerad -- test -r "$DIR/radiusd.conf" ||
  fail "the freerad user cannot reach $DIR (a parent directory is not world-searchable, e.g. a 0700 mktemp dir; chmod 755 it)"

# -f: foreground, but with the thread pool (-X would be one thread and a debug log per packet).
"$FREERADIUS" -f -d "$DIR" -l "$DIR/radiusd.log" >"$DIR/radiusd.stdout" 2>&1 &
PID=$!
echo "$PID" >"$DIR/radiusd.pid"
for _ in $(seq 1 100); do
  grep -q 'Ready to process requests' "$DIR/radiusd.log" 2>/dev/null && break
  if ! kill -0 "$PID" 2>/dev/null; then
    tail -n 20 "$DIR/radiusd.log" "$DIR/radiusd.stdout" >&2 2>/dev/null || true
    fail "freeradius exited during startup (port $PORT in use? slapd not on $LDAP_PORT?), see $DIR/radiusd.log"
  fi
  sleep 0.1
done
if ! grep -q 'Ready to process requests' "$DIR/radiusd.log" 2>/dev/null; then
  kill "$PID" 2>/dev/null || true
  tail -n 20 "$DIR/radiusd.log" "$DIR/radiusd.stdout" >&2 2>/dev/null || true
  fail "freeradius not ready after 10 s, see $DIR/radiusd.log"
fi
echo "freeradius-ldap up on 127.0.0.1:$PORT pid $PID dir $DIR"
