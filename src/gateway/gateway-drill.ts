// The failmode drill over gateway.cfg: for each two-factor [app:NAME] and outage scenario, a real
// portal login (the gateway's own app, decision and Auth API client) against a fault in place of
// the service, checked against the failmode the operator expects (docs/drills.md).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { loadDrillConfigFile } from '../config/config-file.ts';
import {
  parseGatewayConfig,
  type GatewayAppConfig,
  type GatewayConfig,
} from '../config/gateway-config.ts';
import { FAILMODE_LOG_MESSAGES, type Failmode } from '../core/failmode-decision.ts';
import type { Clock } from '../runtime/clock.ts';
import { openGatewayStateDb } from '../runtime/gateway-state-db.ts';
import type { Random } from '../runtime/random.ts';
import type { PrimaryAuthenticator } from '../proxy/primary/primary-authenticator.ts';
import { buildGatewayApp } from './gateway-app.ts';
import {
  createGatewayMetrics,
  type FailmodeEvent,
  type GatewayEvents,
  type LoginEvent,
} from './gateway-events.ts';
import { SessionStore } from './session-store.ts';
import { createGatewayApiClient } from './gateway-api-client.ts';

/** The drill's user: the stub directory accepts it with any password. */
export const GATEWAY_DRILL_USERNAME = 'airlock-drill';
/** Sent when the service answers and asks for a second factor (the `degraded` scenario). */
const DRILL_PASSCODE = '000000';

/** What a portal login came to, as the drill reports it. */
export const GATEWAY_DRILL_OUTCOMES = {
  /** Failmode safe: a session without a second factor that opens the application. */
  failmodeIn: 'in, Remote-2FA: skipped-failmode',
  /** Failmode secure: the page that says the service cannot be reached. */
  failmodeRefused: 'refused (503)',
  /** The service answered and denied the passcode: no session. */
  serviceDenied: 'refused (401, the service denied)',
} as const;

/** The fault in place of the service for one cell (the CLI brings the proxy drill's injector). */
export interface DrillFaults {
  /** The Auth API port on 127.0.0.1 misbehaving as `scenario` says, for `apiTimeoutMs`. */
  start(scenario: string, apiTimeoutMs: number): Promise<{ port: number; close(): Promise<void> }>;
  /** PEM of the CA the faults' certificates chain to (except the `tls` scenario's). */
  readonly caPem: string;
}

export interface GatewayDrillCell {
  /** `app:NAME`. */
  section: string;
  scenario: string;
  declaredFailmode: Failmode;
  expectedFailmode: Failmode;
  expectedBy: 'config' | 'operator';
  /** Whether failmode should decide this scenario (all but `degraded`). */
  failmodeExpected: boolean;
  expectedOutcome: string;
  actualOutcome: string;
  expectedLogLine: string | undefined;
  /** The failmode event's line in gateway.log, if one was written. */
  actualLogLine: string | undefined;
  logLineSeen: boolean;
  /** From the password form to the portal's answer. */
  decisionMs: number;
  match: boolean;
  mismatch: string | undefined;
}

export interface GatewayDrillReport {
  ok: boolean;
  cells: GatewayDrillCell[];
  notes: string[];
}

export interface RunGatewayDrillOptions {
  config: GatewayConfig;
  /** App names (`NAME` of `[app:NAME]`) to drill; default every two-factor app. */
  apps?: readonly string[];
  scenarios: readonly string[];
  /** Per app name, the failmode the operator expects instead of the declared one. */
  expect?: Readonly<Record<string, Failmode>>;
  faults: DrillFaults;
  clock: Clock;
  random: Random;
}

/**
 * Loads gateway.cfg for a drill. A file that cannot be read (the API CA of another machine) is
 * replaced by `standInPem`, the drill's own CA: the drill brings its own transport trust. Throws
 * `ConfigError` listing every problem.
 */
export function loadGatewayDrillConfig(
  path: string,
  standInPem: string,
): { config: GatewayConfig; substitutedFiles: string[] } {
  return loadDrillConfigFile(path, parseGatewayConfig, standInPem);
}

/** The apps a drill covers: failmode decides only for `two_factor` ones. */
export function drillableApps(config: GatewayConfig): GatewayAppConfig[] {
  return config.apps.filter((a) => a.restriction === 'two_factor');
}

/** Runs every (app, scenario) cell at once, each with its own gateway app, client and fault. */
export async function runGatewayDrill(
  options: RunGatewayDrillOptions,
): Promise<GatewayDrillReport> {
  const apps = drillableApps(options.config).filter(
    (a) => options.apps === undefined || options.apps.includes(a.name),
  );
  const cells = await Promise.all(
    apps.flatMap((app) =>
      options.scenarios.map((scenario) =>
        runCell(app, scenario, options.expect?.[app.name], options),
      ),
    ),
  );
  const skipped = options.config.apps.filter((a) => a.restriction !== 'two_factor');
  return {
    ok: cells.every((c) => c.match),
    cells,
    notes: [
      `The directory is replaced by a stub that accepts the user '${GATEWAY_DRILL_USERNAME}': the drill tests the second-factor failmode, not the directory.`,
      "Transport ([service] API host, port, CA) is the drill's fault injector on 127.0.0.1; api_timeout, failmode and the circuit breaker are the gateway's.",
      ...(skipped.length > 0
        ? [
            `Not drilled (failmode never decides for them): ${skipped.map((a) => `[app:${a.name}] restriction=${a.restriction}`).join(', ')}.`,
          ]
        : []),
      ...(options.config.oidc && options.config.oidc.clients.length > 0
        ? [
            'OpenID Connect clients are not drilled: their logins take the same portal steps and decision as an app with the same failmode.',
          ]
        : []),
    ],
  };
}

/** A cell's expectation from the failmode the operator expects (docs/design/auth-api.md §3.9). */
export function expectedGatewayOutcome(
  scenario: string,
  failmode: Failmode,
): { failmodeExpected: boolean; outcome: string; logLine: string | undefined } {
  if (scenario === 'degraded') {
    return {
      failmodeExpected: false,
      outcome: GATEWAY_DRILL_OUTCOMES.serviceDenied,
      logLine: undefined,
    };
  }
  return failmode === 'safe'
    ? {
        failmodeExpected: true,
        outcome: GATEWAY_DRILL_OUTCOMES.failmodeIn,
        logLine: FAILMODE_LOG_MESSAGES.failmodeSafe,
      }
    : {
        failmodeExpected: true,
        outcome: GATEWAY_DRILL_OUTCOMES.failmodeRefused,
        logLine: FAILMODE_LOG_MESSAGES.failmodeSecure,
      };
}

const alwaysAcceptDirectory: PrimaryAuthenticator = {
  authenticate: ({ username }) =>
    Promise.resolve({ kind: 'accept', username, groups: [], attributes: [] }),
  close: () => Promise.resolve(),
};

async function runCell(
  app: GatewayAppConfig,
  scenario: string,
  operatorFailmode: Failmode | undefined,
  options: RunGatewayDrillOptions,
): Promise<GatewayDrillCell> {
  const expectedFailmode = operatorFailmode ?? app.failmode;
  const expected = expectedGatewayOutcome(scenario, expectedFailmode);
  // An empty state directory: primary-only mode is off for the drill, and nothing is kept.
  const stateDir = await mkdtemp(join(tmpdir(), 'airlock-gateway-drill-'));
  const fault = await options.faults.start(scenario, options.config.service.apiTimeoutMs);
  try {
    const login = await loginThrough(
      app,
      drillCopy(options.config, fault.port, options.faults.caPem, stateDir),
      options,
    );
    return judge(app, scenario, expectedFailmode, operatorFailmode, expected, login);
  } finally {
    await fault.close();
    await rm(stateDir, { recursive: true, force: true });
  }
}

/** The config as the drill runs it: [service] points at the fault; everything that decides stays. */
function drillCopy(
  config: GatewayConfig,
  apiPort: number,
  caPem: string,
  stateDir: string,
): GatewayConfig {
  const apiAuthority = `127.0.0.1:${apiPort}`;
  return {
    ...config,
    main: { ...config.main, stateDir },
    service: {
      ...config.service,
      apiHosts: [{ apiHost: '127.0.0.1', apiPort, apiAuthority }],
      apiCaPem: caPem,
    },
  };
}

interface LoginRecord {
  outcome: string;
  decisionMs: number;
  failmodes: FailmodeEvent[];
  logins: LoginEvent[];
}

/** One portal login for `app` through the gateway's own app, as a browser would make it. */
async function loginThrough(
  app: GatewayAppConfig,
  config: GatewayConfig,
  options: RunGatewayDrillOptions,
): Promise<LoginRecord> {
  const { clock, random } = options;
  const failmodes: FailmodeEvent[] = [];
  const logins: LoginEvent[] = [];
  const events: GatewayEvents = {
    line: () => undefined,
    login: (e) => void logins.push(e),
    failmode: (e) => void failmodes.push(e),
    forwardAuth: () => undefined,
    metrics: createGatewayMetrics(new Registry()),
    close: () => Promise.resolve(),
  };
  const api = createGatewayApiClient(config, clock, () => undefined);
  const db = openGatewayStateDb(':memory:');
  const sessions = new SessionStore(
    { clock, random, db },
    {
      idleMs: config.gateway.sessionIdleMs,
      lifetimeMs: config.gateway.sessionLifetimeMs,
      loginTimeoutMs: config.gateway.loginTimeoutMs,
    },
  );
  const portal = buildGatewayApp({
    config,
    primary: alwaysAcceptDirectory,
    api,
    sessions,
    events,
    clock,
    random,
  });
  const base = config.gateway.portalUrl.pathname;
  const target = `https://${app.hosts[0]}${app.paths[0] ?? '/'}`;
  const cookies = new CookieJar();
  const post = async (path: string, form: Record<string, string>) => {
    const res = await portal.inject({
      method: 'POST',
      url: `${base}${path}`,
      headers: {
        cookie: cookies.header(),
        'content-type': 'application/x-www-form-urlencoded',
        origin: config.gateway.portalUrl.origin,
      },
      payload: new URLSearchParams(form).toString(),
    });
    cookies.take(res.headers['set-cookie']);
    return res;
  };
  try {
    const signIn = await portal.inject({ url: `${base}login?rd=${encodeURIComponent(target)}` });
    cookies.take(signIn.headers['set-cookie']);
    const csrf = /name="csrf" value="([^"]+)"/.exec(signIn.body)?.[1] ?? '';
    const startMs = clock.nowMs();
    let answer = await post('login', { csrf, username: GATEWAY_DRILL_USERNAME, password: 'drill' });
    if (answer.statusCode === 200 && /action="[^"]*login\/passcode"/.test(answer.body)) {
      answer = await post('login/passcode', { csrf, passcode: DRILL_PASSCODE });
    }
    const decisionMs = clock.nowMs() - startMs;
    let outcome = `refused (${answer.statusCode})`;
    if (answer.statusCode === 200 && /id="failmode-banner"/.test(answer.body)) {
      // In: does the session open the application, and what does it tell it?
      const check = await portal.inject({
        url: `${base}authz/auth-request`,
        headers: { 'x-original-url': target, cookie: cookies.header() },
      });
      outcome =
        check.statusCode === 200
          ? `in, Remote-2FA: ${String(check.headers['remote-2fa'])}`
          : `a session that does not open the app (${check.statusCode})`;
    } else if (answer.statusCode === 401 && logins.some((l) => l.reason === 'wrong-passcode')) {
      outcome = GATEWAY_DRILL_OUTCOMES.serviceDenied;
    } else if (answer.statusCode === 303) {
      outcome = 'in, without failmode';
    }
    return { outcome, decisionMs, failmodes, logins };
  } finally {
    await portal.close();
    api.close();
    db.close();
  }
}

function judge(
  app: GatewayAppConfig,
  scenario: string,
  expectedFailmode: Failmode,
  operatorFailmode: Failmode | undefined,
  expected: ReturnType<typeof expectedGatewayOutcome>,
  login: LoginRecord,
): GatewayDrillCell {
  const actualLogLine = login.failmodes[0]?.msg;
  const logLineSeen =
    expected.logLine === undefined
      ? actualLogLine === undefined
      : login.failmodes.some((f) => f.msg === expected.logLine);
  const problems: string[] = [];
  if (login.outcome !== expected.outcome) {
    problems.push(`expected ${expected.outcome}, got ${login.outcome}`);
  }
  if (!logLineSeen) {
    problems.push(
      expected.logLine === undefined
        ? `failmode was invoked ("${actualLogLine}") though the service answered`
        : `gateway.log lacks "${expected.logLine}"${actualLogLine ? ` (it says "${actualLogLine}")` : ''}`,
    );
  }
  return {
    section: `app:${app.name}`,
    scenario,
    declaredFailmode: app.failmode,
    expectedFailmode,
    expectedBy: operatorFailmode ? 'operator' : 'config',
    failmodeExpected: expected.failmodeExpected,
    expectedOutcome: expected.outcome,
    actualOutcome: login.outcome,
    expectedLogLine: expected.logLine,
    actualLogLine,
    logLineSeen,
    decisionMs: login.decisionMs,
    match: problems.length === 0,
    mismatch: problems.length > 0 ? problems.join('; ') : undefined,
  };
}

/** The cookies of one drill login (Fastify inject keeps none). */
class CookieJar {
  readonly #pairs = new Map<string, string>();

  take(setCookie: string | string[] | undefined): void {
    for (const line of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const pair = line.split(';')[0] ?? '';
      const name = pair.slice(0, pair.indexOf('='));
      if (/Max-Age=0/i.test(line)) this.#pairs.delete(name);
      else this.#pairs.set(name, pair);
    }
  }

  header(): string {
    return [...this.#pairs.values()].join('; ');
  }
}
