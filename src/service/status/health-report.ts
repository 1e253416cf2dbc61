// A proxy's or gateway's report of its own health (Airlock's `POST /auth/v2/health_report`,
// signed with one of its applications' keys): validated here, stored for the status page.
import { AirlockError } from '../../core/error-registry.ts';
import { isComponentStatus } from '../../core/incident.ts';
import type { Application } from '../../core/model.ts';
import type { HealthReport, OutageStore } from '../../store/outage-store.ts';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The report from the signed request's parameters; a bad one is a 400 naming the parameter. */
export function parseHealthReport(
  params: { kind?: string; name?: string; status?: string; detail?: string },
  receivedAtMs: number,
): HealthReport {
  const bad = (name: string) => new AirlockError('AUTH_INVALID_PARAMETERS', name);
  const kind = params.kind ?? 'proxy';
  if (kind !== 'proxy' && kind !== 'gateway') throw bad('kind');
  if (params.name === undefined || !NAME.test(params.name)) throw bad('name');
  if (!isComponentStatus(params.status)) throw bad('status');
  const detail = (params.detail ?? '').slice(0, 500);
  return {
    reporter: `${kind}:${params.name}`,
    kind,
    name: params.name,
    status: params.status,
    detail,
    receivedAtMs,
  };
}

/**
 * Stores the report for the application whose keys signed it. A name belongs to the first
 * application that reported it (until that application is deleted): another application's keys
 * can neither mark that component operational nor keep it from falling silent (403, 40301).
 */
export async function storeHealthReport(
  store: Pick<OutageStore, 'putHealthReport'>,
  report: HealthReport,
  app: Application,
): Promise<void> {
  if (!(await store.putHealthReport(report, app.id))) {
    throw new AirlockError('AUTH_HEALTH_REPORTER_TAKEN', 'name', {
      message: `${report.kind} ${report.name} reports with another application's keys`,
    });
  }
}
