// Each benchmark's self-check (bench/run-checks.ts) refuses the broken runs seen before — zero
// decisions, NaN p99, most logins rejected, pushes left pending — and accepts a sound one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  authapiRunProblems,
  outageRunProblems,
  pushRunProblems,
  radiusRunProblems,
  ldapRunProblems,
  nodesRunProblems,
  type LdapTargetRun,
  type NodesPhaseRun,
  type AuthapiTargetRun,
  type OutageRun,
  type PushRun,
  type RadiusTargetRun,
} from '../bench/run-checks.ts';

function rejects(problems: string[], pattern: RegExp): void {
  assert.ok(problems.length > 0, 'the run was accepted');
  assert.ok(
    problems.some((p) => pattern.test(p)),
    `no problem matches ${pattern}: ${problems.join('; ')}`,
  );
}

describe('bench:radius run checks', () => {
  const target = (over: Partial<RadiusTargetRun> = {}): RadiusTargetRun => ({
    name: 'airlock',
    accepts: 4000,
    rejects: 0,
    timeouts: 0,
    authPerSecond: 400,
    p99Ms: 170,
    ...over,
  });

  it('accepts a sound run', () => {
    assert.deepEqual(radiusRunProblems([target(), target({ name: 'freeradius' })]), []);
  });
  it('refuses a run with no answers', () => {
    rejects(radiusRunProblems([target({ accepts: 0, authPerSecond: 0, p99Ms: NaN })]), /accepted/);
  });
  it('refuses a run with a NaN p99', () => {
    rejects(radiusRunProblems([target({ p99Ms: NaN })]), /p99 is NaN/);
  });
  it('refuses a run in which most logins were rejected', () => {
    rejects(radiusRunProblems([target({ accepts: 10, rejects: 3990 })]), /rejected logins: 3990/);
  });
  it('refuses a run with a timeout', () => {
    rejects(radiusRunProblems([target({ timeouts: 1 })]), /timeouts/);
  });
});

describe('bench:ldap run checks', () => {
  const target = (over: Partial<LdapTargetRun> = {}): LdapTargetRun => ({
    name: 'airlock',
    successes: 3000,
    rejects: 0,
    errors: 0,
    bindsPerSecond: 300,
    p99Ms: 60,
    ...over,
  });

  it('accepts a sound run', () => {
    assert.deepEqual(ldapRunProblems([target(), target({ name: 'slapd' })]), []);
  });
  it('refuses a run without a successful bind', () => {
    rejects(
      ldapRunProblems([target({ successes: 0, bindsPerSecond: 0, p99Ms: NaN })]),
      /successful binds/,
    );
  });
  it('refuses a run in which most binds were refused', () => {
    rejects(ldapRunProblems([target({ successes: 10, rejects: 2990 })]), /refused binds: 2990/);
  });
  it('refuses a run with an error or timeout', () => {
    rejects(ldapRunProblems([target({ errors: 1 })]), /errors and timeouts/);
  });
  it('refuses a run with a NaN p99', () => {
    rejects(ldapRunProblems([target({ p99Ms: NaN })]), /p99 is NaN/);
  });
});

describe('bench:authapi run checks', () => {
  const target = (over: Partial<AuthapiTargetRun> = {}): AuthapiTargetRun => ({
    name: 'airlock',
    requests: 20000,
    requestsPerSecond: 2000,
    p99Ms: 29,
    errors: 0,
    non2xx: 0,
    serverCpuMsPerRequest: 0.3,
    ...over,
  });
  const allowed = { allowed: 10000, denied: 0 };

  it('accepts a sound run', () => {
    assert.deepEqual(authapiRunProblems([target(), target({ name: 'bare' })], allowed), []);
  });
  it('refuses a run without requests', () => {
    rejects(
      authapiRunProblems([target({ requests: 0, requestsPerSecond: 0, p99Ms: NaN })], allowed),
      /requests is 0/,
    );
  });
  it('refuses non-2xx answers and errors', () => {
    rejects(authapiRunProblems([target({ non2xx: 5 })], allowed), /non-2xx/);
    rejects(authapiRunProblems([target({ errors: 1 })], allowed), /errors/);
  });
  it('refuses a run whose server CPU was not measured', () => {
    rejects(
      authapiRunProblems([target({ serverCpuMsPerRequest: NaN })], allowed),
      /server CPU per request/,
    );
  });
  it('refuses a run in which the service denied logins (a deny is a 200 too)', () => {
    rejects(
      authapiRunProblems([target()], { allowed: 9000, denied: 1000 }),
      /logins denied is 1000/,
    );
    rejects(authapiRunProblems([target()], { allowed: 0, denied: 0 }), /allowed is 0/);
  });
});

describe('bench:outage run checks', () => {
  const run = (over: Partial<OutageRun> = {}): OutageRun => ({
    name: 'breaker',
    breakerEnabled: true,
    logins: 3641,
    serviceAnswersBefore: 240,
    failmodeCount: 1406,
    failmodeP99Ms: 7,
    otherAnswers: 0,
    recoverMs: 14921,
    detectMs: 2038,
    openFailmodeCount: 1390,
    openFailmodeP99Ms: 4,
    proxyCpuMsPerLogin: 1.5,
    ...over,
  });

  it('accepts a sound run, with and without the breaker', () => {
    assert.deepEqual(
      outageRunProblems([
        run(),
        run({ name: 'no breaker', breakerEnabled: false, detectMs: undefined, recoverMs: 38 }),
      ]),
      [],
    );
  });
  it('refuses the run main printed: 0 failmode decisions, NaN p99, every login another answer', () => {
    const problems = outageRunProblems([
      run({ failmodeCount: 0, failmodeP99Ms: NaN, otherAnswers: 3641, serviceAnswersBefore: 0 }),
    ]);
    rejects(problems, /failmode decisions during the outage is 0/);
    rejects(problems, /p99 ms is NaN/);
    rejects(problems, /neither the service's nor failmode's: 3641 of 3641/);
    rejects(problems, /service answers before the outage is 0/);
  });
  it('refuses a breaker run in which the breaker never opened, or no recovery', () => {
    rejects(outageRunProblems([run({ detectMs: undefined })]), /never opened/);
    rejects(outageRunProblems([run({ recoverMs: undefined })]), /never answered a login after/);
  });
  it('refuses a breaker run with no failmode decision once the breaker was open (no p99 to report)', () => {
    const problems = outageRunProblems([run({ openFailmodeCount: 0, openFailmodeP99Ms: NaN })]);
    rejects(problems, /decisions once the breaker was open is 0/);
    rejects(problems, /p99 ms once open is NaN/);
    rejects(
      outageRunProblems([run({ openFailmodeCount: undefined })]),
      /once the breaker was open is 0/,
    );
  });
  it('refuses a run whose proxy process used no CPU or was not measured', () => {
    rejects(outageRunProblems([run({ proxyCpuMsPerLogin: 0 })]), /proxy CPU ms per login is 0/);
    rejects(outageRunProblems([run({ proxyCpuMsPerLogin: NaN })]), /proxy CPU ms per login is NaN/);
  });
});

describe('bench:push run checks', () => {
  const run = (over: Partial<PushRun> = {}): PushRun => ({
    users: 10000,
    pendingAtOnce: 10000,
    pushesCreated: 10000,
    accepts: 10000,
    rejects: 0,
    timeouts: 0,
    pendingLeft: 0,
    approvalErrors: 0,
    peakRssMiB: { proxy: 209.7, service: 151.4 },
    approvalP99Ms: 206.9,
    ...over,
  });

  it('accepts a sound run', () => {
    assert.deepEqual(pushRunProblems(run()), []);
  });
  it('refuses the run that printed "meets it": 127 pending, every login rejected', () => {
    const problems = pushRunProblems(
      run({ pendingAtOnce: 127, accepts: 0, rejects: 10000, pendingLeft: 127, approvalP99Ms: NaN }),
    );
    rejects(problems, /pending at once: 127 of 10000/);
    rejects(problems, /Access-Accepts: 0 of 10000/);
    rejects(problems, /Access-Rejects is 10000/);
    rejects(problems, /still pending at the end is 127/);
    rejects(problems, /p99 ms is NaN/);
  });
  it('refuses a run in which a login sent two pushes', () => {
    rejects(pushRunProblems(run({ pushesCreated: 10543 })), /pushes created: 10543/);
  });
  it('refuses logins without an answer', () => {
    rejects(pushRunProblems(run({ accepts: 9990, timeouts: 10 })), /without an answer is 10/);
  });
});

describe('bench:nodes run checks', () => {
  const node = (name: string, over: Partial<NodesPhaseRun['nodes'][number]> = {}) => ({
    name,
    requests: 8000,
    errors: 0,
    non2xx: 0,
    p99Ms: 30,
    ...over,
  });
  const one = (over: Partial<NodesPhaseRun> = {}): NodesPhaseRun => ({
    name: '1 node',
    nodes: [node('node A')],
    logins: 4000,
    loginsPerSecond: 400,
    cpuMsPerLogin: { 'node A': 1.2, postgresql: 0.4, 'load generator': 0.3 },
    ...over,
  });
  const two = (over: Partial<NodesPhaseRun> = {}): NodesPhaseRun => ({
    name: '2 nodes',
    nodes: [node('node A', { requests: 4500 }), node('node B', { requests: 4300 })],
    logins: 4400,
    loginsPerSecond: 440,
    cpuMsPerLogin: { 'node A': 1.1, 'node B': 1.2, postgresql: 0.4, 'load generator': 0.3 },
    ...over,
  });
  const allowed = { allowed: 8400, denied: 0 };

  it('accepts a sound run', () => {
    assert.deepEqual(nodesRunProblems([one(), two()], allowed), []);
  });
  it('refuses a run in which the second node answered nothing (it did not run)', () => {
    rejects(
      nodesRunProblems(
        [one(), two({ nodes: [node('node A'), node('node B', { requests: 0, p99Ms: NaN })] })],
        allowed,
      ),
      /node B: requests is 0/,
    );
  });
  it('refuses a run without logins, or a NaN rate', () => {
    rejects(
      nodesRunProblems([one({ logins: 0, loginsPerSecond: NaN }), two()], allowed),
      /logins is 0|not a number/,
    );
  });
  it('refuses errors, non-2xx answers, and denied logins', () => {
    rejects(
      nodesRunProblems([one({ nodes: [node('node A', { errors: 3 })] }), two()], allowed),
      /errors and timeouts/,
    );
    rejects(
      nodesRunProblems([one({ nodes: [node('node A', { non2xx: 1 })] }), two()], allowed),
      /non-2xx/,
    );
    rejects(nodesRunProblems([one(), two()], { allowed: 10, denied: 8000 }), /denied is 8000/);
  });
  it('refuses a run whose CPU per login was not measured', () => {
    rejects(nodesRunProblems([one({ cpuMsPerLogin: {} }), two()], allowed), /CPU per login/);
  });
});
