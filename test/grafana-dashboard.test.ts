// docs/grafana-dashboard.json queries only metrics the proxy and the service register, and shows
// the ones the outage guide asks to watch (breaker, failmode, factor health, logins, latency).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const root = new URL('..', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

/** Every metric name registered in the code (`name: 'airlock_…'`). */
function registeredMetrics(): Set<string> {
  const files = [
    'src/proxy/proxy-metrics.ts',
    'src/service/auth-api/auth-api-metrics.ts',
    'src/service/push/provider-routes.ts',
  ];
  const names = new Set<string>();
  for (const file of files) {
    for (const m of read(file).matchAll(/name: '(airlock_[a-z_]+)'/g)) names.add(m[1] ?? '');
  }
  return names;
}

interface Panel {
  title: string;
  targets: { expr: string }[];
}

describe('Grafana dashboard', () => {
  const dashboard = JSON.parse(read('docs/grafana-dashboard.json')) as { panels: Panel[] };
  const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
  const used = new Set(
    exprs.flatMap((e) => [...e.matchAll(/\b(airlock_[a-z_]+)/g)].map((m) => m[1] ?? '')),
  );

  it('queries only metrics that exist (histogram series by their base name)', () => {
    const known = registeredMetrics();
    assert.ok(known.size >= 10, 'the metric files moved: update this test');
    for (const name of used) {
      const base = name.replace(/_(bucket|sum|count)$/, '');
      assert.ok(known.has(name) || known.has(base), `${name} is not a registered metric`);
    }
  });

  it('covers breaker state, failmode decisions, factor health, login rate and latency', () => {
    for (const name of [
      'airlock_proxy_breaker_state',
      'airlock_proxy_failmode_decisions_total',
      'airlock_factor_degraded',
      'airlock_proxy_requests_total',
      'airlock_authapi_requests_total',
      'airlock_proxy_api_latency_seconds_bucket',
    ]) {
      assert.ok(used.has(name), `no panel shows ${name}`);
    }
  });
});
