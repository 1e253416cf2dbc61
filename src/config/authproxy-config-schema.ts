// authproxy.cfg's schema: which keys each kind of section takes, and which are ignored or refused.
import { type IniSection } from './ini-parse.ts';
import { SECTION_KINDS } from './authproxy-config-model.ts';
import type { SectionKind } from './authproxy-config-model.ts';

// ---------------------------------------------------------------------------------------------
// Schema: which keys each section kind has
// ---------------------------------------------------------------------------------------------

export interface SectionSchema {
  /** Supported keys. */
  readonly keys: readonly string[];
  /** Supported numbered keys by prefix: `radius_ip_` accepts radius_ip_1, radius_ip_2, … */
  readonly numbered: readonly string[];
  /** Duo keys accepted with a start-up warning ("not supported by Airlock, ignored (hint)"). */
  readonly ignored: Readonly<Record<string, string>>;
  /** Duo keys refused with a specific message; a key ending in `_` also refuses `<key>N`. */
  readonly refused: Readonly<Record<string, string>>;
}

export const NOT_SUPPORTED = 'not supported by Airlock, ignored';

/** The outage engine's keys: in [main] (defaults of every server section) and in server sections. */
export const RESILIENCE_KEYS = [
  'breaker_enabled',
  'breaker_failure_threshold',
  'breaker_open_seconds',
  'breaker_max_open_seconds',
  'degraded_latency_ms',
  'health_check_interval',
] as const;
export const DIRECT = 'Airlock connects to api_host directly';
/** Per-group failmode keys of a server section (docs/proxy.md, Per-group failmode). */
export const GROUP_FAILMODE_KEYS = ['failmode_secure_groups', 'failmode_safe_groups'] as const;

export const SERVER_SCHEMA: SectionSchema = {
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
    'recv_buffer_bytes',
    'send_login_key',
    'send_push_timeout',
    'api_preauth_auth',
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

/** `[ldap_server_auto]`: the second-factor keys of a server section, LDAP instead of RADIUS. */
export const LDAP_SERVER_SCHEMA: SectionSchema = {
  keys: [
    'ikey',
    'skey',
    'api_host',
    'api_port',
    'api_timeout',
    'push_timeout',
    'send_push_timeout',
    'api_ca_file',
    'client',
    'failmode',
    ...GROUP_FAILMODE_KEYS,
    'port',
    'interface',
    'debug',
    ...RESILIENCE_KEYS,
    'factors',
    'allow_concat',
    'delimiter',
    'exempt_primary_bind',
    'username_attribute',
    'allow_unlimited_binds',
    'allow_searches_after_bind',
    'ssl_port',
    'ssl_key_path',
    'ssl_cert_path',
    'network_timeout',
    'idle_timeout',
    'max_connections',
  ],
  numbered: ['exempt_ou_', 'exempt_username_', 'ldap_client_ip_', 'api_host_'],
  ignored: {
    http_proxy_host: DIRECT,
    http_proxy_port: DIRECT,
    http_ca_certs_file: 'use api_ca_file',
    cipher_list: "Node's TLS defaults apply",
    minimum_tls_version: 'TLS 1.2 is the minimum',
  },
  refused: {
    skey_protected: 'not supported, use skey',
    ssl_key_path_protected: 'not supported, use ssl_key_path',
  },
};

export const SCHEMAS: Readonly<Record<SectionKind, SectionSchema>> = {
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
      'syslog_target',
      'syslog_facility',
      'syslog_app_name',
      'syslog_ca_file',
      'status_report_interval',
      'status_name',
      ...RESILIENCE_KEYS,
    ],
    numbered: ['alert_webhook_url_'],
    ignored: {
      log_syslog: 'set syslog_target (udp://, tcp:// or tls://) for RFC 5424 syslog',
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
      'dn_cache_seconds',
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
  ldap_server_auto: LDAP_SERVER_SCHEMA,
};

/** Duo section names Airlock knows but does not implement. */
export const DUO_ONLY_SECTIONS: Readonly<Record<string, string>> = {
  radius_server_iframe: 'the iframe (web portal) RADIUS mode is not implemented',
  radius_server_concat: 'use [radius_server_auto] (allow_concat is on by default)',
  radius_server_duo_only: 'use [radius_server_auto] with client=duo_only_client',
  radius_server_eap: 'EAP is not implemented',
  cloud: 'the SSO/directory-sync connector is not part of Airlock',
  http_proxy: 'the HTTP proxy is not part of Airlock',
};

export const CLIENT_KINDS: readonly SectionKind[] = [
  'ad_client',
  'radius_client',
  'duo_only_client',
];
export const SERVER_KINDS: readonly SectionKind[] = [
  'radius_server_auto',
  'radius_server_challenge',
  'ldap_server_auto',
];

export function emptySection(name: string): IniSection {
  return { name, line: 0, entries: [] };
}

export function kindsWithKey(key: string): SectionKind[] {
  return SECTION_KINDS.filter((k) => {
    const s = SCHEMAS[k];
    return (
      s.keys.includes(key) ||
      s.numbered.some((p) => key.startsWith(p) && /^[1-9]\d*$/.test(key.slice(p.length)))
    );
  });
}
