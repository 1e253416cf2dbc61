// `airlock drill --gateway-config gateway.cfg`: the drill over the gateway's two-factor
// applications, with the proxy drill's fault injector in place of the service; printed as a matrix.
import type { Failmode } from '../../core/failmode-decision.ts';
import { AirlockError } from '../../core/error-registry.ts';
import {
  drillableApps,
  loadGatewayDrillConfig,
  runGatewayDrill,
  type DrillFaults,
  type GatewayDrillCell,
} from '../../gateway/gateway-drill.ts';
import { DRILL_SCENARIOS, type DrillScenario } from '../../proxy/drill.ts';
import {
  closedPort,
  createDrillTlsMaterial,
  startFaultInjector,
} from '../../proxy/fault-injector.ts';
import { SystemClock } from '../../runtime/clock.ts';
import { CryptoRandom } from '../../runtime/random.ts';
import { reportDrill, type DrillColumns } from './drill-report.ts';

export interface GatewayDrillFlags {
  gatewayConfig: string;
  /** App names, with or without `app:`. */
  section: string[];
  scenarios: DrillScenario[];
  expect: Record<string, Failmode>;
  json?: boolean;
}

const usage = (message: string) => new AirlockError('CLI_USAGE', undefined, { message });
const appName = (name: string) => name.replace(/^app:/, '');

export async function runGatewayDrillCommand(flags: GatewayDrillFlags): Promise<void> {
  const clock = new SystemClock();
  const tls = await createDrillTlsMaterial(clock.nowMs());
  const { config, substitutedFiles } = loadGatewayDrillConfig(flags.gatewayConfig, tls.caPem);
  const known = drillableApps(config).map((a) => a.name);
  const apps = flags.section.map(appName);
  const expect = Object.fromEntries(Object.entries(flags.expect).map(([k, v]) => [appName(k), v]));
  for (const name of [...apps, ...Object.keys(expect)]) {
    if (!known.includes(name)) {
      throw usage(
        `no two-factor [app:${name}] in ${flags.gatewayConfig}; it has: ${known.map((n) => `app:${n}`).join(', ') || 'none'}`,
      );
    }
  }
  const faults: DrillFaults = {
    caPem: tls.caPem,
    async start(scenario, apiTimeoutMs) {
      if (scenario === 'unreachable') return { port: await closedPort(), close: async () => {} };
      const injector = await startFaultInjector({
        tls,
        mode: scenario as Exclude<DrillScenario, 'unreachable'>,
        clock,
        slowDelayMs: apiTimeoutMs + 1000,
        degradedDelayMs: Math.floor(apiTimeoutMs / 2),
      });
      return { port: injector.port, close: () => injector.close() };
    },
  };
  const report = await runGatewayDrill({
    config,
    ...(apps.length > 0 ? { apps } : {}),
    scenarios: flags.scenarios.length > 0 ? flags.scenarios : DRILL_SCENARIOS,
    expect,
    faults,
    clock,
    random: new CryptoRandom(),
  });
  reportDrill(
    flags,
    report,
    substitutedFiles,
    GATEWAY_COLUMNS,
    `drill FAILED: ${flags.gatewayConfig} has no two-factor application to drill`,
  );
}

/** An application's matrix: the portal's answer and gateway.log's failmode line. */
const GATEWAY_COLUMNS: DrillColumns<GatewayDrillCell> = {
  scenario: (c) => c.scenario,
  expected: (c) => c.expectedOutcome,
  actual: (c) => c.actualOutcome,
  decision: (c) => `${c.decisionMs} ms`,
  'log line': (c) =>
    c.logLineSeen
      ? (c.expectedLogLine ?? 'no failmode line (the service decided)')
      : `NONE of "${c.expectedLogLine ?? 'no failmode line'}"; saw: ${c.actualLogLine ?? 'no failmode line'}`,
  result: (c) => (c.match ? 'ok' : 'MISMATCH'),
};
