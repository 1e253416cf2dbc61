// Distinguished names in a form fit for equality (RFC 4514): configured group DNs against the
// groups a directory returns, whatever their case and spacing.

/**
 * Splits a DN into its RDNs at unescaped commas (RFC 4514 §2.4: `\,` is a comma inside a value).
 *
 * @example
 * splitDn('cn=Smith\\, J,ou=people') // => ['cn=Smith\\, J', 'ou=people']
 */
export function splitDn(dn: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < dn.length; i += 1) {
    const c = dn[i];
    if (c === '\\' && i + 1 < dn.length) {
      current += c + dn[i + 1];
      i += 1;
    } else if (c === ',') {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

/**
 * RDNs trimmed, attribute types and values lower-cased: `CN=VPN Users, OU=Groups` and
 * `cn=vpn users,ou=groups` are the same group (directories compare these case-insensitively).
 */
export function normalizeDn(dn: string): string {
  return splitDn(dn)
    .map((rdn) => {
      const eq = rdn.indexOf('=');
      return eq < 0
        ? rdn.trim().toLowerCase()
        : `${rdn.slice(0, eq).trim().toLowerCase()}=${rdn
            .slice(eq + 1)
            .trim()
            .toLowerCase()}`;
    })
    .join(',');
}

/** Every RDN is `type=value` with a non-empty type and value: enough to catch a pasted name or a typo. */
export function isDn(text: string): boolean {
  return splitDn(text).every((rdn) => /^\s*[A-Za-z0-9][A-Za-z0-9.-]*\s*=\s*\S/.test(rdn));
}
