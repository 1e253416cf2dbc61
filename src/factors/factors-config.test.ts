// factors.json: validation (every error, with its path, no secret echoed) and building the providers.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startProviderStandin, type ProviderStandin } from '../../test/support/provider-standin.ts';
import { FACTOR_HEALTH_DEFAULTS } from '../core/factor-health.ts';
import { FixedClock } from '../runtime/clock.ts';
import {
  createProviders,
  describeFactorsConfig,
  parseFactorsConfig,
  parseFactorsConfigText,
  type FactorsConfig,
} from './factors-config.ts';
import { WEBHOOK_DEFAULT_TEMPLATES } from './webhook-provider.ts';

const TOKEN = 'tok-secret-0a1b2c3d4e5f';
const HEADER_SECRET = 'Bearer hdr-secret-9f8e7d';
const URL_SECRET = 'url-secret-55aa';

function valid(value: unknown): FactorsConfig {
  const r = parseFactorsConfig(value);
  assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  return r.config;
}

function errors(value: unknown): readonly string[] {
  const r = parseFactorsConfig(value);
  assert.equal(r.ok, false, 'expected errors');
  return r.ok ? [] : r.errors;
}

describe('parseFactorsConfig: valid', () => {
  it('turns both factors off and applies every default for an empty object', () => {
    const config = valid({});
    assert.deepEqual(config, {
      sms: undefined,
      phone: undefined,
      health: FACTOR_HEALTH_DEFAULTS,
      smsPasscodes: { count: 10, validSeconds: 3600 },
    });
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.health));
  });

  it('reads Twilio for SMS and phone with defaults', () => {
    const twilio = {
      provider: 'twilio',
      accountSid: 'AC0123',
      authToken: TOKEN,
      from: '+15555550100',
    };
    const config = valid({
      sms: twilio,
      phone: { ...twilio, baseUrl: 'https://twilio-compatible.example/', callMode: 'url' },
      health: { maxFailureRate: 0.5, minSamples: 10 },
      smsPasscodes: { count: 5, validSeconds: 600 },
    });
    assert.deepEqual(config.sms, {
      ...twilio,
      baseUrl: 'https://api.twilio.com',
      timeoutMs: 10_000,
      callMode: 'twiml',
    });
    assert.deepEqual(config.phone, {
      ...twilio,
      baseUrl: 'https://twilio-compatible.example',
      timeoutMs: 10_000,
      callMode: 'url',
    });
    assert.deepEqual(config.health, {
      ...FACTOR_HEALTH_DEFAULTS,
      maxFailureRate: 0.5,
      minSamples: 10,
    });
    assert.deepEqual(config.smsPasscodes, { count: 5, validSeconds: 600 });
  });

  it('reads a webhook with the default template of its factor', () => {
    const config = valid({
      sms: { provider: 'webhook', url: 'https://gw.example/sms', headers: { 'X-Key': 'k' } },
      phone: {
        provider: 'webhook',
        url: 'https://gw.example/call',
        contentType: 'form',
        timeoutMs: 3000,
        idField: 'id',
      },
    });
    assert.deepEqual(config.sms, {
      provider: 'webhook',
      url: 'https://gw.example/sms',
      headers: { 'X-Key': 'k' },
      contentType: 'json',
      template: WEBHOOK_DEFAULT_TEMPLATES.json.sms,
      timeoutMs: 10_000,
      idField: undefined,
    });
    assert.equal(
      config.phone?.provider === 'webhook' && config.phone.template,
      WEBHOOK_DEFAULT_TEMPLATES.form.call,
    );
  });

  it('allows plain http to loopback, or anywhere with allowPlainHttp', () => {
    valid({ sms: { provider: 'webhook', url: 'http://127.0.0.1:9000/sms' } });
    valid({ sms: { provider: 'webhook', url: 'http://localhost/sms' } });
    valid({ sms: { provider: 'webhook', url: 'http://[::1]:8080/sms' } });
    valid({ sms: { provider: 'webhook', url: 'http://gw.lan/sms', allowPlainHttp: true } });
  });
});

describe('parseFactorsConfig: errors', () => {
  it('reports every error at once, each with its JSON path', () => {
    assert.deepEqual(
      errors({
        sms: { provider: 'twilio', accountSid: 'AC 1', timeoutMs: 50, callMode: 'url' },
        phone: { provider: 'twillio' },
        health: { windowSize: 10, minSamples: 20, maxFailureRate: '0.2', recoverySecond: 5 },
        smsPasscodes: { count: 11 },
        extra: true,
      }),
      [
        'extra: unknown key',
        'sms.callMode: unknown key',
        'sms.accountSid: must be 1–64 letters, digits, - or _, got "AC 1"',
        'sms.authToken: is required',
        'sms.from: is required',
        'sms.timeoutMs: must be an integer from 100 to 60000, got 50',
        'phone.provider: must be one of twilio, webhook, file, got "twillio"; did you mean twilio?',
        'health.recoverySecond: unknown key; did you mean recoverySeconds?',
        'health.maxFailureRate: must be a number, got "0.2"',
        'health.minSamples: must not exceed windowSize, got 20',
        'smsPasscodes.count: must be an integer from 1 to 10, got 11',
      ],
    );
  });

  it('rejects a non-object root and non-object sections', () => {
    assert.deepEqual(errors([]), ['(root): must be a JSON object']);
    assert.deepEqual(errors({ sms: 'twilio', health: [] }), [
      'sms: must be a JSON object',
      'health: must be a JSON object',
    ]);
  });

  it('suggests the right spelling of a key without showing its value', () => {
    const e = errors({
      sms: { provider: 'twilio', accountSid: 'AC1', authtoken: TOKEN, from: '+1' },
    });
    assert.deepEqual(e, [
      'sms.authtoken: unknown key; did you mean authToken?',
      'sms.authToken: is required',
    ]);
  });

  it('never echoes an auth token, a header value or a webhook URL', () => {
    const e = errors({
      sms: {
        provider: 'webhook',
        url: `http://gw.example/send?key=${URL_SECRET}`,
        headers: { Authorization: `${HEADER_SECRET}\r\nX-Evil: 1`, 'Content-Type': 'text/plain' },
      },
      phone: { provider: 'twilio', accountSid: 'AC1', authToken: 42, from: '+1' },
    });
    assert.deepEqual(e, [
      'sms.url: must use https (plain http only to a loopback host, or with allowPlainHttp: true)',
      'sms.headers.Authorization: must be a string without line breaks',
      'sms.headers.Content-Type: is set by Airlock (contentType chooses the content type); remove it',
      'phone.authToken: must be a non-empty string',
    ]);
    const all = e.join('\n');
    for (const secret of [URL_SECRET, HEADER_SECRET, 'hdr-secret'])
      assert.ok(!all.includes(secret));
  });

  it('refuses credentials inside a URL, and a Twilio base URL with a query', () => {
    assert.deepEqual(
      errors({
        sms: { provider: 'webhook', url: `https://user:${URL_SECRET}@gw.example/` },
        phone: {
          provider: 'twilio',
          accountSid: 'AC1',
          authToken: TOKEN,
          from: '+1',
          baseUrl: 'https://api.example/?x=1',
        },
      }),
      [
        'sms.url: must not carry credentials (user:password@); use the provider settings',
        'phone.baseUrl: must have no query or fragment, got "https://api.example/?x=1"',
      ],
    );
  });

  it('checks webhook templates against their factor and content type', () => {
    assert.deepEqual(
      errors({
        sms: { provider: 'webhook', url: 'https://gw.example/', template: '{"to":{{to}}}' },
        phone: {
          provider: 'webhook',
          url: 'https://gw.example/',
          contentType: 'form',
          template: 'to={{to}}&text={{body}}',
        },
      }),
      [
        'sms.template: is not valid JSON once filled in (put each placeholder inside "quotes")',
        'phone.template: unknown placeholder {{body}}; a call template may use {{to}}, {{callback_url}}, {{say}}',
      ],
    );
  });

  it('names an unknown provider key per provider', () => {
    assert.deepEqual(errors({ sms: { provider: 'file', path: 'm.jsonl', url: 'x' } }), [
      'sms.url: unknown key',
    ]);
  });

  it('reports a JSON syntax error by position, without quoting the text', () => {
    const r = parseFactorsConfigText(`{\n  "sms": {"authToken": "${TOKEN}" x}\n}`);
    assert.equal(r.ok, false);
    const e = r.ok ? [] : r.errors;
    assert.equal(e.length, 1);
    assert.match(e[0] ?? '', /^not valid JSON( at line 2, column \d+)?$/);
    assert.ok(!(e[0] ?? '').includes(TOKEN));
  });

  it('parses valid text', () => {
    const r = parseFactorsConfigText('{"sms":{"provider":"file","path":"m.jsonl"}}');
    assert.ok(r.ok);
    assert.deepEqual(r.config.sms, { provider: 'file', path: 'm.jsonl' });
  });
});

describe('describeFactorsConfig', () => {
  it('shows secrets as fingerprints only', () => {
    const config = valid({
      sms: {
        provider: 'twilio',
        accountSid: 'AC1',
        authToken: TOKEN,
        from: '+15555550100',
      },
      phone: {
        provider: 'webhook',
        url: `https://gw.example/call?key=${URL_SECRET}`,
        headers: { Authorization: HEADER_SECRET },
      },
    });
    const lines = describeFactorsConfig(config);
    assert.equal(lines.length, 2);
    assert.match(
      lines[0] ?? '',
      /^sms: twilio api\.twilio\.com account AC1 token [0-9a-f]{8} from \+15555550100, timeout 10000 ms$/,
    );
    assert.match(
      lines[1] ?? '',
      /^phone: webhook gw\.example url [0-9a-f]{8} json, headers Authorization=[0-9a-f]{8}, timeout 10000 ms$/,
    );
    const all = lines.join('\n');
    for (const secret of [TOKEN, URL_SECRET, HEADER_SECRET]) assert.ok(!all.includes(secret));
    assert.deepEqual(describeFactorsConfig(valid({})), ['sms: off', 'phone: off']);
  });
});

describe('createProviders', () => {
  const ACCOUNT_SID = 'AC00000000000000000000000000000007';
  let standin: ProviderStandin;
  let dir: string;
  before(async () => {
    standin = await startProviderStandin({ accountSid: ACCOUNT_SID, authToken: TOKEN });
    dir = await mkdtemp(join(tmpdir(), 'airlock-factors-config-'));
  });
  after(async () => {
    await standin.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('builds each configured provider, none for a factor that is off', async () => {
    let n = 0;
    const clock = new FixedClock(1_700_000_000_000);
    const path = join(dir, 'messages.jsonl');
    const config = valid({
      sms: { provider: 'file', path },
      phone: { provider: 'webhook', url: `${standin.webhookUrl}/call`, idField: 'id' },
    });
    const { sms, phone } = createProviders(config, { clock, newId: () => `ID${++n}` });
    assert.equal(sms?.name, 'file');
    assert.equal(phone?.name, 'webhook');
    assert.deepEqual(await sms.sendSms({ to: '+1', body: 'Code 1' }), { providerId: 'ID1' });
    assert.match(await readFile(path, 'utf8'), /"body":"Code 1"/);
    const receipt = await phone.startCall({
      to: '+1',
      callbackUrl: 'https://a/cb',
      say: 'Press 1',
    });
    assert.match(receipt.providerId, /^WH\d+$/);
    assert.deepEqual(JSON.parse(standin.webhooks.at(-1)?.body ?? ''), {
      to: '+1',
      callback_url: 'https://a/cb',
      say: 'Press 1',
    });
    const none = createProviders(valid({}), { clock, newId: () => 'x' });
    assert.deepEqual(none, { sms: undefined, phone: undefined });
  });
});
