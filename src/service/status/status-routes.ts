// The public status page: Atlassian-Statuspage-compatible JSON under /api/v2/ and an HTML page at
// /status, from measured health (factors, proxies' and gateways' reports) with manual overrides.
import type { FastifyInstance } from 'fastify';
import type { FactorHealthBoard } from '../../core/factor-health.ts';
import type { Incident } from '../../core/incident.ts';
import {
  componentJson,
  deriveComponents,
  incidentJson,
  pageIndicator,
  pageJson,
  type StatusComponent,
  type StatusPageInfo,
} from '../../core/status-page.ts';
import type { Clock } from '../../runtime/clock.ts';
import type { Store } from '../../store/store.ts';
import { escapeHtml } from '../admin/console/html.ts';
import { routeSchema, type ApiOperation } from '../api-schema.ts';
import { STATUS_PAGE_OPERATIONS as OPS } from './status-schemas.ts';

export interface StatusPageOptions {
  /** Shown as the page name (Statuspage `page.name`). */
  name: string;
  /** A proxy or gateway that has not reported for this long is `major_outage`. */
  silenceSeconds: number;
}

export const DEFAULT_STATUS_PAGE_OPTIONS: StatusPageOptions = Object.freeze({
  name: 'Airlock',
  silenceSeconds: 90,
});

interface StatusDeps {
  store: Store;
  clock: Clock;
  factorHealth: FactorHealthBoard;
  apiHost: () => string;
  options: StatusPageOptions;
}

/** Everything one document needs, read once per request. */
async function snapshot(deps: StatusDeps) {
  const nowMs = deps.clock.nowMs();
  const [reports, applications, overrides, open, recent] = await Promise.all([
    deps.store.listHealthReports(),
    deps.store.listApplications(),
    deps.store.listComponentOverrides(),
    deps.store.listIncidents({ open: true }),
    deps.store.listIncidents({ limit: 50 }),
  ]);
  const factors = deps.factorHealth.report(nowMs).map((e) => ({
    factor: e.factor,
    provider: e.provider,
    degraded: e.state === 'degraded',
    reason: e.reason,
  }));
  const components = deriveComponents({
    nowMs,
    silenceMs: deps.options.silenceSeconds * 1000,
    factors,
    reports,
    applications,
    overrides,
    openIncidents: open,
  });
  const page: StatusPageInfo = {
    id: 'airlock',
    name: deps.options.name,
    url: `https://${deps.apiHost()}/status`,
    timeZone: 'Etc/UTC',
    updatedAtMs: nowMs,
  };
  return { components, open, recent, page };
}

async function incidentsJson(
  deps: StatusDeps,
  incidents: readonly Incident[],
  components: readonly StatusComponent[],
  page: StatusPageInfo,
) {
  return Promise.all(
    incidents.map(async (i) =>
      incidentJson(i, await deps.store.listIncidentUpdates(i.id), components, page),
    ),
  );
}

export function registerStatusRoutes(server: FastifyInstance, deps: StatusDeps): void {
  // Each document serializes with its declaration (status-schemas.ts).
  const json = (op: ApiOperation, build: (s: Awaited<ReturnType<typeof snapshot>>) => unknown) =>
    server.route({
      method: op.method,
      url: op.path,
      schema: routeSchema(op),
      handler: async (_req, reply) => {
        const s = await snapshot(deps);
        return reply
          .header('Cache-Control', 'no-store')
          .header('Access-Control-Allow-Origin', '*')
          .send(await build(s));
      },
    });
  json(OPS.status, (s) => ({
    page: pageJson(s.page),
    status: pageIndicator(s.components, s.open),
  }));
  json(OPS.components, (s) => ({
    page: pageJson(s.page),
    components: s.components.map((c) => componentJson(c, s.page)),
  }));
  json(OPS.incidents, async (s) => ({
    page: pageJson(s.page),
    incidents: await incidentsJson(deps, s.recent, s.components, s.page),
  }));
  json(OPS.unresolved, async (s) => ({
    page: pageJson(s.page),
    incidents: await incidentsJson(deps, s.open, s.components, s.page),
  }));
  json(OPS.summary, async (s) => ({
    page: pageJson(s.page),
    components: s.components.map((c) => componentJson(c, s.page)),
    incidents: await incidentsJson(deps, s.open, s.components, s.page),
    scheduled_maintenances: [],
    status: pageIndicator(s.components, s.open),
  }));
  server.get('/status', async (_req, reply) => {
    const s = await snapshot(deps);
    const incidents = await incidentsJson(deps, s.recent.slice(0, 10), s.components, s.page);
    return reply
      .header('Cache-Control', 'no-store')
      .header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'")
      .type('text/html; charset=utf-8')
      .send(statusHtml(s.page, pageIndicator(s.components, s.open), s.components, incidents));
  });
}

const COLORS: Record<string, string> = {
  operational: '#2b8a3e',
  under_maintenance: '#1c7ed6',
  degraded_performance: '#e67700',
  partial_outage: '#d9480f',
  major_outage: '#c92a2a',
};

function statusHtml(
  page: StatusPageInfo,
  status: { indicator: string; description: string },
  components: readonly StatusComponent[],
  incidents: readonly ReturnType<typeof incidentJson>[],
): string {
  const e = escapeHtml;
  const rows = components
    .map(
      (c) =>
        `<tr class="${c.groupId ? 'child' : ''}"><td>${e(c.name)}</td><td style="color:${COLORS[c.status] ?? '#000'}">${e(c.status.replace(/_/g, ' '))}</td><td>${e(c.description)}</td></tr>`,
    )
    .join('\n');
  const list = incidents
    .map(
      (i) =>
        `<article><h3>${e(i.name)} <small>(${e(i.status)}, impact ${e(i.impact)})</small></h3><ul>${i.incident_updates
          .map((u) => `<li><b>${e(u.status)}</b> ${e(u.created_at ?? '')}: ${e(u.body)}</li>`)
          .join('')}</ul></article>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${e(page.name)} status</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse;width:100%}td{padding:.3rem .5rem;border-bottom:1px solid #ddd}tr.child td:first-child{padding-left:2rem}.banner{padding:1rem;color:#fff;font-weight:600}</style>
</head><body>
<h1>${e(page.name)} status</h1>
<div class="banner" id="indicator" data-indicator="${e(status.indicator)}" style="background:${status.indicator === 'none' ? COLORS.operational : status.indicator === 'minor' ? COLORS.degraded_performance : COLORS.major_outage}">${e(status.description)}</div>
<h2>Components</h2>
<table id="components">${rows}</table>
<h2>Incidents</h2>
${list || '<p>No incidents.</p>'}
<p><small>Updated ${e(new Date(page.updatedAtMs).toISOString())}. JSON: <a href="/api/v2/summary.json">/api/v2/summary.json</a></small></p>
</body></html>
`;
}
