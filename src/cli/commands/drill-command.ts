// `airlock drill`: the outage-readiness check — synthetic logins through each server section
// against a built-in fault injector, printed as a matrix; non-zero exit on any mismatch.
import type { Command } from 'commander';
import { isFailmode, type Failmode } from '../../core/failmode-decision.ts';
import { AirlockError } from '../../core/error-registry.ts';
import { createDrillTlsMaterial } from '../../proxy/fault-injector.ts';
import {
  DRILL_SCENARIOS,
  isDrillScenario,
  loadDrillConfig,
  runDrill,
  type DrillCell,
  type DrillScenario,
} from '../../proxy/drill.ts';
import { SystemClock } from '../../runtime/clock.ts';
import { CryptoRandom } from '../../runtime/random.ts';
import { runGatewayDrillCommand } from './drill-gateway.ts';
import { reportDrill, type DrillColumns } from './drill-report.ts';

interface DrillFlags {
  config?: string;
  gatewayConfig?: string;
  section: string[];
  scenario: string[];
  expect: string[];
  json?: boolean;
}

/** Repeatable and comma-separated: `--scenario 5xx,tls --scenario slow`. */
const collect = (value: string, previous: string[]) => [
  ...previous,
  ...value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean),
];

const usage = (message: string) => new AirlockError('CLI_USAGE', undefined, { message });

export function registerDrillCommand(program: Command): void {
  program
    .command('drill')
    .description(
      'outage-readiness check: synthetic logins through each server section of authproxy.cfg with a built-in fault injector in place of the service; prints expected vs actual per section and scenario, exits non-zero on any mismatch',
    )
    .option('--config <file>', 'the proxy configuration (authproxy.cfg)')
    .option(
      '--gateway-config <file>',
      "instead of --config: the access gateway's configuration (gateway.cfg); drills each two-factor [app:NAME] (--section NAME)",
    )
    .option('--section <name>', 'only this server section (repeatable)', collect, [])
    .option(
      '--scenario <name>',
      `only this scenario (repeatable): ${DRILL_SCENARIOS.join(', ')}`,
      collect,
      [],
    )
    .option(
      '--expect <section=failmode>',
      'the failmode you expect a section to behave as (repeatable); default: what the config declares',
      collect,
      [],
    )
    .option('--json', 'print machine-readable JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  airlock drill --config /etc/airlock/authproxy.cfg\n' +
        '  airlock drill --config authproxy.cfg --section radius_server_auto --scenario blackhole,5xx\n' +
        '  airlock drill --config authproxy.cfg --expect radius_server_auto=secure\n' +
        '  airlock drill --gateway-config /etc/airlock/gateway.cfg --expect wiki=safe\n' +
        '\nSee docs/drills.md.',
    )
    .action(async (flags: DrillFlags) => runDrillCommand(flags));
}

async function runDrillCommand(flags: DrillFlags): Promise<void> {
  if (flags.config && flags.gatewayConfig)
    throw usage('--config and --gateway-config drill different products: give one');
  if (!flags.config && !flags.gatewayConfig)
    throw usage('--config <file> (authproxy.cfg) or --gateway-config <file> is required');
  const scenarios = flags.scenario.map((s): DrillScenario => {
    if (!isDrillScenario(s))
      throw usage(`--scenario must be one of ${DRILL_SCENARIOS.join(', ')}; got "${s}"`);
    return s;
  });
  const expect: Record<string, Failmode> = {};
  for (const item of flags.expect) {
    const [name, failmode, ...rest] = item.split('=');
    if (!name || rest.length > 0 || !isFailmode(failmode))
      throw usage(`--expect takes section=safe or section=secure; got "${item}"`);
    expect[name] = failmode;
  }
  if (flags.gatewayConfig) {
    return runGatewayDrillCommand({
      gatewayConfig: flags.gatewayConfig,
      section: flags.section,
      scenarios,
      expect,
      ...(flags.json ? { json: true } : {}),
    });
  }
  if (!flags.config) return;

  const clock = new SystemClock();
  const tls = await createDrillTlsMaterial(clock.nowMs());
  const { config, substitutedFiles } = loadDrillConfig(flags.config, tls.caPem);
  const known = config.servers.map((s) => s.section);
  for (const name of [...flags.section, ...Object.keys(expect)]) {
    if (!known.includes(name))
      throw usage(`no server section [${name}] in ${flags.config}; it has: ${known.join(', ')}`);
  }

  const report = await runDrill({
    config,
    ...(flags.section.length ? { sections: flags.section } : {}),
    ...(scenarios.length ? { scenarios } : {}),
    expect,
    tls,
    clock,
    random: new CryptoRandom(),
  });
  reportDrill(flags, report, substitutedFiles, PROXY_COLUMNS);
}

/** A server section's matrix: the RADIUS answer and authproxy.log's decision line. */
const PROXY_COLUMNS: DrillColumns<DrillCell> = {
  scenario: (c) => c.scenario,
  expected: (c) => c.expectedCode,
  actual: (c) => c.actualCode,
  decision: (c) => `${c.decisionMs} ms`,
  'log line seen': (c) =>
    c.logLineSeen
      ? c.expectedLogLine
      : `NONE of "${c.expectedLogLine}"; saw: ${c.actualLogLine ?? 'no decision line'}`,
  result: (c) => (c.match ? 'ok' : 'MISMATCH'),
};
