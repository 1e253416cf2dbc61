// Prometheus counters for the Auth API: requests by endpoint and outcome, rejections by reason.
import { Counter, type Registry } from 'prom-client';

export interface AuthApiMetrics {
  requests: Counter<'endpoint' | 'outcome'>;
  rejections: Counter<'reason'>;
}

export function createAuthApiMetrics(registry: Registry): AuthApiMetrics {
  return {
    requests: new Counter({
      name: 'airlock_authapi_requests_total',
      help: 'Auth API requests answered, by endpoint and outcome (result, or error code)',
      labelNames: ['endpoint', 'outcome'],
      registers: [registry],
    }),
    rejections: new Counter({
      name: 'airlock_authapi_rejections_total',
      help: 'Auth API requests rejected before reaching an endpoint, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}
