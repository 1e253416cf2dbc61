#!/usr/bin/env bash
# Installs the Debian packages the test servers need when they are missing (as root), else says how.
set -euo pipefail

# Each entry: a command that proves the package is usable, then the package name.
NEEDED=(
  "ls /usr/lib/postgresql/*/bin/initdb:postgresql"
  "command -v slapd:slapd"
  "command -v ldapwhoami:ldap-utils"
  "command -v radclient:freeradius-utils"
  "command -v freeradius:freeradius"
  "test -e /usr/lib/freeradius/rlm_ldap.so:freeradius-ldap"
  "test -x /usr/bin/chromium:chromium"
  "command -v systemd-analyze:systemd"
  "command -v nginx:nginx"
  "command -v caddy:caddy"
)

missing=()
for entry in "${NEEDED[@]}"; do
  check="${entry%%:*}"
  pkg="${entry##*:}"
  # shellcheck disable=SC2086
  if ! eval "$check" >/dev/null 2>&1; then missing+=("$pkg"); fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ "$(id -u)" -ne 0 ]]; then
  echo "missing test servers: ${missing[*]}; install with: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "installing test servers: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
echo 'slapd slapd/no_configuration boolean true' | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
