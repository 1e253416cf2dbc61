// The CLI's remaining writes that the Admin API and console already had: user set, group set and
// delete, app delete, token list and delete; the built command on a data directory, each audited.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { airlock, airlockFails, airlockJson } from './airlock-process.ts';

interface AuditRow {
  actor: string;
  action: string;
  target_id?: string;
  targetId?: string;
  username: string | null;
}

describe('airlock user set, group set/delete, app delete, token list/delete', () => {
  let dir: string;
  const data = () => ['--data-dir', dir];
  const audit = async (action: string) =>
    (await airlockJson<AuditRow[]>(['audit', '--action', action, ...data()])).filter(
      (e) => e.action === action,
    );

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-cli-parity-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('user set changes the real name, email and aliases, and keeps what is not given', async () => {
    await airlock(['user', 'create', 'zoe', '--email', 'zoe@example.org', ...data()]);
    const set = await airlockJson<{ realname: string; email: string; aliases: string[] }>([
      'user',
      'set',
      'zoe',
      '--real-name',
      'Zoe Zimmer',
      '--aliases',
      'zz, zoe.z',
      ...data(),
    ]);
    assert.deepEqual(
      [set.realname, set.email, set.aliases.sort()],
      ['Zoe Zimmer', 'zoe@example.org', ['zoe.z', 'zz']],
    );
    const cleared = await airlockJson<{ email: string | null; aliases: string[] }>([
      'user',
      'set',
      'zz',
      '--email',
      '',
      '--aliases',
      '',
      ...data(),
    ]);
    assert.deepEqual([cleared.email, cleared.aliases], [null, []]);
    const nothing = await airlockFails(['user', 'set', 'zoe', ...data()]);
    assert.match(nothing.stderr, /nothing to change/);
    assert.equal((await audit('user.update')).length, 2);
    assert.equal((await audit('user.set-aliases')).length, 2);
  });

  it('group set and group delete', async () => {
    await airlock(['group', 'create', 'night-shift', ...data()]);
    const set = await airlockJson<{ desc: string }>([
      'group',
      'set',
      'night-shift',
      '--description',
      'on call at night',
      ...data(),
    ]);
    assert.equal(set.desc, 'on call at night');
    await airlock(['group', 'delete', 'night-shift', ...data()]);
    const list = await airlockJson<{ name: string }[]>(['group', 'list', ...data()]);
    assert.ok(!list.some((g) => g.name === 'night-shift'));
    const missing = await airlockFails(['group', 'delete', 'night-shift', ...data()]);
    assert.match(missing.stderr, /no group "night-shift"/);
    assert.equal((await audit('group.update')).length, 1);
    assert.equal((await audit('group.delete')).length, 1);
  });

  it('app delete', async () => {
    await airlock(['app', 'create', 'old-vpn', ...data()]);
    await airlock(['app', 'delete', 'old-vpn', ...data()]);
    const list = await airlockJson<{ name: string }[]>(['app', 'list', ...data()]);
    assert.ok(!list.some((a) => a.name === 'old-vpn'));
    assert.equal((await audit('application.delete')).length, 1);
  });

  it('token list and token delete', async () => {
    await airlock(['token', 'add-totp', 'zoe', '--name', 'phone', ...data()]);
    const tokens = await airlockJson<{ token_id: string; type: string; name: string }[]>([
      'token',
      'list',
      'zoe',
      ...data(),
    ]);
    assert.equal(tokens.length, 1);
    assert.deepEqual([tokens[0]!.type, tokens[0]!.name], ['totp', 'phone']);
    await airlock(['token', 'delete', 'zoe', tokens[0]!.token_id, ...data()]);
    assert.deepEqual(await airlockJson(['token', 'list', 'zoe', ...data()]), []);
    const again = await airlockFails(['token', 'delete', 'zoe', tokens[0]!.token_id, ...data()]);
    assert.match(again.stderr, /has no token/);
    const [event] = await audit('token.delete');
    assert.equal(event?.username, 'zoe');
    assert.match(event?.actor ?? '', /^cli:/);
  });
});
