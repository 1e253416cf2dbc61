// The Store contract: web-sdk applications, hosted-prompt logins, codes, single-use marks (0012).
import assert from 'node:assert/strict';
import { before, describe } from 'node:test';
import type { FixedClock } from '../../runtime/clock.ts';
import type { NewPromptLogin, Store } from '../store.ts';
import { newApplication, START_MS, type ContractContext } from './harness.ts';

export function promptLoginsContract(c: ContractContext): void {
  const { contractTest } = c;
  let store: Store;
  let clock: FixedClock;
  before(() => {
    ({ store, clock } = c.opened());
  });

  const login = (appId: string, id: string): NewPromptLogin => ({
    idHash: `hash-${id}`,
    appId,
    username: 'alice',
    redirectUri: 'https://app.example/callback',
    state: 's'.repeat(36),
    nonce: null,
    useDuoCode: true,
    expiresAtMs: START_MS + 600_000,
  });

  void describe('web sdk', () => {
    void contractTest(
      'an application keeps its redirect URIs and remember-device hours',
      async () => {
        const app = await store.createApplication(
          newApplication('w1', {
            type: 'web-sdk',
            redirectUris: ['https://a.example/cb', 'https://b.example/cb'],
            rememberDeviceHours: 12,
          }),
        );
        assert.deepEqual(app.redirectUris, ['https://a.example/cb', 'https://b.example/cb']);
        assert.equal(app.rememberDeviceHours, 12);
        const updated = await store.updateApplication(app.id, {
          redirectUris: ['https://c.example/cb'],
          rememberDeviceHours: 0,
        });
        assert.deepEqual(updated.redirectUris, ['https://c.example/cb']);
        assert.equal((await store.getApplicationByIkey(app.ikey))?.rememberDeviceHours, 0);
      },
    );

    void contractTest('a prompt login ends once and its code is claimed once', async () => {
      const app = await store.createApplication(newApplication('w2', { type: 'web-sdk' }));
      await store.createPromptLogin(login(app.id, 'l1'));
      const pending = await store.getPromptLogin('hash-l1');
      assert.equal(pending?.status, 'pending');
      assert.equal(pending?.useDuoCode, true);
      assert.equal(pending?.nonce, null);
      const end = {
        status: 'allow' as const,
        outcome: '{"result":"allow"}',
        codeHash: 'code-l1',
        codeExpiresAtMs: START_MS + 60_000,
      };
      assert.equal(await store.finishPromptLogin('hash-l1', end), true);
      assert.equal(
        await store.finishPromptLogin('hash-l1', { ...end, codeHash: 'code-l1b' }),
        false,
      );
      const claimed = await store.claimAuthorizationCode('code-l1');
      assert.equal(claimed?.status, 'allow');
      assert.equal(claimed?.outcome, '{"result":"allow"}');
      assert.equal(claimed?.codeExpiresAtMs, START_MS + 60_000);
      assert.equal(await store.claimAuthorizationCode('code-l1'), undefined);
      assert.equal(await store.claimAuthorizationCode('code-l1b'), undefined);
    });

    void contractTest('concurrent claims of one code: exactly one wins', async () => {
      const app = await store.createApplication(newApplication('w3', { type: 'web-sdk' }));
      await store.createPromptLogin(login(app.id, 'l2'));
      await store.finishPromptLogin('hash-l2', {
        status: 'deny',
        outcome: '{}',
        codeHash: 'code-l2',
        codeExpiresAtMs: START_MS + 60_000,
      });
      const results = await Promise.all(
        Array.from({ length: 5 }, () => store.claimAuthorizationCode('code-l2')),
      );
      assert.equal(results.filter((r) => r !== undefined).length, 1);
    });

    void contractTest('a single-use mark is refused until it expires', async () => {
      const now = clock.nowMs();
      assert.equal(await store.claimSingleUse('jti:X:1', now + 1_000, now), true);
      assert.equal(await store.claimSingleUse('jti:X:1', now + 1_000, now), false);
      assert.equal(await store.claimSingleUse('jti:X:2', now + 1_000, now), true);
      assert.equal(await store.claimSingleUse('jti:X:1', now + 5_000, now + 1_000), true);
      assert.ok((await store.purgeExpiredPromptRecords(now + 10_000)) >= 2);
      assert.equal(await store.claimSingleUse('jti:X:2', now + 20_000, now + 10_000), true);
    });

    void contractTest(
      'a remembered device counts for its user and application until expiry',
      async () => {
        const app = await store.createApplication(newApplication('w4', { type: 'web-sdk' }));
        const user = await store.createUser({
          id: 'DUREMEMBER0000000001',
          username: 'remember-me',
        });
        await store.rememberDevice({
          tokenHash: 'tok1',
          appId: app.id,
          userId: user.id,
          expiresAtMs: START_MS + 3_600_000,
        });
        assert.equal(await store.isDeviceRemembered('tok1', app.id, user.id, START_MS), true);
        assert.equal(await store.isDeviceRemembered('tok1', app.id, 'other', START_MS), false);
        assert.equal(
          await store.isDeviceRemembered('tok1', app.id, user.id, START_MS + 3_600_000),
          false,
        );
      },
    );
  });
}
