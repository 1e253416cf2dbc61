// authproxy.cfg for the Airlock proxy: the one schema, its defaults, and loading that reports every error.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { resolve } from 'node:path';
import { isFailmode, type Failmode } from '../core/failmode-decision.ts';
import { isIpAddress, parseIpRange } from '../core/ip-ranges.ts';
import { isLoopbackHost } from '../core/loopback-host.ts';
import { parseDnList, parseFailOpenAttributes, type FailOpenAttribute } from './failmode-keys.ts';
import { loadConfigFile, parseConfigText } from './config-file.ts';
import type { IniDocument, IniSection } from './ini-parse.ts';
import { closestWord } from './closest-word.ts';
import { parseListenAddress, type ListenAddress } from './listen-address.ts';
import { readSyslogConfig, type SyslogConfig } from './syslog-config.ts';
import {
  AD_TRANSPORTS,
  API_TIMEOUT_MAX_SECONDS,
  AUTO_FACTORS,
  CHALLENGE_FACTORS,
  LDAP_FACTORS,
  DEFAULTS,
  PROMPT_FORMATS,
  RADIUS_SECRET_MIN_LENGTH,
  SECTION_KINDS,
} from './authproxy-config-model.ts';
import type {
  AdClientConfig,
  AuthProxyConfig,
  AutoServerConfig,
  ChallengeServerConfig,
  ClientConfig,
  LdapServerConfig,
  MainConfig,
  ParseAuthProxyConfigOptions,
  ParseAuthProxyConfigResult,
  RadiusClientConfig,
  RadiusClientEntry,
  ResilienceConfig,
  SectionKind,
  ServerConfig,
} from './authproxy-config-model.ts';
import {
  CLIENT_KINDS,
  DUO_ONLY_SECTIONS,
  GROUP_FAILMODE_KEYS,
  SCHEMAS,
  SERVER_KINDS,
  emptySection,
} from './authproxy-config-schema.ts';
import { SectionReader, errorCode, quote } from './authproxy-section-reader.ts';
import type { Context } from './authproxy-section-reader.ts';
import {
  authority,
  defaultResilienceConfig,
  isHostName,
  readApiHost,
  readApiHosts,
  readResilience,
} from './api-host-readers.ts';

/** `recv_buffer_bytes` bounds: the kernel's own minimum, and far beyond any useful burst. */
const MIN_RECV_BUFFER_BYTES = 4096;
const MAX_RECV_BUFFER_BYTES = 256 * 1024 * 1024;
export * from './authproxy-config-model.ts';

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

/**
 * Validates authproxy.cfg text. Pure apart from `readFile` (for api_ca_file, ssl_ca_certs_file).
 * Collects every error, each naming its place (`[section] key: message (line N)` or
 * `line N: message`); never puts a secret value in a message.
 */
export function parseAuthProxyConfig(
  text: string,
  options: ParseAuthProxyConfigOptions,
): ParseAuthProxyConfigResult {
  return parseConfigText(text, options, readAuthProxyConfig);
}

function readAuthProxyConfig(doc: IniDocument, ctx: Context): AuthProxyConfig {
  const { errors, warnings } = ctx;
  const known: Array<{ section: IniSection; kind: SectionKind }> = [];
  for (const section of doc.sections) {
    const kind = classifySection(section, errors);
    if (kind) known.push({ section, kind });
  }

  const mainSection = known.find((k) => k.kind === 'main')?.section;
  const mainReader = new SectionReader(mainSection ?? emptySection('main'), SCHEMAS.main, ctx);
  const { main, defaultBindAddress } = readMain(mainReader, ctx);
  const defaultResilience = readResilience(mainReader, defaultResilienceConfig());
  mainReader.finish();

  const clients: Record<string, ClientConfig> = {};
  const groupClients = clientsNeedingGroups(known);
  for (const { section, kind } of known) {
    if (!CLIENT_KINDS.includes(kind)) continue;
    const reader = new SectionReader(section, SCHEMAS[kind], ctx);
    if (kind === 'ad_client') {
      clients[section.name] = readAdClient(reader, ctx, groupClients.has(section.name));
    } else if (kind === 'radius_client') clients[section.name] = readRadiusClient(reader);
    else clients[section.name] = { kind: 'duo-only', section: section.name };
    reader.finish();
  }

  const servers: ServerConfig[] = [];
  const serverDefaults = {
    debug: main.debug,
    bindAddress: defaultBindAddress,
    resilience: defaultResilience,
  };
  for (const { section, kind } of known) {
    if (!SERVER_KINDS.includes(kind)) continue;
    const reader = new SectionReader(section, SCHEMAS[kind], ctx);
    const server = readServer(reader, kind, clients, known, serverDefaults, ctx);
    reader.finish();
    if (server) servers.push(server);
  }

  if (!known.some((k) => SERVER_KINDS.includes(k.kind))) {
    errors.push(
      'no server section: add [radius_server_auto], [radius_server_challenge] or [ldap_server_auto] (see docs/proxy-config.md)',
    );
  }
  checkBindConflicts(servers, errors);
  for (const name of Object.keys(clients)) {
    if (!servers.some((s) => s.clientSection === name) && errors.length === 0) {
      warnings.push(`[${name}] is not used by any server section`);
    }
  }

  return { main, clients, servers, warnings };
}

/**
 * Reads and validates the file at `path`. Relative paths inside resolve against the file's
 * directory. Throws `ConfigError` listing every problem.
 */
export function loadAuthProxyConfig(path: string): AuthProxyConfig {
  return loadConfigFile(path, parseAuthProxyConfig);
}

// ---------------------------------------------------------------------------------------------
// Sections
// ---------------------------------------------------------------------------------------------

function classifySection(section: IniSection, errors: string[]): SectionKind | undefined {
  const m = /^(.*?)(\d*)$/.exec(section.name);
  const base = m?.[1] ?? section.name;
  const digits = m?.[2] ?? '';
  const kind = SECTION_KINDS.find((k) => k === base);
  if (kind && (digits === '' || kind !== 'main')) return kind;

  const supported = SECTION_KINDS.map((k) => `[${k}]`).join(', ');
  const guess = closestWord(base.toLowerCase(), SECTION_KINDS);
  const suggestion = guess ? `[${guess}${guess === 'main' ? '' : digits}]` : undefined;
  const why = DUO_ONLY_SECTIONS[base];
  errors.push(
    `line ${section.line}: unsupported section [${section.name}]` +
      (why ? ` (Duo's proxy has it; Airlock: ${why})` : '') +
      (suggestion && suggestion !== `[${section.name}]` ? `; did you mean ${suggestion}?` : '') +
      (kind === 'main' ? '; [main] cannot be numbered' : '') +
      `; supported: ${supported}, client and server sections optionally numbered ([ad_client2])`,
  );
  return undefined;
}

function readMain(
  r: SectionReader,
  ctx: Context,
): { main: MainConfig; defaultBindAddress: string | undefined } {
  const d = DEFAULTS.main;
  const logStdout = r.bool('log_stdout', d.logStdout);
  const adminListenText = r.string('admin_listen') ?? d.adminListen;
  const adminListen = parseAdminListen(adminListenText);
  if (!adminListen) {
    r.error('admin_listen', `must be HOST:PORT or [IPv6]:PORT, got ${quote(adminListenText)}`);
  }
  const main: MainConfig = {
    debug: r.bool('debug', d.debug),
    logDir: resolve(ctx.options.configDir, r.string('log_dir') ?? d.logDir),
    logMaxSizeBytes: r.int('log_max_size', d.logMaxSizeBytes, { min: 1 }),
    logMaxFiles: r.int('log_max_files', d.logMaxFiles, { min: 0 }),
    logAuthEvents: r.bool('log_auth_events', d.logAuthEvents),
    logStdout,
    logFile: r.bool('log_file', false) || !logStdout,
    testConnectivityOnStartup: r.bool('test_connectivity_on_startup', d.testConnectivityOnStartup),
    adminListen: adminListen ?? { host: '127.0.0.1', port: 0 },
    stateDir: resolve(ctx.options.configDir, r.string('state_dir') ?? d.stateDir),
    alertWebhookUrls: readWebhookUrls(r),
    alertWebhookSecret: r.secret('alert_webhook_secret').value,
    syslog: readMainSyslog(r, ctx),
    statusReportIntervalMs:
      r.int('status_report_interval', d.statusReportIntervalSeconds, { min: 0, max: 3_600 }) * 1000,
    statusName: readStatusName(r),
  };
  return { main, defaultBindAddress: r.ipAddress('interface') };
}

/** `status_name`: the proxy's (or gateway's) component name on the status page. */
export function readStatusName(r: SectionReader): string | undefined {
  const name = r.string('status_name');
  if (name !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
    r.error(
      'status_name',
      'must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
  }
  return name;
}

/**
 * `syslog_target`, `syslog_facility`, `syslog_app_name`, `syslog_ca_file` (docs/proxy-config.md),
 * of authproxy.cfg's `[main]` and gateway.cfg's (whose app name defaults to `airlock-gateway`).
 */
export function readMainSyslog(
  r: SectionReader,
  ctx: Context,
  defaultAppName = 'airlock-proxy',
): SyslogConfig | undefined {
  const caFile = r.string('syslog_ca_file');
  const caPath = caFile === undefined ? undefined : resolve(ctx.options.configDir, caFile);
  const caPem = caPath === undefined ? undefined : readPem(r, 'syslog_ca_file', caPath);
  const keys = {
    target: 'syslog_target',
    facility: 'syslog_facility',
    appName: 'syslog_app_name',
    caPem: 'syslog_ca_file',
  } as const;
  const { config, errors } = readSyslogConfig(
    {
      target: r.string('syslog_target'),
      facility: r.string('syslog_facility'),
      appName: r.string('syslog_app_name'),
      caPem,
    },
    defaultAppName,
  );
  for (const e of errors) r.error(keys[e.setting], e.message);
  if (!r.has('syslog_target')) {
    for (const key of ['syslog_facility', 'syslog_app_name'] as const) {
      if (r.has(key)) r.warn(key, 'has no effect without syslog_target (udp://, tcp:// or tls://)');
    }
  }
  return config;
}

/** `alert_webhook_url_N`: absolute http or https URLs, each listed once. */
function readWebhookUrls(r: SectionReader): string[] {
  const urls: string[] = [];
  for (const { n, value } of r.numbered('alert_webhook_url_')) {
    const key = `alert_webhook_url_${n}`;
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
      // The value may carry a token: name the key, not the URL.
      r.error(key, 'must be an http:// or https:// URL');
      continue;
    }
    if (urls.includes(url.href)) {
      r.error(key, 'lists the same URL as another alert_webhook_url_N');
      continue;
    }
    urls.push(url.href);
  }
  return urls;
}

/** Client sections named by a server section that sets a per-group failmode key. */
function clientsNeedingGroups(
  known: ReadonlyArray<{ section: IniSection; kind: SectionKind }>,
): Set<string> {
  const names = new Set<string>();
  for (const { section, kind } of known) {
    if (!SERVER_KINDS.includes(kind)) continue;
    const value = (key: string) => section.entries.find((e) => e.key === key)?.value.trim() ?? '';
    if (GROUP_FAILMODE_KEYS.some((k) => value(k) !== '')) names.add(value('client').toLowerCase());
  }
  return names;
}

export function readAdClient(r: SectionReader, ctx: Context, fetchGroups: boolean): AdClientConfig {
  const d = DEFAULTS.adClient;
  const authType = r.string('auth_type');
  if (authType !== undefined && authType.toLowerCase() !== 'plain') {
    r.error(
      'auth_type',
      `${quote(authType)} is not supported: Airlock authenticates with an LDAP simple bind; ` +
        'set auth_type=plain (and bind_dn to the service account DN)',
    );
  } else if (authType === undefined) {
    ctx.warnings.push(
      `[${r.name}] auth_type not set: using plain (LDAP simple bind); Duo's proxy would use ntlm2, ` +
        'so set bind_dn to the service account DN (or service_account_username to user@domain)',
    );
  }
  const transport = r.oneOf('transport', AD_TRANSPORTS, d.transport);
  const hosts = readHosts(r).map((h) => h.host);
  const port = r.port('port', transport === 'ldaps' ? d.ldapsPort : d.port);
  const serviceAccountUsername = r.string('service_account_username');
  const bindDn = r.string('bind_dn');
  const bindName = bindDn ?? serviceAccountUsername;
  if (bindName === undefined) {
    r.error(
      'bind_dn',
      'required (or service_account_username): the service account that binds to search for users',
    );
  }
  const password = r.secret('service_account_password', { required: true });
  const caFile = r.string('ssl_ca_certs_file');
  const sslCaCertsFile = caFile === undefined ? undefined : resolve(ctx.options.configDir, caFile);
  const sslCaPem =
    sslCaCertsFile === undefined ? undefined : readPem(r, 'ssl_ca_certs_file', sslCaCertsFile);
  const sslVerifyHostname = r.bool('ssl_verify_hostname', d.sslVerifyHostname);
  if (transport !== 'clear' && !sslVerifyHostname) {
    r.warn(
      'ssl_verify_hostname',
      `false, so the LDAP server's name is not checked against its certificate`,
    );
  }
  if (transport === 'clear') {
    const remote = hosts.filter((h) => !isLoopbackHost(h));
    if (remote.length > 0) {
      r.warn(
        'transport',
        `clear sends passwords unencrypted to ${remote.join(', ')}; use ldaps or starttls`,
      );
    }
  }
  return {
    kind: 'ad',
    section: r.name,
    hosts,
    port,
    transport,
    authType: 'plain',
    serviceAccountUsername,
    bindDn,
    serviceAccountBindName: bindName ?? '',
    serviceAccountPassword: password.value,
    serviceAccountPasswordFingerprint: password.fingerprint,
    searchDn: r.string('search_dn', { required: true }) ?? '',
    securityGroupDn: r.string('security_group_dn'),
    usernameAttribute: r.string('username_attribute') ?? d.usernameAttribute,
    atAttribute: r.string('at_attribute') ?? d.atAttribute,
    ldapFilter: r.string('ldap_filter'),
    sslCaCertsFile,
    sslCaPem,
    sslVerifyHostname,
    timeoutMs: r.int('timeout', d.timeoutSeconds, { min: 1 }) * 1000,
    dnCacheMs: r.int('dn_cache_seconds', d.dnCacheSeconds, { min: 0, max: 86_400 }) * 1000,
    fetchGroups,
  };
}

function readRadiusClient(r: SectionReader): RadiusClientConfig {
  const d = DEFAULTS.radiusClient;
  const defaultPort = r.port('port', d.port);
  const hostKeys = readHosts(r);
  const hostNumbers = new Set([
    ...(r.has('host') ? [1] : []),
    ...r.numbered('host_').map((h) => h.n),
  ]);
  for (const { n } of r.numbered('port_')) {
    if (!hostNumbers.has(n)) r.error(`port_${n}`, `has no host_${n}`);
  }
  // `port` is every host's default; `port_N` overrides it for host_N (`port_1` for host).
  const hosts = hostKeys.map(({ n, host }) => ({
    host,
    port: r.has(`port_${n}`) ? r.port(`port_${n}`, defaultPort) : defaultPort,
  }));
  const secret = r.secret('secret', { required: true });
  warnWeakSecret(r, 'secret', secret);
  const nasIp = r.ipAddress('nas_ip');
  checkPwCodec(r);
  const requireMessageAuthenticator = r.bool(
    'require_message_authenticator',
    d.requireMessageAuthenticator,
  );
  if (!requireMessageAuthenticator) {
    r.warn(
      'require_message_authenticator',
      'false, so upstream replies without a Message-Authenticator are accepted: an Access-Accept ' +
        'forged on the path to the RADIUS server is believed (BlastRADIUS, CVE-2024-3596)',
    );
  }
  return {
    kind: 'radius',
    section: r.name,
    hosts,
    secret: secret.value,
    secretFingerprint: secret.fingerprint,
    retries: r.int('retries', d.retries, { min: 0 }),
    retryWaitMs: r.int('retry_wait', d.retryWaitSeconds, { min: 1 }) * 1000,
    nasIp,
    passThroughAttrNames: r.list('pass_through_attr_names'),
    passThroughAll: r.bool('pass_through_all', d.passThroughAll),
    requireMessageAuthenticator,
  };
}

/** `host` (or `host_1`) first, then `host_2`, `host_3`, … in number order; `host` counts as 1. */
function readHosts(r: SectionReader): Array<{ n: number; host: string }> {
  if (r.has('host') && r.has('host_1')) {
    r.error('host_1', 'is the same as host: set one of them');
  }
  const keyed = r.has('host') ? [{ n: 1, key: 'host', value: r.string('host') ?? '' }] : [];
  for (const { n, value } of r.numbered('host_')) {
    if (!(n === 1 && keyed.length > 0)) keyed.push({ n, key: `host_${n}`, value });
  }
  if (keyed.length === 0) r.error('host', 'required: the server to authenticate against');
  const hosts: Array<{ n: number; host: string }> = [];
  for (const { n, key, value } of keyed) {
    if (value === '') r.error(key, 'must not be empty');
    else if (!isHostName(value) && !isIpAddress(value)) {
      r.error(key, `must be a host name or IP address, got ${quote(value)}`);
    } else hosts.push({ n, host: value });
  }
  return hosts;
}

function readServer(
  r: SectionReader,
  kind: SectionKind,
  clients: Readonly<Record<string, ClientConfig>>,
  known: ReadonlyArray<{ section: IniSection; kind: SectionKind }>,
  defaults: { debug: boolean; bindAddress: string | undefined; resilience: ResilienceConfig },
  ctx: Context,
): ServerConfig | undefined {
  const d = DEFAULTS.server;
  const ikey = r.string('ikey', { required: true }) ?? '';
  if (ikey !== '' && !/^[\x21-\x7e]+$/.test(ikey)) {
    r.error('ikey', 'must be printable ASCII without spaces');
  }
  const skey = r.secret('skey', { required: true });
  const api = readApiHost(r);
  const apiHosts = readApiHosts(r, api);
  const timeoutSeconds = r.int('api_timeout', d.apiTimeoutSeconds, {
    min: 1,
    max: API_TIMEOUT_MAX_SECONDS,
    belowMin: `never wait forever: set 1–${API_TIMEOUT_MAX_SECONDS} seconds`,
  });
  const pushTimeoutSeconds = r.int('push_timeout', d.pushTimeoutSeconds, {
    min: 5,
    max: 60,
    belowMin: 'give the user at least 5 seconds to answer (5–60)',
  });
  if (pushTimeoutSeconds >= 30) {
    r.warn(
      'push_timeout',
      `${pushTimeoutSeconds} s: many NAS and VPN gateways give up on a RADIUS request after 30 s or less; the proxy's answer must arrive before theirs`,
    );
  }
  const resilience = readResilience(r, defaults.resilience);
  if (resilience.degradedLatencyMs > 0 && resilience.degradedLatencyMs >= timeoutSeconds * 1000) {
    r.warn(
      'degraded_latency_ms',
      `${resilience.degradedLatencyMs} is not below api_timeout (${timeoutSeconds} s): an answer that slow ` +
        'times out first, so no API host is ever reported degraded for latency',
    );
  }
  const caFile = r.string('api_ca_file');
  const apiCaFile = caFile === undefined ? undefined : resolve(ctx.options.configDir, caFile);
  const apiCaPem = apiCaFile === undefined ? undefined : readPem(r, 'api_ca_file', apiCaFile);

  const failmodeText = r.string('failmode', { allowEmpty: true });
  let failmode: Failmode = d.failmode;
  if (failmodeText === undefined) {
    ctx.warnings.push(
      `[${r.name}] failmode not set: using secure (fail closed); Duo's proxy would fail open (safe)`,
    );
  } else {
    const lower = failmodeText.toLowerCase();
    if (isFailmode(lower)) failmode = lower;
    else r.error('failmode', `must be safe or secure, got ${quote(failmodeText)}`);
  }

  const clientSection = readClientReference(r, clients, known);
  const groupFailmode = readGroupFailmode(r, failmode, clientSection, clients);
  // [ldap_server_auto] has none of the RADIUS keys (its schema refuses them).
  const isRadius = kind !== 'ldap_server_auto';
  const radiusClients = isRadius ? readRadiusIps(r) : [];
  if (isRadius) checkPwCodec(r);
  const common = {
    section: r.name,
    ikey,
    skey: skey.value,
    skeyFingerprint: skey.fingerprint,
    apiHost: api.host,
    apiPort: api.port,
    apiAuthority: authority(api.host, api.port),
    apiHosts,
    resilience,
    apiTimeoutMs: timeoutSeconds * 1000,
    pushTimeoutMs: pushTimeoutSeconds * 1000,
    apiCaFile,
    apiCaPem,
    failmode,
    failmodeExplicit: failmodeText !== undefined,
    ...groupFailmode,
    failOpenAttributes: isRadius ? readFailOpenAttributes(r) : [],
    bindAddress: r.ipAddress('interface') ?? defaults.bindAddress ?? d.bindAddress,
    port: r.port('port', isRadius ? d.port : DEFAULTS.ldap.port, { allowZero: true }),
    radiusClients,
    exemptUsernames: r.numbered('exempt_username_').flatMap(({ n, value }) => {
      if (value !== '') return [value];
      r.error(`exempt_username_${n}`, 'must not be empty');
      return [];
    }),
    passThroughAttrNames: isRadius ? r.list('pass_through_attr_names') : [],
    passThroughAll: isRadius && r.bool('pass_through_all', d.passThroughAll),
    clientIpAttr: isRadius ? (r.string('client_ip_attr') ?? d.clientIpAttr) : '',
    requireMessageAuthenticator:
      isRadius && r.bool('require_message_authenticator', d.requireMessageAuthenticator),
    sendLoginKey: isRadius && r.bool('send_login_key', d.sendLoginKey),
    sendPushTimeout: r.bool('send_push_timeout', d.sendPushTimeout),
    apiPreauthAuth: isRadius && r.bool('api_preauth_auth', d.apiPreauthAuth),
    recvBufferBytes: isRadius
      ? r.int('recv_buffer_bytes', d.recvBufferBytes, {
          min: MIN_RECV_BUFFER_BYTES,
          max: MAX_RECV_BUFFER_BYTES,
        })
      : d.recvBufferBytes,
    debug: r.bool('debug', defaults.debug),
  };
  if (!isRadius) {
    return readLdapServer(r, common, clientSection, clients, ctx);
  }
  if (!common.requireMessageAuthenticator) {
    r.warn(
      'require_message_authenticator',
      'false, so Access-Requests without a Message-Authenticator are accepted (BlastRADIUS, CVE-2024-3596)',
    );
  }

  const client = clientSection === undefined ? undefined : clients[clientSection];
  if (kind === 'radius_server_auto') {
    const a = DEFAULTS.auto;
    if (r.has('allow_concat') && r.has('concat_mode')) {
      r.error('concat_mode', 'is the old name of allow_concat: set only allow_concat');
    }
    const concatKey =
      r.has('concat_mode') && !r.has('allow_concat') ? 'concat_mode' : 'allow_concat';
    const delimiter = r.string('delimiter', { allowEmpty: true }) ?? a.delimiter;
    if (delimiter === '') r.error('delimiter', 'must not be empty');
    const server: AutoServerConfig = {
      kind: 'auto',
      ...common,
      clientSection: clientSection ?? '',
      client: client ?? { kind: 'duo-only', section: '' },
      factors: r.factorList('factors', AUTO_FACTORS, a.factors),
      allowConcat: r.bool(concatKey, a.allowConcat),
      delimiter,
      delimitedPasswordLength: r.int('delimited_password_length', a.delimitedPasswordLength, {
        min: 0,
      }),
    };
    return client ? server : undefined;
  }
  const c = DEFAULTS.challenge;
  const server: ChallengeServerConfig = {
    kind: 'challenge',
    ...common,
    clientSection: clientSection ?? '',
    client: client ?? { kind: 'duo-only', section: '' },
    promptFormat: r.oneOf('prompt_format', PROMPT_FORMATS, c.promptFormat),
    enrollChallenge: r.bool('enroll_challenge', c.enrollChallenge),
    factors: r.factorList('factors', CHALLENGE_FACTORS, c.factors),
    challengePush: r.bool('challenge_push', c.challengePush),
  };
  return client ? server : undefined;
}

/**
 * `[ldap_server_auto]`: the LDAP keys over the common server keys. Its client must be an
 * [ad_client]: the proxy forwards every operation to that directory and binds there.
 */
function readLdapServer(
  r: SectionReader,
  common: Omit<LdapServerConfig, LdapOnlyKey | 'clientSection'>,
  clientSection: string | undefined,
  clients: Readonly<Record<string, ClientConfig>>,
  ctx: Context,
): LdapServerConfig | undefined {
  const d = DEFAULTS.ldap;
  const client = clientSection === undefined ? undefined : clients[clientSection];
  if (client !== undefined && client.kind !== 'ad') {
    r.error(
      'client',
      `[${client.section}] is not an [ad_client]: the LDAP proxy forwards binds and searches to the directory of an [ad_client] section`,
    );
  }
  const delimiter = r.string('delimiter', { allowEmpty: true }) ?? d.delimiter;
  if (delimiter === '') r.error('delimiter', 'must not be empty');
  const ldapClients = r.numbered('ldap_client_ip_').flatMap(({ n, value }) => {
    const parsed = parseIpRange(value);
    if (parsed.ok) return [parsed.matcher];
    r.error(`ldap_client_ip_${n}`, parsed.error);
    return [];
  });
  const exemptOus = r.numbered('exempt_ou_').flatMap(({ n, value }) => {
    if (value !== '') return [value];
    r.error(`exempt_ou_${n}`, 'must not be empty');
    return [];
  });
  const tls = readLdapTls(r, ctx);
  const usernameAttribute =
    r.string('username_attribute') ?? (client?.kind === 'ad' ? client.usernameAttribute : '');
  if (
    usernameAttribute !== '' &&
    !/^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)$/.test(usernameAttribute)
  ) {
    r.error('username_attribute', `not an attribute name: ${quote(usernameAttribute)}`);
  }
  const reachable = !isLoopbackHost(common.bindAddress);
  if (reachable && ldapClients.length === 0) {
    ctx.warnings.push(
      `[${r.name}] no ldap_client_ip_N: any host that reaches ${common.bindAddress}:${common.port} may bind through this section`,
    );
  }
  if (reachable && tls.sslCertPem === undefined) {
    ctx.warnings.push(
      `[${r.name}] no ssl_cert_path/ssl_key_path: clients can neither use StartTLS nor LDAPS, so passwords and codes cross the network in clear`,
    );
  }
  const networkTimeoutSeconds = r.int('network_timeout', d.networkTimeoutSeconds, { min: 1 });
  const maxConnections = r.int('max_connections', d.maxConnections, { min: 1, max: 100_000 });
  const idleTimeoutSeconds = r.int('idle_timeout', d.idleTimeoutSeconds, { min: 1 });
  const factors = r.factorList('factors', LDAP_FACTORS, d.factors);
  const allowConcat = r.bool('allow_concat', d.allowConcat);
  const exemptPrimaryBind = r.bool('exempt_primary_bind', d.exemptPrimaryBind);
  const allowUnlimitedBinds = r.bool('allow_unlimited_binds', d.allowUnlimitedBinds);
  const allowSearchesAfterBind = r.bool('allow_searches_after_bind', d.allowSearchesAfterBind);
  if (client?.kind !== 'ad' || clientSection === undefined) return undefined;
  return {
    ...common,
    kind: 'ldap',
    clientSection,
    client,
    factors,
    allowConcat,
    delimiter,
    delimitedPasswordLength: 0,
    exemptPrimaryBind,
    exemptOus,
    usernameAttribute,
    allowUnlimitedBinds,
    allowSearchesAfterBind,
    ldapClients,
    ...tls,
    networkTimeoutMs: networkTimeoutSeconds * 1000,
    idleTimeoutMs: idleTimeoutSeconds * 1000,
    maxMessageBytes: d.maxMessageBytes,
    maxConnections,
  };
}

type LdapOnlyKey =
  | 'kind'
  | 'client'
  | 'factors'
  | 'allowConcat'
  | 'delimiter'
  | 'delimitedPasswordLength'
  | 'exemptPrimaryBind'
  | 'exemptOus'
  | 'usernameAttribute'
  | 'allowUnlimitedBinds'
  | 'allowSearchesAfterBind'
  | 'ldapClients'
  | 'sslCertPath'
  | 'sslKeyPath'
  | 'sslCertPem'
  | 'sslKeyPem'
  | 'sslPort'
  | 'networkTimeoutMs'
  | 'idleTimeoutMs'
  | 'maxMessageBytes'
  | 'maxConnections';

/** `ssl_cert_path` + `ssl_key_path` (both or neither): StartTLS and LDAPS on `ssl_port`. */
function readLdapTls(
  r: SectionReader,
  ctx: Context,
): Pick<LdapServerConfig, 'sslCertPath' | 'sslKeyPath' | 'sslCertPem' | 'sslKeyPem' | 'sslPort'> {
  const certText = r.string('ssl_cert_path');
  const keyText = r.string('ssl_key_path');
  const none = {
    sslCertPath: undefined,
    sslKeyPath: undefined,
    sslCertPem: undefined,
    sslKeyPem: undefined,
    sslPort: undefined,
  };
  if (certText === undefined && keyText === undefined) {
    if (r.has('ssl_port')) r.error('ssl_port', 'needs ssl_cert_path and ssl_key_path');
    return none;
  }
  if (certText === undefined) r.error('ssl_cert_path', 'required with ssl_key_path');
  if (keyText === undefined) r.error('ssl_key_path', 'required with ssl_cert_path');
  const sslPort = r.port('ssl_port', DEFAULTS.ldap.sslPort, { allowZero: true });
  if (certText === undefined || keyText === undefined) return none;
  const sslCertPath = resolve(ctx.options.configDir, certText);
  const sslKeyPath = resolve(ctx.options.configDir, keyText);
  const sslCertPem = readPem(r, 'ssl_cert_path', sslCertPath);
  let sslKeyPem: string | undefined;
  try {
    sslKeyPem = r.readFile(sslKeyPath);
    createPrivateKey(sslKeyPem);
  } catch (err) {
    sslKeyPem = undefined;
    r.error('ssl_key_path', `cannot read a PEM private key from ${sslKeyPath} (${errorCode(err)})`);
  }
  return { sslCertPath, sslKeyPath, sslCertPem, sslKeyPem, sslPort };
}

/**
 * `failmode_secure_groups` has an effect only in a failmode=safe section, `failmode_safe_groups`
 * only in a secure one, and both only with an [ad_client]: the other primaries give no groups,
 * so a secure group there would silently let its members fail open.
 */
function readGroupFailmode(
  r: SectionReader,
  failmode: Failmode,
  clientSection: string | undefined,
  clients: Readonly<Record<string, ClientConfig>>,
): { failmodeSecureGroups: string[]; failmodeSafeGroups: string[] } {
  const client = clientSection === undefined ? undefined : clients[clientSection];
  const read = (key: (typeof GROUP_FAILMODE_KEYS)[number], effectiveIn: Failmode): string[] => {
    const text = r.string(key);
    if (text === undefined) return [];
    const { dns, errors } = parseDnList(text);
    for (const e of errors) r.error(key, e);
    if (failmode !== effectiveIn) {
      r.error(
        key,
        `has no effect with failmode=${failmode}: every user already fails ${failmode}; ` +
          `it belongs in a failmode=${effectiveIn} section`,
      );
    }
    if (client !== undefined && client.kind !== 'ad') {
      r.error(
        key,
        `has no effect: [${client.section}] gives no directory groups; only an [ad_client] primary does`,
      );
    }
    return dns;
  };
  return {
    failmodeSecureGroups: read('failmode_secure_groups', 'safe'),
    failmodeSafeGroups: read('failmode_safe_groups', 'secure'),
  };
}

function readFailOpenAttributes(r: SectionReader): FailOpenAttribute[] {
  const text = r.string('fail_open_attributes');
  if (text === undefined) return [];
  const { attributes, errors } = parseFailOpenAttributes(text);
  for (const e of errors) r.error('fail_open_attributes', e);
  return attributes;
}

function readClientReference(
  r: SectionReader,
  clients: Readonly<Record<string, ClientConfig>>,
  known: ReadonlyArray<{ section: IniSection; kind: SectionKind }>,
): string | undefined {
  const text = r.string('client', { required: true });
  if (text === undefined) return undefined;
  const name = text.toLowerCase();
  if (clients[name]) return name;
  const present = known.filter((k) => CLIENT_KINDS.includes(k.kind)).map((k) => k.section.name);
  const target = known.find((k) => k.section.name === name);
  if (target) {
    // Every client-kind section is in `clients`, so this one is a [main] or server section.
    r.error(
      'client',
      `[${name}] is not a client section: name an [ad_client…], [radius_client…] or [duo_only_client…] section`,
    );
    return undefined;
  }
  const guess = closestWord(name, present);
  const isClientName = CLIENT_KINDS.some((k) => new RegExp(`^${k}\\d*$`).test(name));
  r.error(
    'client',
    (isClientName
      ? `no [${name}] section in this file`
      : `${quote(text)} is not a client section name (ad_client, radius_client, duo_only_client, optionally numbered)`) +
      (guess ? `; did you mean ${guess}?` : '') +
      (present.length > 0
        ? ` (client sections here: ${present.map((p) => `[${p}]`).join(', ')})`
        : ' (this file has no client section)'),
  );
  return undefined;
}

function readRadiusIps(r: SectionReader): RadiusClientEntry[] {
  const ips = r.numbered('radius_ip_');
  const secrets = r.numbered('radius_secret_');
  const entries: RadiusClientEntry[] = [];
  for (const { n, value } of ips) {
    if (!secrets.some((s) => s.n === n)) {
      r.error(`radius_ip_${n}`, `has no radius_secret_${n}`);
      continue;
    }
    const parsed = parseIpRange(value);
    const secret = r.secret(`radius_secret_${n}`, { required: true });
    warnWeakSecret(r, `radius_secret_${n}`, secret);
    if (!parsed.ok) r.error(`radius_ip_${n}`, parsed.error);
    else entries.push({ index: n, matcher: parsed.matcher, ...secretPair(secret) });
  }
  for (const { n } of secrets) {
    if (!ips.some((i) => i.n === n)) r.error(`radius_secret_${n}`, `has no radius_ip_${n}`);
  }
  if (ips.length === 0 && secrets.length === 0) {
    r.error(
      'radius_ip_1',
      'required: at least one radius_ip_N / radius_secret_N pair (the VPN or NAS allowed to ask)',
    );
  }
  return entries;
}

function secretPair(s: { value: string; fingerprint: string }): {
  secret: string;
  secretFingerprint: string;
} {
  return { secret: s.value, secretFingerprint: s.fingerprint };
}

function warnWeakSecret(
  r: SectionReader,
  key: string,
  secret: { value: string; fingerprint: string },
): void {
  if (secret.value !== '' && secret.value.length < RADIUS_SECRET_MIN_LENGTH) {
    r.warn(
      key,
      `shorter than ${RADIUS_SECRET_MIN_LENGTH} characters (sha256 ${secret.fingerprint}); RFC 2865 §3 asks for at least 16`,
    );
  }
}

function checkPwCodec(r: SectionReader): void {
  const codec = r.string('pw_codec');
  if (codec !== undefined && !/^utf-?8$/i.test(codec)) {
    r.error('pw_codec', `Airlock decodes passwords as UTF-8 only, got ${quote(codec)}`);
  }
}

export function readPem(r: SectionReader, key: string, path: string): string | undefined {
  let text: string;
  try {
    text = r.readFile(path);
  } catch (err) {
    r.error(key, `cannot read ${path} (${errorCode(err)})`);
    return undefined;
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) {
    r.error(key, `${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    return undefined;
  }
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch {
      r.error(key, `certificate ${i + 1} in ${path} does not parse`);
      return undefined;
    }
  }
  return text;
}

function checkBindConflicts(servers: readonly ServerConfig[], errors: string[]): void {
  const wildcard = (a: string) => a === '0.0.0.0' || a === '::';
  servers.forEach((s, i) => {
    if (s.port === 0) return;
    const earlier = servers
      .slice(0, i)
      .find(
        (o) =>
          o.port === s.port &&
          (o.bindAddress === s.bindAddress || wildcard(o.bindAddress) || wildcard(s.bindAddress)),
      );
    if (earlier) {
      errors.push(
        `[${s.section}] port: ${s.port} on ${s.bindAddress} is already used by [${earlier.section}] ` +
          `(${earlier.bindAddress}:${earlier.port}); give each server section its own port or interface`,
      );
    }
  });
}

/** `admin_listen`: a listen address whose host is an IP address or a host name. */
export function parseAdminListen(text: string): ListenAddress | undefined {
  const listen = parseListenAddress(text);
  if (!listen || (!isIpAddress(listen.host) && !isHostName(listen.host))) return undefined;
  return listen;
}
