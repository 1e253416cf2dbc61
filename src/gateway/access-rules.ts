// Which application a request is for (host and path), whether a session may open it, and which
// return addresses the portal may send a browser to (configured application hosts only).
import type { GatewayAppConfig } from '../config/gateway-config-model.ts';

/** How the session's second factor was settled; sent as `Remote-2FA`. */
export const SECOND_FACTOR_KINDS = [
  'otp',
  'push',
  'bypass',
  'none',
  'skipped-failmode',
  'phone',
] as const;
export type SecondFactorKind = (typeof SECOND_FACTOR_KINDS)[number];

/** What access rules read of a session. */
export interface SessionGrant {
  readonly secondFactor: SecondFactorKind;
}

/**
 * The application of `host` (any case, port ignored) and `path`: among the apps listing the host,
 * the one with the longest path prefix that matches on a segment boundary (`/admin` matches
 * `/admin` and `/admin/x`, never `/administrator`).
 */
export function matchApp(
  apps: readonly GatewayAppConfig[],
  host: string,
  path: string,
): GatewayAppConfig | undefined {
  const name = hostWithoutPort(host);
  let best: { app: GatewayAppConfig; length: number } | undefined;
  for (const app of apps) {
    if (!app.hosts.includes(name)) continue;
    for (const prefix of app.paths) {
      if (!pathHasPrefix(path, prefix)) continue;
      if (best === undefined || prefix.length > best.length) best = { app, length: prefix.length };
    }
  }
  return best?.app;
}

function pathHasPrefix(path: string, prefix: string): boolean {
  if (prefix === '/' || path === prefix) return true;
  const base = prefix.endsWith('/') ? prefix : `${prefix}/`;
  return path.startsWith(base);
}

export function hostWithoutPort(host: string): string {
  const lower = host.trim().toLowerCase();
  if (lower.startsWith('[')) return lower.slice(0, lower.indexOf(']') + 1);
  return lower.replace(/:\d*$/, '').replace(/\.$/, '');
}

/**
 * Whether `session` may open `app`: a two-factor app needs a second factor the service checked or
 * waived (bypass); a session that skipped it in failmode opens only apps that fail safe themselves
 * (a failmode login for a safe app never opens a secure one). Bypass apps need no session, deny
 * apps admit no one.
 */
export function sessionOpensApp(app: GatewayAppConfig, session: SessionGrant | undefined): boolean {
  switch (app.restriction) {
    case 'bypass':
      return true;
    case 'deny':
      return false;
    case 'one_factor':
      return session !== undefined;
    case 'two_factor':
      if (session === undefined || session.secondFactor === 'none') return false;
      if (session.secondFactor === 'skipped-failmode') return app.failmode === 'safe';
      return true;
  }
}

/**
 * The return address, if the portal may send a browser there: an absolute https URL (no user
 * info) whose host is a configured application's host or the portal's own. Anything else
 * (another host, `//evil`, `javascript:`, a relative path) is refused: no open redirect.
 */
export function validateReturnUrl(
  text: string | undefined,
  apps: readonly GatewayAppConfig[],
  portalUrl: URL,
): URL | undefined {
  if (text === undefined || text === '' || text.length > 4096) return undefined;
  // Control characters and backslashes are how parsers are made to disagree about the host.
  if ([...text].some((c) => c <= ' ' || c === '\\') || !/^https:\/\/[^/]/i.test(text)) {
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '') return undefined;
  const host = url.hostname.toLowerCase();
  const known = host === portalUrl.hostname || apps.some((a) => a.hosts.includes(host));
  return known ? url : undefined;
}

/** `Remote-Groups`: the first RDN value of each group DN (`cn=vpn-users,ou=…` → `vpn-users`). */
export function groupNames(groupDns: readonly string[]): string[] {
  return groupDns
    .map((dn) => /^[^=]+=((?:\\.|[^,\\])*)/.exec(dn)?.[1]?.replace(/\\(.)/g, '$1') ?? dn)
    .filter((name) => name !== '' && !/[,\r\n]/.test(name));
}
