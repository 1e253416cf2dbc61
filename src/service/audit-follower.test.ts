// The audit log's one follower: one pass hands each subscriber the new events it asked for, once.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent } from '../core/model.ts';
import { FixedClock } from '../runtime/clock.ts';
import { openStore } from '../store/open-store.ts';
import { createSecretBox } from '../store/secret-box.ts';
import type { Store } from '../store/store.ts';
import { createAuditFollower } from './audit-follower.ts';

describe('audit follower', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-follower-'));
  const clock = new FixedClock(1_800_000_000_000);
  let store: Store;
  const audit = (action: string) =>
    store.appendAudit({
      tsMs: clock.nowMs(),
      actor: 'test',
      action,
      targetType: null,
      targetId: null,
      appId: null,
      username: null,
      result: 'ok',
      ip: null,
      detail: {},
    });
  before(async () => {
    store = await openStore({ dataDir: dir, secretBox: createSecretBox(randomBytes(32)), clock });
    await audit('user.create'); // before the follower: never handed out
    clock.advance(1);
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hands each subscriber its actions, each event once, in id order; a failing one does not stop the others', async () => {
    const errors: string[] = [];
    const follower = createAuditFollower({
      store,
      clock,
      onError: (name, err) => errors.push(`${name}: ${(err as Error).message}`),
    });
    const all: AuditEvent[][] = [];
    const incidents: AuditEvent[][] = [];
    follower.subscribe({ name: 'all', handle: (e) => Promise.resolve(void all.push([...e])) });
    follower.subscribe({
      name: 'incidents',
      actions: ['incident.create', 'incident.update'],
      handle: (e) => Promise.resolve(void incidents.push([...e])),
    });
    follower.subscribe({
      name: 'broken',
      handle: () => Promise.reject(new Error('down')),
    });
    await audit('auth.preauth');
    await audit('incident.create');
    await audit('auth.auth');
    // Two passes at once are one pass.
    const [a, b] = await Promise.all([follower.followOnce(), follower.followOnce()]);
    assert.deepEqual([a, b], [3, 3]);
    await audit('incident.update');
    assert.equal(await follower.followOnce(), 1);
    assert.equal(await follower.followOnce(), 0);
    assert.deepEqual(
      all.map((pass) => pass.map((e) => e.action)),
      [['auth.preauth', 'incident.create', 'auth.auth'], ['incident.update']],
    );
    assert.deepEqual(
      incidents.map((pass) => pass.map((e) => e.action)),
      [['incident.create'], ['incident.update']],
    );
    assert.deepEqual(errors, ['broken: down', 'broken: down']);
    await follower.stop();
  });
});
