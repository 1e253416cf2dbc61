// Unknown users, user_ids that do not exist and async=1 on every Auth API endpoint, through Duo's
// client: never a 5xx (under failmode=safe a proxy lets a 5xx through without a second factor).
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Application, NewUserPolicy } from '../../src/core/model.ts';
import type { DuoResponse } from './duo-client.ts';
import { IT_BACKEND, startService, type Harness } from './service-harness.ts';

const POLICIES: readonly NewUserPolicy[] = ['allow', 'deny', 'enroll'];

describe(`Auth API with unknown users on ${IT_BACKEND}`, () => {
  let h: Harness;
  /** The HTTP status of every response the service sent, as the server wrote it. */
  const statuses: { method: string; url: string; status: number }[] = [];

  before(async () => {
    h = await startService({ authStatusWaitSeconds: 1 });
    h.service.server.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      res.once('finish', () =>
        statuses.push({ method: req.method ?? '', url: req.url ?? '', status: res.statusCode }),
      );
    });
  });
  after(async () => {
    await h?.close();
  });

  for (const policy of POLICIES) {
    it(`async=1 for an unknown user under new-user policy ${policy}: a txid whose auth_status says what a blocking auth says`, async () => {
      const app = await h.createApp({ newUserPolicy: policy });
      const call = h.duo(app);
      const username = `nobody-${policy}`;
      const blocking = await call('POST', '/auth/v2/auth', { username, factor: 'auto' });
      assert.equal(blocking.stat, 'OK', JSON.stringify(blocking));
      const answer = blocking.response as { result: string; status: string; status_msg: string };
      assert.equal(answer.result, policy === 'allow' ? 'allow' : 'deny');
      const started = await call('POST', '/auth/v2/auth', {
        username,
        factor: 'auto',
        async: '1',
      });
      assert.equal(started.stat, 'OK', JSON.stringify(started));
      const { txid } = started.response as { txid: string };
      assert.equal(typeof txid, 'string');
      const status = await call('GET', '/auth/v2/auth_status', { txid });
      assert.deepEqual(status, { stat: 'OK', response: { ...answer, auth_delayed: false } });
    });
  }

  it('answers every endpoint for unknown users, missing user_ids and async=1 without a 5xx', async () => {
    const apps = new Map<NewUserPolicy, Application>();
    for (const policy of POLICIES) apps.set(policy, await h.createApp({ newUserPolicy: policy }));
    // A known user without a device and a known one that is disabled, next to the unknown ones.
    await h.createUser('walker-known');
    await h.createUser('walker-disabled', { status: 'disabled' });
    const subjects: Record<string, string>[] = [
      { username: 'walker-nobody' },
      { username: 'WALKER-NOBODY@example.com' },
      { user_id: 'DUNOSUCHUSER000000000' },
      { user_id: '' },
      { username: 'walker-known' },
      { username: 'walker-disabled' },
      { username: 'walker-nobody', user_id: 'DUNOSUCHUSER000000000' },
    ];
    const factors: Record<string, string>[] = [
      { factor: 'auto' },
      { factor: 'auto', device: 'DPNOSUCHDEVICE0000000' },
      { factor: 'push' },
      { factor: 'push', device: 'auto', pushinfo: 'a=b' },
      { factor: 'phone' },
      { factor: 'sms' },
      { factor: 'passcode', passcode: '123456' },
      { factor: 'passcode' },
      { factor: 'prompt', prompt: 'push1' },
      { factor: 'prompt', prompt: '123456' },
      { factor: 'bogus' },
      {},
    ];
    const answers: { request: string; response: DuoResponse }[] = [];
    const txids: string[] = [];
    const ask = async (app: Application, method: string, path: string, params = {}) => {
      const response = await h.duo(app)(method, path, params);
      answers.push({ request: `${method} ${path} ${JSON.stringify(params)}`, response });
      return response;
    };
    for (const [policy, app] of apps) {
      await ask(app, 'GET', '/auth/v2/check');
      await ask(app, 'GET', '/auth/v2/logo');
      for (const subject of subjects) {
        await ask(app, 'POST', '/auth/v2/preauth', subject);
        await ask(app, 'POST', '/auth/v2/preauth', { ...subject, text_prompt: '1' });
        await ask(app, 'POST', '/auth/v2/preauth', { ...subject, ipaddr: '198.51.100.1' });
        for (const factor of factors) {
          for (const async of [{}, { async: '1' }]) {
            const r = await ask(app, 'POST', '/auth/v2/auth', { ...subject, ...factor, ...async });
            const txid = (r.response as { txid?: unknown } | undefined)?.txid;
            if (typeof txid === 'string') txids.push(txid);
          }
        }
      }
      for (const userId of ['DUNOSUCHUSER000000000', '']) {
        await ask(app, 'POST', '/auth/v2/enroll_status', {
          user_id: userId,
          activation_code: 'ABCDEFGHIJKLMNOPQRST',
        });
      }
      await ask(app, 'POST', '/auth/v2/enroll', { username: `walker-new-${policy}` });
      await ask(app, 'POST', '/auth/v2/enroll', { username: 'walker-known' });
      await ask(app, 'POST', '/auth/v2/enroll', {});
      for (const txid of ['00000000-0000-0000-0000-000000000000', 'x', '']) {
        await ask(app, 'GET', '/auth/v2/auth_status', { txid });
      }
      await ask(app, 'GET', '/auth/v2/auth_results', { after: 'not-an-event-id' });
    }
    // Every async=1 answer's txid, asked by its own application and by another one.
    for (const txid of txids) {
      for (const app of apps.values()) await ask(app, 'GET', '/auth/v2/auth_status', { txid });
    }
    assert.ok(txids.length > 0, 'some async=1 logins answered a txid');
    assert.ok(answers.length > 500, `walked ${answers.length} requests`);
    assert.ok(statuses.length >= answers.length, 'the server recorded every response');
    const serverErrors = statuses.filter((s) => s.status >= 500);
    assert.deepEqual(serverErrors, [], 'no response is a 5xx');
    const envelopes = answers.filter(
      ({ response: r }) =>
        !(r.stat === 'OK' || (r.stat === 'FAIL' && typeof r.code === 'number' && r.code < 50000)),
    );
    assert.deepEqual(envelopes, [], "every answer is Duo's OK or a 4xx FAIL");
  });
});
