// What every benchmark checks about its own run before it prints a figure: the workload it claims
// happened, decisions were counted, no NaN, rejects and timeouts within a stated bound. A run that
// fails a check is invalid: the benchmark says why on stderr and exits non-zero.

/** `--smoke` or BENCH_SMOKE=1: a seconds-long run with the same checks (npm run bench:smoke). */
export const SMOKE = process.argv.includes('--smoke') || process.env.BENCH_SMOKE === '1';

/** The smoke-mode value or the full-run value. */
export function sized<T>(smoke: T, full: T): T {
  return SMOKE ? smoke : full;
}

/** One failed check, in words; undefined when it passed. */
export type Problem = string | undefined;

export function atLeast(what: string, value: number, min: number): Problem {
  if (!Number.isFinite(value)) return `${what} is ${value}, not a number`;
  return value >= min ? undefined : `${what} is ${value}, expected at least ${min}`;
}

export function atMost(what: string, value: number, max: number): Problem {
  if (!Number.isFinite(value)) return `${what} is ${value}, not a number`;
  return value <= max ? undefined : `${what} is ${value}, expected at most ${max}`;
}

export function finite(what: string, value: number | undefined): Problem {
  return value !== undefined && Number.isFinite(value) ? undefined : `${what} is ${value}`;
}

/** `count` of `total` may be at most `maxShare` of it (0 allows none). */
export function shareAtMost(what: string, count: number, total: number, maxShare: number): Problem {
  if (!(total > 0)) return `${what}: nothing to count (${count} of ${total})`;
  if (count / total <= maxShare) return undefined;
  const bound = maxShare === 0 ? 'none allowed' : `at most ${(maxShare * 100).toFixed(1)} %`;
  return `${what}: ${count} of ${total} (${bound})`;
}

/** The failed checks of a list. */
export function problemsOf(checks: readonly Problem[]): string[] {
  return checks.filter((p): p is string => p !== undefined);
}

/** Prints why a run is invalid (stderr) and gives the exit code: 0 valid, 1 invalid. */
export function verdict(bench: string, problems: readonly string[]): number {
  if (problems.length === 0) return 0;
  console.error(`${bench}: the run is invalid:`);
  for (const p of problems) console.error(`  - ${p}`);
  return 1;
}

// ---- Each benchmark's checks, over plain summaries of its run (so tests can feed them runs). ----

export interface RadiusTargetRun {
  name: string;
  accepts: number;
  rejects: number;
  timeouts: number;
  authPerSecond: number;
  p99Ms: number;
}

/** A rejected login measures something else than a login: more than this share is invalid. */
export const RADIUS_MAX_REJECT_SHARE = 0.005;

/** bench:radius: every target answered, no timeout, rejects ≤ 0.5 %, a finite rate and p99. */
export function radiusRunProblems(targets: readonly RadiusTargetRun[]): string[] {
  return problemsOf(
    targets.flatMap((t) => {
      const answered = t.accepts + t.rejects;
      return [
        atLeast(`${t.name}: accepted logins`, t.accepts, 1),
        atMost(`${t.name}: timeouts`, t.timeouts, 0),
        answered > 0
          ? shareAtMost(`${t.name}: rejected logins`, t.rejects, answered, RADIUS_MAX_REJECT_SHARE)
          : undefined,
        atLeast(`${t.name}: auth/s`, t.authPerSecond, Number.MIN_VALUE),
        finite(`${t.name}: p99`, t.p99Ms),
      ];
    }),
  );
}

export interface LdapTargetRun {
  name: string;
  successes: number;
  rejects: number;
  errors: number;
  bindsPerSecond: number;
  p99Ms: number;
}

/**
 * bench:ldap: every target's binds succeeded (an invalidCredentials measures a refused bind, not a
 * bind: ≤ 0.5 %), no error or timeout, a finite rate and p99.
 */
export function ldapRunProblems(targets: readonly LdapTargetRun[]): string[] {
  return problemsOf(
    targets.flatMap((t) => {
      const answered = t.successes + t.rejects;
      return [
        atLeast(`${t.name}: successful binds`, t.successes, 1),
        atMost(`${t.name}: errors and timeouts`, t.errors, 0),
        answered > 0
          ? shareAtMost(`${t.name}: refused binds`, t.rejects, answered, RADIUS_MAX_REJECT_SHARE)
          : undefined,
        atLeast(`${t.name}: binds/s`, t.bindsPerSecond, Number.MIN_VALUE),
        finite(`${t.name}: p99`, t.p99Ms),
      ];
    }),
  );
}

export interface AuthapiTargetRun {
  name: string;
  requests: number;
  requestsPerSecond: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  serverCpuMsPerRequest: number;
}

/**
 * bench:authapi: requests were made and answered 2xx, without errors, with a finite rate and p99;
 * and the service allowed the passcode logins it was sent (its audit: a deny is a 200 too).
 */
export function authapiRunProblems(
  targets: readonly AuthapiTargetRun[],
  passcodes: { allowed: number; denied: number },
): string[] {
  return problemsOf([
    atLeast('airlock: passcode logins allowed', passcodes.allowed, 1),
    atMost('airlock: passcode logins denied', passcodes.denied, 0),
    ...targets.flatMap((t) => [
      atLeast(`${t.name}: requests`, t.requests, 1),
      atMost(`${t.name}: errors and timeouts`, t.errors, 0),
      atMost(`${t.name}: non-2xx answers`, t.non2xx, 0),
      atLeast(`${t.name}: req/s`, t.requestsPerSecond, Number.MIN_VALUE),
      finite(`${t.name}: p99`, t.p99Ms),
      finite(`${t.name}: server CPU per request`, t.serverCpuMsPerRequest),
    ]),
  ]);
}

export interface OutageRun {
  name: string;
  logins: number;
  /** Logins answered by the service itself before the outage: the healthy phase happened. */
  serviceAnswersBefore: number;
  /** Failmode decisions for logins started during the outage. */
  failmodeCount: number;
  failmodeP99Ms: number;
  /** Breaker run: failmode decisions for logins started once the breaker was open, and their p99. */
  openFailmodeCount?: number;
  openFailmodeP99Ms?: number;
  /** Answers that were neither the service's nor failmode's (rejects, timeouts, other messages). */
  otherAnswers: number;
  /** Outage end → first service answer again; undefined when the service never answered again. */
  recoverMs: number | undefined;
  breakerEnabled: boolean;
  /** Outage start → breaker open; undefined when it never opened. */
  detectMs: number | undefined;
  /** CPU ms per login of the proxy process in the outage's second half (it ran and was measured). */
  proxyCpuMsPerLogin: number;
}

/** Answers that are neither the service's nor failmode's: at most this share of the logins. */
export const OUTAGE_MAX_OTHER_SHARE = 0.01;

/**
 * bench:outage: logins before the outage answered by the service, failmode decisions counted
 * during it with a finite p99, other answers ≤ 1 %, the breaker opened and decided logins once
 * open with a finite p99 (breaker run), the service answered again after the outage, and the proxy
 * process's CPU per login was measured (a positive figure: the proxy child ran).
 */
export function outageRunProblems(runs: readonly OutageRun[]): string[] {
  return problemsOf(
    runs.flatMap((r) => [
      atLeast(`${r.name}: logins`, r.logins, 1),
      atLeast(`${r.name}: service answers before the outage`, r.serviceAnswersBefore, 1),
      atLeast(`${r.name}: failmode decisions during the outage`, r.failmodeCount, 1),
      finite(`${r.name}: failmode p99 ms`, r.failmodeP99Ms),
      r.logins > 0
        ? shareAtMost(
            `${r.name}: answers neither the service's nor failmode's`,
            r.otherAnswers,
            r.logins,
            OUTAGE_MAX_OTHER_SHARE,
          )
        : undefined,
      r.breakerEnabled && r.detectMs === undefined
        ? `${r.name}: the circuit breaker never opened`
        : undefined,
      ...(r.breakerEnabled && r.detectMs !== undefined
        ? [
            atLeast(
              `${r.name}: failmode decisions once the breaker was open`,
              r.openFailmodeCount ?? 0,
              1,
            ),
            finite(`${r.name}: failmode p99 ms once open`, r.openFailmodeP99Ms ?? NaN),
          ]
        : []),
      r.recoverMs === undefined
        ? `${r.name}: the service never answered a login after the outage`
        : undefined,
      atLeast(`${r.name}: proxy CPU ms per login`, r.proxyCpuMsPerLogin, Number.MIN_VALUE),
    ]),
  );
}

export interface PushRun {
  users: number;
  /** The most users with a push pending at once (counted in the service's database). */
  pendingAtOnce: number;
  /** Push requests the service created in the run: one per login, or a login sent two. */
  pushesCreated: number;
  accepts: number;
  rejects: number;
  timeouts: number;
  /** Pushes still pending after every answer came back. */
  pendingLeft: number;
  /** Device API calls (list, approve) that failed. */
  approvalErrors: number;
  peakRssMiB: { proxy: number; service: number };
  approvalP99Ms: number;
}

/**
 * bench:push: one push per login, every user's push pending at once, every approval made, every
 * login accepted (no reject, no timeout), nothing left pending, peak RSS and latency measured.
 */
export function pushRunProblems(r: PushRun): string[] {
  return problemsOf([
    atLeast('users', r.users, 1),
    r.pendingAtOnce === r.users
      ? undefined
      : `users with a push pending at once: ${r.pendingAtOnce} of ${r.users} (all expected)`,
    r.pushesCreated === r.users
      ? undefined
      : `pushes created: ${r.pushesCreated} for ${r.users} logins (one each expected)`,
    atMost('failed approvals (device API)', r.approvalErrors, 0),
    r.accepts === r.users ? undefined : `Access-Accepts: ${r.accepts} of ${r.users} (all expected)`,
    atMost('Access-Rejects', r.rejects, 0),
    atMost('logins without an answer', r.timeouts, 0),
    atMost('pushes still pending at the end', r.pendingLeft, 0),
    atLeast('proxy peak RSS MiB', r.peakRssMiB.proxy, Number.MIN_VALUE),
    atLeast('service peak RSS MiB', r.peakRssMiB.service, Number.MIN_VALUE),
    finite('approval → Access-Accept p99 ms', r.approvalP99Ms),
  ]);
}

/** One process's figures at one sample of `npm run soak`, with the load of the period before it. */
export interface SoakSample {
  process: string;
  atMs: number;
  rssMiB: number;
  heapMiB: number;
  fds: number;
  loopP99Ms: number;
  /** RADIUS logins answered by the service (push approved, passcode accepted). */
  radiusAccepts: number;
  /** RADIUS logins let in by failmode safe during an outage. */
  failmodeAccepts: number;
  authApiOk: number;
  adminWrites: number;
  /** Rejects and timeouts of logins sent during an outage: expected, not errors. */
  errorsInOutage: number;
  /** Anything that went wrong outside an outage, said in words. */
  errors: string[];
}

/**
 * npm run soak: every sample measured (finite figures) with logins answered in its period, no
 * error outside the outages, and — when the run has outages — failmode decisions during them.
 */
export function soakRunProblems(
  samples: readonly SoakSample[],
  options: { warmupMs: number; outages: boolean },
): string[] {
  const afterWarmup = samples.filter((s) => s.atMs >= options.warmupMs);
  const errors = samples.flatMap((s) => s.errors);
  const uniqueErrors = [...new Set(errors)].slice(0, 3).join('; ');
  return problemsOf([
    atLeast('samples after the warm-up', afterWarmup.length, 2),
    ...samples.flatMap((s) => [
      finite(`${s.process} RSS at ${(s.atMs / 1000).toFixed(0)} s`, s.rssMiB),
      finite(`${s.process} heap at ${(s.atMs / 1000).toFixed(0)} s`, s.heapMiB),
      finite(`${s.process} event-loop p99 at ${(s.atMs / 1000).toFixed(0)} s`, s.loopP99Ms),
      atLeast(`${s.process} open files at ${(s.atMs / 1000).toFixed(0)} s`, s.fds, 1),
      atLeast(
        `logins answered in the period before ${(s.atMs / 1000).toFixed(0)} s`,
        s.radiusAccepts + s.failmodeAccepts + s.authApiOk,
        1,
      ),
    ]),
    // Each period appears once per process: count one process's copies.
    errors.length === 0
      ? undefined
      : `errors outside the outages: ${errors.length / 2} (${uniqueErrors})`,
    options.outages
      ? atLeast(
          'failmode decisions during outages',
          samples.reduce((a, s) => a + s.failmodeAccepts, 0),
          1,
        )
      : undefined,
    atLeast(
      'admin writes',
      samples.reduce((a, s) => a + s.adminWrites, 0),
      1,
    ),
  ]);
}

export interface NodesPhaseRun {
  /** `1 node` or `2 nodes`. */
  name: string;
  /** What each service node answered in this run. */
  nodes: { name: string; requests: number; errors: number; non2xx: number; p99Ms: number }[];
  /** Logins (a preauth and an auth each) answered in the run, on all nodes. */
  logins: number;
  loginsPerSecond: number;
  /** CPU ms per login of each process measured (the nodes, PostgreSQL, the load generator). */
  cpuMsPerLogin: Record<string, number>;
}

/**
 * bench:nodes: each run made logins on every node it claims (a node that answered nothing did not
 * run), answered 2xx without errors, with finite rates, p99s and CPU figures; and the service
 * allowed the passcode logins it was sent (its audit: a deny is a 200 too).
 */
export function nodesRunProblems(
  runs: readonly NodesPhaseRun[],
  passcodes: { allowed: number; denied: number },
): string[] {
  return problemsOf([
    atLeast('passcode logins allowed', passcodes.allowed, 1),
    atMost('passcode logins denied', passcodes.denied, 0),
    runs.length === 2 ? undefined : `runs: ${runs.length}, expected 1 node and 2 nodes`,
    ...runs.flatMap((r, i) => [
      r.nodes.length === i + 1
        ? undefined
        : `${r.name}: ${r.nodes.length} nodes answered, expected ${i + 1}`,
      atLeast(`${r.name}: logins`, r.logins, 1),
      atLeast(`${r.name}: logins/s`, r.loginsPerSecond, Number.MIN_VALUE),
      ...r.nodes.flatMap((n) => [
        atLeast(`${r.name}, ${n.name}: requests`, n.requests, 1),
        atMost(`${r.name}, ${n.name}: errors and timeouts`, n.errors, 0),
        atMost(`${r.name}, ${n.name}: non-2xx answers`, n.non2xx, 0),
        finite(`${r.name}, ${n.name}: p99`, n.p99Ms),
      ]),
      ...r.nodes.map((n) => finite(`${r.name}, ${n.name}: CPU per login`, r.cpuMsPerLogin[n.name])),
    ]),
  ]);
}
