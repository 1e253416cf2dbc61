// The Store contract: applications (run on both backends by store-contract.test.ts).
import assert from 'node:assert/strict';
import { before, describe } from 'node:test';
import type { Application } from '../../core/model.ts';
import type { FixedClock } from '../../runtime/clock.ts';
import type { Store } from '../store.ts';
import {
  START_MS,
  type RawSql,
  rejectsWith,
  newApplication,
  type ContractContext,
} from './harness.ts';

export function applicationsContract(c: ContractContext): void {
  const { contractTest } = c;
  let store: Store;
  let raw: RawSql;
  let clock: FixedClock;
  before(() => {
    ({ store, raw, clock } = c.opened());
  });

  void describe('applications', () => {
    void contractTest(
      'createApplication returns the application with its skey in plaintext and id = ikey',
      async () => {
        const app = await store.createApplication(newApplication('a1', { rateLimitPerSecond: 50 }));
        assert.deepEqual(app, {
          id: 'DIA1XXXXXXXXXXXXXXXX',
          name: 'app a1',
          ikey: 'DIA1XXXXXXXXXXXXXXXX',
          skey: `skey-a1-${'s'.repeat(30)}`,
          type: 'auth-api',
          newUserPolicy: 'enroll',
          restrictionLevel: 'most-restrictive',
          rateLimitPerSecond: 50,
          verifiedPush: false,
          usernameNormalization: 'simple',
          allowV1Signature: false,
          allowedGroupIds: [],
          redirectUris: [],
          rememberDeviceHours: 0,
          createdAtMs: START_MS,
          updatedAtMs: START_MS,
        } satisfies Application);
      },
    );

    void contractTest(
      'getApplication finds an application by id, ikey or name; getApplicationByIkey by ikey',
      async () => {
        const app = await store.createApplication(newApplication('a2'));
        assert.deepEqual(await store.getApplication(app.id), app);
        assert.deepEqual(await store.getApplication(app.ikey), app);
        assert.deepEqual(await store.getApplication('app a2'), app);
        assert.deepEqual(await store.getApplicationByIkey(app.ikey), app);
        assert.equal(await store.getApplication('no such app'), undefined);
        assert.equal(await store.getApplicationByIkey('app a2'), undefined);
        assert.equal(typeof app.createdAtMs, 'number');
      },
    );

    void contractTest(
      'getApplication prefers an ikey match over another application named like that ikey',
      async () => {
        const first = await store.createApplication(newApplication('a3'));
        await store.createApplication(newApplication('a4', { name: first.ikey }));
        assert.equal((await store.getApplication(first.ikey))?.id, first.id);
      },
    );

    void contractTest('the skey is sealed at rest: the raw row holds no plaintext', async () => {
      const app = await store.createApplication(newApplication('a5'));
      const rows = await raw.query(`SELECT * FROM applications WHERE id = '${app.id}'`);
      const stored = JSON.stringify(rows);
      assert.ok(!stored.includes(app.skey), 'plaintext skey found in the database');
      assert.match(String(rows[0]?.skey_sealed), /^v2:/);
    });

    void contractTest(
      'a duplicate application name or ikey is refused with a conflict naming it',
      async () => {
        await store.createApplication(newApplication('a6'));
        await assert.rejects(
          store.createApplication(newApplication('a7', { name: 'app a6' })),
          rejectsWith('STORE_CONFLICT', /application with name "app a6" already exists/),
        );
        await assert.rejects(
          store.createApplication(newApplication('a6', { name: 'other' })),
          rejectsWith('STORE_CONFLICT', /application with ikey "DIA6X+" already exists/),
        );
      },
    );

    void contractTest('listApplications returns every application ordered by name', async () => {
      const names = (await store.listApplications()).map((a) => a.name);
      assert.ok(names.includes('app a1'));
      assert.deepEqual(names, [...names].sort());
    });

    void contractTest(
      'updateApplication changes only the patched fields, re-seals a new skey and bumps updatedAtMs',
      async () => {
        const app = await store.createApplication(newApplication('a8'));
        clock.advance(1000);
        const updated = await store.updateApplication(app.id, {
          name: 'app a8 renamed',
          skey: 'new-skey-a8',
          rateLimitPerSecond: 7,
          restrictionLevel: 'less-restrictive',
        });
        assert.deepEqual(updated, {
          ...app,
          name: 'app a8 renamed',
          skey: 'new-skey-a8',
          rateLimitPerSecond: 7,
          restrictionLevel: 'less-restrictive',
          updatedAtMs: app.updatedAtMs + 1000,
        });
        assert.deepEqual(await store.getApplication(app.id), updated);
        const rows = await raw.query(`SELECT skey_sealed FROM applications WHERE id = '${app.id}'`);
        assert.ok(!String(rows[0]?.skey_sealed).includes('new-skey-a8'));
      },
    );

    void contractTest(
      'allowV1Signature is stored at creation and changed by updateApplication',
      async () => {
        const app = await store.createApplication(
          newApplication('a8v1', { type: 'authproxy', allowV1Signature: true }),
        );
        assert.equal(app.allowV1Signature, true);
        assert.equal((await store.getApplicationByIkey(app.ikey))?.allowV1Signature, true);
        const off = await store.updateApplication(app.id, { allowV1Signature: false });
        assert.equal(off.allowV1Signature, false);
        assert.equal((await store.getApplication(app.id))?.allowV1Signature, false);
      },
    );

    void contractTest(
      'updateApplication of an unknown id or to a taken name is refused',
      async () => {
        await assert.rejects(
          store.updateApplication('DINOSUCHAPP', { name: 'x' }),
          rejectsWith('STORE_NOT_FOUND', /application "DINOSUCHAPP" not found/),
        );
        const app = await store.createApplication(newApplication('a9'));
        await assert.rejects(
          store.updateApplication(app.id, { name: 'app a1' }),
          rejectsWith('STORE_CONFLICT', /name "app a1"/),
        );
      },
    );

    void contractTest(
      'setApplicationGroups restricts to the given groups, replaces them, and [] lifts the restriction',
      async () => {
        const app = await store.createApplication(newApplication('a10'));
        await store.createGroup({ id: 'GA10a', name: 'a10 ops' });
        await store.createGroup({ id: 'GA10b', name: 'a10 dev' });
        await store.setApplicationGroups(app.id, ['GA10b', 'GA10a', 'GA10a']);
        assert.deepEqual((await store.getApplicationByIkey(app.ikey))?.allowedGroupIds, [
          'GA10a',
          'GA10b',
        ]);
        assert.deepEqual((await store.getApplication('app a10'))?.allowedGroupIds, [
          'GA10a',
          'GA10b',
        ]);
        const listed = (await store.listApplications()).find((a) => a.id === app.id);
        assert.deepEqual(listed?.allowedGroupIds, ['GA10a', 'GA10b']);
        await store.setApplicationGroups(app.id, ['GA10b']);
        assert.deepEqual((await store.getApplication(app.id))?.allowedGroupIds, ['GA10b']);
        await store.setApplicationGroups(app.id, []);
        assert.deepEqual((await store.getApplication(app.id))?.allowedGroupIds, []);
      },
    );

    void contractTest(
      'setApplicationGroups with an unknown group or application changes nothing and says which',
      async () => {
        const app = await store.createApplication(newApplication('a11'));
        await store.createGroup({ id: 'GA11', name: 'a11 group' });
        await store.setApplicationGroups(app.id, ['GA11']);
        await assert.rejects(
          store.setApplicationGroups(app.id, ['GA11', 'GNOPE']),
          rejectsWith('STORE_NOT_FOUND', /group not found: GNOPE/),
        );
        assert.deepEqual((await store.getApplication(app.id))?.allowedGroupIds, ['GA11']);
        await assert.rejects(
          store.setApplicationGroups('DINOPE', []),
          rejectsWith('STORE_NOT_FOUND', /application "DINOPE" not found/),
        );
      },
    );

    void contractTest(
      'deleting a group removes it from the applications it restricted (cascade)',
      async () => {
        const app = await store.createApplication(newApplication('a12'));
        await store.createGroup({ id: 'GA12', name: 'a12 group' });
        await store.setApplicationGroups(app.id, ['GA12']);
        await raw.query(`DELETE FROM groups WHERE id = 'GA12'`);
        assert.deepEqual((await store.getApplication(app.id))?.allowedGroupIds, []);
      },
    );
  });
}
