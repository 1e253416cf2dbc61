// Prometheus counters of the proxy: answers, drops by reason, retransmits, failmode decisions.
import { Counter, type Registry } from 'prom-client';

export interface ProxyMetrics {
  responses: Counter<'section' | 'code'>;
  dropped: Counter<'section' | 'reason'>;
  retransmits: Counter<'section' | 'answered'>;
}

export function createProxyMetrics(registry: Registry): ProxyMetrics {
  return {
    responses: new Counter({
      name: 'airlock_proxy_responses_total',
      help: 'RADIUS answers sent, by server section and code',
      labelNames: ['section', 'code'],
      registers: [registry],
    }),
    dropped: new Counter({
      name: 'airlock_proxy_packets_dropped_total',
      help: 'RADIUS packets dropped without an answer, by server section and reason',
      labelNames: ['section', 'reason'],
      registers: [registry],
    }),
    retransmits: new Counter({
      name: 'airlock_proxy_retransmits_total',
      help: 'Retransmitted requests: answered from the cache, or ignored while the first copy is in flight',
      labelNames: ['section', 'answered'],
      registers: [registry],
    }),
  };
}
