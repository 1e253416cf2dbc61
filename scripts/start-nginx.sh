#!/usr/bin/env bash
# Throw-away nginx for tests: serves the server blocks in NGINX_DIR/site.conf (written by the test)
# with a self-signed certificate, as an unprivileged user, pid and logs in NGINX_DIR.
# Prints "nginx up on 127.0.0.1:PORT pid PID dir DIR".
#
# Environment:
#   NGINX_DIR=DIR           directory holding site.conf (required); cert.pem/key.pem are written here
#   NGINX_PORT=8443         the port site.conf listens on (checked once nginx is up)
#   NGINX_TLS_SAN=...       certificate subjectAltName (default "DNS:*.example.org,DNS:example.org")
# Stop: scripts/stop-nginx.sh DIR
set -euo pipefail

fail() {
  echo "start-nginx: $*" >&2
  exit 1
}

PATH="$PATH:/usr/sbin"
command -v nginx >/dev/null 2>&1 || fail "nginx not found; install with: sudo apt-get install --no-install-recommends nginx"
nginx -V 2>&1 | grep -q -- --with-http_auth_request_module || fail "this nginx has no auth_request module (Debian's nginx has it)"
command -v openssl >/dev/null 2>&1 || fail "openssl not found; install with: sudo apt-get install openssl"

DIR="${NGINX_DIR:-}"
PORT="${NGINX_PORT:-8443}"
[[ -n "$DIR" && -f "$DIR/site.conf" ]] || fail "NGINX_DIR must name a directory holding site.conf"
[[ -e "$DIR/nginx.pid" ]] && fail "$DIR already holds an nginx; stop it with scripts/stop-nginx.sh $DIR"

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Airlock test nginx" \
  -addext "subjectAltName=${NGINX_TLS_SAN:-DNS:*.example.org,DNS:example.org}" \
  -keyout "$DIR/key.pem" -out "$DIR/cert.pem" 2>/dev/null || fail "openssl could not create the certificate"
mkdir -p "$DIR/tmp"

cat >"$DIR/nginx.conf" <<CONF
daemon on;
worker_processes 1;
pid $DIR/nginx.pid;
error_log $DIR/error.log warn;
events { worker_connections 256; }
http {
  access_log $DIR/access.log;
  client_body_temp_path $DIR/tmp/body;
  proxy_temp_path $DIR/tmp/proxy;
  fastcgi_temp_path $DIR/tmp/fastcgi;
  uwsgi_temp_path $DIR/tmp/uwsgi;
  scgi_temp_path $DIR/tmp/scgi;
  include $DIR/site.conf;
}
CONF

# Never as root: as root, nginx itself would drop its workers to nobody; here the whole server runs
# as nobody, owning only its directory.
RUN=()
if [[ "$(id -u)" -eq 0 ]]; then
  chown -R nobody:nogroup "$DIR"
  chmod 0755 "$DIR"
  RUN=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
fi
"${RUN[@]}" nginx -p "$DIR" -c "$DIR/nginx.conf" -e "$DIR/error.log" -t -q 2>"$DIR/start.stderr" ||
  fail "config test failed: $(cat "$DIR/start.stderr" "$DIR/error.log" 2>/dev/null | tail -5)"
"${RUN[@]}" nginx -p "$DIR" -c "$DIR/nginx.conf" -e "$DIR/error.log" 2>>"$DIR/start.stderr" ||
  fail "nginx did not start: $(tail -5 "$DIR/start.stderr")"

for _ in $(seq 1 100); do
  if [[ -s "$DIR/nginx.pid" ]] && (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    echo "nginx up on 127.0.0.1:$PORT pid $(cat "$DIR/nginx.pid") dir $DIR"
    exit 0
  fi
  sleep 0.05
done
fail "nginx did not listen on 127.0.0.1:$PORT within 5 s: $(tail -5 "$DIR/error.log" 2>/dev/null)"
