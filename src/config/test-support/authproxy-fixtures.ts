// Shared fixtures of the authproxy.cfg tests (not shipped: test-support is excluded from the build).
import type { AuthProxyConfig, ParseAuthProxyConfigOptions } from '../authproxy-config.ts';
import assert from 'node:assert/strict';
import { parseAuthProxyConfig } from '../authproxy-config.ts';
export const CA_PEM = `-----BEGIN CERTIFICATE-----
MIIBijCCATGgAwIBAgIUf3Op4p9N8M3q0V6CTqAGpKnUtzIwCgYIKoZIzj0EAwIw
GjEYMBYGA1UEAwwPQWlybG9jayB0ZXN0IENBMCAXDTI2MTEzMDEyMjE1MVoYDzIx
MjYxMTA2MTIyMTUxWjAaMRgwFgYDVQQDDA9BaXJsb2NrIHRlc3QgQ0EwWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAAS5UXY9BNXDKEpBbdcI+G3iqul4k58BOVYkerm7
WLknRkB5LQWhOAJayBxcT/bI7Maz2AgTIY9E0xsICEOvaI4jo1MwUTAdBgNVHQ4E
FgQUx4uj7YFLeGxtlYr9uReXJ/jDAVowHwYDVR0jBBgwFoAUx4uj7YFLeGxtlYr9
uReXJ/jDAVowDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiBJNkhr
YczYTh+mm1cv2LnpH9ztibfLSZgqT5kV4poccAIgP8txgjGJr1jxtZ0ROxm8+Eij
FX84Q2QG9FRQX4gGfSU=
-----END CERTIFICATE-----
`;

export const CONFIG_DIR = '/etc/airlock';

/** Secrets used below; none may ever appear in an error or a warning. */
export const SKEY = 'SKEYsecretSKEYsecretSKEYsecretSKEYsecre';
export const RADIUS_SECRET = 'pa;ss#word-long-enough';
export const LDAP_PASSWORD = 'ldap;bind#password';
export const UPSTREAM_SECRET = 'upstream-radius;secret';

/** A fake disk: only these files exist. */
export function fakeReadFile(files: Record<string, string>): (path: string) => string {
  return (path) => {
    const text = files[path];
    if (text === undefined) {
      throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    }
    return text;
  };
}

export const OPTIONS: ParseAuthProxyConfigOptions = {
  configDir: CONFIG_DIR,
  readFile: fakeReadFile({ '/etc/airlock/ca.pem': CA_PEM, '/etc/ssl/ldap-ca.pem': CA_PEM }),
};

export function server(extra = '', name = 'radius_server_auto'): string {
  return `[${name}]
ikey=DIABCDEFGHIJKLMNOPQR
skey=${SKEY}
api_host=airlock.example.org
client=duo_only_client
failmode=secure
radius_ip_1=10.0.0.0/8
radius_secret_1=${RADIUS_SECRET}
${extra}
`;
}

export const BASE = `[duo_only_client]\n${server()}`;

export function parseOk(text: string, options = OPTIONS): AuthProxyConfig {
  const r = parseAuthProxyConfig(text, options);
  if (!r.ok) assert.fail(`expected no errors, got:\n${r.errors.join('\n')}`);
  return r.config;
}

export function parseErrors(text: string, options = OPTIONS): readonly string[] {
  const r = parseAuthProxyConfig(text, options);
  if (r.ok) assert.fail('expected errors, got a config');
  return r.errors;
}

export function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
