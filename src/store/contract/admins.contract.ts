// The Store contract: administrators, Admin API keys and console sessions (run on both backends by store-contract.test.ts).
import assert from 'node:assert/strict';
import { before, describe } from 'node:test';
import type { FixedClock } from '../../runtime/clock.ts';
import type { Store } from '../store.ts';
import {
  START_MS,
  type RawSql,
  rejectsWith,
  newApplication,
  totpToken,
  type ContractContext,
} from './harness.ts';

export function adminsContract(c: ContractContext): void {
  const { contractTest } = c;
  let store: Store;
  let raw: RawSql;
  let clock: FixedClock;
  before(() => {
    ({ store, raw, clock } = c.opened());
  });

  void describe('administrators, Admin API keys and console sessions', () => {
    const newAdmin = (id: string) => ({
      id,
      username: `admin-${id}`,
      passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA',
      totpSecret: `JBSWY3DPEHPK3PXP${id}`,
    });

    void contractTest(
      'an administrator is stored with its TOTP secret sealed and read back',
      async () => {
        const created = await store.createAdmin(newAdmin('AD1'));
        assert.equal(created.disabled, false);
        assert.equal(created.totpLastStep, null);
        assert.deepEqual(await store.findAdmin('admin-AD1'), created);
        assert.deepEqual(await store.getAdmin('AD1'), created);
        const rows = await raw.query("SELECT totp_secret_sealed FROM admins WHERE id = 'AD1'");
        assert.ok(!String(rows[0]?.totp_secret_sealed).includes('JBSWY3DP'));
        assert.equal(await store.findAdmin('nobody'), undefined);
      },
    );

    void contractTest('an administrator username is unique', async () => {
      await store.createAdmin(newAdmin('AD2'));
      await assert.rejects(
        store.createAdmin({ ...newAdmin('AD2b'), username: 'admin-AD2' }),
        rejectsWith('STORE_CONFLICT', /username "admin-AD2"/),
      );
    });

    void contractTest('a TOTP step is accepted once, and never an earlier one', async () => {
      await store.createAdmin(newAdmin('AD3'));
      const claims = await Promise.all([
        store.claimAdminTotpStep('AD3', 100),
        store.claimAdminTotpStep('AD3', 100),
      ]);
      assert.deepEqual(claims.sort(), [false, true]);
      assert.equal(await store.claimAdminTotpStep('AD3', 99), false);
      assert.equal(await store.claimAdminTotpStep('AD3', 101), true);
      assert.equal((await store.getAdmin('AD3'))?.totpLastStep, 101);
    });

    void contractTest('disabling an administrator ends its sessions', async () => {
      await store.createAdmin(newAdmin('AD4'));
      await store.createAdminSession({
        idHash: 'sess-ad4',
        adminId: 'AD4',
        csrfTokenHash: 'csrf',
        expiresAtMs: START_MS + 1000,
      });
      const disabled = await store.setAdminDisabled('AD4', true);
      assert.equal(disabled.disabled, true);
      assert.equal(await store.getAdminSession('sess-ad4'), undefined);
      assert.equal((await store.setAdminDisabled('AD4', false)).disabled, false);
      await assert.rejects(
        store.setAdminDisabled('NOPE', true),
        rejectsWith('STORE_NOT_FOUND', /NOPE/),
      );
      assert.ok((await store.listAdmins()).some((a) => a.id === 'AD4'));
    });

    void contractTest('an Admin API key keeps its skey sealed and can be revoked', async () => {
      const key = await store.createAdminApiKey({
        ikey: 'DAKEY1',
        skey: 'secret-skey-1',
        name: 'ci',
      });
      assert.equal(key.lastUsedAtMs, null);
      assert.deepEqual(await store.getAdminApiKey('DAKEY1'), key);
      const rows = await raw.query("SELECT skey_sealed FROM admin_api_keys WHERE ikey = 'DAKEY1'");
      assert.notEqual(rows[0]?.skey_sealed, 'secret-skey-1');
      await store.touchAdminApiKey('DAKEY1', START_MS + 5);
      assert.equal((await store.getAdminApiKey('DAKEY1'))?.lastUsedAtMs, START_MS + 5);
      await assert.rejects(
        store.createAdminApiKey({ ikey: 'DAKEY1', skey: 'x', name: 'dup' }),
        rejectsWith('STORE_CONFLICT', /DAKEY1/),
      );
      assert.ok((await store.listAdminApiKeys()).some((k) => k.ikey === 'DAKEY1'));
      assert.equal(await store.deleteAdminApiKey('DAKEY1'), true);
      assert.equal(await store.deleteAdminApiKey('DAKEY1'), false);
      assert.equal(await store.getAdminApiKey('DAKEY1'), undefined);
    });

    void contractTest(
      'a console session is touched, deleted, and swept when expired or idle',
      async () => {
        const t0 = clock.nowMs();
        await store.createAdmin(newAdmin('AD5'));
        const session = await store.createAdminSession({
          idHash: 'sess-a',
          adminId: 'AD5',
          csrfTokenHash: 'csrf-a',
          expiresAtMs: t0 + 10_000,
        });
        assert.equal(session.lastSeenAtMs, t0);
        await store.createAdminSession({
          idHash: 'sess-b',
          adminId: 'AD5',
          csrfTokenHash: 'csrf-b',
          expiresAtMs: t0 + 10_000,
        });
        await store.createAdminSession({
          idHash: 'sess-c',
          adminId: 'AD5',
          csrfTokenHash: 'csrf-c',
          expiresAtMs: t0 + 100,
        });
        await store.touchAdminSession('sess-a', t0 + 500);
        assert.equal((await store.getAdminSession('sess-a'))?.lastSeenAtMs, t0 + 500);
        // At t0 + 200: sess-c passed its absolute expiry, sess-b idle since t0.
        assert.equal(await store.deleteExpiredAdminSessions(t0 + 200, t0 + 100), 2);
        assert.equal(await store.getAdminSession('sess-b'), undefined);
        assert.ok(await store.getAdminSession('sess-a'));
        assert.equal(await store.deleteAdminSession('sess-a'), true);
        assert.equal(await store.deleteAdminSession('sess-a'), false);
        await assert.rejects(
          store.createAdminSession({
            idHash: 'sess-x',
            adminId: 'NOPE',
            csrfTokenHash: 'c',
            expiresAtMs: t0,
          }),
          rejectsWith('STORE_NOT_FOUND', /NOPE/),
        );
      },
    );

    void contractTest("a user's name, e-mail and aliases are edited", async () => {
      await store.createUser({ id: 'DUED1', username: 'ed-one', aliases: ['ed-a'] });
      await store.createUser({ id: 'DUED2', username: 'ed-two', aliases: ['ed-b'] });
      const edited = await store.updateUser('DUED1', { realName: 'Ed One', email: null });
      assert.equal(edited.realName, 'Ed One');
      const aliased = await store.setUserAliases('DUED1', ['ed-c', 'ed-a', 'ed-c']);
      assert.deepEqual(aliased.aliases, ['ed-a', 'ed-c']);
      assert.equal((await store.findUser('ed-c'))?.id, 'DUED1');
      await assert.rejects(
        store.setUserAliases('DUED1', ['ed-b']),
        rejectsWith('STORE_CONFLICT', /"ed-b" already belongs/),
      );
      await assert.rejects(
        store.setUserAliases('DUED1', ['ed-two']),
        rejectsWith('STORE_CONFLICT', /"ed-two" is already another user's username/),
      );
      assert.deepEqual((await store.setUserAliases('DUED1', [])).aliases, []);
      await assert.rejects(store.updateUser('NOPE', {}), rejectsWith('STORE_NOT_FOUND', /NOPE/));
    });

    void contractTest(
      'a group restricting an application is not deleted; others are, with memberships',
      async () => {
        const app = await store.createApplication(newApplication('delgrp'));
        await store.createGroup({ id: 'GDEL1', name: 'del-one' });
        await store.createGroup({ id: 'GDEL2', name: 'del-two' });
        await store.setApplicationGroups(app.id, ['GDEL1']);
        await store.createUser({ id: 'DUDEL', username: 'del-user' });
        await store.addGroupMember('GDEL2', 'DUDEL');
        await assert.rejects(
          store.deleteGroup('GDEL1'),
          rejectsWith('STORE_CONFLICT', /would open them to every user/),
        );
        assert.equal((await store.updateGroup('GDEL2', { description: 'x' })).description, 'x');
        assert.equal(await store.deleteGroup('GDEL2'), true);
        assert.deepEqual(await store.listUserGroups('DUDEL'), []);
        assert.equal(await store.deleteGroup('GDEL2'), false);
        assert.equal(await store.deleteApplication(app.id), true);
        assert.equal(await store.getApplication(app.id), undefined);
        assert.equal(await store.deleteGroup('GDEL1'), true);
      },
    );

    void contractTest('an OTP token is deleted only through its own user', async () => {
      await store.createUser({ id: 'DUTOK1', username: 'tok-one' });
      await store.createUser({ id: 'DUTOK2', username: 'tok-two' });
      await store.addOtpToken(totpToken('DTDEL1', 'DUTOK1'));
      assert.equal(await store.deleteOtpToken('DUTOK2', 'DTDEL1'), false);
      assert.equal(await store.deleteOtpToken('DUTOK1', 'DTDEL1'), true);
      assert.deepEqual(await store.listOtpTokens('DUTOK1'), []);
    });

    void contractTest(
      'users are searched by username, alias, name or e-mail, case-insensitively',
      async () => {
        await store.createUser({
          id: 'DUSRCH1',
          username: 'srch-Zeta',
          aliases: ['zz_alias'],
          realName: 'Quentin Search',
          email: 'q@srch.example',
        });
        await store.createUser({ id: 'DUSRCH2', username: 'srch-other' });
        const names = async (search: string) =>
          (await store.listUsers({ search })).map((u) => u.username);
        assert.deepEqual(await names('SRCH-z'), ['srch-Zeta']);
        assert.deepEqual(await names('zz_al'), ['srch-Zeta']);
        assert.deepEqual(await names('quentin'), ['srch-Zeta']);
        assert.deepEqual(await names('@SRCH.example'), ['srch-Zeta']);
        assert.deepEqual(await names('srch-'), ['srch-Zeta', 'srch-other']);
        // LIKE wildcards in the search are literal characters.
        assert.deepEqual(await names('srch%'), []);
        assert.deepEqual(await names('z_al'), ['srch-Zeta']);
        assert.deepEqual(await names('z_a_'), []);
        const page = await store.listUsers({ search: 'srch-', limit: 1, offset: 1 });
        assert.deepEqual(
          page.map((u) => u.username),
          ['srch-other'],
        );
      },
    );
  });
}
