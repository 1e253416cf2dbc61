// gateway.cfg for `airlock gateway`: its schema and loading that reports every error at once,
// with the [ad_client] and API-host readers of authproxy.cfg (docs/gateway.md).
import { createPrivateKey } from 'node:crypto';
import { resolve } from 'node:path';
import { isFailmode, type Failmode } from '../core/failmode-decision.ts';
import { isIpAddress, parseIpRange, type IpMatcher } from '../core/ip-ranges.ts';
import { isLoopbackHost } from '../core/loopback-host.ts';
import type { ParseAuthProxyConfigOptions } from './authproxy-config-model.ts';
import {
  defaultResilienceConfig,
  isHostName,
  readApiHost,
  readApiHosts,
  readResilience,
} from './api-host-readers.ts';
import {
  parseAdminListen,
  readAdClient,
  readMainSyslog,
  readPem,
  readStatusName,
} from './authproxy-config.ts';
import { RESILIENCE_KEYS, SCHEMAS, type SectionSchema } from './authproxy-config-schema.ts';
import { SectionReader, errorCode, quote, type Context } from './authproxy-section-reader.ts';
import { closestWord } from './closest-word.ts';
import { loadConfigFile, parseConfigText } from './config-file.ts';
import type { IniDocument, IniSection } from './ini-parse.ts';
import {
  APP_RESTRICTIONS,
  GATEWAY_DEFAULTS,
  GATEWAY_SECTION_KINDS,
  SESSION_SECRET_MIN_LENGTH,
  type GatewayAppConfig,
  type GatewayConfig,
  type GatewayListenConfig,
  type GatewayOidcClientConfig,
  type GatewayOidcConfig,
  type GatewayMainConfig,
  type GatewaySectionKind,
  type GatewayServiceConfig,
  type ParseGatewayConfigResult,
} from './gateway-config-model.ts';

export * from './gateway-config-model.ts';

const NONE: SectionSchema['ignored'] = {};

export const GATEWAY_SCHEMAS: Readonly<Record<GatewaySectionKind, SectionSchema>> = {
  main: {
    keys: [
      'debug',
      'log_dir',
      'log_stdout',
      'admin_listen',
      'state_dir',
      'syslog_target',
      'syslog_facility',
      'syslog_app_name',
      'syslog_ca_file',
      'status_report_interval',
      'status_name',
    ],
    numbered: [],
    ignored: NONE,
    refused: NONE,
  },
  gateway: {
    keys: [
      'listen',
      'tls_cert_file',
      'tls_key_file',
      'portal_url',
      'cookie_domain',
      'session_secret',
      'session_idle_seconds',
      'session_lifetime_seconds',
      'failmode_session_lifetime_seconds',
      'login_timeout_seconds',
      'email_attribute',
      'trusted_proxies',
    ],
    numbered: [],
    ignored: NONE,
    refused: NONE,
  },
  ad_client: SCHEMAS.ad_client,
  service: {
    keys: [
      'ikey',
      'skey',
      'api_host',
      'api_port',
      'api_timeout',
      'api_ca_file',
      ...RESILIENCE_KEYS,
    ],
    numbered: ['api_host_'],
    ignored: NONE,
    refused: NONE,
  },
  app: {
    keys: ['hosts', 'paths', 'restriction', 'failmode'],
    numbered: [],
    ignored: NONE,
    refused: NONE,
  },
  oidc: { keys: ['signing_key_files'], numbered: [], ignored: NONE, refused: NONE },
  oidc_client: {
    keys: ['client_secret', 'redirect_uris', 'failmode'],
    numbered: [],
    ignored: NONE,
    refused: NONE,
  },
};

function gatewayKindsWithKey(key: string): GatewaySectionKind[] {
  return GATEWAY_SECTION_KINDS.filter((k) => {
    const s = GATEWAY_SCHEMAS[k];
    return (
      s.keys.includes(key) ||
      s.numbered.some((p) => key.startsWith(p) && /^[1-9]\d*$/.test(key.slice(p.length)))
    );
  }).map((k) => (k === 'app' || k === 'oidc_client' ? `${k}:NAME` : k) as GatewaySectionKind);
}

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

/**
 * Validates gateway.cfg text. Pure apart from `readFile` (certificates, keys, CA files). Collects
 * every error, each naming its place; never puts a secret value in a message.
 */
export function parseGatewayConfig(
  text: string,
  options: ParseAuthProxyConfigOptions,
): ParseGatewayConfigResult {
  return parseConfigText(text, options, readGatewayConfig);
}

function readGatewayConfig(doc: IniDocument, ctx: Context): GatewayConfig {
  const { errors, warnings } = ctx;

  const known = doc.sections.flatMap((section) => {
    const kind = classifyGatewaySection(section, errors);
    return kind ? [{ section, kind }] : [];
  });
  const reader = (kind: GatewaySectionKind, section: IniSection | undefined) =>
    new SectionReader(
      section ?? { name: kind, line: 0, entries: [] },
      GATEWAY_SCHEMAS[kind],
      ctx,
      gatewayKindsWithKey,
    );
  const only = (kind: GatewaySectionKind) => known.find((k) => k.kind === kind)?.section;

  const mainReader = reader('main', only('main'));
  const main = readGatewayMain(mainReader, ctx);
  mainReader.finish();

  if (!only('gateway')) errors.push('no [gateway] section: it sets portal_url and session_secret');
  const gatewayReader = reader('gateway', only('gateway'));
  const gateway = readGatewayListen(gatewayReader, ctx);
  gatewayReader.finish();

  if (!only('ad_client')) errors.push('no [ad_client] section: the directory users log in with');
  const adReader = new SectionReader(
    only('ad_client') ?? { name: 'ad_client', line: 0, entries: [] },
    SCHEMAS.ad_client,
    ctx,
    gatewayKindsWithKey,
  );
  // Groups are always read: they become Remote-Groups.
  const directory = readAdClient(adReader, ctx, true);
  adReader.finish();

  if (!only('service')) errors.push('no [service] section: the Auth API the second factor uses');
  const serviceReader = reader('service', only('service'));
  const service = readGatewayService(serviceReader, ctx);
  serviceReader.finish();

  const apps: GatewayAppConfig[] = [];
  for (const { section, kind } of known) {
    if (kind !== 'app') continue;
    const r = reader('app', section);
    const app = readApp(r, ctx);
    r.finish();
    if (app) apps.push(app);
  }
  if (!known.some((k) => k.kind === 'app')) {
    errors.push('no [app:NAME] section: list at least one protected application');
  }
  checkApps(apps, gateway, errors);
  const oidc = readOidc(known, reader, ctx, errors);
  if (
    oidc !== undefined &&
    gateway.tlsCertPem === undefined &&
    gateway.trustedProxies.length === 0
  ) {
    warnings.push(
      '[gateway] trusted_proxies is empty: behind a reverse proxy the OpenID Connect provider ' +
        "ignores its X-Forwarded-Proto and builds http:// URLs; set it to the proxy's address",
    );
  }

  return { main, gateway, directory, service, apps, oidc, warnings };
}

/** Reads and validates the file at `path`. Throws `ConfigError` listing every problem. */
export function loadGatewayConfig(path: string): GatewayConfig {
  return loadConfigFile(path, parseGatewayConfig);
}

// ---------------------------------------------------------------------------------------------
// Sections
// ---------------------------------------------------------------------------------------------

function classifyGatewaySection(
  section: IniSection,
  errors: string[],
): GatewaySectionKind | undefined {
  const named = /^(app|oidc_client):(.*)$/i.exec(section.name);
  if (named) {
    if (/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(named[2] ?? '')) {
      return (named[1] ?? '').toLowerCase() as GatewaySectionKind;
    }
    errors.push(
      `line ${section.line}: [${section.name}]: a name is letters, digits, "_", "." and "-" (at most 63)`,
    );
    return undefined;
  }
  const kind = GATEWAY_SECTION_KINDS.find(
    (k) => k !== 'app' && k !== 'oidc_client' && k === section.name,
  );
  if (kind) return kind;
  const names = GATEWAY_SECTION_KINDS.map((k) =>
    k === 'app' || k === 'oidc_client' ? `${k}:NAME` : k,
  );
  const guess = closestWord(section.name.toLowerCase(), names);
  errors.push(
    `line ${section.line}: unsupported section [${section.name}]` +
      (guess ? `; did you mean [${guess}]?` : '') +
      `; supported: ${names.map((n) => `[${n}]`).join(', ')}`,
  );
  return undefined;
}

function readGatewayMain(r: SectionReader, ctx: Context): GatewayMainConfig {
  const d = GATEWAY_DEFAULTS.main;
  const adminText = r.string('admin_listen') ?? d.adminListen;
  const adminListen = parseAdminListen(adminText);
  if (!adminListen) {
    r.error('admin_listen', `must be HOST:PORT or [IPv6]:PORT, got ${quote(adminText)}`);
  }
  return {
    debug: r.bool('debug', d.debug),
    logDir: resolve(ctx.options.configDir, r.string('log_dir') ?? d.logDir),
    logStdout: r.bool('log_stdout', d.logStdout),
    adminListen: adminListen ?? { host: '127.0.0.1', port: 0 },
    stateDir: resolve(ctx.options.configDir, r.string('state_dir') ?? d.stateDir),
    syslog: readMainSyslog(r, ctx, 'airlock-gateway'),
    statusReportIntervalMs:
      r.int('status_report_interval', d.statusReportIntervalSeconds, { min: 0, max: 3_600 }) * 1000,
    statusName: readStatusName(r),
  };
}

function readGatewayListen(r: SectionReader, ctx: Context): GatewayListenConfig {
  const d = GATEWAY_DEFAULTS.gateway;
  const listenText = r.string('listen') ?? d.listen;
  const listen = parseAdminListen(listenText);
  if (!listen) r.error('listen', `must be HOST:PORT or [IPv6]:PORT, got ${quote(listenText)}`);
  const { certPem, keyPem } = readTls(r, ctx);
  if (certPem === undefined && listen && !isLoopbackHost(listen.host)) {
    r.warn(
      'listen',
      `${listen.host} is not a loopback address and no tls_cert_file is set: the portal is plain HTTP ` +
        'to whoever can reach it; terminate TLS here or listen on loopback behind the proxy',
    );
  }
  const portalUrl = readPortalUrl(r);
  const cookieDomain = readCookieDomain(r, portalUrl);
  const secret = r.secret('session_secret', { required: true });
  if (secret.value !== '' && secret.value.length < SESSION_SECRET_MIN_LENGTH) {
    r.error(
      'session_secret',
      `must be at least ${SESSION_SECRET_MIN_LENGTH} characters (e.g. openssl rand -hex 32), got ${secret.value.length}`,
    );
  }
  const seconds = (key: string, fallback: number, min: number, max: number) =>
    r.int(key, fallback, { min, max }) * 1000;
  const sessionIdleMs = seconds('session_idle_seconds', d.sessionIdleSeconds, 60, 86_400);
  const sessionLifetimeMs = seconds(
    'session_lifetime_seconds',
    d.sessionLifetimeSeconds,
    60,
    30 * 86_400,
  );
  const failmodeSessionLifetimeMs = seconds(
    'failmode_session_lifetime_seconds',
    d.failmodeSessionLifetimeSeconds,
    60,
    86_400,
  );
  if (failmodeSessionLifetimeMs > sessionLifetimeMs) {
    r.error(
      'failmode_session_lifetime_seconds',
      `must not exceed session_lifetime_seconds (${sessionLifetimeMs / 1000}): a session without a second factor never outlives a full one`,
    );
  }
  const prefix = cookieDomain === undefined ? '__Host-' : '__Secure-';
  return {
    listen: listen ?? { host: '127.0.0.1', port: 0 },
    tlsCertPem: certPem,
    tlsKeyPem: keyPem,
    portalUrl: portalUrl ?? new URL('https://invalid.invalid/'),
    cookieDomain,
    cookieName: prefix + d.cookieName,
    sessionSecret: secret.value,
    sessionSecretFingerprint: secret.fingerprint,
    sessionIdleMs,
    sessionLifetimeMs,
    failmodeSessionLifetimeMs,
    loginTimeoutMs: seconds('login_timeout_seconds', d.loginTimeoutSeconds, 30, 3600),
    emailAttribute: r.string('email_attribute') ?? d.emailAttribute,
    trustedProxies: readTrustedProxies(r),
  };
}

/** `trusted_proxies`: addresses, CIDRs or ranges, comma-separated; every bad one an error. */
function readTrustedProxies(r: SectionReader): IpMatcher[] {
  const matchers: IpMatcher[] = [];
  for (const entry of r.list('trusted_proxies')) {
    const parsed = parseIpRange(entry);
    if (parsed.ok) matchers.push(parsed.matcher);
    else r.error('trusted_proxies', parsed.error);
  }
  return matchers;
}

function readTls(r: SectionReader, ctx: Context): { certPem?: string; keyPem?: string } {
  const certFile = r.string('tls_cert_file');
  const keyFile = r.string('tls_key_file');
  if ((certFile === undefined) !== (keyFile === undefined)) {
    r.error(certFile === undefined ? 'tls_cert_file' : 'tls_key_file', 'set both or neither');
    return {};
  }
  if (certFile === undefined || keyFile === undefined) return {};
  const certPem = readPem(r, 'tls_cert_file', resolve(ctx.options.configDir, certFile));
  const keyPath = resolve(ctx.options.configDir, keyFile);
  let keyPem: string | undefined;
  try {
    keyPem = r.readFile(keyPath);
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(keyPem)) {
      r.error('tls_key_file', `${keyPath} holds no PEM private key`);
      keyPem = undefined;
    }
  } catch (err) {
    r.error('tls_key_file', `cannot read ${keyPath} (${errorCode(err)})`);
  }
  return certPem && keyPem ? { certPem, keyPem } : {};
}

function readPortalUrl(r: SectionReader): URL | undefined {
  const text = r.string('portal_url', { required: true });
  if (text === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    r.error('portal_url', `must be an absolute https:// URL, got ${quote(text)}`);
    return undefined;
  }
  if (url.protocol !== 'https:') {
    r.error('portal_url', `must be https:// (the session cookie is Secure), got ${quote(text)}`);
    return undefined;
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    r.error('portal_url', 'must have no query, fragment or user info');
    return undefined;
  }
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

function readCookieDomain(r: SectionReader, portalUrl: URL | undefined): string | undefined {
  const text = r.string('cookie_domain');
  if (text === undefined) return undefined;
  const domain = text.replace(/^\./, '').toLowerCase();
  if (!isHostName(domain) || isIpAddress(domain) || !domain.includes('.')) {
    r.error(
      'cookie_domain',
      `must be a domain name with at least two labels (example.org), got ${quote(text)}`,
    );
    return undefined;
  }
  if (portalUrl && !isUnderDomain(portalUrl.hostname, domain)) {
    r.error('cookie_domain', `portal_url's host ${portalUrl.hostname} is not under ${domain}`);
  }
  return domain;
}

function readGatewayService(r: SectionReader, ctx: Context): GatewayServiceConfig {
  const ikey = r.string('ikey', { required: true }) ?? '';
  if (ikey !== '' && !/^[\x21-\x7e]+$/.test(ikey)) {
    r.error('ikey', 'must be printable ASCII without spaces');
  }
  const skey = r.secret('skey', { required: true });
  const first = readApiHost(r);
  const apiHosts = readApiHosts(r, first);
  const caFile = r.string('api_ca_file');
  const apiCaPem =
    caFile === undefined
      ? undefined
      : readPem(r, 'api_ca_file', resolve(ctx.options.configDir, caFile));
  return {
    ikey,
    skey: skey.value,
    skeyFingerprint: skey.fingerprint,
    apiHosts,
    apiCaPem,
    apiTimeoutMs:
      r.int('api_timeout', GATEWAY_DEFAULTS.service.apiTimeoutSeconds, {
        min: 1,
        max: 60,
        belowMin: 'never wait forever: set 1–60 seconds',
      }) * 1000,
    resilience: readResilience(r, defaultResilienceConfig()),
  };
}

function readApp(r: SectionReader, ctx: Context): GatewayAppConfig | undefined {
  const d = GATEWAY_DEFAULTS.app;
  const hosts: string[] = [];
  if (!r.has('hosts')) r.error('hosts', 'required: the host names this application is served on');
  for (const host of r.list('hosts').map((h) => h.toLowerCase())) {
    if (!isHostName(host) || isIpAddress(host)) {
      r.error('hosts', `${quote(host)} is not a host name (no port, no scheme, no path)`);
    } else if (hosts.includes(host)) r.error('hosts', `lists ${host} twice`);
    else hosts.push(host);
  }
  const paths = r.has('paths') ? r.list('paths') : [...d.paths];
  for (const path of paths) {
    if (!path.startsWith('/') || /[?#\s]/.test(path) || path.includes('..')) {
      r.error('paths', `${quote(path)} must be a path prefix starting with "/" (no query)`);
    }
  }
  const restriction = r.oneOf('restriction', APP_RESTRICTIONS, d.restriction);
  const failmodeText = r.string('failmode');
  let failmode: Failmode = d.failmode;
  if (failmodeText === undefined) {
    if (restriction === 'two_factor') {
      ctx.warnings.push(`[${r.name}] failmode not set: using secure (fail closed)`);
    }
  } else if (isFailmode(failmodeText.toLowerCase()))
    failmode = failmodeText.toLowerCase() as Failmode;
  else r.error('failmode', `must be safe or secure, got ${quote(failmodeText)}`);
  if (hosts.length === 0) return undefined;
  return {
    name: r.name.slice('app:'.length),
    section: r.name,
    hosts,
    paths,
    restriction,
    failmode,
    failmodeExplicit: failmodeText !== undefined,
  };
}

/** Apps reachable by the cookie, and no host and path claimed by two apps. */
function checkApps(
  apps: readonly GatewayAppConfig[],
  gateway: GatewayListenConfig,
  errors: string[],
): void {
  const claimed = new Map<string, string>();
  for (const app of apps) {
    for (const host of app.hosts) {
      const portalHost = gateway.portalUrl.hostname;
      if (gateway.cookieDomain === undefined && host !== portalHost) {
        errors.push(
          `[${app.section}] hosts: ${host} never sees the portal's __Host- cookie: set cookie_domain in [gateway] or serve the application on ${portalHost}`,
        );
      } else if (gateway.cookieDomain !== undefined && !isUnderDomain(host, gateway.cookieDomain)) {
        errors.push(
          `[${app.section}] hosts: ${host} is not under cookie_domain ${gateway.cookieDomain}, so it never sees the session cookie`,
        );
      }
      for (const path of app.paths) {
        const key = `${host}${path}`;
        const other = claimed.get(key);
        if (other !== undefined && other !== app.section) {
          errors.push(`[${app.section}] paths: ${key} is already claimed by [${other}]`);
        } else claimed.set(key, app.section);
      }
    }
  }
}

/** `[oidc]` and the `[oidc_client:ID]` sections; undefined when neither is present. */
function readOidc(
  known: ReadonlyArray<{ section: IniSection; kind: GatewaySectionKind }>,
  reader: (kind: GatewaySectionKind, section: IniSection | undefined) => SectionReader,
  ctx: Context,
  errors: string[],
): GatewayOidcConfig | undefined {
  const oidcSection = known.find((k) => k.kind === 'oidc')?.section;
  const clientSections = known.filter((k) => k.kind === 'oidc_client').map((k) => k.section);
  if (!oidcSection && clientSections.length === 0) return undefined;
  if (!oidcSection) errors.push('no [oidc] section: [oidc_client:…] needs signing_key_files');
  const r = reader('oidc', oidcSection);
  const signingKeysPem: string[] = [];
  if (!r.has('signing_key_files')) {
    r.error('signing_key_files', 'required: PEM private keys that sign ID tokens, newest first');
  }
  for (const file of r.list('signing_key_files')) {
    const path = resolve(ctx.options.configDir, file);
    try {
      const pem = r.readFile(path);
      const key = createPrivateKey(pem);
      if (key.asymmetricKeyType !== 'ec' && key.asymmetricKeyType !== 'rsa') {
        r.error(
          'signing_key_files',
          `${path}: an EC (P-256) or RSA key, got ${key.asymmetricKeyType}`,
        );
      } else signingKeysPem.push(pem);
    } catch (err) {
      r.error(
        'signing_key_files',
        `cannot read a PEM private key from ${path} (${errorCode(err)})`,
      );
    }
  }
  r.finish();
  const clients: GatewayOidcClientConfig[] = [];
  for (const section of clientSections) {
    const c = reader('oidc_client', section);
    const secret = c.secret('client_secret', { required: true });
    if (secret.value !== '' && secret.value.length < SESSION_SECRET_MIN_LENGTH) {
      c.error('client_secret', `must be at least ${SESSION_SECRET_MIN_LENGTH} characters`);
    }
    if (!c.has('redirect_uris')) c.error('redirect_uris', 'required: where codes may be sent');
    const redirectUris = c.list('redirect_uris').filter((uri) => {
      const ok =
        /^https:\/\/[^/]/.test(uri) || /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)[:/]/.test(uri);
      if (!ok) c.error('redirect_uris', `${quote(uri)} must be https:// (or http:// on loopback)`);
      return ok;
    });
    const failmodeText = c.string('failmode');
    const failmode = failmodeText?.toLowerCase();
    if (failmodeText !== undefined && !isFailmode(failmode)) {
      c.error('failmode', `must be safe or secure, got ${quote(failmodeText)}`);
    }
    c.finish();
    clients.push({
      clientId: section.name.slice('oidc_client:'.length),
      section: section.name,
      clientSecret: secret.value,
      redirectUris,
      failmode: isFailmode(failmode) ? failmode : 'secure',
    });
  }
  return { signingKeysPem, clients };
}

export function isUnderDomain(host: string, domain: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return h === domain || h.endsWith(`.${domain}`);
}
