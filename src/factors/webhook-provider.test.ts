// The webhook provider against the stand-in's webhook receiver over real loopback HTTP.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startProviderStandin, type ProviderStandin } from '../../test/support/provider-standin.ts';
import { ProviderError, type MessageProvider } from './message-provider.ts';
import {
  WEBHOOK_DEFAULT_TEMPLATES,
  checkWebhookTemplate,
  createWebhookProvider,
  renderWebhookTemplate,
  type WebhookProviderOptions,
} from './webhook-provider.ts';

const API_KEY = 'Bearer key-9d2e7c1a';
let standin: ProviderStandin;
let ids = 0;

before(async () => {
  standin = await startProviderStandin({ accountSid: 'AC1', authToken: 'unused' });
});
after(() => standin.close());
beforeEach(() => {
  standin.failAll(undefined);
  standin.setWebhookAnswer(200, '{"id":"gw-1","queued":true}');
});

function provider(overrides: Partial<WebhookProviderOptions> = {}): MessageProvider {
  const contentType = overrides.contentType ?? 'json';
  return createWebhookProvider(
    { newId: () => `local-${++ids}` },
    {
      url: `${standin.webhookUrl}/send?key=url-secret`,
      headers: { authorization: API_KEY, 'x-tenant': 'acme' },
      contentType,
      smsTemplate: WEBHOOK_DEFAULT_TEMPLATES[contentType].sms,
      callTemplate: WEBHOOK_DEFAULT_TEMPLATES[contentType].call,
      timeoutMs: 2000,
      idField: undefined,
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

const TRICKY = 'Line 1\n"quoted" \\ back & amp=1 + plus ü ✓ {{to}}';

describe('webhook provider', () => {
  it('posts a JSON SMS with configured headers, values JSON-escaped', async () => {
    const receipt = await provider().sendSms({ to: '+15555550123', body: TRICKY });
    const got = standin.webhooks.at(-1);
    assert.equal(got?.path, '/webhook/send');
    assert.equal(got.contentType, 'application/json');
    assert.equal(got.headers.authorization, API_KEY);
    assert.equal(got.headers['x-tenant'], 'acme');
    // The body parses, and carries the values exactly, a placeholder-like value left alone.
    assert.deepEqual(JSON.parse(got.body), { to: '+15555550123', body: TRICKY });
    assert.equal(receipt.providerId, 'local-' + String(ids));
  });

  it('posts a form-encoded call with the callback URL and text', async () => {
    const callbackUrl = 'https://airlock.example/factors/phone/callback?txid=t-1&n=2';
    await provider({ contentType: 'form' }).startCall({
      to: '+15555550123',
      callbackUrl,
      say: TRICKY,
    });
    const got = standin.webhooks.at(-1);
    assert.equal(got?.contentType, 'application/x-www-form-urlencoded');
    const form = new URLSearchParams(got.body);
    assert.deepEqual(
      [...form],
      [
        ['to', '+15555550123'],
        ['callback_url', callbackUrl],
        ['say', TRICKY],
      ],
    );
  });

  it('fills a custom template', async () => {
    await provider({
      smsTemplate: '{"messages":[{"destination":"{{ to }}","text":"{{body}}"}],"flash":false}',
    }).sendSms({ to: '+4915555550100', body: 'Code 123' });
    assert.deepEqual(JSON.parse(standin.webhooks.at(-1)?.body ?? ''), {
      messages: [{ destination: '+4915555550100', text: 'Code 123' }],
      flash: false,
    });
  });

  it('takes the receipt id from the configured field of the answer', async () => {
    const receipt = await provider({ idField: 'id' }).sendSms({ to: '+1', body: 'x' });
    assert.equal(receipt.providerId, 'gw-1');
  });

  it('reports an answer without the configured id field as a bad response', async () => {
    standin.setWebhookAnswer(200, 'OK');
    const e = await rejection(provider({ idField: 'id' }).sendSms({ to: '+1', body: 'x' }));
    assert.equal(e.kind, 'bad-response');
  });

  for (const [status, kind] of [
    [401, 'rejected'],
    [422, 'rejected'],
    [302, 'bad-response'],
    [502, 'unreachable'],
  ] as const) {
    it(`maps HTTP ${status} to ${kind}, naming neither URL nor header`, async () => {
      standin.setWebhookAnswer(status, '{"error":"nope"}');
      const e = await rejection(provider().sendSms({ to: '+1', body: 'x' }));
      assert.equal(e.kind, kind);
      assert.equal(e.httpStatus, status);
      assert.equal(e.message, `webhook: ${kind}: HTTP ${status}`);
    });
  }

  it('times out against a receiver that never answers', async () => {
    standin.failNext('hang');
    const e = await rejection(provider({ timeoutMs: 150 }).sendSms({ to: '+1', body: 'x' }));
    assert.equal(e.kind, 'timeout');
  });

  it('reports a reset connection as unreachable, without the URL', async () => {
    standin.failNext('close');
    const e = await rejection(
      provider().startCall({ to: '+1', callbackUrl: 'https://a/', say: 'x' }),
    );
    assert.equal(e.kind, 'unreachable');
    assert.ok(!e.message.includes('url-secret'));
  });
});

describe('webhook templates', () => {
  it('renders form values as application/x-www-form-urlencoded', () => {
    assert.equal(
      renderWebhookTemplate('a={{to}}&b={{body}}', { to: '+1 2', body: 'x&y=z/é' }, 'form'),
      'a=%2B1+2&b=x%26y%3Dz%2F%C3%A9',
    );
  });

  it('accepts the default templates', () => {
    for (const contentType of ['json', 'form'] as const) {
      for (const kind of ['sms', 'call'] as const) {
        assert.deepEqual(
          checkWebhookTemplate(WEBHOOK_DEFAULT_TEMPLATES[contentType][kind], kind, contentType),
          [],
        );
      }
    }
  });

  it('names an unknown or misplaced placeholder', () => {
    assert.deepEqual(checkWebhookTemplate('{"to":"{{to}}","x":"{{say}}"}', 'sms', 'json'), [
      'unknown placeholder {{say}}; an SMS template may use {{to}}, {{body}}',
    ]);
  });

  it('rejects a JSON template whose placeholder is outside quotes', () => {
    assert.deepEqual(checkWebhookTemplate('{"to":{{to}}}', 'sms', 'json'), [
      'is not valid JSON once filled in (put each placeholder inside "quotes")',
    ]);
  });
});
