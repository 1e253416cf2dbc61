// authproxy.cfg readers that the proxy's server sections and the gateway's [service] section share:
// API hosts (api_host, api_host_N, api_port) and the outage engine's resilience keys.
import { isIpAddress } from '../core/ip-ranges.ts';
import { DEFAULTS, RESILIENCE_LIMITS } from './authproxy-config-model.ts';
import type { ApiHostConfig, ResilienceConfig } from './authproxy-config-model.ts';
import type { SectionReader } from './authproxy-section-reader.ts';
import { quote } from './authproxy-section-reader.ts';

export function readApiHost(r: SectionReader): {
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
export function readApiHosts(
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

export function defaultResilienceConfig(): ResilienceConfig {
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
export function readResilience(r: SectionReader, fallback: ResilienceConfig): ResilienceConfig {
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

export function isHostName(text: string): boolean {
  return (
    text.length <= 253 &&
    /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/.test(
      text,
    )
  );
}

export function authority(host: string, port: number): string {
  const shown = host.includes(':') ? `[${host}]` : host;
  return port === 443 ? shown : `${shown}:${port}`;
}
