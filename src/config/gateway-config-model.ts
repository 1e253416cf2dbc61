// gateway.cfg's model: closed sets, defaults, the parsed config's types (docs/gateway.md).
import { isOneOf } from '../core/closed-set.ts';
import type { Failmode } from '../core/failmode-decision.ts';
import type { IpMatcher } from '../core/ip-ranges.ts';
import type { AdClientConfig, ApiHostConfig, ResilienceConfig } from './authproxy-config-model.ts';
import { deepFreeze } from './authproxy-config-model.ts';
import type { ListenAddress } from './listen-address.ts';
import type { SyslogConfig } from './syslog-config.ts';

/** Section kinds of gateway.cfg; `app` is written `[app:NAME]`. */
export const GATEWAY_SECTION_KINDS = [
  'main',
  'gateway',
  'ad_client',
  'service',
  'app',
  'oidc',
  'oidc_client',
] as const;
export type GatewaySectionKind = (typeof GATEWAY_SECTION_KINDS)[number];

/**
 * What an application asks of a session (its restriction level): both factors, the directory
 * password alone, nothing (public), or nobody at all.
 */
export const APP_RESTRICTIONS = ['two_factor', 'one_factor', 'bypass', 'deny'] as const;
export type AppRestriction = (typeof APP_RESTRICTIONS)[number];
export const isAppRestriction = (v: unknown): v is AppRestriction => isOneOf(APP_RESTRICTIONS, v);

/** The shortest session secret accepted: 32 characters carry at least 128 bits even as hex. */
export const SESSION_SECRET_MIN_LENGTH = 32;

/** Every default of gateway.cfg, in one place. Units are in the names. */
export const GATEWAY_DEFAULTS = deepFreeze({
  main: {
    debug: false,
    logDir: 'log',
    logStdout: false,
    adminListen: '127.0.0.1:9444',
    /** Where `airlock proxy primary-only` writes its switch; the proxy's default too. */
    stateDir: 'state',
    /** Seconds between health reports to the service's status page; 0 = none. */
    statusReportIntervalSeconds: 0,
  },
  gateway: {
    listen: '127.0.0.1:9443',
    sessionIdleSeconds: 900,
    sessionLifetimeSeconds: 8 * 3600,
    /** A session let in by failmode (no second factor) lasts far less than a full one. */
    failmodeSessionLifetimeSeconds: 1800,
    loginTimeoutSeconds: 300,
    emailAttribute: 'mail',
    cookieName: 'airlock_session',
  },
  service: { apiTimeoutSeconds: 10 },
  app: { paths: ['/'], restriction: 'two_factor', failmode: 'secure' },
} as const);

export interface GatewayMainConfig {
  readonly debug: boolean;
  /** Absolute; gateway.log is written here unless `log_stdout`. */
  readonly logDir: string;
  readonly logStdout: boolean;
  /** `/status` and `/metrics`, plain HTTP. */
  readonly adminListen: ListenAddress;
  /** Absolute; primary-only mode is on while this directory's switch says so. */
  readonly stateDir: string;
  /** `syslog_target` and friends: logins, failmode and forward-auth denials as RFC 5424; undefined = off. */
  readonly syslog: SyslogConfig | undefined;
  /** `status_report_interval` in ms: health reports to the service's status page; 0 = off. */
  readonly statusReportIntervalMs: number;
  /** `status_name`: the gateway's component on the status page; undefined = the host name. */
  readonly statusName: string | undefined;
}

export interface GatewayListenConfig {
  readonly listen: ListenAddress;
  /** PEM; both set or neither (then plain HTTP behind a TLS-terminating proxy). */
  readonly tlsCertPem: string | undefined;
  readonly tlsKeyPem: string | undefined;
  /** The portal's public origin and base path, as browsers reach it: `https://auth.example.org/`. */
  readonly portalUrl: URL;
  /** Set: the session cookie is scoped to this domain (`__Secure-`); else `__Host-` on the portal. */
  readonly cookieDomain: string | undefined;
  /** The cookie's full name, prefix included. */
  readonly cookieName: string;
  readonly sessionSecret: string;
  readonly sessionSecretFingerprint: string;
  readonly sessionIdleMs: number;
  readonly sessionLifetimeMs: number;
  readonly failmodeSessionLifetimeMs: number;
  readonly loginTimeoutMs: number;
  /** The directory attribute sent as `Remote-Email`. */
  readonly emailAttribute: string;
  /**
   * Reverse proxies whose `X-Forwarded-For` (and, for the OpenID Connect provider,
   * `X-Forwarded-Proto`/`-Host`) is believed; empty (the default): nobody's.
   */
  readonly trustedProxies: readonly IpMatcher[];
}

export interface GatewayServiceConfig {
  readonly ikey: string;
  readonly skey: string;
  readonly skeyFingerprint: string;
  readonly apiHosts: readonly ApiHostConfig[];
  readonly apiCaPem: string | undefined;
  readonly apiTimeoutMs: number;
  readonly resilience: ResilienceConfig;
}

export interface GatewayAppConfig {
  /** `NAME` of `[app:NAME]`. */
  readonly name: string;
  readonly section: string;
  /** Lower-case host names, without port. */
  readonly hosts: readonly string[];
  /** Path prefixes, each starting with `/`. */
  readonly paths: readonly string[];
  readonly restriction: AppRestriction;
  readonly failmode: Failmode;
  readonly failmodeExplicit: boolean;
}

/** `[oidc_client:ID]`: a relying party of the OpenID Connect provider. */
export interface GatewayOidcClientConfig {
  readonly clientId: string;
  readonly section: string;
  readonly clientSecret: string;
  readonly redirectUris: readonly string[];
  /** What a login for this client does when the service is unreachable. */
  readonly failmode: Failmode;
}

/** `[oidc]`: the provider's signing keys (the first signs; the others are still published). */
export interface GatewayOidcConfig {
  /** PEM private keys (EC P-256 or RSA), newest first: rotation = prepend a key, drop the last later. */
  readonly signingKeysPem: readonly string[];
  readonly clients: readonly GatewayOidcClientConfig[];
}

export interface GatewayConfig {
  readonly main: GatewayMainConfig;
  readonly gateway: GatewayListenConfig;
  readonly directory: AdClientConfig;
  readonly service: GatewayServiceConfig;
  readonly apps: readonly GatewayAppConfig[];
  /** Absent: no OpenID Connect provider. */
  readonly oidc: GatewayOidcConfig | undefined;
  readonly warnings: readonly string[];
}

export type ParseGatewayConfigResult =
  | { readonly ok: true; readonly config: GatewayConfig }
  | {
      readonly ok: false;
      readonly errors: readonly string[];
      readonly warnings: readonly string[];
    };
