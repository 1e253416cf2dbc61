import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  classifyHttpAnswer,
  guardAuthResponse,
  guardAuthStatusResponse,
  guardAuthTxidResponse,
  guardPreauthResponse,
  guardTimeResponse,
  type ClassifiedResponse,
  type HttpAnswer,
  type ResponseGuard,
} from './auth-api-response.ts';

const answer = (status: number, body: unknown, extra: Partial<HttpAnswer> = {}): HttpAnswer => ({
  status,
  body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  truncated: false,
  ...extra,
});

const ok = (response: unknown) => ({ stat: 'OK', response });
const fail = (code: number, message: string, detail?: string) => ({
  stat: 'FAIL',
  code,
  message,
  ...(detail ? { message_detail: detail } : {}),
});

/** kind, or kind/reason for unreachable. */
function summary(c: ClassifiedResponse<unknown>): string {
  return c.kind === 'unreachable' ? `unreachable/${c.reason}` : c.kind;
}

describe('classifyHttpAnswer (docs/design/auth-api.md §1.1, §3.9)', () => {
  // prettier-ignore
  const rows: [string, HttpAnswer, ResponseGuard<unknown>, string][] = [
    ['200 OK with the fields',              answer(200, ok({ time: 1700000000 })),            guardTimeResponse, 'ok'],
    ['200 OK without the fields',           answer(200, ok({})),                             guardTimeResponse, 'unreachable/malformed'],
    ['200 OK with response null',           answer(200, ok(null)),                           guardTimeResponse, 'unreachable/malformed'],
    ['200 OK with no response member',      answer(200, { stat: 'OK' }),                     guardTimeResponse, 'unreachable/malformed'],
    ['200 stat neither OK nor FAIL',        answer(200, { stat: 'ERROR', response: {} }),    guardTimeResponse, 'unreachable/malformed'],
    ['200 JSON without stat',               answer(200, { time: 1 }),                        guardTimeResponse, 'unreachable/malformed'],
    ['200 JSON array',                      answer(200, [1, 2, 3]),                          guardTimeResponse, 'unreachable/malformed'],
    ['200 JSON string',                     answer(200, '"OK"'),                             guardTimeResponse, 'unreachable/malformed'],
    ['200 JSON null',                       answer(200, 'null'),                             guardTimeResponse, 'unreachable/malformed'],
    ['200 FAIL',                            answer(200, fail(40002, 'Invalid')),             guardTimeResponse, 'rejected'],
    ['200 not JSON',                        answer(200, 'hello'),                            guardTimeResponse, 'invalid'],
    ['200 empty body',                      answer(200, ''),                                 guardTimeResponse, 'invalid'],
    ['200 invalid UTF-8',                   { status: 200, body: Buffer.from([0x7b, 0xff, 0x7d]), truncated: false }, guardTimeResponse, 'invalid'],
    ['200 over the size limit',             answer(200, ok({ time: 1 }), { truncated: true }), guardTimeResponse, 'invalid'],
    ['400 FAIL',                            answer(400, fail(40002, 'Invalid request parameters', 'username')), guardTimeResponse, 'rejected'],
    ['401 FAIL 40103',                      answer(401, fail(40103, 'Invalid signature in request credentials')), guardTimeResponse, 'rejected'],
    ['403 FAIL',                            answer(403, fail(40301, 'Access forbidden')),    guardTimeResponse, 'rejected'],
    ['404 FAIL',                            answer(404, fail(40401, 'Resource not found')),  guardTimeResponse, 'rejected'],
    ['429 FAIL',                            answer(429, fail(42901, 'Too many requests')),   guardTimeResponse, 'rejected'],
    ['401 OK envelope',                     answer(401, ok({ time: 1 })),                    guardTimeResponse, 'invalid'],
    ['400 JSON without stat',               answer(400, { error: 'bad' }),                   guardTimeResponse, 'invalid'],
    ['404 HTML',                            answer(404, '<html>Not Found</html>'),           guardTimeResponse, 'invalid'],
    ['401 text',                            answer(401, 'Unauthorized'),                     guardTimeResponse, 'invalid'],
    ['301 redirect',                        answer(301, ''),                                 guardTimeResponse, 'invalid'],
    ['204 no content',                      answer(204, ''),                                 guardTimeResponse, 'invalid'],
    ['201 OK envelope',                     answer(201, ok({ time: 1 })),                    guardTimeResponse, 'invalid'],
    ['500 FAIL',                            answer(500, fail(50000, 'Internal server error')), guardTimeResponse, 'unreachable/server-error'],
    ['500 text',                            answer(500, 'Internal Server Error'),            guardTimeResponse, 'unreachable/server-error'],
    ['502 HTML',                            answer(502, '<html>Bad Gateway</html>'),         guardTimeResponse, 'unreachable/server-error'],
    ['503 OK envelope',                     answer(503, ok({ time: 1 })),                    guardTimeResponse, 'unreachable/server-error'],
    ['504 over the size limit',             answer(504, 'x', { truncated: true }),           guardTimeResponse, 'unreachable/server-error'],
  ];

  for (const [name, input, guard, expected] of rows) {
    it(`classifies ${name} as ${expected}`, () => {
      assert.equal(summary(classifyHttpAnswer(input, guard)), expected);
    });
  }

  it('keeps a deny a deny (rejected, never failmode-class) when the rest of the answer is malformed', () => {
    for (const body of [
      ok({ result: 'deny', status: 5 }),
      ok({ result: 'deny' }),
      ok({ result: 'deny', status: 'deny', status_msg: 'x', trusted_device_token: null }),
    ]) {
      assert.equal(
        classifyHttpAnswer(answer(200, body), guardAuthResponse).kind,
        'rejected',
        JSON.stringify(body),
      );
    }
    assert.equal(
      classifyHttpAnswer(answer(200, ok({ result: 'deny', devices: 'x' })), guardPreauthResponse)
        .kind,
      'rejected',
    );
  });

  it('never turns a 4xx into ok or a failmode-class outcome', () => {
    for (let status = 400; status <= 499; status++) {
      for (const body of [fail(40000, 'x'), ok({ time: 1 }), { stat: 'MAYBE' }, 'text', '']) {
        const kind = classifyHttpAnswer(answer(status, body), guardTimeResponse).kind;
        assert.ok(kind === 'rejected' || kind === 'invalid', `${status} ${JSON.stringify(body)}`);
      }
    }
  });

  it('keeps the code, message, detail and HTTP status of a rejection', () => {
    const c = classifyHttpAnswer(
      answer(400, fail(40002, 'Invalid request parameters', 'no capable device')),
      guardTimeResponse,
    );
    assert.deepEqual(c, {
      kind: 'rejected',
      httpStatus: 400,
      code: 40002,
      message: 'Invalid request parameters',
      detail: 'no capable device',
    });
  });

  it('reads Retry-After seconds on a 429, and ignores an HTTP-date or junk', () => {
    const limited = (retryAfter: string) =>
      classifyHttpAnswer(
        answer(429, fail(42901, 'Too many requests'), { retryAfter }),
        guardTimeResponse,
      );
    const seconds = limited('3');
    assert.equal(seconds.kind === 'rejected' && seconds.retryAfterSeconds, 3);
    for (const value of ['Wed, 21 Oct 2015 07:28:00 GMT', '-1', '1.5', 'soon']) {
      const c = limited(value);
      assert.equal(c.kind, 'rejected');
      assert.equal('retryAfterSeconds' in c, false, value);
    }
  });

  it('names the server error code in the detail of a 5xx', () => {
    const c = classifyHttpAnswer(
      answer(503, fail(50301, 'Service unavailable')),
      guardTimeResponse,
    );
    assert.equal(c.kind === 'unreachable' && c.detail, 'HTTP 503: 50301 Service unavailable');
    assert.equal(c.kind === 'unreachable' && c.httpStatus, 503);
  });

  it('names the missing field of a malformed answer', () => {
    const c = classifyHttpAnswer(answer(200, ok({ status_msg: 'x' })), guardPreauthResponse);
    assert.equal(
      c.kind === 'unreachable' && c.detail,
      "Malformed API response - invalid or missing 'result'",
    );
  });
});

describe('response guards', () => {
  const accepts = <T>(guard: ResponseGuard<T>, value: unknown) => guard(value).ok;

  it('time: a positive integer of seconds', () => {
    assert.ok(accepts(guardTimeResponse, { time: 1_700_000_000 }));
    for (const bad of [
      {},
      { time: '1700000000' },
      { time: 1.5 },
      { time: -1 },
      { time: 0 },
      [],
      'x',
    ]) {
      assert.equal(accepts(guardTimeResponse, bad), false, JSON.stringify(bad));
    }
  });

  it('preauth: every result, devices required for auth, each device checked', () => {
    const device = {
      device: 'DPFZRS9FB0D46QFTM891',
      type: 'phone',
      number: 'XXX-XXX-0100',
      name: 'iPhone',
      display_name: 'iPhone (XXX-XXX-0100)',
      capabilities: ['auto', 'push', 'sms', 'phone', 'mobile_otp'],
    };
    for (const result of ['allow', 'deny', 'enroll']) {
      assert.ok(accepts(guardPreauthResponse, { result, status_msg: 'x' }), result);
    }
    assert.ok(accepts(guardPreauthResponse, { result: 'auth', status_msg: 'x', devices: [] }));
    assert.ok(
      accepts(guardPreauthResponse, { result: 'auth', status_msg: 'x', devices: [device] }),
    );
    // A token has no capabilities member at all.
    assert.ok(
      accepts(guardPreauthResponse, {
        result: 'auth',
        status_msg: 'x',
        devices: [{ device: 'DT1', type: 'token' }],
      }),
    );
    const bad: unknown[] = [
      { result: 'auth', status_msg: 'x' },
      { result: 'auth', status_msg: 'x', devices: {} },
      { result: 'auth', status_msg: 'x', devices: [{ type: 'phone' }] },
      { result: 'auth', status_msg: 'x', devices: [{ ...device, capabilities: [1] }] },
      { result: 'auth', status_msg: 'x', devices: [{ ...device, number: 5 }] },
      { result: 'auth', status_msg: 'x', devices: [], prompt: { text: 1, factors: {} } },
      { result: 'auth', status_msg: 'x', devices: [], prompt: { text: 'x', factors: { 1: 2 } } },
      { result: 'allow', status_msg: 'x', txid: 7 },
      { result: 'allow' },
      { result: 'ALLOW', status_msg: 'x' },
      { result: 'waiting', status_msg: 'x' },
      { status_msg: 'x' },
      null,
    ];
    for (const value of bad) {
      assert.equal(accepts(guardPreauthResponse, value), false, JSON.stringify(value));
    }
  });

  it('preauth: keeps the documented fields and drops unknown ones', () => {
    const checked = guardPreauthResponse({
      result: 'auth',
      status_msg: 'Account is active',
      devices: [{ device: 'D1', type: 'phone', capabilities: ['push'], extra: true }],
      prompt: { text: 'Choose', factors: { default: 'push1', '1': 'push1' } },
      txid: 'abc',
      surprise: 'dropped',
    });
    assert.deepEqual(checked, {
      ok: true,
      value: {
        result: 'auth',
        status_msg: 'Account is active',
        devices: [{ device: 'D1', type: 'phone', capabilities: ['push'] }],
        prompt: { text: 'Choose', factors: { default: 'push1', '1': 'push1' } },
        txid: 'abc',
      },
    });
  });

  it('auth: result allow|deny|waiting with status and status_msg', () => {
    for (const result of ['allow', 'deny', 'waiting']) {
      assert.ok(accepts(guardAuthResponse, { result, status: result, status_msg: 'x' }), result);
    }
    const bad: unknown[] = [
      { result: 'allow', status_msg: 'x' },
      { result: 'allow', status: 'allow' },
      { result: 'auth', status: 'allow', status_msg: 'x' },
      { status: 'allow', status_msg: 'x' },
      { result: 'allow', status: 'allow', status_msg: 'x', trusted_device_token: 1 },
      { txid: 'abc' },
    ];
    for (const value of bad) {
      assert.equal(accepts(guardAuthResponse, value), false, JSON.stringify(value));
    }
  });

  it('async auth: a non-empty txid', () => {
    assert.deepEqual(guardAuthTxidResponse({ txid: 'abc' }), { ok: true, value: { txid: 'abc' } });
    for (const bad of [{}, { txid: '' }, { txid: 1 }, { result: 'allow' }]) {
      assert.equal(accepts(guardAuthTxidResponse, bad), false, JSON.stringify(bad));
    }
  });

  it('auth_status: like auth, with an optional boolean auth_delayed', () => {
    assert.deepEqual(
      guardAuthStatusResponse({
        result: 'waiting',
        status: 'pushed',
        status_msg: 'Pushed a login request to your device...',
        auth_delayed: false,
      }),
      {
        ok: true,
        value: {
          result: 'waiting',
          status: 'pushed',
          status_msg: 'Pushed a login request to your device...',
          auth_delayed: false,
        },
      },
    );
    assert.equal(
      accepts(guardAuthStatusResponse, {
        result: 'allow',
        status: 'allow',
        status_msg: 'x',
        auth_delayed: 'no',
      }),
      false,
    );
    assert.equal(accepts(guardAuthStatusResponse, { result: 'allow', status_msg: 'x' }), false);
  });
});
