import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decideSecondFactor,
  FAILMODE_LOG_MESSAGES as MSG,
  FAILMODES,
  isFailmode,
  resolveFailmode,
  SECOND_FACTOR_STAGES,
  UNREACHABLE_REASONS,
  type EffectiveFailmodeReason,
  type Failmode,
  type GroupFailmode,
  type SecondFactorAction,
  type SecondFactorOutcome,
  type SecondFactorStage,
} from './failmode-decision.ts';

/** One outcome per kind and per unreachable reason: the whole input space the table covers. */
const OUTCOMES: Record<string, SecondFactorOutcome> = {
  ok: { kind: 'ok' },
  ...Object.fromEntries(
    UNREACHABLE_REASONS.map((reason) => [reason, { kind: 'unreachable', reason } as const]),
  ),
  rejected: { kind: 'rejected', code: 40103, message: 'Invalid signature in request credentials' },
  invalid: { kind: 'invalid', httpStatus: 404 },
  'primary-only': { kind: 'primary-only' },
};

type Row = [
  stage: SecondFactorStage,
  outcome: string,
  failmode: Failmode,
  action: SecondFactorAction,
  failmodeInvoked: boolean,
  logMessage: string,
];

const REJECTED_PREAUTH = 'Duo preauth rejected: 40103 Invalid signature in request credentials';
const REJECTED_AUTH = 'Duo auth rejected: 40103 Invalid signature in request credentials';

// docs/design/auth-api.md §3.9 (both columns) and §3.10, one row per stage x outcome x failmode.
// prettier-ignore
const TABLE: Row[] = [
  ['preauth', 'ok',           'safe',   'proceed', false, 'Duo preauth answered'],
  ['preauth', 'ok',           'secure', 'proceed', false, 'Duo preauth answered'],
  ['preauth', 'dns',          'safe',   'allow',   true,  MSG.failmodeSafe],
  ['preauth', 'dns',          'secure', 'deny',    true,  MSG.failmodeSecure],
  ['preauth', 'connect',      'safe',   'allow',   true,  MSG.failmodeSafe],
  ['preauth', 'connect',      'secure', 'deny',    true,  MSG.failmodeSecure],
  ['preauth', 'tls',          'safe',   'allow',   true,  MSG.failmodeSafe],
  ['preauth', 'tls',          'secure', 'deny',    true,  MSG.failmodeSecure],
  ['preauth', 'timeout',      'safe',   'allow',   true,  MSG.failmodeSafe],
  ['preauth', 'timeout',      'secure', 'deny',    true,  MSG.failmodeSecure],
  ['preauth', 'server-error', 'safe',   'allow',   true,  MSG.failmodeSafe],
  ['preauth', 'server-error', 'secure', 'deny',    true,  MSG.failmodeSecure],
  ['preauth', 'malformed',    'safe',   'allow',   true,  MSG.failmodeSafe],
  ['preauth', 'malformed',    'secure', 'deny',    true,  MSG.failmodeSecure],
  ['preauth', 'rejected',     'safe',   'deny',    false, REJECTED_PREAUTH],
  ['preauth', 'rejected',     'secure', 'deny',    false, REJECTED_PREAUTH],
  ['preauth', 'invalid',      'safe',   'deny',    false, 'Duo preauth returned an invalid response (HTTP 404)'],
  ['preauth', 'invalid',      'secure', 'deny',    false, 'Duo preauth returned an invalid response (HTTP 404)'],
  ['preauth', 'primary-only', 'safe',   'allow',   true,  MSG.primaryOnlySafe],
  ['preauth', 'primary-only', 'secure', 'deny',    true,  MSG.failmodeSecure],
  ['auth',    'ok',           'safe',   'proceed', false, 'Duo auth answered'],
  ['auth',    'ok',           'secure', 'proceed', false, 'Duo auth answered'],
  ['auth',    'dns',          'safe',   'deny',    false, MSG.authFailure],
  ['auth',    'dns',          'secure', 'deny',    false, MSG.authFailure],
  ['auth',    'connect',      'safe',   'deny',    false, MSG.authFailure],
  ['auth',    'connect',      'secure', 'deny',    false, MSG.authFailure],
  ['auth',    'tls',          'safe',   'deny',    false, MSG.authFailure],
  ['auth',    'tls',          'secure', 'deny',    false, MSG.authFailure],
  ['auth',    'timeout',      'safe',   'deny',    false, MSG.authTimeout],
  ['auth',    'timeout',      'secure', 'deny',    false, MSG.authTimeout],
  ['auth',    'server-error', 'safe',   'allow',   true,  MSG.failmodeSafe],
  ['auth',    'server-error', 'secure', 'deny',    true,  MSG.failmodeSecure],
  ['auth',    'malformed',    'safe',   'allow',   true,  MSG.failmodeSafe],
  ['auth',    'malformed',    'secure', 'deny',    true,  MSG.failmodeSecure],
  ['auth',    'rejected',     'safe',   'deny',    false, REJECTED_AUTH],
  ['auth',    'rejected',     'secure', 'deny',    false, REJECTED_AUTH],
  ['auth',    'invalid',      'safe',   'deny',    false, 'Duo auth returned an invalid response (HTTP 404)'],
  ['auth',    'invalid',      'secure', 'deny',    false, 'Duo auth returned an invalid response (HTTP 404)'],
  ['auth',    'primary-only', 'safe',   'allow',   true,  MSG.primaryOnlySafe],
  ['auth',    'primary-only', 'secure', 'deny',    true,  MSG.failmodeSecure],
];

function outcomeNamed(name: string): SecondFactorOutcome {
  const outcome = OUTCOMES[name];
  assert.ok(outcome, `unknown outcome ${name}`);
  return outcome;
}

describe('decideSecondFactor', () => {
  it('has exactly one table row per stage x outcome x failmode', () => {
    const expected = SECOND_FACTOR_STAGES.flatMap((stage) =>
      Object.keys(OUTCOMES).flatMap((outcome) =>
        FAILMODES.map((failmode) => `${stage}/${outcome}/${failmode}`),
      ),
    );
    const actual = TABLE.map(([stage, outcome, failmode]) => `${stage}/${outcome}/${failmode}`);
    assert.equal(new Set(actual).size, actual.length, 'duplicate rows');
    assert.deepEqual([...actual].sort(), [...expected].sort());
  });

  for (const [stage, outcome, failmode, action, failmodeInvoked, logMessage] of TABLE) {
    it(`${action === 'proceed' ? 'proceeds' : action === 'allow' ? 'allows' : 'denies'} at ${stage} when the outcome is ${outcome} and failmode is ${failmode}`, () => {
      const decision = decideSecondFactor({ stage, outcome: outcomeNamed(outcome), failmode });
      assert.equal(decision.action, action);
      assert.equal(decision.failmodeInvoked, failmodeInvoked);
      assert.equal(decision.secondFactorChecked, action === 'proceed');
      assert.equal(decision.logMessage, logMessage);
    });
  }

  it('never allows a rejection or an invalid answer, at any stage or failmode', () => {
    const failures = [
      ...[undefined, 40001, 40002, 40101, 40102, 40103, 40105, 40301, 40401, 42901].map(
        (code): SecondFactorOutcome => ({ kind: 'rejected', code, message: 'x' }),
      ),
      ...[200, 201, 204, 301, 400, 401, 403, 404, 429].map((httpStatus): SecondFactorOutcome => ({
        kind: 'invalid',
        httpStatus,
      })),
    ];
    for (const stage of SECOND_FACTOR_STAGES) {
      for (const failmode of FAILMODES) {
        for (const outcome of failures) {
          const decision = decideSecondFactor({ stage, outcome, failmode });
          assert.equal(decision.action, 'deny', JSON.stringify({ stage, failmode, outcome }));
          assert.equal(decision.failmodeInvoked, false);
        }
      }
    }
  });

  it('holds the invariants over every combination', () => {
    for (const stage of SECOND_FACTOR_STAGES) {
      for (const failmode of FAILMODES) {
        for (const [name, outcome] of Object.entries(OUTCOMES)) {
          const d = decideSecondFactor({ stage, outcome, failmode });
          const where = `${stage}/${name}/${failmode}`;
          // failmode=secure never allows.
          if (failmode === 'secure') assert.notEqual(d.action, 'allow', where);
          // An allow always came from failmode or primary-only mode and never checked a factor.
          if (d.action === 'allow') {
            assert.equal(d.failmodeInvoked, true, where);
            assert.equal(d.secondFactorChecked, false, where);
          }
          // Only a well-formed answer lets the caller proceed, and it never invokes failmode.
          assert.equal(d.action === 'proceed', outcome.kind === 'ok', where);
          if (outcome.kind === 'ok') assert.equal(d.failmodeInvoked, false, where);
          // A network failure during /auth always denies (force_fail_closed).
          if (
            stage === 'auth' &&
            outcome.kind === 'unreachable' &&
            ['dns', 'connect', 'tls', 'timeout'].includes(outcome.reason)
          ) {
            assert.equal(d.action, 'deny', where);
          }
          assert.ok(d.logMessage.length > 0, where);
        }
      }
    }
  });

  it('names the rejection code in the log message, and omits it when the service gave none', () => {
    const withCode = decideSecondFactor({
      stage: 'preauth',
      outcome: { kind: 'rejected', code: 40103, message: 'Invalid signature' },
      failmode: 'safe',
    });
    assert.equal(withCode.logMessage, 'Duo preauth rejected: 40103 Invalid signature');
    assert.equal(withCode.reason, 'service-rejected');
    const withoutCode = decideSecondFactor({
      stage: 'auth',
      outcome: { kind: 'rejected', message: 'Too many requests' },
      failmode: 'safe',
    });
    assert.equal(withoutCode.logMessage, 'Duo auth rejected: Too many requests');
  });

  it('denies an outcome kind it does not know, even with failmode safe', () => {
    const outcome = { kind: 'surprise' } as unknown as SecondFactorOutcome;
    for (const stage of SECOND_FACTOR_STAGES) {
      const d = decideSecondFactor({ stage, outcome, failmode: 'safe' });
      assert.equal(d.action, 'deny');
      assert.equal(d.failmodeInvoked, false);
    }
  });

  it('reports a stable reason code for each path', () => {
    const reason = (stage: SecondFactorStage, name: string, failmode: Failmode) =>
      decideSecondFactor({ stage, outcome: outcomeNamed(name), failmode }).reason;
    assert.equal(reason('preauth', 'ok', 'safe'), 'service-answered');
    assert.equal(reason('preauth', 'timeout', 'safe'), 'failmode-safe');
    assert.equal(reason('preauth', 'timeout', 'secure'), 'failmode-secure');
    assert.equal(reason('preauth', 'primary-only', 'safe'), 'primary-only-safe');
    assert.equal(reason('preauth', 'primary-only', 'secure'), 'primary-only-secure');
    assert.equal(reason('auth', 'timeout', 'safe'), 'auth-timeout');
    assert.equal(reason('auth', 'connect', 'safe'), 'auth-network-failure');
    assert.equal(reason('auth', 'rejected', 'safe'), 'service-rejected');
    assert.equal(reason('auth', 'invalid', 'safe'), 'invalid-response');
  });

  it('accepts only safe and secure as a failmode', () => {
    assert.ok(isFailmode('safe'));
    assert.ok(isFailmode('secure'));
    for (const v of ['open', 'closed', 'SAFE', '', undefined, 1])
      assert.equal(isFailmode(v), false);
  });
});

// Per-group failmode: one secure group S and one safe group F configured; the user in none, one
// or both. (A real section sets only the list that has an effect; the decision takes both.)
const S = 'cn=contractors,ou=groups,dc=example,dc=org';
const F = 'cn=vpn-users,ou=groups,dc=example,dc=org';
const MEMBERSHIPS: Record<string, string[]> = { none: [], secure: [S], safe: [F], both: [S, F] };
const withGroups = (groups: readonly string[]): GroupFailmode => ({
  groups,
  secureGroups: [S],
  safeGroups: [F],
});

// section failmode x membership -> effective failmode, why, and the group that changed it.
// prettier-ignore
const EFFECTIVE: [Failmode, string, Failmode, EffectiveFailmodeReason, string | undefined][] = [
  ['safe',   'none',   'safe',   'section-failmode',      undefined],
  ['safe',   'secure', 'secure', 'group-failmode-secure', S],
  ['safe',   'safe',   'safe',   'section-failmode',      undefined],
  ['safe',   'both',   'secure', 'group-failmode-secure', S],
  ['secure', 'none',   'secure', 'section-failmode',      undefined],
  ['secure', 'secure', 'secure', 'section-failmode',      undefined],
  ['secure', 'safe',   'safe',   'group-failmode-safe',   F],
  ['secure', 'both',   'secure', 'section-failmode',      undefined],
];

describe('decideSecondFactor with per-group failmode', () => {
  it('has one effective-failmode row per section failmode x membership', () => {
    const expected = FAILMODES.flatMap((f) => Object.keys(MEMBERSHIPS).map((m) => `${f}/${m}`));
    assert.deepEqual(EFFECTIVE.map(([f, m]) => `${f}/${m}`).sort(), expected.sort());
  });

  for (const [failmode, membership, effective, reason, group] of EFFECTIVE) {
    it(`gives a ${failmode} section's user in ${membership === 'none' ? 'no failmode group' : `the ${membership} group${membership === 'both' ? 's' : ''}`} failmode ${effective}`, () => {
      assert.deepEqual(resolveFailmode(failmode, withGroups(MEMBERSHIPS[membership]!)), {
        failmode: effective,
        reason,
        ...(group === undefined ? {} : { group }),
      });
    });
  }

  it('decides every table row as the section failmode table at the effective failmode', () => {
    for (const [failmode, membership, effective, reason, group] of EFFECTIVE) {
      for (const [stage, outcome] of TABLE.map(([st, o]) => [st, o] as const)) {
        const where = `${stage}/${outcome}/${failmode}/${membership}`;
        const d = decideSecondFactor({
          stage,
          outcome: outcomeNamed(outcome),
          failmode,
          groupFailmode: withGroups(MEMBERSHIPS[membership]!),
        });
        const row = TABLE.find(([st, o, f]) => st === stage && o === outcome && f === effective);
        assert.ok(row, where);
        const [, , , action, failmodeInvoked, logMessage] = row;
        assert.equal(d.action, action, where);
        assert.equal(d.failmodeInvoked, failmodeInvoked, where);
        assert.equal(d.secondFactorChecked, action === 'proceed', where);
        assert.equal(d.logMessage, logMessage, where);
        assert.equal(
          d.reason,
          decideSecondFactor({ stage, outcome: outcomeNamed(outcome), failmode: effective }).reason,
          where,
        );
        assert.equal(d.effectiveFailmode, effective, where);
        assert.equal(d.effectiveFailmodeReason, reason, where);
        assert.equal(d.failmodeGroup, group, where);
      }
    }
  });

  it('adding a user to a failmode_secure group only ever turns allows into denies', () => {
    const actions: Record<SecondFactorAction, number> = { deny: 0, proceed: 1, allow: 2 };
    for (const stage of SECOND_FACTOR_STAGES) {
      for (const failmode of FAILMODES) {
        for (const [name, outcome] of Object.entries(OUTCOMES)) {
          for (const base of [[], [F], ['cn=other,dc=example,dc=org']]) {
            const before = decideSecondFactor({
              stage,
              outcome,
              failmode,
              groupFailmode: withGroups(base),
            });
            const after = decideSecondFactor({
              stage,
              outcome,
              failmode,
              groupFailmode: withGroups([...base, S]),
            });
            const where = `${stage}/${name}/${failmode}/${base.join('+') || 'none'}`;
            assert.ok(actions[after.action] <= actions[before.action], where);
            if (before.action === 'deny') assert.equal(after.action, 'deny', where);
            assert.notEqual(after.action, 'allow', `a secure-group member was allowed: ${where}`);
          }
        }
      }
    }
  });

  it('never lets a failmode_safe group allow a rejection, an invalid answer or an /auth network failure', () => {
    for (const stage of SECOND_FACTOR_STAGES) {
      for (const [name, outcome] of Object.entries(OUTCOMES)) {
        const d = decideSecondFactor({
          stage,
          outcome,
          failmode: 'secure',
          groupFailmode: withGroups([F]),
        });
        const plainSafe = decideSecondFactor({ stage, outcome, failmode: 'safe' });
        // A safe group gives exactly failmode=safe, no more.
        assert.equal(d.action, plainSafe.action, `${stage}/${name}`);
      }
    }
  });

  it('matches group DNs whatever their case and spacing', () => {
    const groups = ['CN=Contractors, OU=Groups,  DC=Example,DC=ORG'];
    const r = resolveFailmode('safe', { groups, secureGroups: [S], safeGroups: [] });
    assert.equal(r.failmode, 'secure');
    assert.equal(r.group, S);
    const escaped = resolveFailmode('safe', {
      groups: ['cn=Smith\\, J,ou=groups,dc=example,dc=org'],
      secureGroups: ['CN=smith\\, j, OU=Groups, DC=example, DC=org'],
      safeGroups: [],
    });
    assert.equal(escaped.failmode, 'secure');
    // A group whose DN merely starts like a configured one is another group.
    const prefix = resolveFailmode('safe', {
      groups: ['cn=contractors,ou=groups,dc=example,dc=org,dc=extra', 'cn=contractors'],
      secureGroups: [S],
      safeGroups: [],
    });
    assert.equal(prefix.failmode, 'safe');
  });

  it('applies the section failmode when the user has no groups or no lists apply', () => {
    for (const failmode of FAILMODES) {
      assert.deepEqual(resolveFailmode(failmode, undefined), {
        failmode,
        reason: 'section-failmode',
      });
      assert.deepEqual(
        resolveFailmode(failmode, { groups: [], secureGroups: [S], safeGroups: [F] }),
        {
          failmode,
          reason: 'section-failmode',
        },
      );
      const d = decideSecondFactor({
        stage: 'preauth',
        outcome: outcomeNamed('timeout'),
        failmode,
      });
      assert.equal(d.effectiveFailmode, failmode);
      assert.equal(d.effectiveFailmodeReason, 'section-failmode');
      assert.equal('failmodeGroup' in d, false);
    }
  });

  it('logs the line of the effective failmode: a secure group in a safe section logs Failmode Secure', () => {
    const d = decideSecondFactor({
      stage: 'preauth',
      outcome: outcomeNamed('connect'),
      failmode: 'safe',
      groupFailmode: withGroups([S]),
    });
    assert.equal(d.logMessage, MSG.failmodeSecure);
    assert.equal(d.reason, 'failmode-secure');
    const p = decideSecondFactor({
      stage: 'preauth',
      outcome: outcomeNamed('primary-only'),
      failmode: 'secure',
      groupFailmode: withGroups([F]),
    });
    assert.equal(p.action, 'allow');
    assert.equal(p.logMessage, MSG.primaryOnlySafe);
    assert.equal(p.reason, 'primary-only-safe');
    assert.equal(p.effectiveFailmodeReason, 'group-failmode-safe');
  });
});
