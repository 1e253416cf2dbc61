// authproxy.cfg's model: closed sets, defaults and limits, the parsed config's types, ConfigError.
import { BREAKER_DEFAULTS } from '../core/circuit-breaker.ts';
import { AirlockError } from '../core/error-registry.ts';
import { FAILMODES, type Failmode } from '../core/failmode-decision.ts';
import { DEFAULT_HEALTH_CHECK_INTERVAL_MS } from '../core/host-health.ts';
import { matchesIp, type IpMatcher } from '../core/ip-ranges.ts';
import { type FailOpenAttribute } from './failmode-keys.ts';
import { type ListenAddress } from './listen-address.ts';

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

import type { SyslogConfig } from './syslog-config.ts';

export const PROMPT_FORMATS = ['console', 'html', 'short'] as const;

/** An LDAP bind cannot carry a challenge, so `passcode` is typed appended to the password. */
export const LDAP_FACTORS = ['auto', 'push', 'phone'] as const;
export type LdapFactor = (typeof LDAP_FACTORS)[number];
export type PromptFormat = (typeof PROMPT_FORMATS)[number];

/** Section names Airlock reads; all but `main` may carry a number (`[ad_client2]`). */
export const SECTION_KINDS = [
  'main',
  'ad_client',
  'radius_client',
  'duo_only_client',
  'radius_server_auto',
  'radius_server_challenge',
  'ldap_server_auto',
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
    /**
     * Health reports to the service's status page; 0 = off (the proxy may front Duo's cloud,
     * which has no such endpoint). 30 is a good value: below the page's default silence (90 s).
     */
    statusReportIntervalSeconds: 0,
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
    /** Airlock: how long a username's DN is remembered for the next login's early bind. */
    dnCacheSeconds: 600,
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
    /** Duo's service does not know `login_key`: sent only where the admin says Airlock answers. */
    sendLoginKey: false,
    /** Nor `push_timeout`. */
    sendPushTimeout: false,
    /** Duo's service has no `/auth/v2/preauth_auth`: two calls unless the admin says Airlock answers. */
    apiPreauthAuth: false,
    /**
     * The RADIUS socket's receive buffer. A queued Access-Request costs the kernel about 1 KiB
     * (the datagram and its buffer head), so 4 MiB holds a burst of about 4,000 requests; the
     * kernel's default (208 KiB) loses everything past about 200 until the NASes retransmit.
     */
    recvBufferBytes: 4 * 1024 * 1024,
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
  /** `[ldap_server_auto]` (docs/proxy.md, LDAP): Duo's defaults but for failmode (secure). */
  ldap: {
    port: 389,
    sslPort: 636,
    factors: ['auto'],
    allowConcat: true,
    delimiter: ',',
    exemptPrimaryBind: true,
    allowUnlimitedBinds: false,
    allowSearchesAfterBind: true,
    /** Longest wait for the rest of a message that has begun, and for the directory's bind answer. */
    networkTimeoutSeconds: 600,
    /** A client connection with no message either way for this long is closed. */
    idleTimeoutSeconds: 3600,
    /** The largest LDAP message a client may send; longer ones close the connection unread. */
    maxMessageBytes: 1024 * 1024,
    /** Client connections at once (each holds a directory connection); more are refused. */
    maxConnections: 1000,
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

export const API_TIMEOUT_MAX_SECONDS = 180;
/** Bounds of the outage-engine keys: wide, but a typo of a few zeros is still caught. */
export const RESILIENCE_LIMITS = {
  breakerFailureThreshold: { min: 1, max: 100 },
  breakerOpenSeconds: { min: 1, max: 3_600 },
  breakerMaxOpenSeconds: { min: 1, max: 86_400 },
  degradedLatencyMs: { min: 0, max: 600_000 },
  healthCheckIntervalSeconds: { min: 0, max: 3_600 },
} as const;
/** RFC 2865 §3: the shared secret should be at least 16 octets. */
export const RADIUS_SECRET_MIN_LENGTH = 16;

// ---------------------------------------------------------------------------------------------
// Output types
// ---------------------------------------------------------------------------------------------

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
  /** `syslog_target` and friends: authevents.log records as RFC 5424 syslog; undefined = off. */
  readonly syslog: SyslogConfig | undefined;
  /** `status_report_interval` in ms: health reports to the service's status page; 0 = off. */
  readonly statusReportIntervalMs: number;
  /** `status_name`: this proxy's component on the status page; undefined = the host name. */
  readonly statusName: string | undefined;
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
  /** `dn_cache_seconds`: a found DN is remembered this long for the next login's early bind; 0 = off. */
  readonly dnCacheMs: number;
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

/** The `radius_ip_N` entry a NAS at `address` is (the first that matches), with its secret. */
export function radiusClientFor(
  clients: readonly RadiusClientEntry[],
  address: string,
): RadiusClientEntry | undefined {
  return clients.find((c) => matchesIp(c.matcher, address));
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

export interface ServerConfigBase {
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
  /** `recv_buffer_bytes`: the receive buffer asked for (the kernel may grant less: rmem_max). */
  readonly recvBufferBytes: number;
  /** `send_login_key`: send each push login's key, so a proxy pair sends one push per login. */
  readonly sendLoginKey: boolean;
  /** `send_push_timeout`: send push_timeout with each push, so it expires when the proxy stops waiting. */
  readonly sendPushTimeout: boolean;
  /**
   * `api_preauth_auth`: the service is Airlock's, so a login with a typed passcode makes one call
   * (`/auth/v2/preauth_auth`) instead of preauth then /auth.
   */
  readonly apiPreauthAuth: boolean;
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

/**
 * `[ldap_server_auto]`: an LDAP server in front of the directory of its `[ad_client]`; binds get
 * the second factor. The RADIUS-only fields of `ServerConfigBase` are empty.
 */
export interface LdapServerConfig extends ServerConfigBase {
  readonly kind: 'ldap';
  readonly client: AdClientConfig;
  readonly factors: readonly LdapFactor[];
  readonly allowConcat: boolean;
  readonly delimiter: string;
  /** Always 0: the split is at the delimiter. */
  readonly delimitedPasswordLength: number;
  /** The first successful bind of a connection (the application's service account) skips 2FA. */
  readonly exemptPrimaryBind: boolean;
  /** `exempt_ou_N`: binds with a DN under one of these skip 2FA (DNs as written). */
  readonly exemptOus: readonly string[];
  /** The attribute of the bind DN's entry that names the user to the service. */
  readonly usernameAttribute: string;
  readonly allowUnlimitedBinds: boolean;
  readonly allowSearchesAfterBind: boolean;
  /** `ldap_client_ip_N`: who may connect; empty = anyone. */
  readonly ldapClients: readonly IpMatcher[];
  /** Absolute paths of the certificate and key for StartTLS and LDAPS towards clients. */
  readonly sslCertPath: string | undefined;
  readonly sslKeyPath: string | undefined;
  readonly sslCertPem: string | undefined;
  readonly sslKeyPem: string | undefined;
  /** The LDAPS port; undefined without a certificate (0 = an ephemeral port). */
  readonly sslPort: number | undefined;
  readonly networkTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxMessageBytes: number;
  /** `max_connections`: client connections at once; a connection beyond is closed at once. */
  readonly maxConnections: number;
}

export type ServerConfig = AutoServerConfig | ChallengeServerConfig | LdapServerConfig;

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

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
