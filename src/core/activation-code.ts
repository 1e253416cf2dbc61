// The activation code format of /enroll: `duo://<code>-<base64 of the API host>`, as Duo's apps expect.

export function renderActivationCode(code: string, apiHost: string): string {
  const host = Buffer.from(apiHost, 'utf8').toString('base64').replace(/=+$/, '');
  return `duo://${code}-${host}`;
}

/** Accepts the full `duo://CODE-HOST` form or the bare code; undefined when malformed. */
export function parseActivationCode(value: string): string | undefined {
  const bare = value.trim().startsWith('duo://')
    ? value.trim().slice('duo://'.length)
    : value.trim();
  const code = bare.split('-')[0];
  return code && /^[A-Z0-9]{20}$/.test(code) ? code : undefined;
}
