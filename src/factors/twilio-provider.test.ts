// The Twilio provider against the local Twilio stand-in over real loopback HTTP.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  startCallbackReceiver,
  type CallbackReceiver,
} from '../../test/support/callback-receiver.ts';
import { startProviderStandin, type ProviderStandin } from '../../test/support/provider-standin.ts';
import { ProviderError, type MessageProvider } from './message-provider.ts';
import {
  createTwilioProvider,
  type TwilioCallMode,
  type TwilioProviderOptions,
} from './twilio-provider.ts';
import { TWILIO_SIGNATURE_HEADER, verifyTwilioSignature } from './twilio-signature.ts';

const ACCOUNT_SID = 'AC00000000000000000000000000000001';
const AUTH_TOKEN = 'tok-3f9c1b7e5a2d4c6e8f0a1b2c3d4e5f60';
const FROM = '+15555550100';
const TO = '+15555550123';

let standin: ProviderStandin;
let receiver: CallbackReceiver;

before(async () => {
  standin = await startProviderStandin({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
  receiver = await startCallbackReceiver();
});
after(async () => {
  await standin.close();
  await receiver.close();
});
beforeEach(() => standin.failAll(undefined));

function provider(overrides: Partial<TwilioProviderOptions> = {}): MessageProvider {
  return createTwilioProvider(
    {},
    {
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      from: FROM,
      baseUrl: standin.baseUrl,
      timeoutMs: 2000,
      callMode: 'twiml',
      ...overrides,
    },
  );
}

async function rejection(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ProviderError, `expected a ProviderError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a rejection');
}

describe('twilio provider: SMS', () => {
  it('posts To, From and Body to Messages.json and returns the sid', async () => {
    const receipt = await provider().sendSms({ to: TO, body: 'Codes: 1234567 & 7654321' });
    const sent = standin.messages.at(-1);
    assert.deepEqual(sent, {
      sid: receipt.providerId,
      to: TO,
      from: FROM,
      body: 'Codes: 1234567 & 7654321',
    });
    assert.match(receipt.providerId, /^SM[0-9a-f]{32}$/);
  });

  it('accepts a base URL with a trailing slash', async () => {
    const receipt = await provider({ baseUrl: `${standin.baseUrl}/` }).sendSms({
      to: TO,
      body: 'x',
    });
    assert.equal(standin.messages.at(-1)?.sid, receipt.providerId);
  });

  it('is rejected (401, Twilio code 20003) with a wrong auth token, and the error holds no secret', async () => {
    const wrongToken = 'wrong-token-5e1d';
    const e = await rejection(provider({ authToken: wrongToken }).sendSms({ to: TO, body: 'x' }));
    assert.equal(e.kind, 'rejected');
    assert.equal(e.httpStatus, 401);
    assert.equal(e.providerCode, 20003);
    assert.equal(e.message, 'twilio: rejected: HTTP 401 (Twilio code 20003)');
    const everything = `${e.stack ?? ''} ${JSON.stringify(e)} ${String(e.cause)}`;
    assert.ok(!everything.includes(wrongToken));
    assert.ok(!everything.includes(AUTH_TOKEN));
  });

  it('is rejected on a 400 without quoting the number from Twilio’s message', async () => {
    standin.failNext('http-400');
    const e = await rejection(provider().sendSms({ to: TO, body: 'x' }));
    assert.equal(e.kind, 'rejected');
    assert.equal(e.providerCode, 21211);
    assert.ok(!e.message.includes(TO));
  });

  it('reports a 500 as unreachable', async () => {
    standin.failNext('http-500');
    const e = await rejection(provider().sendSms({ to: TO, body: 'x' }));
    assert.equal(e.kind, 'unreachable');
    assert.equal(e.httpStatus, 500);
  });

  it('reports a 2xx that is not Twilio JSON as a bad response', async () => {
    standin.failNext('garbage');
    const e = await rejection(provider().sendSms({ to: TO, body: 'x' }));
    assert.equal(e.kind, 'bad-response');
  });

  it('reports a reset connection as unreachable', async () => {
    standin.failNext('close');
    const e = await rejection(provider().sendSms({ to: TO, body: 'x' }));
    assert.equal(e.kind, 'unreachable');
  });

  it('times out against a provider that never answers', async () => {
    standin.failNext('hang');
    const e = await rejection(provider({ timeoutMs: 150 }).sendSms({ to: TO, body: 'x' }));
    assert.equal(e.kind, 'timeout');
  });

  it('reports a refused connection as unreachable', async () => {
    const stopped = await startProviderStandin({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    const baseUrl = stopped.baseUrl;
    await stopped.close();
    const e = await rejection(provider({ baseUrl }).sendSms({ to: TO, body: 'x' }));
    assert.equal(e.kind, 'unreachable');
    assert.match(e.message, /ECONNREFUSED/);
    assert.ok(!e.message.includes(baseUrl));
  });

  it("rethrows the caller's abort reason, not a provider error", async () => {
    const reason = new Error('login abandoned');
    await assert.rejects(
      provider().sendSms({ to: TO, body: 'x' }, AbortSignal.abort(reason)),
      (e) => e === reason,
    );
  });
});

describe('twilio provider: phone call', () => {
  const modes: TwilioCallMode[] = ['twiml', 'url'];
  for (const callMode of modes) {
    it(`${callMode} mode: starts the call and the signed callback with the key pressed verifies`, async () => {
      const callbackUrl = `${receiver.baseUrl}/factors/phone/callback?txid=t-1&n=2`;
      const receipt = await provider({ callMode }).startCall({
        to: TO,
        callbackUrl,
        say: 'Press 1 to log in to <Airlock> & "VPN".',
      });
      const call = standin.calls.at(-1);
      assert.equal(call?.sid, receipt.providerId);
      assert.match(receipt.providerId, /^CA[0-9a-f]{32}$/);
      assert.equal(call.to, TO);
      assert.equal(call.from, FROM);
      if (callMode === 'twiml') {
        assert.equal(call.url, undefined);
        assert.match(
          call.twiml ?? '',
          /<Say>Press 1 to log in to &lt;Airlock&gt; &amp; &quot;VPN&quot;\.<\/Say>/,
        );
      } else {
        assert.equal(call.url, callbackUrl);
        assert.equal(call.twiml, undefined);
      }

      const answered = await standin.answerCall(receipt.providerId, { digits: '1' });
      assert.equal(answered.status, 200);
      const got = receiver.received.at(-1);
      assert.equal(got?.url, callbackUrl);
      assert.equal(got.params.get('CallSid'), receipt.providerId);
      assert.equal(got.params.get('Digits'), '1');
      const signature = got.headers[TWILIO_SIGNATURE_HEADER];
      assert.equal(typeof signature, 'string');
      assert.equal(
        verifyTwilioSignature(AUTH_TOKEN, got.url, got.params, signature as string),
        true,
      );
      assert.equal(verifyTwilioSignature('other', got.url, got.params, signature as string), false);
    });
  }

  it('calls back without Digits when no key was pressed', async () => {
    const callbackUrl = `${receiver.baseUrl}/factors/phone/callback?txid=t-2`;
    const { providerId } = await provider().startCall({ to: TO, callbackUrl, say: 'Press 1.' });
    await standin.answerCall(providerId);
    const got = receiver.received.at(-1);
    assert.equal(got?.params.get('CallSid'), providerId);
    assert.equal(got.params.has('Digits'), false);
  });

  it('reports a failing Calls.json like a failing Messages.json', async () => {
    standin.failNext('http-500');
    const e = await rejection(
      provider().startCall({ to: TO, callbackUrl: `${receiver.baseUrl}/cb`, say: 'x' }),
    );
    assert.equal(e.kind, 'unreachable');
    assert.equal(standin.calls.filter((c) => c.url?.endsWith('/cb')).length, 0);
  });
});
