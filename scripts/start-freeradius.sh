#!/usr/bin/env bash
# Throw-away FreeRADIUS on 127.0.0.1:${RADIUS_PORT:-18122} for tests: PAP users from a users file,
# client 127.0.0.1 with secret ${RADIUS_SECRET:-testing123}. Prints "freeradius up on 127.0.0.1:PORT pid PID dir DIR".
# Usage: scripts/start-freeradius.sh
#   RADIUS_PORT=N         auth port (default 18122; use a free one in tests)
#   RADDB_DIR=/some/dir   where the configuration copy goes (must be absent or empty; default mktemp)
#   RADIUS_USERS_FILE=F   FreeRADIUS `users` (authorize) file to use instead of the default users:
#                         carol/secret (Reply-Message "Hello carol", Class "airlock-class"), alice/alicepw
#   RADIUS_SECRET=S       shared secret of the 127.0.0.1 client (default testing123)
#   RADIUS_REPLY_MESSAGE_AUTHENTICATOR=no
#                         answer like a stock FreeRADIUS before 3.2.5 (Debian 12's 3.2.1): no
#                         Message-Authenticator in replies. By default every Access-Accept and
#                         Access-Reject carries one (post-auth `Message-Authenticator := 0x00`,
#                         which FreeRADIUS signs), as Airlock's [radius_client] requires
# Stop:  scripts/stop-freeradius.sh DIR
set -euo pipefail

fail() {
  echo "start-freeradius: $*" >&2
  exit 1
}

FREERADIUS=$(command -v freeradius || command -v radiusd || true)
[[ -n "$FREERADIUS" ]] || fail "freeradius not found; install with: apt-get install freeradius"
SOURCE_RADDB=/etc/freeradius/3.0
[[ -r "$SOURCE_RADDB/radiusd.conf" ]] ||
  fail "$SOURCE_RADDB/radiusd.conf not readable; install with: apt-get install freeradius"
id freerad >/dev/null 2>&1 || fail "no 'freerad' system user; install with: apt-get install freeradius"
[[ "$(id -u)" -eq 0 ]] || fail "must run as root (FreeRADIUS switches to the freerad user)"

PORT="${RADIUS_PORT:-18122}"
SECRET="${RADIUS_SECRET:-testing123}"
case "${RADIUS_REPLY_MESSAGE_AUTHENTICATOR:-yes}" in
  yes)
    # BlastRADIUS hardening for FreeRADIUS < 3.2.5: a Message-Authenticator in the reply list is
    # computed when the reply is encoded.
    POST_AUTH='post-auth {
    update reply {
      Message-Authenticator := 0x00
    }
    Post-Auth-Type REJECT {
      update reply {
        Message-Authenticator := 0x00
      }
    }
  }'
    ;;
  no) POST_AUTH='' ;;
  *) fail "RADIUS_REPLY_MESSAGE_AUTHENTICATOR must be yes or no, got ${RADIUS_REPLY_MESSAGE_AUTHENTICATOR}" ;;
esac
if [[ -n "${RADDB_DIR:-}" ]]; then
  DIR="$RADDB_DIR"
  mkdir -p "$DIR"
  [[ -z "$(ls -A "$DIR")" ]] || fail "$DIR is not empty; stop it with scripts/stop-freeradius.sh $DIR, or choose another RADDB_DIR"
else
  DIR="$(mktemp -d -t raddb.XXXXXX)"
fi
touch "$DIR/.airlock-freeradius" # lets stop-freeradius.sh know it may remove DIR

cp -a "$SOURCE_RADDB/." "$DIR/"
# The default and inner-tunnel sites are off (inner-tunnel binds 18120); EAP needs certificates.
rm -f "$DIR"/sites-enabled/* "$DIR/mods-enabled/eap"
cat >"$DIR/sites-enabled/test" <<CONF
server default {
  listen {
    type = auth
    ipaddr = 127.0.0.1
    port = $PORT
  }
  authorize {
    files
    pap
  }
  authenticate {
    Auth-Type PAP {
      pap
    }
  }
  $POST_AUTH
}
CONF
cat >"$DIR/clients.conf" <<CONF
client localhost {
  ipaddr = 127.0.0.1
  secret = "$SECRET"
}
CONF
if [[ -n "${RADIUS_USERS_FILE:-}" ]]; then
  cp "$RADIUS_USERS_FILE" "$DIR/mods-config/files/authorize" || fail "cannot read RADIUS_USERS_FILE $RADIUS_USERS_FILE"
else
  cat >"$DIR/mods-config/files/authorize" <<'USERS'
carol Cleartext-Password := "secret"
	Reply-Message := "Hello carol",
	Class := "airlock-class"

alice Cleartext-Password := "alicepw"
USERS
fi
# A private run directory, so that several instances do not share a pid file.
sed -i "s|^run_dir = .*|run_dir = $DIR/run|" "$DIR/radiusd.conf"
mkdir -p "$DIR/run"
chown -R freerad:freerad "$DIR"

# -X: foreground, one thread, full debug log (what a failing test needs to read).
"$FREERADIUS" -X -d "$DIR" >"$DIR/radiusd.log" 2>&1 &
PID=$!
echo "$PID" >"$DIR/radiusd.pid"
for _ in $(seq 1 100); do
  grep -q 'Ready to process requests' "$DIR/radiusd.log" && break
  if ! kill -0 "$PID" 2>/dev/null; then
    tail -n 20 "$DIR/radiusd.log" >&2
    fail "freeradius exited during startup (port $PORT in use?), see $DIR/radiusd.log"
  fi
  sleep 0.1
done
if ! grep -q 'Ready to process requests' "$DIR/radiusd.log"; then
  kill "$PID" 2>/dev/null || true
  tail -n 20 "$DIR/radiusd.log" >&2
  fail "freeradius not ready after 10 s, see $DIR/radiusd.log"
fi
echo "freeradius up on 127.0.0.1:$PORT pid $PID dir $DIR"
