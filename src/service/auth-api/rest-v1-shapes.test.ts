// /rest/v1 <-> /auth/v2 translation: every parameter form Duo's Authentication Proxy and Auth API
// v1 clients send, and each answer shape with exactly its fields.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAirlockError } from '../../core/error-registry.ts';
import { decodeForm } from './request-params.ts';
import {
  authParamsFromV1,
  authResponseToV1,
  preauthParamsFromV1,
  preauthResponseToV1,
  statusResponseToV1,
} from './rest-v1-shapes.ts';

const plain = (p: object) => JSON.parse(JSON.stringify(p)) as Record<string, string[]>;

describe('/rest/v1 parameters as /auth/v2 parameters', () => {
  it('preauth: user becomes username, the text prompt is asked for, the rest passes', () => {
    assert.deepEqual(
      plain(preauthParamsFromV1(decodeForm('user=alice&ipaddr=192.0.2.1&failmode=secure'))),
      { ipaddr: ['192.0.2.1'], failmode: ['secure'], username: ['alice'], text_prompt: ['1'] },
    );
  });

  const cases: [string, string, Record<string, string[]>][] = [
    ['a menu token', 'factor=auto&auto=push1', { factor: ['prompt'], prompt: ['push1'] }],
    ['a passcode', 'factor=auto&auto=123456', { factor: ['prompt'], prompt: ['123456'] }],
    ['a bare factor', 'factor=auto&auto=phone', { factor: ['phone'], device: ['auto'] }],
    ['auto itself', 'factor=auto&auto=auto', { factor: ['auto'] }],
    [
      'factor=passcode',
      'factor=passcode&code=987654',
      { factor: ['passcode'], passcode: ['987654'] },
    ],
    [
      'factor=push&phone=phone2',
      'factor=push&phone=phone2',
      { factor: ['prompt'], prompt: ['push2'] },
    ],
    ['factor=sms without phone', 'factor=sms', { factor: ['sms'], device: ['auto'] }],
  ];
  for (const [name, form, expected] of cases) {
    it(`auth: ${name}`, () => {
      const out = plain(authParamsFromV1(decodeForm(`user=alice&ipaddr=192.0.2.1&${form}`)));
      assert.deepEqual(out, { ipaddr: ['192.0.2.1'], username: ['alice'], ...expected });
    });
  }

  for (const [name, form] of [
    ['no user', 'factor=auto&auto=push1'],
    ['no factor', 'user=alice'],
    ['an unknown factor', 'user=alice&factor=telepathy'],
    ['factor=auto without auto', 'user=alice&factor=auto'],
    ['a malformed phone', 'user=alice&factor=push&phone=laptop'],
  ]) {
    it(`auth: refuses ${name} as a 400`, () => {
      assert.throws(
        () => authParamsFromV1(decodeForm(form!)),
        (e: unknown) => isAirlockError(e) && e.status === 400,
      );
    });
  }
});

describe('/auth/v2 answers as /rest/v1 answers', () => {
  it('preauth auth: result, factors and the prompt text, nothing else', () => {
    const v1 = preauthResponseToV1({
      result: 'auth',
      status_msg: 'Account is active',
      devices: [{ device: 'DP1' }],
      prompt: { text: 'Passcode or option (1-1): ', factors: { '1': 'push1', default: 'push1' } },
    });
    assert.deepEqual(v1, {
      result: 'auth',
      factors: { '1': 'push1', default: 'push1' },
      prompt: 'Passcode or option (1-1): ',
    });
  });

  for (const result of ['allow', 'deny', 'enroll'] as const) {
    it(`preauth ${result}: result and status (the message), nothing else`, () => {
      assert.deepEqual(
        preauthResponseToV1({ result, status_msg: 'msg', enroll_portal_url: 'https://x/enroll' }),
        { result, status: 'msg' },
      );
    });
  }

  it('auth: result and status; async: txid only', () => {
    assert.deepEqual(
      authResponseToV1({
        result: 'allow',
        status: 'allow',
        status_msg: 'Success. Logging you in...',
      }),
      { result: 'allow', status: 'Success. Logging you in...' },
    );
    assert.deepEqual(authResponseToV1({ txid: 'T1' }), { txid: 'T1' });
  });

  it('status: no result while waiting, result and status once final', () => {
    assert.deepEqual(
      statusResponseToV1({ result: 'waiting', status: 'pushed', status_msg: 'Pushed.' }),
      { status: 'Pushed.' },
    );
    assert.deepEqual(
      statusResponseToV1({ result: 'deny', status: 'timeout', status_msg: 'Login timed out.' }),
      { result: 'deny', status: 'Login timed out.' },
    );
  });
});
