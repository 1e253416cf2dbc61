// The authentication log's words for every kind of audit event: Duo's result, factor and reason
// for each outcome Airlock records (the whole table), and the other two logs' shapes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Application, AuditEvent } from '../../core/model.ts';
import {
  administratorLogEntry,
  authLogEntry,
  authLogFactor,
  authLogReason,
  authLogResult,
  telephonyLogEntry,
} from './duo-log-views.ts';

const event = (
  action: string,
  result: string,
  detail: Record<string, unknown> = {},
  overrides: Partial<AuditEvent> = {},
): AuditEvent => ({
  id: 7,
  tsMs: 1_765_000_000_123,
  actor: 'app:DIAPP',
  action,
  targetType: 'user',
  targetId: 'DUALICE',
  appId: 'DIAPP',
  username: 'alice',
  result,
  ip: '192.0.2.1',
  detail,
  ...overrides,
});

describe('authentication log words', () => {
  const table: [string, AuditEvent, [string, string, string]][] = [
    [
      'passcode (TOTP) allowed',
      event('auth.passcode', 'allow', { method: 'totp' }),
      ['success', 'passcode', 'valid_passcode'],
    ],
    [
      'HOTP token allowed',
      event('auth.passcode', 'allow', { method: 'hotp' }),
      ['success', 'hardware_token', 'valid_passcode'],
    ],
    [
      'bypass code allowed',
      event('auth.passcode', 'allow', { method: 'bypass' }),
      ['success', 'bypass_code', 'valid_passcode'],
    ],
    [
      'SMS passcode allowed',
      event('auth.passcode', 'allow', { method: 'sms' }),
      ['success', 'sms_passcode', 'valid_passcode'],
    ],
    [
      'wrong passcode',
      event('auth.passcode', 'deny', { reason: 'mismatch' }),
      ['denied', 'passcode', 'invalid_passcode'],
    ],
    [
      'replayed passcode',
      event('auth.passcode', 'deny', { reason: 'replayed' }),
      ['denied', 'passcode', 'invalid_passcode'],
    ],
    [
      'source past its budget',
      event('auth.passcode', 'deny', { reason: 'source-limited' }),
      ['denied', 'passcode', 'denied_by_policy'],
    ],
    [
      'locked out at the passcode',
      event('auth.passcode', 'deny', { reason: 'user-locked out' }),
      ['denied', 'passcode', 'locked_out'],
    ],
    ['push approved', event('auth.push', 'allow'), ['success', 'duo_push', 'user_approved']],
    ['push denied', event('auth.push', 'deny'), ['denied', 'duo_push', 'user_denied']],
    [
      'push reported as fraud',
      event('auth.push.fraud', 'fraud'),
      ['fraud', 'duo_push', 'user_marked_fraud'],
    ],
    ['push not delivered', event('auth.push', 'push_failed'), ['error', 'duo_push', 'error']],
    [
      'push approved by a user disabled meanwhile',
      event('auth.push', 'deny', { reason: 'user-disabled' }),
      ['denied', 'duo_push', 'user_disabled'],
    ],
    [
      'wrong verification code',
      event('auth.push', 'deny', { reason: 'wrong-verification-code' }),
      ['denied', 'duo_push', 'verification_code_incorrect'],
    ],
    [
      'push budget spent',
      event('auth.push', 'deny', { reason: 'login-budget-spent' }),
      ['denied', 'duo_push', 'denied_by_policy'],
    ],
    ['call answered', event('auth.phone', 'allow'), ['success', 'phone_call', 'user_approved']],
    [
      'call reported as fraud',
      event('auth.phone.fraud', 'fraud'),
      ['fraud', 'phone_call', 'user_marked_fraud'],
    ],
    [
      'user in bypass',
      event('auth.preauth', 'allow', { reason: 'user-bypass' }),
      ['success', 'not_available', 'bypass_user'],
    ],
    [
      'group in bypass',
      event('auth.preauth', 'allow', { reason: 'group-bypass' }),
      ['success', 'not_available', 'bypass_user'],
    ],
    [
      'emergency bypass group',
      event('auth.policy', 'allow', { reason: 'emergency-bypass-group' }),
      ['success', 'not_available', 'bypass_user'],
    ],
    [
      'trusted network',
      event('auth.preauth', 'allow', { reason: 'network-allow' }),
      ['success', 'trusted_network', 'trusted_network'],
    ],
    [
      'network denied',
      event('auth.preauth', 'deny', { reason: 'network-deny' }),
      ['denied', 'not_available', 'denied_by_policy'],
    ],
    [
      'disabled user',
      event('auth.preauth', 'deny', { reason: 'user-disabled' }),
      ['denied', 'not_available', 'user_disabled'],
    ],
    [
      'locked out user',
      event('auth.preauth', 'deny', { reason: 'user-locked-out' }),
      ['denied', 'not_available', 'locked_out'],
    ],
    [
      'not in an allowed group',
      event('auth.preauth', 'deny', { reason: 'not-in-allowed-group' }),
      ['denied', 'not_available', 'user_not_in_permitted_group'],
    ],
    [
      'unknown user, enroll',
      event('auth.preauth', 'enroll', { reason: 'new-user-enroll' }),
      ['denied', 'not_available', 'deny_unenrolled_user'],
    ],
    [
      'unknown user, allowed',
      event('auth.policy', 'allow', { reason: 'new-user-allow' }),
      ['success', 'not_available', 'allow_unenrolled_user'],
    ],
    [
      'factor not allowed',
      event('auth.policy', 'deny', { reason: 'factor-not-allowed' }),
      ['denied', 'not_available', 'factor_restricted'],
    ],
    [
      'a reason not in the table',
      event('auth.policy', 'deny', { reason: 'something-new' }),
      ['denied', 'not_available', 'denied_by_policy'],
    ],
  ];
  for (const [name, e, expected] of table) {
    it(name, () => {
      assert.deepEqual([authLogResult(e), authLogFactor(e), authLogReason(e)], expected);
    });
  }

  it('an entry carries the application, user, access device and Airlock reason', () => {
    const app = { id: 'DIAPP', ikey: 'DIAPP', name: 'vpn' } as Application;
    const entry = authLogEntry(
      event('auth.push', 'allow', { txid: 'T1', deviceId: 'DP1', ipaddr: '198.51.100.4' }),
      new Map([[app.id, app]]),
    );
    assert.deepEqual(entry.application, { key: 'DIAPP', name: 'vpn' });
    assert.deepEqual(entry.user, { groups: [], key: 'DUALICE', name: 'alice' });
    assert.equal(entry.access_device.ip, '198.51.100.4');
    assert.equal(entry.auth_device.name, 'DP1');
    assert.equal(entry.txid, 'T1');
    assert.equal(entry.timestamp, 1_765_000_000);
    assert.equal(entry.isotimestamp, '2025-12-06T05:46:40.123Z');
    assert.equal(entry.airlock_reason, null);
    const unknown = authLogEntry(
      event(
        'auth.preauth',
        'enroll',
        { reason: 'new-user-enroll' },
        { targetType: null, targetId: null, username: 'nobody' },
      ),
      new Map(),
    );
    assert.equal(unknown.user.key, null);
    assert.equal(unknown.txid, 'airlock-audit-7');
    assert.equal(unknown.airlock_reason, 'new-user-enroll');
  });
});

describe('administrator and telephony log entries', () => {
  it("writes Airlock's actions in Duo's form, applications as integrations", () => {
    const e = event(
      'application.update',
      'success',
      { rateLimitPerSecond: 5 },
      {
        actor: 'adminkey:DAKEY',
        targetType: 'application',
        targetId: 'DIAPP',
        username: null,
      },
    );
    assert.deepEqual(administratorLogEntry(e), {
      action: 'integration_update',
      description: '{"rateLimitPerSecond":5,"result":"success"}',
      object: 'DIAPP',
      timestamp: 1_765_000_000,
      username: 'DAKEY',
    });
    assert.equal(
      administratorLogEntry({ ...e, action: 'bypass-codes.replace' }).action,
      'bypass_codes_replace',
    );
    assert.equal(administratorLogEntry({ ...e, actor: 'cli:root' }).username, 'cli:root');
  });

  it('gives an SMS and a call with the masked number', () => {
    assert.deepEqual(telephonyLogEntry(event('auth.sms', 'sent', { phone: 'XXX-XXX-0100' })), {
      context: 'authentication',
      credits: 1,
      phone: 'XXX-XXX-0100',
      timestamp: 1_765_000_000,
      type: 'sms',
    });
    assert.equal(telephonyLogEntry(event('auth.phone.call', 'calling')).type, 'phone');
    assert.equal(telephonyLogEntry(event('auth.phone.call', 'calling')).phone, '');
  });
});
