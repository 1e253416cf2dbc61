// The Store contract: users, second-factor failures and lockout (run on both backends by store-contract.test.ts).
import assert from 'node:assert/strict';
import { before, describe } from 'node:test';
import type { User } from '../../core/model.ts';
import type { FixedClock } from '../../runtime/clock.ts';
import type { Store } from '../store.ts';
import {
  START_MS,
  type RawSql,
  rejectsWith,
  newApplication,
  count,
  totpToken,
  type ContractContext,
} from './harness.ts';

export function usersContract(c: ContractContext): void {
  /** Rows as stored (PostgreSQL hands a bigint back as text to plain SQL). */
  const lockoutRow = async (query: string) =>
    (await raw.query(query)).map((row) => ({
      ...row,
      ...('locked_until_ms' in row
        ? { locked_until_ms: row.locked_until_ms === null ? null : Number(row.locked_until_ms) }
        : {}),
      ...('failed_attempts' in row ? { failed_attempts: Number(row.failed_attempts) } : {}),
    }));

  const { contractTest, createUser } = c;
  let store: Store;
  let raw: RawSql;
  let clock: FixedClock;
  before(() => {
    ({ store, raw, clock } = c.opened());
  });

  void describe('users', () => {
    void contractTest(
      'createUser returns the user with defaults and sorted aliases; getUser reads it back',
      async () => {
        const user = await store.createUser({
          id: 'U1',
          username: 'alice',
          aliases: ['alice.smith', 'asmith'],
          realName: 'Alice Smith',
          email: 'alice@example.org',
        });
        assert.deepEqual(user, {
          id: 'U1',
          username: 'alice',
          aliases: ['alice.smith', 'asmith'],
          realName: 'Alice Smith',
          email: 'alice@example.org',
          status: 'active',
          failedAttempts: 0,
          lockedUntilMs: null,
          createdAtMs: clock.nowMs(),
          updatedAtMs: clock.nowMs(),
        } satisfies User);
        assert.deepEqual(await store.getUser('U1'), user);
        assert.equal(await store.getUser('UNOPE'), undefined);
      },
    );

    void contractTest('findUser matches the username or any alias, and nothing else', async () => {
      const user = await store.createUser({
        id: 'U2',
        username: 'bob',
        aliases: ['robert', 'bobby'],
      });
      assert.deepEqual(await store.findUser('bob'), user);
      assert.deepEqual(await store.findUser('robert'), user);
      assert.deepEqual(await store.findUser('bobby'), user);
      assert.equal(await store.findUser('U2'), undefined);
      assert.equal(await store.findUser('bob2'), undefined);
    });

    void contractTest(
      'names match regardless of case and surrounding spaces, aliases too',
      async () => {
        const user = await store.createUser({
          id: 'UCI1',
          username: ' Erin ',
          aliases: ['E.Smith'],
        });
        assert.equal(user.username, 'Erin', 'surrounding whitespace is never part of a name');
        for (const name of ['erin', 'ERIN', 'erin ', ' Erin', 'e.smith', 'E.SMITH ']) {
          assert.equal((await store.findUser(name))?.id, 'UCI1', name);
          assert.equal((await store.loadAuthSubject({ username: name }))?.user.id, 'UCI1');
        }
        assert.equal(await store.findUser('EXAMPLE\\erin'), undefined, 'none: no domain forms');
        assert.equal(await store.findUser(''), undefined);
        assert.equal(await store.findUser('   '), undefined);
      },
    );

    void contractTest(
      'simple normalization: DOMAIN\\name and name@domain mean name; a shared bare name is refused',
      async () => {
        await store.createUser({ id: 'USN1', username: 'frank', aliases: ['fr.ank'] });
        await store.createUser({ id: 'USN2', username: 'gina@a.example' });
        await store.createUser({ id: 'USN3', username: 'gina@b.example' });
        for (const name of ['EXAMPLE\\Frank', 'frank@example.org', 'fr.ank@corp', 'CORP\\FR.ANK']) {
          assert.equal((await store.findUser(name, 'simple'))?.id, 'USN1', name);
          const subject = await store.loadAuthSubject({
            username: name,
            normalization: 'simple',
          });
          assert.equal(subject?.user.id, 'USN1', name);
        }
        assert.equal(await store.findUser('EXAMPLE\\frank', 'none'), undefined);
        assert.equal((await store.findUser('GINA@A.example', 'simple'))?.id, 'USN2');
        for (const lookup of [
          () => store.findUser('gina', 'simple'),
          () => store.loadAuthSubject({ username: 'EXAMPLE\\gina', normalization: 'simple' }),
        ]) {
          await assert.rejects(
            lookup(),
            rejectsWith('STORE_AMBIGUOUS_USERNAME', /matches 2 users/),
          );
        }
      },
    );

    void contractTest(
      'names are unique regardless of case, across usernames and aliases',
      async () => {
        await store.createUser({ id: 'UCU1', username: 'harry', aliases: ['h.potter'] });
        await assert.rejects(
          store.createUser({ id: 'UCU2', username: 'HARRY' }),
          rejectsWith('STORE_CONFLICT', /user with username "HARRY" already exists/),
        );
        await assert.rejects(
          store.createUser({ id: 'UCU3', username: 'harry2', aliases: ['Harry '] }),
          rejectsWith('STORE_CONFLICT', /alias "Harry" is already another user's username/),
        );
        await assert.rejects(
          store.createUser({ id: 'UCU4', username: 'H.Potter' }),
          rejectsWith('STORE_CONFLICT', /username "H.Potter" is already another user's alias/),
        );
        const other = await store.createUser({ id: 'UCU5', username: 'ivy' });
        await assert.rejects(
          store.setUserAliases(other.id, ['HARRY']),
          rejectsWith('STORE_CONFLICT', /alias "HARRY" is already another user's username/),
        );
        await assert.rejects(
          store.renameUser(other.id, 'Harry'),
          rejectsWith('STORE_CONFLICT', /user with username "Harry" already exists/),
        );
        const renamed = await store.renameUser(other.id, ' Ivy2 ');
        assert.equal(renamed.username, 'Ivy2');
        assert.equal((await store.findUser('IVY2'))?.id, 'UCU5');
        assert.equal(await store.findUser('ivy'), undefined);
        assert.equal(
          (await store.renameUser(other.id, 'IVY2')).username,
          'IVY2',
          'a user may recase',
        );
      },
    );

    void contractTest('a duplicate username is refused with a conflict naming it', async () => {
      await store.createUser({ id: 'U3', username: 'carol' });
      await assert.rejects(
        store.createUser({ id: 'U3b', username: 'carol' }),
        rejectsWith('STORE_CONFLICT', /user with username "carol" already exists/),
      );
      await assert.rejects(
        store.createUser({ id: 'U3', username: 'carol2' }),
        rejectsWith('STORE_CONFLICT', /user with id "U3" already exists/),
      );
    });

    void contractTest(
      "an alias may not be another user's username or alias, nor a username another's alias",
      async () => {
        await store.createUser({ id: 'U4', username: 'dave', aliases: ['david'] });
        await assert.rejects(
          store.createUser({ id: 'U4b', username: 'dave2', aliases: ['dave'] }),
          rejectsWith('STORE_CONFLICT', /alias "dave" is already another user's username/),
        );
        await assert.rejects(
          store.createUser({ id: 'U4c', username: 'dave3', aliases: ['david'] }),
          rejectsWith('STORE_CONFLICT', /alias "david" already belongs to another user/),
        );
        await assert.rejects(
          store.createUser({ id: 'U4d', username: 'david' }),
          rejectsWith('STORE_CONFLICT', /username "david" is already another user's alias/),
        );
        await assert.rejects(
          store.createUser({ id: 'U4e', username: 'eve', aliases: ['eve'] }),
          rejectsWith('STORE_CONFLICT', /own username/),
        );
        for (const id of ['U4b', 'U4c', 'U4d', 'U4e'])
          assert.equal(await store.getUser(id), undefined);
        assert.equal(await count(raw, 'user_aliases', `user_id <> 'U4' AND alias LIKE 'dav%'`), 0);
      },
    );

    void contractTest(
      'listUsers orders by username and pages over users, not alias rows',
      async () => {
        const all = await store.listUsers();
        const names = all.map((u) => u.username);
        assert.deepEqual(names, [...names].sort());
        assert.ok(all.length >= 4);
        const page1 = await store.listUsers({ limit: 2 });
        const page2 = await store.listUsers({ limit: 2, offset: 2 });
        assert.deepEqual(
          [...page1, ...page2].map((u) => u.id),
          all.slice(0, 4).map((u) => u.id),
        );
        assert.deepEqual(await store.listUsers({ offset: 1 }), all.slice(1));
        assert.deepEqual(all.find((u) => u.id === 'U1')?.aliases, ['alice.smith', 'asmith']);
      },
    );

    void contractTest(
      'setUserStatus changes the status and bumps updatedAtMs; unknown users are refused',
      async () => {
        await createUser('U5');
        clock.advance(5);
        const updated = await store.setUserStatus('U5', 'bypass');
        assert.equal(updated.status, 'bypass');
        assert.equal(updated.updatedAtMs, clock.nowMs());
        assert.equal((await store.getUser('U5'))?.status, 'bypass');
        await assert.rejects(
          store.setUserStatus('UNOPE', 'active'),
          rejectsWith('STORE_NOT_FOUND', /user "UNOPE" not found/),
        );
      },
    );

    void contractTest(
      'deleteUser removes the user and cascades to aliases, tokens, codes, memberships, enrollments, transactions',
      async () => {
        const app = await store.createApplication(newApplication('u6'));
        await createUser('U6', { aliases: ['u6-alias'] });
        await store.createGroup({ id: 'GU6', name: 'u6 group' });
        await store.addGroupMember('GU6', 'U6');
        await store.addOtpToken(totpToken('TU6', 'U6'));
        await store.replaceBypassCodes('U6', [
          { id: 'BU6', codeHash: 'h', remainingUses: 1, expiresAtMs: null },
        ]);
        await store.createEnrollment({
          activationCode: 'ACU6',
          userId: 'U6',
          appId: app.id,
          state: 'waiting',
          expiresAtMs: START_MS + 1000,
        });
        await store.createAuthTransaction({
          txid: 'TXU6',
          appId: app.id,
          userId: 'U6',
          factor: 'push',
          result: 'waiting',
          status: 'pushed',
          statusMsg: 'Pushed a login request',
        });
        assert.equal(await store.deleteUser('U6'), true);
        assert.equal(await store.getUser('U6'), undefined);
        assert.equal(await store.findUser('u6-alias'), undefined);
        for (const table of [
          'user_aliases',
          'otp_tokens',
          'bypass_codes',
          'group_members',
          'enrollments',
          'auth_transactions',
        ]) {
          assert.equal(await count(raw, table, `user_id = 'U6'`), 0, `${table} rows left behind`);
        }
        assert.ok(await store.getGroup('GU6'), 'the group itself stays');
        assert.equal(await store.deleteUser('U6'), false);
      },
    );
  });

  void describe('second-factor failures and lockout', () => {
    void contractTest(
      'the failure that reaches the threshold locks the user out, reported once',
      async () => {
        await createUser('L1');
        const results = [];
        for (let i = 0; i < 5; i++) results.push(await store.recordSecondFactorFailure('L1', 3));
        assert.deepEqual(results, [
          { failedAttempts: 1, lockedOut: false },
          { failedAttempts: 2, lockedOut: false },
          { failedAttempts: 3, lockedOut: true, lockout: { untilMs: null, sources: [] } },
          { failedAttempts: 4, lockedOut: false },
          { failedAttempts: 5, lockedOut: false },
        ]);
        const user = await store.getUser('L1');
        assert.equal(user?.status, 'locked out');
        assert.equal(user?.failedAttempts, 5);
      },
    );

    void contractTest('a disabled user is counted but never becomes locked out', async () => {
      await store.createUser({ id: 'L2', username: 'user-L2', status: 'disabled' });
      for (let i = 0; i < 3; i++) {
        assert.equal((await store.recordSecondFactorFailure('L2', 2)).lockedOut, false);
      }
      assert.equal((await store.getUser('L2'))?.status, 'disabled');
      assert.equal((await store.getUser('L2'))?.failedAttempts, 3);
    });

    void contractTest(
      'concurrent failures cross the threshold exactly once and every failure is counted',
      async () => {
        await createUser('L3');
        const results = await Promise.all(
          Array.from({ length: 10 }, () => store.recordSecondFactorFailure('L3', 5)),
        );
        assert.equal(results.filter((r) => r.lockedOut).length, 1);
        assert.deepEqual(
          results.map((r) => r.failedAttempts).sort((a, b) => a - b),
          [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        );
        assert.equal(results.find((r) => r.lockedOut)?.failedAttempts, 5);
        assert.equal((await store.getUser('L3'))?.status, 'locked out');
      },
    );

    void contractTest(
      'resetSecondFactorFailures zeroes the count without unlocking; unlocking also zeroes it',
      async () => {
        await createUser('L4');
        await store.recordSecondFactorFailure('L4', 2);
        await store.resetSecondFactorFailures('L4');
        assert.equal((await store.getUser('L4'))?.failedAttempts, 0);
        await store.recordSecondFactorFailure('L4', 2);
        await store.recordSecondFactorFailure('L4', 2);
        assert.equal((await store.getUser('L4'))?.status, 'locked out');
        const unlocked = await store.setUserStatus('L4', 'active');
        assert.equal(unlocked.failedAttempts, 0);
        assert.deepEqual(await store.recordSecondFactorFailure('L4', 2), {
          failedAttempts: 1,
          lockedOut: false,
        });
        assert.deepEqual(await store.recordSecondFactorFailure('L4', 2), {
          failedAttempts: 2,
          lockedOut: true,
          lockout: { untilMs: null, sources: [] },
        });
      },
    );

    void contractTest(
      'a lockout with a duration ends by itself: the user reads as active once it has passed',
      async () => {
        await createUser('L5');
        const start = clock.nowMs();
        for (let i = 0; i < 2; i++) {
          await store.recordSecondFactorFailure('L5', 3, { lockoutDurationSeconds: 900 });
        }
        const third = await store.recordSecondFactorFailure('L5', 3, {
          lockoutDurationSeconds: 900,
        });
        assert.equal(third.lockedOut, true);
        assert.equal(third.lockedOut && third.lockout.untilMs, start + 900_000);
        let user = await store.getUser('L5');
        assert.equal(user?.status, 'locked out');
        assert.equal(user?.lockedUntilMs, start + 900_000);
        assert.equal(await store.getUserStatus('L5'), 'locked out');
        assert.equal((await store.loadAuthSubject({ userId: 'L5' }))?.user.status, 'locked out');

        clock.advance(900_000 - 1);
        assert.equal(await store.getUserStatus('L5'), 'locked out');
        clock.advance(1);
        user = await store.getUser('L5');
        assert.equal(user?.status, 'active');
        assert.equal(user?.lockedUntilMs, null);
        assert.equal(await store.getUserStatus('L5'), 'active');
        assert.equal((await store.loadAuthSubject({ userId: 'L5' }))?.user.status, 'active');
        assert.equal((await store.findUser('user-L5'))?.status, 'active');
        // The row keeps its lockout until it is written again.
        assert.deepEqual(
          await lockoutRow(`SELECT status, locked_until_ms FROM users WHERE id = 'L5'`),
          [{ status: 'locked out', locked_until_ms: start + 900_000 }],
        );

        // The next failure starts the count again; reaching the threshold locks again.
        const again = await store.recordSecondFactorFailure('L5', 3, {
          lockoutDurationSeconds: 900,
        });
        assert.deepEqual(again, { failedAttempts: 1, lockedOut: false });
        assert.equal((await store.getUser('L5'))?.status, 'active');
        await store.recordSecondFactorFailure('L5', 3, { lockoutDurationSeconds: 900 });
        const relock = await store.recordSecondFactorFailure('L5', 3, {
          lockoutDurationSeconds: 900,
        });
        assert.equal(relock.lockedOut, true);
        assert.equal((await store.getUser('L5'))?.lockedUntilMs, clock.nowMs() + 900_000);
        clock.set(start);
      },
    );

    void contractTest(
      'a success after a lockout has ended clears it; a running lockout is left alone',
      async () => {
        await createUser('L6');
        const start = clock.nowMs();
        for (let i = 0; i < 2; i++) {
          await store.recordSecondFactorFailure('L6', 2, { lockoutDurationSeconds: 60 });
        }
        await store.resetSecondFactorFailures('L6');
        assert.equal((await store.getUser('L6'))?.status, 'locked out', 'still running');
        clock.advance(60_000);
        await store.resetSecondFactorFailures('L6');
        assert.deepEqual(
          await lockoutRow(
            `SELECT status, locked_until_ms, failed_attempts, failure_sources FROM users WHERE id = 'L6'`,
          ),
          [{ status: 'active', locked_until_ms: null, failed_attempts: 0, failure_sources: '' }],
        );
        clock.set(start);
      },
    );

    void contractTest(
      'a lockout of duration 0 lasts until an unlock, which clears its end and its sources',
      async () => {
        await createUser('L7');
        const start = clock.nowMs();
        await store.recordSecondFactorFailure('L7', 1, { lockoutDurationSeconds: 0 });
        clock.advance(365 * 86_400_000);
        const user = await store.getUser('L7');
        assert.equal(user?.status, 'locked out');
        assert.equal(user?.lockedUntilMs, null);
        assert.equal(await store.getUserStatus('L7'), 'locked out');
        const unlocked = await store.setUserStatus('L7', 'active');
        assert.equal(unlocked.failedAttempts, 0);
        assert.deepEqual(
          await lockoutRow(`SELECT locked_until_ms, failure_sources FROM users WHERE id = 'L7'`),
          [{ locked_until_ms: null, failure_sources: '' }],
        );
        // An administrator's lockout has no end, whatever an earlier one had.
        await store.recordSecondFactorFailure('L7', 1, { lockoutDurationSeconds: 60 });
        const locked = await store.setUserStatus('L7', 'locked out');
        assert.equal(locked.lockedUntilMs, null);
        clock.advance(120_000);
        assert.equal((await store.getUser('L7'))?.status, 'locked out');
        clock.set(start);
      },
    );

    void contractTest(
      'the lockout reports the sources of the failures that led to it',
      async () => {
        await createUser('L8');
        const sources = [
          { appId: 'DIA', ip: '198.51.100.1' },
          { appId: 'DIA', ip: '198.51.100.2' },
          { appId: 'DIA', ip: '198.51.100.1' },
          { appId: 'DIB', ip: null },
        ];
        const results = [];
        for (const source of sources) {
          results.push(await store.recordSecondFactorFailure('L8', 4, { source }));
        }
        assert.deepEqual(results.at(-1), {
          failedAttempts: 4,
          lockedOut: true,
          lockout: {
            untilMs: null,
            sources: [
              { appId: 'DIA', ip: '198.51.100.1', failures: 2 },
              { appId: 'DIA', ip: '198.51.100.2', failures: 1 },
              { appId: 'DIB', ip: null, failures: 1 },
            ],
          },
        });
        // A success starts the list afresh.
        await store.setUserStatus('L8', 'active');
        await store.recordSecondFactorFailure('L8', 2, { source: { appId: 'DIC', ip: '::1' } });
        const next = await store.recordSecondFactorFailure('L8', 2, {
          source: { appId: 'DIC', ip: '::1' },
        });
        assert.deepEqual(next.lockedOut && next.lockout.sources, [
          { appId: 'DIC', ip: '::1', failures: 2 },
        ]);
      },
    );

    void contractTest(
      "a login's subject lists names in code point order and the rest in creation order",
      async () => {
        // Code point order (SQLite's BINARY) puts U+E000 before an emoji (a surrogate pair in
        // UTF-16, which JavaScript's `<` would put first) on both databases. Group names stay in
        // the BMP: the contract's group listing test sees every group of the run.
        const names = ['zulu', '\u{1F600}', 'Alpha', '\uE000', 'émigré'];
        const sorted = ['Alpha', 'zulu', 'émigré', '\uE000', '\u{1F600}'];
        await createUser('SO1', { aliases: names.map((n) => `${n}-alias`) });
        const groupNames = ['zulu-so', 'Alpha-so', 'émigré-so'];
        for (const [i, name] of groupNames.entries()) {
          await store.createGroup({ id: `GSO${i}`, name });
          await store.addGroupMember(`GSO${i}`, 'SO1');
        }
        // Creation order differs from id order; two made in the same millisecond go by id.
        await store.addOtpToken(totpToken('TSO-Z', 'SO1'));
        clock.advance(1);
        await store.addOtpToken(totpToken('TSO-B', 'SO1'));
        await store.addOtpToken(totpToken('TSO-A', 'SO1'));
        await store.replaceBypassCodes('SO1', [
          { id: 'BSO-Y', codeHash: 'y', remainingUses: 1, expiresAtMs: null },
          { id: 'BSO-X', codeHash: 'x', remainingUses: 1, expiresAtMs: null },
        ]);
        const subject = await store.loadAuthSubject({ userId: 'SO1' });
        assert.deepEqual(
          subject?.user.aliases,
          sorted.map((n) => `${n}-alias`),
        );
        assert.deepEqual(
          subject?.groups.map((g) => g.name),
          ['Alpha-so', 'zulu-so', 'émigré-so'],
        );
        assert.deepEqual(
          subject?.tokens.map((token) => token.id),
          ['TSO-Z', 'TSO-A', 'TSO-B'],
        );
        assert.deepEqual(
          subject?.bypassCodes.map((code) => code.id),
          ['BSO-X', 'BSO-Y'],
        );
      },
    );

    void contractTest(
      'recordSecondFactorFailure refuses an unknown user and a non-positive threshold',
      async () => {
        await assert.rejects(
          store.recordSecondFactorFailure('UNOPE', 3),
          rejectsWith('STORE_NOT_FOUND', /user "UNOPE" not found/),
        );
        await assert.rejects(store.recordSecondFactorFailure('L4', 0), RangeError);
        await assert.rejects(
          store.recordSecondFactorFailure('L4', 3, { lockoutDurationSeconds: -1 }),
          RangeError,
        );
        await store.resetSecondFactorFailures('UNOPE');
      },
    );
  });
}
