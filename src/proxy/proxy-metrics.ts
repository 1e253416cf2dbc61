// Prometheus metrics of the proxy: answers, requests by result and reason, failmode decisions,
// breaker state, Auth API latency, primary-only mode, drops by reason, retransmits, alerts.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The gauge values of `airlock_proxy_breaker_state`. */
export const BREAKER_STATE_VALUES = { closed: 0, 'half-open': 1, open: 2 } as const;

export const REQUEST_RESULTS = ['accept', 'reject', 'challenge'] as const;
export type RequestResult = (typeof REQUEST_RESULTS)[number];

export interface ProxyMetrics {
  responses: Counter<'section' | 'code'>;
  dropped: Counter<'section' | 'reason'>;
  retransmits: Counter<'section' | 'answered'>;
  requests: Counter<'section' | 'result' | 'reason'>;
  failmodeDecisions: Counter<'section' | 'failmode' | 'action'>;
  breakerState: Gauge<'section' | 'host'>;
  breakerTransitions: Counter<'section' | 'host' | 'to'>;
  apiLatency: Histogram<'section' | 'endpoint'>;
  primaryOnly: Gauge;
  alertsSent: Counter<'result'>;
  alertsDropped: Counter;
  ldapConnections: Counter<'section' | 'result'>;
  ldapConnectionsClosed: Counter<'section' | 'reason'>;
  ldapBindResponses: Counter<'section' | 'result_code'>;
}

export function createProxyMetrics(registry: Registry): ProxyMetrics {
  const registers = [registry];
  return {
    responses: new Counter({
      name: 'airlock_proxy_responses_total',
      help: 'RADIUS answers sent, by server section and code',
      labelNames: ['section', 'code'],
      registers,
    }),
    dropped: new Counter({
      name: 'airlock_proxy_packets_dropped_total',
      help: 'RADIUS packets dropped without an answer, by server section and reason',
      labelNames: ['section', 'reason'],
      registers,
    }),
    retransmits: new Counter({
      name: 'airlock_proxy_retransmits_total',
      help: 'Retransmitted requests: answered from the cache, or ignored while the first copy is in flight',
      labelNames: ['section', 'answered'],
      registers,
    }),
    requests: new Counter({
      name: 'airlock_proxy_requests_total',
      help: 'Logins decided, by server section, result (accept, reject, challenge) and reason',
      labelNames: ['section', 'result', 'reason'],
      registers,
    }),
    failmodeDecisions: new Counter({
      name: 'airlock_proxy_failmode_decisions_total',
      help: 'Logins decided by failmode (the service was unreachable), by section, failmode and action',
      labelNames: ['section', 'failmode', 'action'],
      registers,
    }),
    breakerState: new Gauge({
      name: 'airlock_proxy_breaker_state',
      help: 'Circuit breaker of each API host: 0 closed, 1 half-open, 2 open',
      labelNames: ['section', 'host'],
      registers,
    }),
    breakerTransitions: new Counter({
      name: 'airlock_proxy_breaker_transitions_total',
      help: 'Circuit breaker transitions, by section, API host and new state',
      labelNames: ['section', 'host', 'to'],
      registers,
    }),
    apiLatency: new Histogram({
      name: 'airlock_proxy_api_latency_seconds',
      help: 'Duration of Auth API calls made for logins (failovers included), by section and endpoint',
      labelNames: ['section', 'endpoint'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    primaryOnly: new Gauge({
      name: 'airlock_proxy_primary_only',
      help: '1 while primary-only mode is active, else 0',
      registers,
    }),
    alertsSent: new Counter({
      name: 'airlock_proxy_alerts_sent_total',
      help: 'Webhook alert deliveries, by final result (delivered, failed after every attempt)',
      labelNames: ['result'],
      registers,
    }),
    alertsDropped: new Counter({
      name: 'airlock_proxy_alerts_dropped_total',
      help: 'Webhook alerts dropped because the delivery queue was full (oldest first)',
      registers,
    }),
    ldapConnections: new Counter({
      name: 'airlock_proxy_ldap_connections_total',
      help: 'LDAP client connections, by section and result (accepted; refused: address not in ldap_client_ip_N; refused-limit: max_connections reached)',
      labelNames: ['section', 'result'],
      registers,
    }),
    ldapConnectionsClosed: new Counter({
      name: 'airlock_proxy_ldap_connections_closed_total',
      help: 'LDAP client connections closed by the proxy, by section and reason (malformed message, timeout, bind rule, directory gone)',
      labelNames: ['section', 'reason'],
      registers,
    }),
    ldapBindResponses: new Counter({
      name: 'airlock_proxy_ldap_bind_responses_total',
      help: 'BindResponses sent to LDAP clients, by section and LDAP result code',
      labelNames: ['section', 'result_code'],
      registers,
    }),
  };
}
