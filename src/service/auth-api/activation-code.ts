// The activation code format of /enroll: `duo://<code>-<base64 of the API host>`, as Duo's apps expect.

export function renderActivationCode(code: string, apiHost: string): string {
  const host = Buffer.from(apiHost, 'utf8').toString('base64').replace(/=+$/, '');
  return `duo://${code}-${host}`;
}
