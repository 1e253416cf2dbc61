// Emergency controls through the running service: applied, expired on time by an injected clock,
// reverted exactly, and reverted at start-up after a restart.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { isAirlockError } from '../../src/core/error-registry.ts';
import { primaryOnlyState } from '../../src/core/primary-only.ts';
import { addGroupMember, removeGroupMember } from '../../src/operations/group-operations.ts';
import { CryptoRandom } from '../../src/runtime/random.ts';
import {
  readPrimaryOnly,
  readPrimaryOnlyHistory,
  writePrimaryOnly,
} from '../../src/runtime/primary-only-state-file.ts';
import { signedCall, type KeyCredentials } from './admin-client.ts';
import { IT_BACKEND, startService, type Harness } from './service-harness.ts';

let h: Harness;
before(async () => {
  h = await startService();
});
after(async () => {
  await h?.close();
});

const MINUTE = 60_000;

// Duo's client dates requests by the wall clock and the service accepts 300 s of skew: each test
// starts from the wall clock, and those that call the API after an expiry keep it within minutes.
beforeEach(() => {
  h.clock.set(Date.now());
});

async function preauth(app: Parameters<Harness['duo']>[0], username: string) {
  const res = await h.duo(app)('POST', '/auth/v2/preauth', { username });
  return res.response as { result: string; status_msg: string };
}

async function memberNames(groupId: string): Promise<string[]> {
  return (await h.store.listGroupMembers(groupId)).map((u) => u.username).sort();
}

function rejectsWithCode(code: string, pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(isAirlockError(err) && err.code === code, `expected ${code}, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  };
}

describe(`emergency controls on ${IT_BACKEND}`, () => {
  it('bypasses 2FA for the chosen groups on one application until the expiry, then reverts', async () => {
    await h.createGroup('oncall-a');
    const vpn = await h.createApp();
    const wiki = await h.createApp();
    await h.createUser('ann-oncall', { totp: true, groups: ['oncall-a'] });
    await h.createUser('ben-other', { totp: true });
    const groupId = (await h.store.getGroup('oncall-a'))!.id;
    const started = await h.service.emergencies.start({
      scope: { kind: 'app-bypass-groups', appId: vpn.id, groupIds: [groupId] },
      reason: 'INC-7 push provider down',
      actor: 'cli:alice',
      durationMs: 3 * MINUTE,
    });
    assert.equal(started.control.expiresAtMs, h.clock.nowMs() + 3 * MINUTE);

    assert.deepEqual(await preauth(vpn, 'ann-oncall'), {
      result: 'allow',
      status_msg: 'Allowing user under a temporary policy.',
    });
    assert.equal((await preauth(vpn, 'ben-other')).result, 'auth', 'other groups unaffected');
    assert.equal((await preauth(wiki, 'ann-oncall')).result, 'auth', 'other applications too');

    h.clock.advance(3 * MINUTE - 1);
    assert.equal((await h.service.emergencies.sweep()).length, 0, 'not due yet');
    assert.equal((await preauth(vpn, 'ann-oncall')).result, 'allow');
    h.clock.advance(1);
    // The bypass ends at the expiry itself, before any sweep has run.
    assert.equal((await preauth(vpn, 'ann-oncall')).result, 'auth');
    const reverted = await h.service.emergencies.sweep();
    assert.deepEqual(
      reverted.map((r) => [r.control.id, r.control.state, r.control.endedBy]),
      [[started.control.id, 'expired', 'system']],
    );
    const audit = await h.store.listAudit({ action: 'emergency.expire' });
    const event = audit.find((e) => e.targetId === started.control.id);
    assert.equal(event?.actor, 'system');
    assert.equal(event?.detail.reason, 'INC-7 push provider down');
    assert.equal(event?.detail.startedBy, 'cli:alice');
  });

  it('moves users into a bypass group and moves back exactly those it added', async () => {
    const bypassId = await h.createGroup('bypass-b', 'bypass');
    const app = await h.createApp();
    await h.createUser('pre-member', { totp: true, groups: ['bypass-b'] });
    await h.createUser('moved-1', { totp: true });
    await h.createUser('moved-2', { totp: true });
    const ids = await Promise.all(
      ['pre-member', 'moved-1', 'moved-2'].map(async (u) => (await h.store.findUser(u))!.id),
    );
    assert.equal((await preauth(app, 'moved-1')).result, 'auth');
    const { control } = await h.service.emergencies.start({
      scope: { kind: 'users-to-bypass-group', groupId: bypassId, userIds: ids },
      reason: 'INC-8',
      actor: 'cli:alice',
      durationMs: 3 * MINUTE,
    });
    assert.deepEqual(
      control.scope.kind === 'users-to-bypass-group' && control.scope.alreadyMemberUserIds,
      [ids[0]],
    );
    assert.deepEqual(await memberNames(bypassId), ['moved-1', 'moved-2', 'pre-member']);
    assert.deepEqual(await preauth(app, 'moved-1'), {
      result: 'allow',
      status_msg: 'Allowing user in a bypass group.',
    });

    h.clock.advance(3 * MINUTE);
    const [reverted] = await h.service.emergencies.sweep();
    assert.deepEqual(
      reverted?.operations.map((op) => op.op === 'remove-group-member' && op.userId),
      [ids[1], ids[2]],
    );
    assert.deepEqual(await memberNames(bypassId), ['pre-member'], 'the earlier member stays');
    assert.equal((await preauth(app, 'moved-1')).result, 'auth');
    assert.equal((await preauth(app, 'pre-member')).result, 'allow');
    const start = (await h.store.listAudit({ action: 'emergency.start' })).find(
      (e) => e.targetId === control.id,
    );
    assert.equal(start?.actor, 'cli:alice');
  });

  it('keeps at revert a member an admin added by hand while the control was active', async () => {
    const bypassId = await h.createGroup('bypass-e', 'bypass');
    await h.createUser('pre-e', { groups: ['bypass-e'] });
    for (const u of ['erin', 'finn', 'gus', 'hank']) await h.createUser(u, { totp: true });
    const id = async (u: string) => (await h.store.findUser(u))!.id;
    const [erin, finn, gus] = await Promise.all(['erin', 'finn', 'gus'].map(id));
    const { control } = await h.service.emergencies.start({
      scope: { kind: 'users-to-bypass-group', groupId: bypassId, userIds: [erin!, finn!, gus!] },
      reason: 'INC-13',
      actor: 'cli:alice',
      durationMs: 3 * MINUTE,
    });
    assert.deepEqual(await memberNames(bypassId), ['erin', 'finn', 'gus', 'pre-e']);

    // Meanwhile, by hand, through the group operations every surface calls: carol makes erin a
    // member for good (she already is one, through the control), removes finn and adds him back,
    // and adds hank, whom the control never named.
    const admin = {
      store: h.store,
      clock: h.clock,
      random: new CryptoRandom(),
      actor: 'cli:carol',
      bypassPepper: h.pepper,
    };
    const claimed = await addGroupMember(admin, 'bypass-e', 'erin');
    assert.equal(claimed.changed, true, 'erin is now a member by hand');
    await removeGroupMember(admin, 'bypass-e', 'finn');
    await addGroupMember(admin, 'bypass-e', 'finn');
    await addGroupMember(admin, 'bypass-e', 'hank');

    h.clock.advance(3 * MINUTE);
    const [reverted] = await h.service.emergencies.sweep();
    assert.deepEqual(
      reverted?.operations.map((op) => op.op === 'remove-group-member' && op.userId),
      [gus],
      'only the membership the control still holds is removed',
    );
    assert.deepEqual(await memberNames(bypassId), ['erin', 'finn', 'hank', 'pre-e']);
    const expire = (await h.store.listAudit({ action: 'emergency.expire' })).find(
      (e) => e.targetId === control.id,
    );
    const kept = expire?.detail.kept as { what: string; because: string }[];
    for (const user of [erin, finn]) {
      assert.ok(
        kept.some((k) => k.what === `user ${user}` && /added by hand/.test(k.because)),
        `${user} listed as kept: ${JSON.stringify(kept)}`,
      );
    }
    const claim = (await h.store.listAudit({ action: 'group.add-member' })).find(
      (e) => e.username === 'erin',
    );
    assert.equal(claim?.actor, 'cli:carol');
  });

  it('reverts on demand once; a second revert is refused', async () => {
    const bypassId = await h.createGroup('bypass-c', 'bypass');
    await h.createUser('cara', { totp: true });
    const cara = (await h.store.findUser('cara'))!.id;
    const { control } = await h.service.emergencies.start({
      scope: { kind: 'users-to-bypass-group', groupId: bypassId, userIds: [cara] },
      reason: 'INC-9',
      actor: 'cli:alice',
    });
    assert.equal(control.expiresAtMs, h.clock.nowMs() + 60 * MINUTE, 'one hour by default');
    const done = await h.service.emergencies.revert(control.id, { by: 'cli:bob', why: 'fixed' });
    assert.equal(done.control.state, 'reverted');
    assert.deepEqual(await memberNames(bypassId), []);
    await assert.rejects(
      h.service.emergencies.revert(control.id, { by: 'cli:bob', why: 'again' }),
      rejectsWithCode('EMERGENCY_INVALID', /already reverted/),
    );
    const events = (await h.store.listAudit({ action: 'emergency.revert' })).filter(
      (e) => e.targetId === control.id,
    );
    assert.equal(events.length, 1);
    assert.equal(events[0]?.actor, 'cli:bob');
    assert.equal(events[0]?.detail.endReason, 'fixed');
  });

  it('refuses a control without a reason, longer than the maximum, or naming unknown groups', async () => {
    const app = await h.createApp();
    await assert.rejects(
      h.service.emergencies.start({
        scope: { kind: 'app-bypass-groups', appId: app.id, groupIds: ['DGNOPE'] },
        reason: ' ',
        actor: 'cli:alice',
        durationMs: 25 * 60 * MINUTE,
      }),
      (err: unknown) => {
        assert.ok(isAirlockError(err) && err.code === 'EMERGENCY_INVALID', String(err));
        assert.match(err.message, /no group "DGNOPE"/);
        assert.match(err.message, /reason: a reason is required/);
        assert.match(err.message, /at most 24 hours/);
        return true;
      },
    );
    assert.equal(
      (await h.store.listEmergencyControls()).some((c) => c.reason === ' '),
      false,
    );
  });

  it('reverts a control that expired while the service was down when it starts again', async () => {
    const bypassId = await h.createGroup('bypass-d', 'bypass');
    await h.createUser('pre-d', { groups: ['bypass-d'] });
    await h.createUser('dora', { totp: true });
    const dora = (await h.store.findUser('dora'))!.id;
    const pre = (await h.store.findUser('pre-d'))!.id;
    const { control } = await h.service.emergencies.start({
      scope: { kind: 'users-to-bypass-group', groupId: bypassId, userIds: [dora, pre] },
      reason: 'INC-10',
      actor: 'cli:alice',
      durationMs: 5 * MINUTE,
    });
    h.clock.advance(6 * MINUTE);
    await h.restart();
    // No sweep by hand: the new instance reverted it while starting.
    const after = await h.store.getEmergencyControl(control.id);
    assert.equal(after?.state, 'expired');
    assert.deepEqual(await memberNames(bypassId), ['pre-d']);
  });

  it('switches a proxy into primary-only mode and back off at the expiry', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'airlock-proxy-state-'));
    try {
      const { control } = await h.service.emergencies.start({
        scope: { kind: 'primary-only', proxy: stateDir },
        reason: 'INC-11 service unreachable',
        actor: 'cli:alice',
        durationMs: 20 * MINUTE,
      });
      const record = readPrimaryOnly(stateDir);
      assert.equal(record?.expiresAtMs, control.expiresAtMs);
      assert.equal(primaryOnlyState(record, h.clock.nowMs()).active, true);
      // The proxy ends the mode at the expiry by itself, even if the service never reverts it.
      assert.equal(primaryOnlyState(record, control.expiresAtMs).active, false);

      h.clock.advance(20 * MINUTE);
      await h.service.emergencies.sweep();
      assert.equal(readPrimaryOnly(stateDir), undefined);
      assert.deepEqual(
        readPrimaryOnlyHistory(stateDir).map((c) => [c.action, c.actor]),
        [
          ['enable', 'cli:alice'],
          ['disable', 'system'],
        ],
      );
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('leaves primary-only mode on when someone switched it on again after the control', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'airlock-proxy-state-'));
    try {
      const { control } = await h.service.emergencies.start({
        scope: { kind: 'primary-only', proxy: stateDir },
        reason: 'INC-12',
        actor: 'cli:alice',
        durationMs: 20 * MINUTE,
      });
      await assert.rejects(
        h.service.emergencies.start({
          scope: { kind: 'primary-only', proxy: stateDir },
          reason: 'INC-12 again',
          actor: 'cli:bob',
        }),
        rejectsWithCode('EMERGENCY_INVALID', /already on/),
      );
      const manual = {
        enabledAtMs: h.clock.nowMs(),
        expiresAtMs: h.clock.nowMs() + 60 * MINUTE,
        actor: 'cli:carol',
        reason: 'manual',
      };
      writePrimaryOnly(stateDir, manual);
      const reverted = await h.service.emergencies.revert(control.id, {
        by: 'cli:alice',
        why: 'done',
      });
      assert.deepEqual(reverted.operations, []);
      assert.match(reverted.kept[0]?.because ?? '', /switched on again by cli:carol/);
      assert.deepEqual(readPrimaryOnly(stateDir), manual);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

describe(`the configured maximum duration on ${IT_BACKEND}`, () => {
  // What `airlock serve` passes from AIRLOCK_EMERGENCY_MAX_DURATION=2h.
  const limits = { maxDurationMs: 2 * 60 * MINUTE, defaultDurationMs: 60 * MINUTE };
  let limited: Harness;
  const key: KeyCredentials = { ikey: 'DAEMERGLIMITKEY00001', skey: 'l'.repeat(40) };
  before(async () => {
    limited = await startService({ emergencyLimits: limits });
    await limited.store.createAdminApiKey({ ...key, name: 'limits' });
  });
  after(async () => {
    await limited?.close();
  });
  beforeEach(() => {
    limited.clock.set(Date.now());
  });

  it('refuses in the runner a duration over the configured maximum, and takes one within it', async () => {
    const groupId = await limited.createGroup('oncall-limit');
    const app = await limited.createApp();
    const start = (durationMs: number) =>
      limited.service.emergencies.start({
        scope: { kind: 'app-bypass-groups', appId: app.id, groupIds: [groupId] },
        reason: 'INC-13 limits',
        actor: 'cli:alice',
        durationMs,
      });
    await assert.rejects(
      start(3 * 60 * MINUTE),
      rejectsWithCode('EMERGENCY_INVALID', /at most 2 hours/),
    );
    const { control } = await start(2 * 60 * MINUTE);
    assert.equal(control.expiresAtMs, limited.clock.nowMs() + 2 * 60 * MINUTE);
  });

  it('refuses through the Admin API a duration over the configured maximum', async () => {
    const groupId = await limited.createGroup('oncall-limit-api');
    const app = await limited.createApp();
    const call = (minutes: number) =>
      signedCall(limited.service, limited.clock, key, 'POST', '/admin/v1/emergency_controls', {
        kind: 'app-bypass-groups',
        app_id: app.id,
        group_ids: [groupId],
        reason: 'INC-13 api',
        duration_minutes: minutes,
        confirm: true,
      });
    const over = await call(121);
    assert.equal(over.status, 400, JSON.stringify(over.body));
    assert.match(JSON.stringify(over.body), /at most 2 hours/);
    const within = await call(120);
    assert.equal(within.status, 200, JSON.stringify(within.body));
  });
});
