// Prometheus metrics of the proxy: answers, requests by result and reason, failmode decisions,
// breaker state, Auth API latency, primary-only mode, drops by reason, retransmits, alerts, and
// the kernel's view of each RADIUS socket (receive buffer granted, datagrams it dropped).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { udpReceiveDrops } from '../runtime/udp-socket-stats.ts';

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
  receiveBufferBytes: Gauge<'section'>;
  receiveDrops: Counter<'section'>;
  /** Registers a section's RADIUS socket, whose kernel drop count `receiveDrops` follows. */
  watchUdpSocket(section: string, address: string, port: number): void;
}

export function createProxyMetrics(registry: Registry): ProxyMetrics {
  const registers = [registry];
  const sockets = new Map<string, { address: string; port: number; seen: number | undefined }>();
  const receiveDrops = new Counter<'section'>({
    name: 'airlock_proxy_udp_receive_drops_total',
    help: 'RADIUS datagrams the kernel dropped because the section socket receive buffer was full (Linux /proc/net/udp)',
    labelNames: ['section'],
    registers,
    // Read when scraped: the kernel counts from the socket's creation; the counter adds what it
    // counted since the last scrape.
    collect() {
      for (const [section, s] of sockets) {
        const drops = udpReceiveDrops(s.address, s.port);
        if (drops === undefined) continue;
        const delta = drops - (s.seen ?? 0);
        if (delta > 0) this.inc({ section }, delta);
        else this.inc({ section }, 0);
        s.seen = drops;
      }
    },
  });
  return {
    receiveDrops,
    receiveBufferBytes: new Gauge({
      name: 'airlock_proxy_udp_receive_buffer_bytes',
      help: 'Receive buffer the kernel granted each section socket (recv_buffer_bytes, capped by net.core.rmem_max)',
      labelNames: ['section'],
      registers,
    }),
    watchUdpSocket(section, address, port) {
      sockets.set(section, { address, port, seen: undefined });
    },
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
  };
}
