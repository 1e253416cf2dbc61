#!/usr/bin/env bash
# Throw-away OpenLDAP for tests and benchmarks on ldap://127.0.0.1:${LDAP_PORT:-3890}, seeded with
# users, groups and a read-only service account. Prints "slapd up on ldap://127.0.0.1:PORT pid PID dir DIR".
#
# Environment:
#   LDAP_PORT=3890          clear LDAP port (StartTLS is offered on it when LDAP_TLS=1)
#   LDAP_DIR=DIR            directory to use (default: a new mktemp dir); must not hold a slapd already
#   LDAP_TLS=1              also listen on ldaps://127.0.0.1:$LDAPS_PORT and offer StartTLS; writes
#                           DIR/ca.pem (test CA), DIR/cert.pem (server cert signed by it), DIR/key.pem
#   LDAPS_PORT=6360         LDAPS port (with LDAP_TLS=1)
#   LDAP_TLS_SAN=...        server certificate subjectAltName (default "IP:127.0.0.1,DNS:localhost")
#   LDAP_MEMBEROF=1         load the memberof overlay and seed memberOf on the users (as AD has it);
#                           without it a client must search the groups
#   LDAP_USERS=N            also add user0001..userN (uid=userNNNN) with password pwNNNN (same digits)
#   LDAP_EXTRA_CONF=...     extra slapd.conf lines for the mdb database (before its ACLs)
#   LDAP_GLOBAL_CONF=...    extra global slapd.conf lines, e.g. "allow bind_anon_dn" (accept a DN with an
#                           empty password as an unauthenticated bind, as many servers do)
#   LDAP_LOGLEVEL=0         slapd loglevel (e.g. "stats"; slapd 2.5 sends it to syslog); 0 keeps benchmarks quiet
#
# Seed (suffix dc=example,dc=org):
#   uid=alice|bob|carol|dave,ou=people   passwords alicepw, bobpw, carolpw, davepw
#   cn=airlock-svc,dc=example,dc=org      password svcpw; may search and read entries (not userPassword)
#   cn=vpn-users,ou=groups (alice, bob), cn=contractors,ou=groups (carol)  (groupOfNames)
#   cn=admin,dc=example,dc=org            rootdn, password admin; also reads cn=Monitor
# Stop: scripts/stop-slapd.sh DIR
set -euo pipefail

fail() {
  echo "start-slapd: $*" >&2
  exit 1
}

for tool in slapd slapadd slappasswd; do
  command -v "$tool" >/dev/null 2>&1 || [[ -x "/usr/sbin/$tool" ]] ||
    fail "$tool not found; install with: echo 'slapd slapd/no_configuration boolean true' | sudo debconf-set-selections && sudo apt-get install --no-install-recommends slapd ldap-utils"
done
command -v ldapwhoami >/dev/null 2>&1 || fail "ldapwhoami not found; install with: sudo apt-get install --no-install-recommends ldap-utils"
PATH="$PATH:/usr/sbin"

PORT="${LDAP_PORT:-3890}"
LDAPS_PORT="${LDAPS_PORT:-6360}"
DIR="${LDAP_DIR:-$(mktemp -d -t slapd.XXXXXX)}"
USERS="${LDAP_USERS:-0}"
[[ "$USERS" =~ ^[0-9]+$ ]] || fail "LDAP_USERS must be a number, got '$USERS'"
[[ -e "$DIR/slapd.conf" ]] && fail "$DIR already holds a slapd; stop it with scripts/stop-slapd.sh $DIR or choose another LDAP_DIR"
mkdir -p "$DIR/db"
SUFFIX="dc=example,dc=org"

URLS="ldap://127.0.0.1:$PORT/"
TLS_CONF=""
TLS_NOTE=""
if [[ "${LDAP_TLS:-0}" == "1" ]]; then
  command -v openssl >/dev/null 2>&1 || fail "openssl not found; install with: sudo apt-get install openssl"
  # A test CA and a server certificate it signs, so clients pin the CA, not the leaf.
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Airlock test LDAP CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$DIR/ca-key.pem" -out "$DIR/ca.pem" 2>/dev/null || fail "openssl could not create the test CA"
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$DIR/key.pem" -out "$DIR/cert.csr" 2>/dev/null ||
    fail "openssl could not create the server key"
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "${LDAP_TLS_SAN:-IP:127.0.0.1,DNS:localhost}" >"$DIR/cert.ext"
  openssl x509 -req -in "$DIR/cert.csr" -CA "$DIR/ca.pem" -CAkey "$DIR/ca-key.pem" -CAcreateserial -days 2 \
    -extfile "$DIR/cert.ext" -out "$DIR/cert.pem" 2>/dev/null || fail "openssl could not sign the server certificate"
  rm -f "$DIR/cert.csr" "$DIR/cert.ext" "$DIR/ca.srl"
  TLS_CONF="TLSCACertificateFile $DIR/ca.pem
TLSCertificateFile $DIR/cert.pem
TLSCertificateKeyFile $DIR/key.pem"
  URLS="$URLS ldaps://127.0.0.1:$LDAPS_PORT/"
  TLS_NOTE=" (also ldaps://127.0.0.1:$LDAPS_PORT and StartTLS; CA $DIR/ca.pem)"
fi

MEMBEROF_MODULE=""
MEMBEROF_OVERLAY=""
if [[ "${LDAP_MEMBEROF:-0}" == "1" ]]; then
  MEMBEROF_MODULE="moduleload memberof"
  MEMBEROF_OVERLAY="overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint TRUE"
fi

SVC_DN="cn=airlock-svc,$SUFFIX"
cat >"$DIR/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
$MEMBEROF_MODULE
pidfile $DIR/slapd.pid
argsfile $DIR/slapd.args
loglevel ${LDAP_LOGLEVEL:-0}
$TLS_CONF
${LDAP_GLOBAL_CONF:-}

database mdb
maxsize 1073741824
suffix "$SUFFIX"
rootdn "cn=admin,$SUFFIX"
rootpw $(slappasswd -s admin)
directory $DIR/db
index objectClass,uid,cn,mail eq
index member,uniqueMember,memberUid eq
$MEMBEROF_OVERLAY
${LDAP_EXTRA_CONF:-}
# Passwords: only usable to authenticate (simple bind); nobody, the service account included, reads them.
access to attrs=userPassword
  by anonymous auth
  by * none
# The service account may search and read everything else; users read their own entry.
access to *
  by dn.exact="$SVC_DN" read
  by self read
  by anonymous auth
  by * none

database monitor
access to dn.subtree="cn=Monitor"
  by dn.exact="cn=admin,$SUFFIX" read
  by * none
CONF

user_ldif() { # uid password
  cat <<LDIF
dn: uid=$1,ou=people,$SUFFIX
objectClass: inetOrgPerson
objectClass: posixAccount
uid: $1
cn: ${1^} Example
sn: Example
mail: $1@example.org
uidNumber: $3
gidNumber: 10000
homeDirectory: /home/$1
userPassword: $(slappasswd -s "$2")
LDIF
  [[ -n "${4:-}" ]] && printf '%s\n' "$4"
  echo
}
memberof() { [[ -n "$MEMBEROF_OVERLAY" ]] && printf 'memberOf: cn=%s,ou=groups,%s\n' "$1" "$SUFFIX" || true; }

{
  cat <<LDIF
dn: $SUFFIX
objectClass: top
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=people,$SUFFIX
objectClass: organizationalUnit
ou: people

dn: ou=groups,$SUFFIX
objectClass: organizationalUnit
ou: groups

dn: $SVC_DN
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: airlock-svc
description: Airlock read-only service account
userPassword: $(slappasswd -s svcpw)

LDIF
  user_ldif alice alicepw 10001 "$(memberof vpn-users)"
  user_ldif bob bobpw 10002 "$(memberof vpn-users)"
  user_ldif carol carolpw 10003 "$(memberof contractors)"
  user_ldif dave davepw 10004
  cat <<LDIF
dn: cn=vpn-users,ou=groups,$SUFFIX
objectClass: groupOfNames
cn: vpn-users
member: uid=alice,ou=people,$SUFFIX
member: uid=bob,ou=people,$SUFFIX

dn: cn=contractors,ou=groups,$SUFFIX
objectClass: groupOfNames
cn: contractors
member: uid=carol,ou=people,$SUFFIX

LDIF
} >"$DIR/seed.ldif"

if [[ "$USERS" -gt 0 ]]; then
  # slappasswd per user would take minutes for 100k users; salted SHA-1 ({SSHA}, what slappasswd
  # makes by default) computed in one node process instead.
  command -v node >/dev/null 2>&1 || fail "node not found (needed for LDAP_USERS)"
  SUFFIX="$SUFFIX" USERS="$USERS" node -e '
    const { createHash, randomBytes } = require("node:crypto");
    const out = [];
    const n = Number(process.env.USERS);
    for (let i = 1; i <= n; i++) {
      const id = String(i).padStart(4, "0");
      const salt = randomBytes(8);
      const digest = createHash("sha1").update("pw" + id).update(salt).digest();
      const ssha = "{SSHA}" + Buffer.concat([digest, salt]).toString("base64");
      out.push(`dn: uid=user${id},ou=people,${process.env.SUFFIX}\nobjectClass: inetOrgPerson\nuid: user${id}\ncn: User ${id}\nsn: User\nmail: user${id}@example.org\nuserPassword: ${ssha}\n`);
    }
    process.stdout.write(out.join("\n") + "\n");
  ' >"$DIR/users.ldif"
  cat "$DIR/users.ldif" >>"$DIR/seed.ldif"
  rm -f "$DIR/users.ldif"
fi

slapadd -q -f "$DIR/slapd.conf" -l "$DIR/seed.ldif" 2>"$DIR/slapadd.log" || fail "slapadd failed, see $DIR/slapadd.log"
# -h URLs as one argument; slapd daemonizes once it listens.
slapd -f "$DIR/slapd.conf" -h "$URLS" 2>"$DIR/slapd.stderr" ||
  fail "slapd did not start (port in use?), see $DIR/slapd.stderr"
up=0
for _ in $(seq 1 100); do
  if ldapwhoami -x -H "ldap://127.0.0.1:$PORT" -D "cn=admin,$SUFFIX" -w admin >/dev/null 2>&1; then
    up=1
    break
  fi
  sleep 0.05
done
[[ "$up" == "1" ]] || fail "slapd did not answer on ldap://127.0.0.1:$PORT within 5 s, see $DIR/slapd.stderr"
echo "slapd up on ldap://127.0.0.1:$PORT pid $(cat "$DIR/slapd.pid") dir $DIR$TLS_NOTE"
