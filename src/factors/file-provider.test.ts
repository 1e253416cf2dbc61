// The development file provider: one JSON line per message or call, in a file only its owner can read.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FixedClock } from '../runtime/clock.ts';
import { createFileProvider, type FileProviderRecord } from './file-provider.ts';
import { ProviderError } from './message-provider.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-file-provider-'));
});
after(() => rm(dir, { recursive: true, force: true }));

function provider(path: string) {
  let n = 0;
  const clock = new FixedClock(1_700_000_000_000);
  return {
    clock,
    provider: createFileProvider({ clock, newId: () => `MS${++n}` }, { path }),
  };
}

async function lines(path: string): Promise<FileProviderRecord[]> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as FileProviderRecord);
}

describe('file provider', () => {
  it('appends one JSON line per SMS and call and returns its id', async () => {
    const path = join(dir, 'messages.jsonl');
    const { clock, provider: p } = provider(path);
    const sms = await p.sendSms({ to: '+15555550123', body: 'Codes:\n1234567 "x"' });
    clock.advance(1500);
    const call = await p.startCall({
      to: '+15555550123',
      callbackUrl: 'https://airlock.example/cb?t=1',
      say: 'Press 1.',
    });
    assert.deepEqual([sms.providerId, call.providerId], ['MS1', 'MS2']);
    assert.deepEqual(await lines(path), [
      {
        id: 'MS1',
        atMs: 1_700_000_000_000,
        kind: 'sms',
        to: '+15555550123',
        body: 'Codes:\n1234567 "x"',
      },
      {
        id: 'MS2',
        atMs: 1_700_000_001_500,
        kind: 'call',
        to: '+15555550123',
        callbackUrl: 'https://airlock.example/cb?t=1',
        say: 'Press 1.',
      },
    ]);
  });

  it('creates the file mode 0600', async () => {
    const path = join(dir, 'new.jsonl');
    await provider(path).provider.sendSms({ to: '+1', body: 'x' });
    assert.equal((await stat(path)).mode & 0o777, 0o600);
  });

  it('tightens an existing file that others could read', async () => {
    const path = join(dir, 'loose.jsonl');
    await writeFile(path, '');
    await chmod(path, 0o644);
    await provider(path).provider.sendSms({ to: '+1', body: 'x' });
    assert.equal((await stat(path)).mode & 0o777, 0o600);
  });

  it('keeps every line whole under concurrent sends', async () => {
    const path = join(dir, 'concurrent.jsonl');
    const { provider: p } = provider(path);
    const body = 'y'.repeat(2000);
    await Promise.all(Array.from({ length: 50 }, () => p.sendSms({ to: '+1', body })));
    const got = await lines(path);
    assert.equal(got.length, 50);
    assert.ok(got.every((r) => r.kind === 'sms' && r.body === body));
  });

  it('fails as unreachable when the file cannot be written', async () => {
    const { provider: p } = provider(join(dir, 'missing-dir', 'x.jsonl'));
    await assert.rejects(
      p.sendSms({ to: '+1', body: 'x' }),
      (e) => e instanceof ProviderError && e.kind === 'unreachable' && /ENOENT/.test(e.message),
    );
  });

  it("rethrows the caller's abort without writing", async () => {
    const path = join(dir, 'aborted.jsonl');
    const reason = new Error('gone');
    await assert.rejects(
      provider(path).provider.sendSms({ to: '+1', body: 'x' }, AbortSignal.abort(reason)),
      (e) => e === reason,
    );
    await assert.rejects(stat(path), { code: 'ENOENT' });
  });
});
