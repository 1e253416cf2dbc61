// Starts the Airlock proxy in-process from an authproxy.cfg written for one test, on a free port.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAuthProxyConfig, type AuthProxyConfig } from '../../src/config/authproxy-config.ts';
import { SystemClock, type Clock } from '../../src/runtime/clock.ts';
import { CryptoRandom } from '../../src/runtime/random.ts';
import { startProxy, type RunningProxy } from '../../src/proxy/start-proxy.ts';
import { freeTcpPort, freeUdpPort } from './external-servers.ts';

export const RADIUS_SECRET = 'proxy-test-secret-0123456789';

export interface TestProxy {
  port: number;
  dir: string;
  config: AuthProxyConfig;
  proxy: RunningProxy;
  authproxyLog: string;
  authEventsLog: string;
  /** The records of authevents.log so far. */
  events(): Record<string, unknown>[];
  close(): Promise<void>;
}

export interface TestProxyOptions {
  /** Section text for the primary client, e.g. an `[ad_client]` block; default `[duo_only_client]`. */
  clientSection?: string;
  clientName?: string;
  /** `ldap_server_auto` listens on a free TCP port and has no RADIUS clients. */
  serverKind?: 'radius_server_auto' | 'radius_server_challenge' | 'ldap_server_auto';
  ikey: string;
  skey: string;
  apiPort: number;
  caPem: string;
  failmode?: 'safe' | 'secure';
  apiTimeoutSeconds?: number;
  /** More `key=value` lines for the server section. */
  extra?: string[];
  /** More `key=value` lines for `[main]`. */
  mainExtra?: string[];
  clock?: Clock;
  /** Runs after the directory is made, before the config is read (to write files it names). */
  beforeStart?: (dir: string) => void;
}

export async function startTestProxy(options: TestProxyOptions): Promise<TestProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-proxy-'));
  const ldap = options.serverKind === 'ldap_server_auto';
  const port = ldap ? await freeTcpPort() : await freeUdpPort();
  writeFileSync(join(dir, 'api-ca.pem'), options.caPem);
  options.beforeStart?.(dir);
  const text = [
    '[main]',
    'log_dir=log',
    'state_dir=state',
    'log_auth_events=true',
    // Any free port for the admin endpoint, so parallel test proxies never collide.
    ...((options.mainExtra ?? []).some((l) => l.startsWith('admin_listen'))
      ? []
      : ['admin_listen=127.0.0.1:0']),
    ...(options.mainExtra ?? []),
    '',
    options.clientSection ?? '[duo_only_client]',
    '',
    `[${options.serverKind ?? 'radius_server_auto'}]`,
    `ikey=${options.ikey}`,
    `skey=${options.skey}`,
    'api_host=localhost',
    `api_port=${options.apiPort}`,
    'api_ca_file=api-ca.pem',
    `api_timeout=${options.apiTimeoutSeconds ?? 2}`,
    `client=${options.clientName ?? 'duo_only_client'}`,
    ...(options.failmode ? [`failmode=${options.failmode}`] : []),
    'interface=127.0.0.1',
    `port=${port}`,
    ...(ldap ? [] : ['radius_ip_1=127.0.0.1', `radius_secret_1=${RADIUS_SECRET}`]),
    ...(options.extra ?? []),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'authproxy.cfg'), text);
  const parsed = parseAuthProxyConfig(text, {
    configDir: dir,
    readFile: (p) => readFileSync(p, 'utf8'),
  });
  if (!parsed.ok) throw new Error(`test config is invalid:\n${parsed.errors.join('\n')}`);
  const proxy = await startProxy(parsed.config, {
    clock: options.clock ?? new SystemClock(),
    random: new CryptoRandom(),
    version: 'test',
  });
  const logDir = parsed.config.main.logDir;
  return {
    port,
    dir,
    config: parsed.config,
    proxy,
    authproxyLog: join(logDir, 'authproxy.log'),
    authEventsLog: join(logDir, 'authevents.log'),
    events() {
      try {
        return readFileSync(join(logDir, 'authevents.log'), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>);
      } catch {
        return [];
      }
    },
    async close() {
      await proxy.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The `[ad_client]` block for a slapd started by scripts/start-slapd.sh. */
export function adClientSection(ldapPort: number, extra: string[] = []): string {
  return [
    '[ad_client]',
    'host=127.0.0.1',
    `port=${ldapPort}`,
    'auth_type=plain',
    'transport=clear',
    'bind_dn=cn=airlock-svc,dc=example,dc=org',
    'service_account_password=svcpw',
    'search_dn=ou=people,dc=example,dc=org',
    'username_attribute=uid',
    'timeout=5',
    ...extra,
  ].join('\n');
}
