// authproxy.cfg for the Airlock proxy: the one schema, its defaults, and loading that reports every error.
import { X509Certificate, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BREAKER_DEFAULTS } from '../core/circuit-breaker.ts';
import { AirlockError } from '../core/error-registry.ts';
import { FAILMODES, isFailmode, type Failmode } from '../core/failmode-decision.ts';
import { DEFAULT_HEALTH_CHECK_INTERVAL_MS } from '../core/host-health.ts';
import { parseDnList, parseFailOpenAttributes, type FailOpenAttribute } from './failmode-keys.ts';
import { formatIniError, parseIni, type IniEntry, type IniSection } from './ini-parse.ts';
import { isIpAddress, parseIpRange, type IpMatcher } from './ip-ranges.ts';
import { closestWord } from './closest-word.ts';

// ---------------------------------------------------------------------------------------------
// Closed sets and defaults
// ---------------------------------------------------------------------------------------------

// The one closed set of failmodes lives with the failmode decision; re-exported for config users.
export { FAILMODES, type Failmode };

export const AUTO_FACTORS = ['auto', 'push', 'phone', 'passcode'] as const;
export type AutoFactor = (typeof AUTO_FACTORS)[number];

export const CHALLENGE_FACTORS = ['push', 'phone', 'passcode'] as const;
export type ChallengeFactor = (typeof CHALLENGE_FACTORS)[number];

export const AD_TRANSPORTS = ['clear', 'ldaps', 'starttls'] as const;
export type AdTransport = (typeof AD_TRANSPORTS)[number];

export const PROMPT_FORMATS = ['console', 'html', 'short'] as const;
export type PromptFormat = (typeof PROMPT_FORMATS)[number];

/** Section names Airlock reads; all but `main` may carry a number (`[ad_client2]`). */
export const SECTION_KINDS = [
  'main',
  'ad_client',
  'radius_client',
  'duo_only_client',
  'radius_server_auto',
  'radius_server_challenge',
] as const;
export type SectionKind = (typeof SECTION_KINDS)[number];

/** Every default of the proxy configuration, in one place. Units are in the names. */
export const DEFAULTS = deepFreeze({
  main: {
    debug: false,
    /** Relative paths resolve against the config file's directory (Duo: the install directory). */
    logDir: 'log',
    logMaxSizeBytes: 10_485_760,
    /** 0 = keep every file. */
    logMaxFiles: 6,
    /**
     * On, unlike Duo: the outage guide's rule is to *know* when failmode was invoked, and the auth
     * event log (one JSON line per decision, for the SIEM) is where that is written.
     */
    logAuthEvents: true,
    logStdout: false,
    testConnectivityOnStartup: false,
    /** The proxy's own status endpoint; loopback only unless the operator opens it. */
    adminListen: '127.0.0.1:9443',
    /** Primary-only mode state (survives restarts); beside `log` in the config directory. */
    stateDir: 'state',
  },
  adClient: {
    port: 389,
    ldapsPort: 636,
    transport: 'clear',
    /** The only bind Airlock does (Duo defaults to ntlm2). */
    authType: 'plain',
    usernameAttribute: 'sAMAccountName',
    atAttribute: 'userPrincipalName',
    sslVerifyHostname: true,
    timeoutSeconds: 10,
  },
  radiusClient: {
    port: 1812,
    retries: 3,
    retryWaitSeconds: 2,
    passThroughAll: false,
    /**
     * BlastRADIUS (CVE-2024-3596): an Access-Accept forged on the path to the upstream has a valid
     * Response Authenticator but no Message-Authenticator. FreeRADIUS before 3.2.5 (Debian 12's
     * 3.2.1) signs its replies only when configured to (docs/proxy-config.md); `false` warns.
     */
    requireMessageAuthenticator: true,
  },
  server: {
    apiPort: 443,
    /** Duo's 0 means "wait forever"; a proxy that waits forever holds every login hostage. */
    apiTimeoutSeconds: 10,
    /**
     * How long a login waits for the user to answer a push or call. Below common NAS timeouts
     * (30 s and more), so the proxy answers before the NAS gives up; never above the service's
     * push expiry (60 s).
     */
    pushTimeoutSeconds: 25,
    /** Fail closed (the outage guide: the safest option in every scenario). Duo: safe. */
    failmode: 'secure',
    port: 1812,
    /** Duo's default, all IPv4 interfaces: the VPN or NAS is normally on another host. */
    bindAddress: '0.0.0.0',
    clientIpAttr: 'Calling-Station-Id',
    passThroughAll: false,
    /** BlastRADIUS (CVE-2024-3596): Access-Requests must carry a Message-Authenticator. */
    requireMessageAuthenticator: true,
  },
  auto: {
    factors: ['auto'],
    allowConcat: true,
    delimiter: ',',
    delimitedPasswordLength: 0,
  },
  challenge: {
    promptFormat: 'console',
    enrollChallenge: true,
    /** The menu offers whichever of these the user has (Duo lists the user's factors). */
    factors: ['push', 'phone', 'passcode'],
    challengePush: false,
  },
  /**
   * The outage engine (docs/outage-engine.md): set in [main] for every server section, or per
   * section. From the circuit breaker's and the health monitor's own defaults.
   */
  resilience: {
    /** False = Duo's behaviour: every login pays the deadline of every API host during an outage. */
    breakerEnabled: true,
    breakerFailureThreshold: BREAKER_DEFAULTS.failureThreshold,
    breakerOpenSeconds: BREAKER_DEFAULTS.openMs / 1000,
    breakerMaxOpenSeconds: BREAKER_DEFAULTS.maxOpenMs / 1000,
    /** p95 above this: the host is degraded, and tried after the others. 0 = off. */
    degradedLatencyMs: BREAKER_DEFAULTS.degradedLatencyMs,
    /** `ping` + `check` of every API host; 0 = off. */
    healthCheckIntervalSeconds: DEFAULT_HEALTH_CHECK_INTERVAL_MS / 1000,
  },
} as const);

const API_TIMEOUT_MAX_SECONDS = 180;
/** Bounds of the outage-engine keys: wide, but a typo of a few zeros is still caught. */
const RESILIENCE_LIMITS = {
  breakerFailureThreshold: { min: 1, max: 100 },
  breakerOpenSeconds: { min: 1, max: 3_600 },
  breakerMaxOpenSeconds: { min: 1, max: 86_400 },
  degradedLatencyMs: { min: 0, max: 600_000 },
  healthCheckIntervalSeconds: { min: 0, max: 3_600 },
} as const;
/** RFC 2865 §3: the shared secret should be at least 16 octets. */
const RADIUS_SECRET_MIN_LENGTH = 16;

// ---------------------------------------------------------------------------------------------
// Output types
// ---------------------------------------------------------------------------------------------

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export interface MainConfig {
  readonly debug: boolean;
  /** Absolute. */
  readonly logDir: string;
  readonly logMaxSizeBytes: number;
  /** 0 = unlimited. */
  readonly logMaxFiles: number;
  readonly logAuthEvents: boolean;
  readonly logStdout: boolean;
  /** File logging: `log_file`, and always when no other sink (stdout) is on, as in Duo. */
  readonly logFile: boolean;
  readonly testConnectivityOnStartup: boolean;
  readonly adminListen: ListenAddress;
  /** Absolute; where primary-only mode state lives. */
  readonly stateDir: string;
  /** `alert_webhook_url_1`, `_2`, … in number order: http(s) URLs that receive JSON alerts. */
  readonly alertWebhookUrls: readonly string[];
  /** `alert_webhook_secret`: HMAC key of `X-Airlock-Signature`; '' = unsigned. */
  readonly alertWebhookSecret: string;
}

export interface AdClientConfig {
  readonly kind: 'ad';
  readonly section: string;
  /** `host` (or `host_1`), then `host_2`, `host_3`, … in number order. */
  readonly hosts: readonly string[];
  readonly port: number;
  readonly transport: AdTransport;
  readonly authType: 'plain';
  readonly serviceAccountUsername: string | undefined;
  readonly bindDn: string | undefined;
  /** The name the service account binds with: `bind_dn`, else `service_account_username`. */
  readonly serviceAccountBindName: string;
  readonly serviceAccountPassword: string;
  readonly serviceAccountPasswordFingerprint: string;
  readonly searchDn: string;
  readonly securityGroupDn: string | undefined;
  readonly usernameAttribute: string;
  readonly atAttribute: string;
  readonly ldapFilter: string | undefined;
  /** Absolute path; undefined = the system trust store. */
  readonly sslCaCertsFile: string | undefined;
  readonly sslCaPem: string | undefined;
  readonly sslVerifyHostname: boolean;
  readonly timeoutMs: number;
  /**
   * A server section using this client has `failmode_secure_groups` or `failmode_safe_groups`:
   * read each user's groups (a group search when the entry has no `memberOf`).
   */
  readonly fetchGroups: boolean;
}

export interface RadiusUpstream {
  readonly host: string;
  readonly port: number;
}

export interface RadiusClientConfig {
  readonly kind: 'radius';
  readonly section: string;
  readonly hosts: readonly RadiusUpstream[];
  readonly secret: string;
  readonly secretFingerprint: string;
  readonly retries: number;
  readonly retryWaitMs: number;
  readonly nasIp: string | undefined;
  readonly passThroughAttrNames: readonly string[];
  readonly passThroughAll: boolean;
  /** Require a Message-Authenticator in the upstream's replies. */
  readonly requireMessageAuthenticator: boolean;
}

export interface DuoOnlyClientConfig {
  readonly kind: 'duo-only';
  readonly section: string;
}

export type ClientConfig = AdClientConfig | RadiusClientConfig | DuoOnlyClientConfig;

/** One `radius_ip_N` / `radius_secret_N` pair: a NAS (or range of them) allowed to ask. */
export interface RadiusClientEntry {
  readonly index: number;
  readonly matcher: IpMatcher;
  readonly secret: string;
  readonly secretFingerprint: string;
}

/** One API host of a server section: `api_host`, then `api_host_2`, `api_host_3`, … */
export interface ApiHostConfig {
  /** Host name or IP (IPv6 without brackets), without the port. */
  readonly apiHost: string;
  readonly apiPort: number;
  /** `host` or `host:port` (port omitted when 443). */
  readonly apiAuthority: string;
}

/** The outage engine's settings for one server section, in milliseconds. */
export interface ResilienceConfig {
  /** False: no circuit breaker; every call tries every API host (Duo's behaviour). */
  readonly breakerEnabled: boolean;
  readonly breakerFailureThreshold: number;
  readonly breakerOpenMs: number;
  readonly breakerMaxOpenMs: number;
  /** 0 = latency never makes a host degraded. */
  readonly degradedLatencyMs: number;
  /** 0 = no health monitor. */
  readonly healthCheckIntervalMs: number;
}

interface ServerConfigBase {
  readonly section: string;
  /** The section named by `client=`. */
  readonly clientSection: string;
  /** The same object as `clients[clientSection]`. */
  readonly client: ClientConfig;
  readonly ikey: string;
  readonly skey: string;
  readonly skeyFingerprint: string;
  /** Host name or IP (IPv6 without brackets), without the port. */
  readonly apiHost: string;
  readonly apiPort: number;
  /** `host` or `host:port` (port omitted when 443): the Host header, and the host that is signed. */
  readonly apiAuthority: string;
  /** Every API host in failover order; the first is `apiHost`/`apiPort`/`apiAuthority`. */
  readonly apiHosts: readonly ApiHostConfig[];
  /** Circuit breaker and health monitor: the section's keys over [main]'s over the defaults. */
  readonly resilience: ResilienceConfig;
  readonly apiTimeoutMs: number;
  /** `push_timeout`: the longest wait for a push or phone answer. */
  readonly pushTimeoutMs: number;
  /** Absolute path; undefined = the system trust store. */
  readonly apiCaFile: string | undefined;
  readonly apiCaPem: string | undefined;
  readonly failmode: Failmode;
  /** False when the section has no `failmode` and the default (secure) applies. */
  readonly failmodeExplicit: boolean;
  /** `failmode_secure_groups` (failmode=safe only): group DNs as written; members fail secure. */
  readonly failmodeSecureGroups: readonly string[];
  /** `failmode_safe_groups` (failmode=secure only): group DNs as written; members fail safe. */
  readonly failmodeSafeGroups: readonly string[];
  /** `fail_open_attributes`: added to every Access-Accept given without a second factor. */
  readonly failOpenAttributes: readonly FailOpenAttribute[];
  /** `interface` (or `[main] interface`). */
  readonly bindAddress: string;
  /** 0 = an ephemeral port (tests). */
  readonly port: number;
  readonly radiusClients: readonly RadiusClientEntry[];
  readonly exemptUsernames: readonly string[];
  readonly passThroughAttrNames: readonly string[];
  readonly passThroughAll: boolean;
  readonly clientIpAttr: string;
  readonly requireMessageAuthenticator: boolean;
  readonly debug: boolean;
}

export interface AutoServerConfig extends ServerConfigBase {
  readonly kind: 'auto';
  readonly factors: readonly AutoFactor[];
  readonly allowConcat: boolean;
  readonly delimiter: string;
  readonly delimitedPasswordLength: number;
}

export interface ChallengeServerConfig extends ServerConfigBase {
  readonly kind: 'challenge';
  readonly promptFormat: PromptFormat;
  readonly enrollChallenge: boolean;
  readonly factors: readonly ChallengeFactor[];
  /**
   * `challenge_push`: send a push together with the challenge; the user approves it on the
   * device and presses Enter (or types a passcode instead).
   */
  readonly challengePush: boolean;
}

export type ServerConfig = AutoServerConfig | ChallengeServerConfig;

export interface AuthProxyConfig {
  readonly main: MainConfig;
  /** Keyed by section name (`ad_client`, `radius_client2`, …). */
  readonly clients: Readonly<Record<string, ClientConfig>>;
  /** In file order. */
  readonly servers: readonly ServerConfig[];
  /** To print at start-up; never contain a secret. */
  readonly warnings: readonly string[];
}

export interface ParseAuthProxyConfigOptions {
  /** Directory relative paths (log_dir, state_dir, api_ca_file, ssl_ca_certs_file) resolve against. */
  configDir: string;
  /** Reads a CA file (UTF-8); may throw. */
  readFile: (path: string) => string;
}

export type ParseAuthProxyConfigResult =
  | { readonly ok: true; readonly config: AuthProxyConfig }
  | {
      readonly ok: false;
      readonly errors: readonly string[];
      readonly warnings: readonly string[];
    };

/** Thrown by `loadAuthProxyConfig`; `errors` holds every problem found, each naming its place. */
export class ConfigError extends AirlockError {
  readonly errors: readonly string[];
  readonly warnings: readonly string[];

  constructor(source: string, errors: readonly string[], warnings: readonly string[] = []) {
    const count = errors.length === 1 ? '1 error' : `${errors.length} errors`;
    super('CONFIG_INVALID', source, {
      message: `${source}: ${count}\n${errors.map((e) => `  ${e}`).join('\n')}`,
    });
    this.name = 'ConfigError';
    this.errors = Object.freeze([...errors]);
    this.warnings = Object.freeze([...warnings]);
  }
}

/** A short, stable name for a secret, for logs: the first 8 hex digits of its SHA-256. */
export function fingerprintSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 8);
}

// ---------------------------------------------------------------------------------------------
// Schema: which keys each section kind has
// ---------------------------------------------------------------------------------------------

interface SectionSchema {
  /** Supported keys. */
  readonly keys: readonly string[];
  /** Supported numbered keys by prefix: `radius_ip_` accepts radius_ip_1, radius_ip_2, … */
  readonly numbered: readonly string[];
  /** Duo keys accepted with a start-up warning ("not supported by Airlock, ignored (hint)"). */
  readonly ignored: Readonly<Record<string, string>>;
  /** Duo keys refused with a specific message; a key ending in `_` also refuses `<key>N`. */
  readonly refused: Readonly<Record<string, string>>;
}

const NOT_SUPPORTED = 'not supported by Airlock, ignored';

/** The outage engine's keys: in [main] (defaults of every server section) and in server sections. */
const RESILIENCE_KEYS = [
  'breaker_enabled',
  'breaker_failure_threshold',
  'breaker_open_seconds',
  'breaker_max_open_seconds',
  'degraded_latency_ms',
  'health_check_interval',
] as const;
const DIRECT = 'Airlock connects to api_host directly';
/** Per-group failmode keys of a server section (docs/proxy.md, Per-group failmode). */
const GROUP_FAILMODE_KEYS = ['failmode_secure_groups', 'failmode_safe_groups'] as const;

const SERVER_SCHEMA: SectionSchema = {
  keys: [
    'ikey',
    'skey',
    'api_host',
    'api_port',
    'api_timeout',
    'push_timeout',
    'api_ca_file',
    'client',
    'failmode',
    ...GROUP_FAILMODE_KEYS,
    'fail_open_attributes',
    'port',
    'interface',
    'pass_through_attr_names',
    'pass_through_all',
    'client_ip_attr',
    'require_message_authenticator',
    'pw_codec',
    'debug',
    ...RESILIENCE_KEYS,
  ],
  numbered: ['radius_ip_', 'radius_secret_', 'exempt_username_', 'api_host_'],
  ignored: {
    http_proxy_host: DIRECT,
    http_proxy_port: DIRECT,
    http_ca_certs_file: 'use api_ca_file',
  },
  refused: {
    skey_protected: 'not supported, use skey',
    radius_secret_protected_: 'not supported, use radius_secret_N',
  },
};

const SCHEMAS: Readonly<Record<SectionKind, SectionSchema>> = {
  main: {
    keys: [
      'debug',
      'log_dir',
      'log_max_size',
      'log_max_files',
      'log_auth_events',
      'log_stdout',
      'log_file',
      'test_connectivity_on_startup',
      'interface',
      'admin_listen',
      'state_dir',
      'alert_webhook_secret',
      ...RESILIENCE_KEYS,
    ],
    numbered: ['alert_webhook_url_'],
    ignored: {
      log_syslog: 'set log_stdout=true and let the service manager forward it',
      syslog_facility: '',
      log_sso_events: 'Airlock has no SSO connector',
      fips_mode: '',
      http_proxy_host: DIRECT,
      http_proxy_port: DIRECT,
      http_ca_certs_file: 'set api_ca_file in each server section',
      client: 'set client= in each server section',
      server: '',
    },
    refused: {},
  },
  ad_client: {
    keys: [
      'host',
      'port',
      'service_account_username',
      'service_account_password',
      'search_dn',
      'security_group_dn',
      'bind_dn',
      'username_attribute',
      'at_attribute',
      'auth_type',
      'transport',
      'ssl_ca_certs_file',
      'ssl_verify_hostname',
      'ldap_filter',
      'timeout',
    ],
    numbered: ['host_'],
    ignored: {
      ntlm_domain: 'Airlock does LDAP simple binds only',
      ntlm_workstation: 'Airlock does LDAP simple binds only',
      domain_discovery: '',
      debug: 'set debug in [main]',
    },
    refused: { service_account_password_protected: 'not supported, use service_account_password' },
  },
  radius_client: {
    keys: [
      'host',
      'port',
      'secret',
      'retries',
      'retry_wait',
      'nas_ip',
      'pass_through_attr_names',
      'pass_through_all',
      'require_message_authenticator',
      'pw_codec',
    ],
    numbered: ['host_', 'port_'],
    ignored: { debug: 'set debug in [main]' },
    refused: { secret_protected: 'not supported, use secret' },
  },
  duo_only_client: { keys: [], numbered: [], ignored: {}, refused: {} },
  radius_server_auto: {
    ...SERVER_SCHEMA,
    keys: [
      ...SERVER_SCHEMA.keys,
      'factors',
      'allow_concat',
      'concat_mode',
      'delimiter',
      'delimited_password_length',
    ],
  },
  radius_server_challenge: {
    ...SERVER_SCHEMA,
    keys: [...SERVER_SCHEMA.keys, 'prompt_format', 'enroll_challenge', 'factors', 'challenge_push'],
  },
};

/** Duo section names Airlock knows but does not implement. */
const DUO_ONLY_SECTIONS: Readonly<Record<string, string>> = {
  radius_server_iframe: 'the iframe (web portal) RADIUS mode is not implemented',
  radius_server_concat: 'use [radius_server_auto] (allow_concat is on by default)',
  radius_server_duo_only: 'use [radius_server_auto] with client=duo_only_client',
  radius_server_eap: 'EAP is not implemented',
  ldap_server_auto: 'the LDAP server is not implemented yet',
  cloud: 'the SSO/directory-sync connector is not part of Airlock',
  http_proxy: 'the HTTP proxy is not part of Airlock',
};

const CLIENT_KINDS: readonly SectionKind[] = ['ad_client', 'radius_client', 'duo_only_client'];
const SERVER_KINDS: readonly SectionKind[] = ['radius_server_auto', 'radius_server_challenge'];

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
  const errors: string[] = [];
  const warnings: string[] = [];
  const doc = parseIni(text);
  errors.push(...doc.errors.map(formatIniError));
  const ctx: Context = { options, errors, warnings };

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
      'no server section: add [radius_server_auto] or [radius_server_challenge] (see docs/proxy-config.md)',
    );
  }
  checkBindConflicts(servers, errors);
  for (const name of Object.keys(clients)) {
    if (!servers.some((s) => s.clientSection === name) && errors.length === 0) {
      warnings.push(`[${name}] is not used by any server section`);
    }
  }

  if (errors.length > 0) {
    return { ok: false, errors: Object.freeze(errors), warnings: Object.freeze(warnings) };
  }
  return { ok: true, config: deepFreeze({ main, clients, servers, warnings }) };
}

/**
 * Reads and validates the file at `path`: the only function here that touches the disk. Relative
 * paths inside resolve against the file's directory. Throws `ConfigError` listing every problem.
 */
export function loadAuthProxyConfig(path: string): AuthProxyConfig {
  const absolute = resolve(path);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (err) {
    throw new ConfigError(absolute, [`cannot read the file (${errorCode(err)})`]);
  }
  const result = parseAuthProxyConfig(text, {
    configDir: dirname(absolute),
    readFile: (p) => readFileSync(p, 'utf8'),
  });
  if (!result.ok) throw new ConfigError(absolute, result.errors, result.warnings);
  return result.config;
}

// ---------------------------------------------------------------------------------------------
// Sections
// ---------------------------------------------------------------------------------------------

interface Context {
  readonly options: ParseAuthProxyConfigOptions;
  readonly errors: string[];
  readonly warnings: string[];
}

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
  const adminListen = parseListenAddress(adminListenText);
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
  };
  return { main, defaultBindAddress: r.ipAddress('interface') };
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

function readAdClient(r: SectionReader, ctx: Context, fetchGroups: boolean): AdClientConfig {
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
    const remote = hosts.filter((h) => !isLoopback(h));
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
  const radiusClients = readRadiusIps(r);
  checkPwCodec(r);
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
    failOpenAttributes: readFailOpenAttributes(r),
    bindAddress: r.ipAddress('interface') ?? defaults.bindAddress ?? d.bindAddress,
    port: r.port('port', d.port, { allowZero: true }),
    radiusClients,
    exemptUsernames: r.numbered('exempt_username_').flatMap(({ n, value }) => {
      if (value !== '') return [value];
      r.error(`exempt_username_${n}`, 'must not be empty');
      return [];
    }),
    passThroughAttrNames: r.list('pass_through_attr_names'),
    passThroughAll: r.bool('pass_through_all', d.passThroughAll),
    clientIpAttr: r.string('client_ip_attr') ?? d.clientIpAttr,
    requireMessageAuthenticator: r.bool(
      'require_message_authenticator',
      d.requireMessageAuthenticator,
    ),
    debug: r.bool('debug', defaults.debug),
  };
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

function readApiHost(r: SectionReader): {
  host: string;
  port: number;
  /** `api_port`, when set: the port of every `api_host_N` written without one. */
  explicitPort: number | undefined;
} {
  const d = DEFAULTS.server;
  const text = r.string('api_host', { required: true });
  const explicitPort = r.has('api_port') ? r.port('api_port', d.apiPort) : undefined;
  if (text === undefined) return { host: '', port: explicitPort ?? d.apiPort, explicitPort };
  const parsed = parseApiHostText(r, 'api_host', text);
  if (parsed === undefined) return { host: '', port: d.apiPort, explicitPort };
  const { host, port: inlinePort } = parsed;
  if (inlinePort !== undefined && explicitPort !== undefined && inlinePort !== explicitPort) {
    r.error('api_port', `${explicitPort} conflicts with the port in api_host (${inlinePort})`);
  }
  return { host, port: inlinePort ?? explicitPort ?? d.apiPort, explicitPort };
}

/**
 * `api_host` first, then `api_host_2`, `api_host_3`, … in number order (gaps allowed). Each may
 * carry its own `:port`; without one it takes `api_port` (else 443).
 */
function readApiHosts(
  r: SectionReader,
  first: { host: string; port: number; explicitPort: number | undefined },
): ApiHostConfig[] {
  const hosts: ApiHostConfig[] =
    first.host === ''
      ? []
      : [
          {
            apiHost: first.host,
            apiPort: first.port,
            apiAuthority: authority(first.host, first.port),
          },
        ];
  const defaultPort = first.explicitPort ?? DEFAULTS.server.apiPort;
  /** The key each entry of `hosts` came from. */
  const keys = hosts.map(() => 'api_host');
  for (const { n, value } of r.numbered('api_host_')) {
    const key = `api_host_${n}`;
    if (n === 1) {
      r.error(
        key,
        'is api_host itself: set api_host, and number the failover hosts from api_host_2',
      );
      continue;
    }
    const parsed = parseApiHostText(r, key, value);
    if (parsed === undefined) continue;
    const port = parsed.port ?? defaultPort;
    const apiAuthority = authority(parsed.host, port);
    const same = hosts.findIndex(
      (h) => h.apiHost.toLowerCase() === parsed.host.toLowerCase() && h.apiPort === port,
    );
    if (same >= 0) {
      r.error(key, `${apiAuthority} is already listed as ${keys[same]}; list each API host once`);
      continue;
    }
    hosts.push({ apiHost: parsed.host, apiPort: port, apiAuthority });
    keys.push(key);
  }
  return hosts;
}

/** `host`, `host:port`, `[v6]`, `[v6]:port`, or a bare IPv6 address (no port); errors name `key`. */
function parseApiHostText(
  r: SectionReader,
  key: string,
  text: string,
): { host: string; port: number | undefined } | undefined {
  if (text === '') {
    r.error(key, 'must not be empty');
    return undefined;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    r.error(key, `write the host name only, without ${quote(text.split('//')[0] + '//')}`);
    return undefined;
  }
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]/]+))(?::(\d{1,5}))?$/.exec(text);
  const host = isIpAddress(text) ? text : (m?.[1] ?? m?.[2]);
  if (host === undefined || !(isHostName(host) || isIpAddress(host))) {
    r.error(key, `must be a host name or IP address, optionally with :port, got ${quote(text)}`);
    return undefined;
  }
  const port = isIpAddress(text) || m?.[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && !(port >= 1 && port <= 65_535)) {
    r.error(key, `port must be 1-65535, got ${port}`);
    return undefined;
  }
  return { host, port };
}

function defaultResilienceConfig(): ResilienceConfig {
  const d = DEFAULTS.resilience;
  return {
    breakerEnabled: d.breakerEnabled,
    breakerFailureThreshold: d.breakerFailureThreshold,
    breakerOpenMs: d.breakerOpenSeconds * 1000,
    breakerMaxOpenMs: d.breakerMaxOpenSeconds * 1000,
    degradedLatencyMs: d.degradedLatencyMs,
    healthCheckIntervalMs: d.healthCheckIntervalSeconds * 1000,
  };
}

/** The outage-engine keys of one section ([main] or a server section) over `fallback`. */
function readResilience(r: SectionReader, fallback: ResilienceConfig): ResilienceConfig {
  const L = RESILIENCE_LIMITS;
  const breakerEnabled = r.bool('breaker_enabled', fallback.breakerEnabled);
  if (r.has('breaker_enabled') && !breakerEnabled) {
    r.warn(
      'breaker_enabled',
      "false, so during an outage every login waits api_timeout for each API host (Duo's behaviour)",
    );
  }
  const openSeconds = r.int(
    'breaker_open_seconds',
    fallback.breakerOpenMs / 1000,
    L.breakerOpenSeconds,
  );
  const maxOpenSeconds = r.int(
    'breaker_max_open_seconds',
    fallback.breakerMaxOpenMs / 1000,
    L.breakerMaxOpenSeconds,
  );
  if (maxOpenSeconds < openSeconds) {
    // Name the key this section set; the other value may come from [main] or the defaults.
    if (r.has('breaker_max_open_seconds')) {
      r.error(
        'breaker_max_open_seconds',
        `must be at least breaker_open_seconds (${openSeconds}), got ${maxOpenSeconds}`,
      );
    } else {
      r.error(
        'breaker_open_seconds',
        `${openSeconds} is longer than breaker_max_open_seconds (${maxOpenSeconds}); raise that too`,
      );
    }
  }
  return {
    breakerEnabled,
    breakerFailureThreshold: r.int(
      'breaker_failure_threshold',
      fallback.breakerFailureThreshold,
      L.breakerFailureThreshold,
    ),
    breakerOpenMs: openSeconds * 1000,
    breakerMaxOpenMs: Math.max(maxOpenSeconds, openSeconds) * 1000,
    degradedLatencyMs: r.int(
      'degraded_latency_ms',
      fallback.degradedLatencyMs,
      L.degradedLatencyMs,
    ),
    healthCheckIntervalMs:
      r.int(
        'health_check_interval',
        fallback.healthCheckIntervalMs / 1000,
        L.healthCheckIntervalSeconds,
      ) * 1000,
  };
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

function readPem(r: SectionReader, key: string, path: string): string | undefined {
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

// ---------------------------------------------------------------------------------------------
// Reading one section
// ---------------------------------------------------------------------------------------------

interface StringOptions {
  required?: boolean;
  /** Return "" for an empty value instead of treating it as unset. */
  allowEmpty?: boolean;
}

interface IntOptions {
  min?: number;
  max?: number;
  /** Message for a value below `min`, instead of the generic range message. */
  belowMin?: string;
}

/** Typed access to one section's keys; records errors and warnings in the shared context. */
class SectionReader {
  readonly #section: IniSection;
  readonly #schema: SectionSchema;
  readonly #ctx: Context;
  readonly #entries: ReadonlyMap<string, IniEntry>;
  /** Flushed to the context, in line order, by `finish`. */
  readonly #errors: Array<{ line: number; text: string }> = [];

  constructor(section: IniSection, schema: SectionSchema, ctx: Context) {
    this.#section = section;
    this.#schema = schema;
    this.#ctx = ctx;
    this.#entries = new Map(section.entries.map((e) => [e.key, e]));
  }

  get name(): string {
    return this.#section.name;
  }

  has(key: string): boolean {
    return this.#entry(key) !== undefined;
  }

  readFile(path: string): string {
    return this.#ctx.options.readFile(path);
  }

  error(key: string, message: string): void {
    const line = this.#entries.get(key)?.line;
    this.#errors.push({
      line: line ?? 0,
      text: `[${this.name}] ${key}: ${message}${line ? ` (line ${line})` : ''}`,
    });
  }

  warn(key: string, message: string): void {
    this.#ctx.warnings.push(`[${this.name}] ${key}: ${message}`);
  }

  /** Trimmed value; an empty value counts as unset unless `allowEmpty`. */
  string(key: string, options: StringOptions = {}): string | undefined {
    const entry = this.#entry(key);
    const value = entry?.value;
    if (value === undefined || (value === '' && !options.allowEmpty)) {
      if (options.required) this.error(key, entry ? 'must not be empty' : 'required');
      return undefined;
    }
    return value;
  }

  /** Like `string`, but no message ever shows the value. */
  secret(key: string, options: StringOptions = {}): { value: string; fingerprint: string } {
    const value = this.string(key, options) ?? '';
    return { value, fingerprint: value === '' ? '' : fingerprintSecret(value) };
  }

  /** ConfigParser's booleans: true/false, yes/no, on/off, 1/0, any case. */
  bool(key: string, fallback: boolean): boolean {
    const value = this.string(key, { allowEmpty: true });
    if (value === undefined) return fallback;
    const lower = value.toLowerCase();
    if (['true', 'yes', 'on', '1'].includes(lower)) return true;
    if (['false', 'no', 'off', '0'].includes(lower)) return false;
    this.error(key, `must be true or false (or yes/no, on/off, 1/0), got ${quote(value)}`);
    return fallback;
  }

  /** A decimal integer, nothing else (no units, no exponent, no hex). */
  int(key: string, fallback: number, options: IntOptions = {}): number {
    const value = this.string(key, { allowEmpty: true });
    if (value === undefined) return fallback;
    const n = /^-?\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n)) {
      this.error(key, `must be an integer, got ${quote(value)}`);
      return fallback;
    }
    const { min = -Infinity, max = Infinity } = options;
    if (n < min && options.belowMin) {
      this.error(key, `${options.belowMin}, got ${n}`);
      return fallback;
    }
    if (n < min || n > max) {
      const range = max === Infinity ? `at least ${min}` : `${min}-${max}`;
      this.error(key, `must be ${range}, got ${n}`);
      return fallback;
    }
    return n;
  }

  port(key: string, fallback: number, options: { allowZero?: boolean } = {}): number {
    return this.int(key, fallback, { min: options.allowZero ? 0 : 1, max: 65_535 });
  }

  /** One of `values`, case-insensitive. */
  oneOf<T extends string>(key: string, values: readonly T[], fallback: T): T {
    const value = this.string(key, { allowEmpty: true });
    if (value === undefined) return fallback;
    const lower = value.toLowerCase();
    if (isOneOf(lower, values)) return lower;
    this.error(key, `must be ${orList(values)}, got ${quote(value)}`);
    return fallback;
  }

  /** A single IPv4 or IPv6 address. */
  ipAddress(key: string): string | undefined {
    const value = this.string(key);
    if (value === undefined) return undefined;
    if (isIpAddress(value)) return value;
    this.error(key, `must be an IP address, got ${quote(value)}`);
    return undefined;
  }

  /** Comma-separated; items trimmed, empty items dropped. */
  list(key: string): string[] {
    const value = this.string(key) ?? '';
    return value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }

  /** An ordered, duplicate-free list drawn from `values` (case-insensitive). */
  factorList<T extends string>(key: string, values: readonly T[], fallback: readonly T[]): T[] {
    if (!this.has(key)) return [...fallback];
    const items = this.list(key).map((s) => s.toLowerCase());
    if (items.length === 0) {
      this.error(key, `must list at least one of ${values.join(', ')}`);
      return [...fallback];
    }
    const bad = items.filter((i) => !isOneOf(i, values));
    const dupes = items.filter((item, i) => items.indexOf(item) !== i);
    if (bad.length > 0) {
      this.error(key, `${bad.map(quote).join(', ')} not allowed: choose from ${values.join(', ')}`);
      return [...fallback];
    }
    if (dupes.length > 0) {
      this.error(key, `lists ${dupes.map(quote).join(', ')} more than once`);
      return [...fallback];
    }
    return items as T[];
  }

  /** Keys `<prefix>N` (N = 1, 2, …) in number order. */
  numbered(prefix: string): Array<{ n: number; value: string }> {
    this.#assertKnown(prefix, true);
    const out: Array<{ n: number; value: string }> = [];
    for (const e of this.#section.entries) {
      if (!e.key.startsWith(prefix)) continue;
      const digits = e.key.slice(prefix.length);
      if (/^[1-9]\d*$/.test(digits)) out.push({ n: Number(digits), value: e.value });
    }
    return out.sort((a, b) => a.n - b.n);
  }

  /** Reports every key the schema does not support: ignored (warning), refused, unknown. */
  finish(): void {
    for (const entry of this.#section.entries) {
      const { key } = entry;
      if (this.#schema.keys.includes(key) || this.#isNumbered(key)) continue;
      const ignored = this.#schema.ignored[key];
      if (ignored !== undefined) {
        this.warn(key, ignored === '' ? NOT_SUPPORTED : `${NOT_SUPPORTED} (${ignored})`);
        continue;
      }
      const refused = Object.entries(this.#schema.refused).find(([k]) =>
        k.endsWith('_') ? key.startsWith(k) && /^\d+$/.test(key.slice(k.length)) : key === k,
      );
      if (refused) {
        this.error(key, refused[1]);
        continue;
      }
      this.#unknownKey(entry);
    }
    // Missing keys first, then in file order, so the list reads from the top of the section down.
    this.#errors.sort((a, b) => a.line - b.line);
    this.#ctx.errors.push(...this.#errors.map((e) => e.text));
    this.#errors.length = 0;
  }

  #unknownKey(entry: IniEntry): void {
    const { key } = entry;
    const probe = key.split(/\s/)[0] ?? '';
    const numberSuffix = /_([1-9]\d*)$/.exec(probe)?.[1] ?? '1';
    const candidates = [
      ...this.#schema.keys,
      ...this.#schema.numbered.map((p) => p + numberSuffix),
    ];
    const guess = closestWord(probe, candidates);
    const elsewhere = kindsWithKey(key);
    const hint = guess
      ? `; did you mean ${guess}?`
      : elsewhere.length > 0
        ? `; it belongs in ${elsewhere.map((k) => `[${k}]`).join(' or ')}`
        : '';
    // A stray line such as `<secret>: x` or `<secret> = x` parses as a key: echo a key only when
    // it is a typo of a key, a key of another section, or at least shaped like a key name.
    const shown =
      !/\s/.test(key) &&
      (guess !== undefined ||
        elsewhere.length > 0 ||
        /^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$/.test(key)) &&
      key.length <= 40;
    this.#errors.push({
      line: entry.line,
      text: shown
        ? `[${this.name}] ${key}: unknown key${hint} (line ${entry.line})`
        : `[${this.name}] unknown key (not shown: it does not look like a key name and may be a secret)${hint} (line ${entry.line})`,
    });
  }

  #isNumbered(key: string): boolean {
    return this.#schema.numbered.some(
      (p) => key.startsWith(p) && /^[1-9]\d*$/.test(key.slice(p.length)),
    );
  }

  #entry(key: string): IniEntry | undefined {
    this.#assertKnown(key, false);
    return this.#entries.get(key);
  }

  /** Reading a key the schema does not list is a bug here, not in the file. */
  #assertKnown(key: string, prefix: boolean): void {
    const ok = prefix
      ? this.#schema.numbered.includes(key)
      : this.#schema.keys.includes(key) || this.#isNumbered(key);
    if (!ok) throw new Error(`authproxy schema: ${key} is not a key of [${this.name}]`);
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

function emptySection(name: string): IniSection {
  return { name, line: 0, entries: [] };
}

function kindsWithKey(key: string): SectionKind[] {
  return SECTION_KINDS.filter((k) => {
    const s = SCHEMAS[k];
    return (
      s.keys.includes(key) ||
      s.numbered.some((p) => key.startsWith(p) && /^[1-9]\d*$/.test(key.slice(p.length)))
    );
  });
}

function isOneOf<T extends string>(value: string, values: readonly T[]): value is T {
  return (values as readonly string[]).includes(value);
}

function orList(values: readonly string[]): string {
  return values.length <= 1
    ? (values[0] ?? '')
    : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
}

/** A non-secret value for a message: JSON-quoted (newlines visible), cut at 64 characters. */
function quote(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
}

function isHostName(text: string): boolean {
  return (
    text.length <= 253 &&
    /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/.test(
      text,
    )
  );
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function authority(host: string, port: number): string {
  const shown = host.includes(':') ? `[${host}]` : host;
  return port === 443 ? shown : `${shown}:${port}`;
}

function parseListenAddress(text: string): ListenAddress | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (host === undefined || !(port >= 0 && port <= 65_535)) return undefined;
  if (!isIpAddress(host) && !isHostName(host)) return undefined;
  return { host, port };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
