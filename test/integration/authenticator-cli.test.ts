// `airlock authenticator` end to end: the built CLI as the user's device, `airlock serve` as the
// service, pushes started by Duo's own client.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  airlock,
  airlockFails,
  airlockJson,
  startServe,
  stopServe,
  type RunningService,
} from './airlock-process.ts';
import { duoClient, routeDuoClients, type DuoCall } from './duo-client.ts';

interface Pending {
  txid: string;
  application: string;
  username: string;
  ipaddr: string | null;
  pushinfo: [string, string][];
}

describe('the command-line authenticator against airlock serve', () => {
  let dir: string;
  let service: RunningService;
  let routing: { close(): void };
  let call: DuoCall;
  const data = () => ['--data-dir', dir];
  const state = () => ['--state', join(dir, 'authenticator.json')];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-authcli-'));
    service = await startServe([...data(), '--listen', '127.0.0.1:0']);
    routing = routeDuoClients(service.port, readFileSync(join(dir, 'tls', 'ca.pem'), 'utf8'));
    const app = await airlockJson<{ ikey: string; skey: string }>([
      'app',
      'create',
      'vpn',
      ...data(),
    ]);
    call = duoClient(app);
    await airlock(['user', 'create', 'alice', ...data()]);
    const enrolled = await airlockJson<{ activation_code: string; activation_url: string }>([
      'device',
      'enroll',
      'alice',
      ...data(),
    ]);
    assert.match(enrolled.activation_code, /^duo:\/\/[A-Z0-9]{20}-/);
    assert.match(enrolled.activation_url, /\/authenticator\/\?code=[A-Z0-9]{20}$/);
    const activated = await airlockJson<{
      device_id: string;
      username: string;
      capabilities: string[];
    }>([
      'authenticator',
      'activate',
      enrolled.activation_code,
      '--ca',
      join(dir, 'tls', 'ca.pem'),
      '--name',
      'laptop',
      ...state(),
    ]);
    assert.equal(activated.username, 'alice');
    assert.deepEqual(activated.capabilities, ['auto', 'push', 'mobile_otp']);
  });
  after(async () => {
    routing?.close();
    if (service) await stopServe(service);
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps its keys in a state file only its owner can read', () => {
    const path = join(dir, 'authenticator.json');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.match(readFileSync(path, 'utf8'), /BEGIN PRIVATE KEY/);
  });

  it('sees a push with its context and approves it', async () => {
    const started = await call('POST', '/auth/v2/auth', {
      username: 'alice',
      factor: 'push',
      async: '1',
      ipaddr: '203.0.113.9',
      pushinfo: 'Server=bastion',
    });
    const { txid } = started.response as { txid: string };
    const pending = await airlockJson<Pending[]>([
      'authenticator',
      'pending',
      '--wait',
      '10',
      ...state(),
    ]);
    assert.equal(pending.length, 1);
    assert.equal(pending[0]?.txid, txid);
    assert.equal(pending[0]?.application, 'vpn');
    assert.equal(pending[0]?.ipaddr, '203.0.113.9');
    assert.deepEqual(pending[0]?.pushinfo, [['Server', 'bastion']]);
    const text = await airlock(['authenticator', 'pending', ...state()]);
    assert.match(text, /Login request for alice to vpn/);
    assert.match(text, /from: {5}203\.0\.113\.9/);
    const answer = await airlockJson<{ result: string }>([
      'authenticator',
      'approve',
      txid,
      ...state(),
    ]);
    assert.equal(answer.result, 'allow');
    const status = await call('GET', '/auth/v2/auth_status', { txid });
    assert.equal((status.response as { result: string }).result, 'allow');
  });

  it('denies a push, and reports one as fraud', async () => {
    for (const [flags, status] of [
      [[], 'deny'],
      [['--fraud'], 'fraud'],
    ] as const) {
      const started = await call('POST', '/auth/v2/auth', {
        username: 'alice',
        factor: 'push',
        async: '1',
      });
      const { txid } = started.response as { txid: string };
      await airlockJson<Pending[]>(['authenticator', 'pending', '--wait', '10', ...state()]);
      const answer = await airlockJson<{ status: string }>([
        'authenticator',
        'deny',
        txid,
        ...flags,
        ...state(),
      ]);
      assert.equal(answer.status, status);
      const r = await call('GET', '/auth/v2/auth_status', { txid });
      assert.deepEqual(
        [(r.response as { result: string }).result, (r.response as { status: string }).status],
        ['deny', status],
      );
    }
  });

  it('shows a passcode the service accepts', async () => {
    const { passcode } = await airlockJson<{ passcode: string }>([
      'authenticator',
      'code',
      ...state(),
    ]);
    assert.match(passcode, /^[0-9]{6}$/);
    const r = await call('POST', '/auth/v2/auth', {
      username: 'alice',
      factor: 'passcode',
      passcode,
    });
    assert.equal((r.response as { result: string }).result, 'allow');
  });

  it('lists the device for the administrator', async () => {
    const devices = await airlockJson<{ name: string; platform: string; capabilities: string[] }[]>(
      ['device', 'list', 'alice', ...data()],
    );
    assert.deepEqual(
      devices.map((d) => [d.name, d.platform]),
      [['laptop', 'cli']],
    );
  });

  it('shows per-factor health from the running service: deliveries to the authenticator', async () => {
    const rows = await airlockJson<{ factor: string; provider: string; state: string }[]>([
      'factors',
      'status',
      ...data(),
    ]);
    assert.deepEqual(
      rows.map((r) => [r.factor, r.provider, r.state]),
      [['push', 'authenticator', 'healthy']],
    );
  });

  it('checks a factors.json: every error at once, no secret in them', async () => {
    const bad = join(dir, 'factors-bad.json');
    writeFileSync(
      bad,
      JSON.stringify({ sms: { provider: 'twilio', authToken: 'very-secret-token' }, phnoe: {} }),
    );
    const failed = await airlockFails(['factors', 'check', bad]);
    assert.notEqual(failed.code, 0);
    assert.match(failed.stderr, /sms\.accountSid/);
    assert.match(failed.stderr, /phnoe/);
    assert.doesNotMatch(failed.stderr, /very-secret-token/);
    const good = join(dir, 'factors-good.json');
    writeFileSync(good, JSON.stringify({ sms: { provider: 'file', path: 'sms.jsonl' } }));
    assert.match(await airlock(['factors', 'check', good]), /OK/);
  });
});
