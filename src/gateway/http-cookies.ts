// Cookie header parsing and Set-Cookie values (RFC 6265), with the attributes the gateway always
// sets: Secure, HttpOnly, SameSite=Lax, Path=/.

/** The cookies of a `Cookie` header; the first of two with one name wins (RFC 6265 §5.4). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (!cookies.has(name)) cookies.set(name, value);
  }
  return cookies;
}

export interface CookieOptions {
  /** Absent: a host-only cookie (required of `__Host-` names). */
  domain?: string | undefined;
  /** Seconds; 0 deletes the cookie. */
  maxAgeSeconds: number;
}

export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  return [
    `${name}=${value}`,
    'Path=/',
    ...(options.domain === undefined ? [] : [`Domain=${options.domain}`]),
    `Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`,
    'Secure',
    'HttpOnly',
    'SameSite=Lax',
  ].join('; ');
}
