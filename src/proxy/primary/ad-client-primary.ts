// The `[ad_client]` primary, as the proxy's server sections and the gateway use it: the section's
// directory settings as LDAP primary options, its warnings as lines naming the section.
import type { AdClientConfig } from '../../config/authproxy-config-model.ts';
import type { Clock } from '../../runtime/clock.ts';
import { createLdapPrimary, type LdapDirectory } from './ldap-primary.ts';

export function createAdClientPrimary(
  client: AdClientConfig,
  options: {
    clock: Clock;
    /** Where a warning goes, as `[section] message {details}` (authproxy.log, gateway.log). */
    line: (text: string) => void;
    /** Read the user's groups: per-group failmode or the gateway's Remote-Groups need them. */
    fetchGroups: boolean;
    /** The attribute of the user's e-mail address (the gateway's Remote-Email). */
    emailAttribute?: string;
  },
): LdapDirectory {
  return createLdapPrimary({
    hosts: [...client.hosts],
    port: client.port,
    transport: client.transport,
    caPem: client.sslCaPem,
    verifyHostname: client.sslVerifyHostname,
    serviceAccountDn: client.serviceAccountBindName,
    serviceAccountPassword: client.serviceAccountPassword,
    searchDn: client.searchDn,
    usernameAttribute: client.usernameAttribute,
    atAttribute: client.atAttribute,
    emailAttribute: options.emailAttribute,
    ldapFilter: client.ldapFilter,
    securityGroupDn: client.securityGroupDn,
    fetchGroups: options.fetchGroups,
    timeoutMs: client.timeoutMs,
    knownDnTtlMs: client.dnCacheMs,
    clock: options.clock,
    logger: {
      debug: () => undefined,
      warn: (obj: object, msg: string) =>
        options.line(`[${client.section}] ${msg} ${JSON.stringify(obj)}`),
    },
  });
}
