// The failmode drill: synthetic logins through each server section of a config, with a fault
// injector in place of the service, checked against the failmode the operator expects (§3.9).
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import {
  parseAuthProxyConfig,
  type AuthProxyConfig,
  type ServerConfig,
} from '../config/authproxy-config.ts';
import { loadDrillConfigFile } from '../config/config-file.ts';
import { fingerprintSecret } from '../config/secret-fingerprint.ts';
import { isOneOf } from '../core/closed-set.ts';
import { FAILMODE_LOG_MESSAGES, type Failmode } from '../core/failmode-decision.ts';
import { parseIpRange } from '../core/ip-ranges.ts';
import type { Clock } from '../runtime/clock.ts';
import type { Random } from '../runtime/random.ts';
import { ChallengeStore } from './challenge-store.ts';
import { PushWaiter } from './push-waiter.ts';
import {
  closedPort,
  startFaultInjector,
  type DrillTlsMaterial,
  type FaultInjector,
} from './fault-injector.ts';
import { createLoginFlow } from './login-flow.ts';
import type { PrimaryAuthenticator } from './primary/primary-authenticator.ts';
import { openProxyLogs } from './proxy-logs.ts';
import { createProxyMetrics } from './proxy-metrics.ts';
import { startRadiusServer } from './radius-server.ts';
import { sendRadiusLogin } from './radius-login-client.ts';
import { describeResilienceEvent } from '../client/section-api-client.ts';
import { createApiClient } from './start-proxy.ts';

export const DRILL_SCENARIOS = [
  /** Nothing listens on the API port: connection refused. */
  'unreachable',
  /** TCP is accepted and nothing ever answers: the deadline ends the call. */
  'blackhole',
  /** A correct answer, one second after api_timeout. */
  'slow',
  /** HTTP 500 with a Duo FAIL envelope. */
  '5xx',
  /** HTTP 200 with JSON that is not a Duo envelope. */
  'garbage',
  /** A certificate from a CA the proxy does not trust. */
  'tls',
  /** Correct answers, slowly but within api_timeout: degraded, so failmode is NOT invoked. */
  'degraded',
] as const;
export type DrillScenario = (typeof DRILL_SCENARIOS)[number];
export const isDrillScenario = (v: unknown): v is DrillScenario => isOneOf(DRILL_SCENARIOS, v);

/** The drill's user: primary authentication always accepts it (see `alwaysAcceptPrimary`). */
export const DRILL_USERNAME = 'airlock-drill';
const DRILL_PASSWORD = 'drill-password';
/** Sent when a section answers with an Access-Challenge: a passcode, so `/auth` is called. */
const DRILL_PASSCODE = '000000';
const DRILL_RADIUS_SECRET = 'airlock-drill-radius-secret';
/** The line of a login that reached the service's answer (degraded): the injector denies. */
export const SERVICE_ANSWER_LOG_LINE = "Duo authentication returned 'deny'";

export type ExpectedCode = 'Access-Accept' | 'Access-Reject';

export interface DrillCell {
  section: string;
  scenario: DrillScenario;
  /** The section's `failmode`. */
  declaredFailmode: Failmode;
  /** What the operator expects: `--expect`, else the declared failmode. */
  expectedFailmode: Failmode;
  expectedBy: 'config' | 'operator';
  /** Whether failmode should decide this scenario (all but `degraded`). */
  failmodeExpected: boolean;
  expectedCode: ExpectedCode;
  expectedLogLine: string;
  /** The RADIUS answer, or `no answer` when none came before the drill's deadline. */
  actualCode: string;
  actualReplyMessage: string | undefined;
  /** From the Access-Request to the final answer (a challenge round counts in). */
  decisionMs: number;
  logLineSeen: boolean;
  /** The decision line of authproxy.log (failmode, or the service's answer), if any. */
  actualLogLine: string | undefined;
  match: boolean;
  /** Why the cell does not match; undefined when it does. */
  mismatch: string | undefined;
}

export interface DrillReport {
  ok: boolean;
  cells: DrillCell[];
  /** What the operator must know to read the matrix (stub primary, substituted CA files…). */
  notes: string[];
}

export interface LoadedDrillConfig {
  config: AuthProxyConfig;
  /** CA files named by the config that could not be read: the drill's CA stood in for them. */
  substitutedFiles: string[];
}

/**
 * Loads authproxy.cfg for a drill. A CA file that cannot be read (the example configs name
 * ../data/tls/ca.pem, made by `airlock serve`) is replaced by `standInPem`: the drill brings its
 * own transport trust, so such a file does not change any result. Throws `ConfigError`.
 */
export function loadDrillConfig(path: string, standInPem: string): LoadedDrillConfig {
  return loadDrillConfigFile(path, parseAuthProxyConfig, standInPem);
}

export interface RunDrillOptions {
  config: AuthProxyConfig;
  /** Server sections to drill; default all. */
  sections?: readonly string[];
  /** Default all of `DRILL_SCENARIOS`. */
  scenarios?: readonly DrillScenario[];
  /** Per section, the failmode the operator expects instead of the declared one. */
  expect?: Readonly<Record<string, Failmode>>;
  tls: DrillTlsMaterial;
  clock: Clock;
  random: Random;
}

/** Runs every (section, scenario) cell, all at once: each cell has its own proxy and injector. */
export async function runDrill(options: RunDrillOptions): Promise<DrillReport> {
  const sections = options.sections
    ? options.config.servers.filter((s) => options.sections!.includes(s.section))
    : options.config.servers;
  const scenarios = options.scenarios ?? DRILL_SCENARIOS;
  const cells = await Promise.all(
    sections.flatMap((section) =>
      scenarios.map((scenario) => {
        const operator = options.expect?.[section.section];
        return runCell(section, scenario, operator, options);
      }),
    ),
  );
  return {
    ok: cells.every((c) => c.match),
    cells,
    notes: [
      `Primary authentication is replaced by a stub that accepts the user '${DRILL_USERNAME}': the drill tests the second-factor failmode, not the directory.`,
      "Transport (API host, port, CA) is the drill's fault injector on 127.0.0.1; api_timeout, failmode and the circuit breaker are the section's.",
    ],
  };
}

/** A cell's expectation, from the failmode the operator expects (docs/design/auth-api.md §3.9). */
export function expectedOutcome(
  scenario: DrillScenario,
  failmode: Failmode,
): { failmodeExpected: boolean; code: ExpectedCode; logLine: string } {
  if (scenario === 'degraded') {
    // The service answers: it decides (here: deny), never the failmode.
    return { failmodeExpected: false, code: 'Access-Reject', logLine: SERVICE_ANSWER_LOG_LINE };
  }
  return failmode === 'safe'
    ? { failmodeExpected: true, code: 'Access-Accept', logLine: FAILMODE_LOG_MESSAGES.failmodeSafe }
    : {
        failmodeExpected: true,
        code: 'Access-Reject',
        logLine: FAILMODE_LOG_MESSAGES.failmodeSecure,
      };
}

const alwaysAcceptPrimary: PrimaryAuthenticator = {
  authenticate: () => Promise.resolve({ kind: 'accept', groups: [], attributes: [] }),
  close: () => Promise.resolve(),
};

async function runCell(
  section: ServerConfig,
  scenario: DrillScenario,
  operatorFailmode: Failmode | undefined,
  options: RunDrillOptions,
): Promise<DrillCell> {
  const { clock, random, tls } = options;
  const expectedFailmode = operatorFailmode ?? section.failmode;
  const expected = expectedOutcome(scenario, expectedFailmode);
  const dir = await mkdtemp(join(tmpdir(), 'airlock-drill-'));
  let injector: FaultInjector | undefined;
  try {
    let apiPort: number;
    if (scenario === 'unreachable') {
      apiPort = await closedPort();
    } else {
      injector = await startFaultInjector({
        tls,
        mode: scenario,
        clock,
        slowDelayMs: section.apiTimeoutMs + 1000,
        // Well within the deadline, yet visibly slow.
        degradedDelayMs: Math.floor(section.apiTimeoutMs / 2),
      });
      apiPort = injector.port;
    }
    const drillSection = drillCopy(section, apiPort, tls.caPem);
    const login = await loginThrough(drillSection, dir, clock, random);
    const log = await readFile(join(dir, 'authproxy.log'), 'utf8').catch(() => '');
    return judge(section, scenario, expectedFailmode, operatorFailmode, expected, login, log);
  } finally {
    await injector?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The section as the drill runs it: API host = the injector (trusting the drill's CA), RADIUS on
 * 127.0.0.1 port 0 for the drill's NAS only. Everything that decides stays the section's.
 */
function drillCopy(section: ServerConfig, apiPort: number, caPem: string): ServerConfig {
  const matcher = parseIpRange('127.0.0.1');
  if (!matcher.ok) throw new Error(matcher.error);
  const apiAuthority = `127.0.0.1:${apiPort}`;
  return {
    ...section,
    apiHost: '127.0.0.1',
    apiPort,
    apiAuthority,
    apiHosts: [{ apiHost: '127.0.0.1', apiPort, apiAuthority }],
    apiCaFile: undefined,
    apiCaPem: caPem,
    bindAddress: '127.0.0.1',
    port: 0,
    radiusClients: [
      {
        index: 1,
        matcher: matcher.matcher,
        secret: DRILL_RADIUS_SECRET,
        secretFingerprint: fingerprintSecret(DRILL_RADIUS_SECRET),
      },
    ],
    // The drill user must reach the second factor.
    exemptUsernames: [],
  };
}

interface LoginRecord {
  code: string;
  replyMessage: string | undefined;
  decisionMs: number;
}

/** Assembles the section's proxy pieces (as startProxy does), logs in once, shuts down. */
async function loginThrough(
  section: ServerConfig,
  logDir: string,
  clock: Clock,
  random: Random,
): Promise<LoginRecord> {
  const logs = openProxyLogs({
    logDir,
    maxSizeBytes: 10 * 1024 * 1024,
    maxFiles: 1,
    authEvents: true,
    stdout: false,
    nowIso: () => new Date(clock.nowMs()).toISOString(),
  });
  const api = createApiClient(section, clock, (event) =>
    logs.line(describeResilienceEvent(section.section, event)),
  );
  const pushes = new PushWaiter({
    clock,
    openStream: (host, handlers) => api.streamResultsFrom(host, handlers),
    authStatus: (txid) => api.authStatus(txid),
  });
  const flow = createLoginFlow({
    section,
    primary: alwaysAcceptPrimary,
    api,
    logs,
    // Primary-only mode would bypass the service altogether: the drill runs without it.
    primaryOnly: { state: () => ({ active: false, expiredRecord: undefined }) },
    challenges: new ChallengeStore(clock),
    random,
    pushes,
  });
  const server = await startRadiusServer({
    section,
    flow,
    logs,
    metrics: createProxyMetrics(new Registry()),
    clock,
  });
  try {
    // Every host's deadline, plus room: a proxy that never answers is a finding, not a hang.
    const timeoutMs = section.apiTimeoutMs * section.apiHosts.length * 2 + 5000;
    const send = (password: string, state?: Buffer) =>
      sendRadiusLogin({
        host: '127.0.0.1',
        port: server.address.port,
        secret: DRILL_RADIUS_SECRET,
        username: DRILL_USERNAME,
        password,
        ...(state ? { state } : {}),
        timeoutMs,
        random,
      });
    const startMs = clock.nowMs();
    let answer = await send(DRILL_PASSWORD);
    if (answer.kind === 'answer' && answer.code === 'Access-Challenge' && answer.state) {
      answer = await send(DRILL_PASSCODE, answer.state);
    }
    const decisionMs = clock.nowMs() - startMs;
    return answer.kind === 'answer'
      ? { code: answer.code, replyMessage: answer.replyMessage, decisionMs }
      : { code: 'no answer', replyMessage: undefined, decisionMs };
  } finally {
    await server.close();
    pushes.close();
    api.close();
    await logs.close();
  }
}

const DECISION_LINES = [
  FAILMODE_LOG_MESSAGES.failmodeSafe,
  FAILMODE_LOG_MESSAGES.failmodeSecure,
  SERVICE_ANSWER_LOG_LINE,
];

function judge(
  section: ServerConfig,
  scenario: DrillScenario,
  expectedFailmode: Failmode,
  operatorFailmode: Failmode | undefined,
  expected: ReturnType<typeof expectedOutcome>,
  login: LoginRecord,
  log: string,
): DrillCell {
  const actualLogLine = DECISION_LINES.find((line) => log.includes(line));
  const logLineSeen = log.includes(expected.logLine);
  const problems: string[] = [];
  if (login.code !== expected.code) problems.push(`expected ${expected.code}, got ${login.code}`);
  if (!logLineSeen) {
    const saw = actualLogLine ? ` (it says "${actualLogLine}")` : '';
    problems.push(`authproxy.log lacks "${expected.logLine}"${saw}`);
  }
  if (
    !expected.failmodeExpected &&
    actualLogLine !== undefined &&
    actualLogLine !== expected.logLine
  )
    problems.push(`failmode was invoked ("${actualLogLine}") though the service answered`);
  return {
    section: section.section,
    scenario,
    declaredFailmode: section.failmode,
    expectedFailmode,
    expectedBy: operatorFailmode ? 'operator' : 'config',
    failmodeExpected: expected.failmodeExpected,
    expectedCode: expected.code,
    expectedLogLine: expected.logLine,
    actualCode: login.code,
    actualReplyMessage: login.replyMessage,
    decisionMs: login.decisionMs,
    logLineSeen,
    actualLogLine,
    match: problems.length === 0,
    mismatch: problems.length ? problems.join('; ') : undefined,
  };
}
