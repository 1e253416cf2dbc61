import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decideSecondFactor,
  FAILMODE_LOG_MESSAGES as MSG,
  FAILMODES,
  isFailmode,
  SECOND_FACTOR_STAGES,
  UNREACHABLE_REASONS,
  type Failmode,
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

// AUTH-API.md §3.9 (both columns) and §3.10, one row per stage x outcome x failmode.
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
