// The Store contract: devices, activations, out-of-band requests and SMS passcodes (run on both backends by store-contract.test.ts).
import assert from 'node:assert/strict';
import { before, describe } from 'node:test';
import type { Store } from '../store.ts';
import { START_MS, newApplication, totpToken, type ContractContext } from './harness.ts';

export function devicesContract(c: ContractContext): void {
  const { contractTest, createUser } = c;
  let store: Store;
  before(() => {
    ({ store } = c.opened());
  });

  void describe('devices, activations, out-of-band requests and SMS passcodes', () => {
    const context = {
      application: 'VPN',
      username: 'u',
      displayUsername: 'u',
      type: 'Login request',
      ipaddr: '198.51.100.7',
      hostname: null,
      pushinfo: [['Server', 'vpn1']] as [string, string][],
    };

    void contractTest('an activation code is claimed once, and not after it expired', async () => {
      const user = await createUser('DUACT1');
      await store.createDeviceActivation({
        activationCode: 'ACT1',
        userId: user.id,
        expiresAtMs: START_MS + 1000,
      });
      await store.createDeviceActivation({
        activationCode: 'ACT2',
        userId: user.id,
        expiresAtMs: START_MS + 1000,
      });
      const claims = await Promise.all([
        store.claimActivation('ACT1', START_MS),
        store.claimActivation('ACT1', START_MS),
      ]);
      assert.deepEqual(
        claims.filter((c) => c !== undefined),
        [{ userId: user.id, appId: null }],
      );
      assert.equal(await store.claimActivation('ACT2', START_MS + 1000), undefined);
      assert.equal(await store.claimActivation('NOPE', START_MS), undefined);
    });

    void contractTest('an /enroll code is claimed once and names its application', async () => {
      const app = await store.createApplication(newApplication('act3'));
      const user = await createUser('DUACT3');
      await store.createEnrollment({
        activationCode: 'ACT3',
        userId: user.id,
        appId: app.id,
        state: 'waiting',
        expiresAtMs: START_MS + 1000,
      });
      assert.deepEqual(await store.claimActivation('ACT3', START_MS), {
        userId: user.id,
        appId: app.id,
      });
      assert.equal((await store.getEnrollment('ACT3'))?.state, 'success');
      assert.equal(await store.claimActivation('ACT3', START_MS), undefined);
    });

    void contractTest(
      'devices belong to a user, load with the subject, and go with it',
      async () => {
        const user = await createUser('DUDEV1');
        await store.addOtpToken(totpToken('TDEV1', user.id));
        const device = await store.createDevice({
          id: 'DVDEV1',
          userId: user.id,
          name: 'phone',
          platform: 'cli',
          publicKeyJwk: '{"kty":"EC"}',
          otpTokenId: 'TDEV1',
        });
        await store.createDevice({
          id: 'DVDEV2',
          userId: user.id,
          name: 'desk',
          platform: 'phone',
          phoneNumber: '+15550100',
        });
        assert.deepEqual(await store.getDevice('DVDEV1'), device);
        assert.deepEqual(
          (await store.listDevices(user.id)).map((d) => d.id),
          ['DVDEV1', 'DVDEV2'],
        );
        const subject = await store.loadAuthSubject({ userId: user.id });
        assert.deepEqual(
          subject?.devices.map((d) => [d.id, d.phoneNumber]),
          [
            ['DVDEV1', null],
            ['DVDEV2', '+15550100'],
          ],
        );
        await store.touchDevice('DVDEV1', START_MS + 5);
        assert.equal((await store.getDevice('DVDEV1'))?.lastSeenAtMs, START_MS + 5);
        // Removing the device removes the TOTP secret it carried.
        assert.equal(await store.deleteDevice('DVDEV1'), true);
        assert.equal(await store.deleteDevice('DVDEV1'), false);
        assert.deepEqual(await store.listOtpTokens(user.id), []);
        await store.deleteUser(user.id);
        assert.equal(await store.getDevice('DVDEV2'), undefined);
      },
    );

    void contractTest(
      'an out-of-band request resolves once; expiry moves it to timeout',
      async () => {
        const app = await store.createApplication(newApplication('oob1'));
        const user = await createUser('DUOOB1');
        await store.createDevice({ id: 'DVOOB1', userId: user.id, name: 'p', platform: 'cli' });
        const base = {
          factor: 'push' as const,
          appId: app.id,
          userId: user.id,
          deviceId: 'DVOOB1',
          status: 'pushed' as const,
          context,
          verificationCode: null,
          callbackTokenHash: null,
        };
        await store.createOobRequest({ ...base, txid: 'tx-a', expiresAtMs: START_MS + 60_000 });
        await store.createOobRequest({ ...base, txid: 'tx-b', expiresAtMs: START_MS + 1_000 });
        assert.deepEqual(
          (await store.listPendingOobRequests('DVOOB1', START_MS)).map((r) => r.txid),
          ['tx-a', 'tx-b'],
        );
        // Expired requests are no longer offered, even before the sweep marks them.
        assert.deepEqual(
          (await store.listPendingOobRequests('DVOOB1', START_MS + 1_000)).map((r) => r.txid),
          ['tx-a'],
        );
        await store.markOobDelivered(['tx-a'], START_MS + 10);
        await store.markOobDelivered(['tx-a'], START_MS + 20);
        assert.equal((await store.getOobRequest('tx-a'))?.deliveredAtMs, START_MS + 10);
        const answers = await Promise.all([
          store.resolveOobRequest('tx-a', 'allow', START_MS + 30),
          store.resolveOobRequest('tx-a', 'deny', START_MS + 30),
        ]);
        assert.deepEqual(answers.filter(Boolean).length, 1);
        assert.deepEqual(await store.expireOobRequests(START_MS + 1_000), [
          { txid: 'tx-b', appId: app.id, username: 'u', factor: 'push', delivered: false },
        ]);
        assert.equal(await store.resolveOobRequest('tx-b', 'allow', START_MS + 1_001), false);
        const b = await store.getOobRequest('tx-b');
        assert.equal(b?.status, 'timeout');
        assert.deepEqual(b?.context, context);
        assert.deepEqual(await store.expireOobRequests(START_MS + 1_000_000), []);
      },
    );

    void contractTest(
      'SMS passcodes: a new batch replaces the old, each is used once',
      async () => {
        const user = await createUser('DUSMS1');
        await store.createDevice({ id: 'DVSMS1', userId: user.id, name: 'p', platform: 'phone' });
        const batch = (prefix: string) =>
          [1, 2].map((seq) => ({
            id: `${prefix}${seq}`,
            seq,
            codeHash: `hash-${prefix}${seq}`,
            firstDigit: String(seq),
            expiresAtMs: START_MS + 1000,
          }));
        await store.replaceSmsPasscodes(user.id, 'DVSMS1', batch('old'));
        await store.replaceSmsPasscodes(user.id, 'DVSMS1', batch('new'));
        const subject = await store.loadAuthSubject({ userId: user.id });
        assert.deepEqual(
          subject?.smsPasscodes.map((c) => [c.id, c.firstDigit]),
          [
            ['new1', '1'],
            ['new2', '2'],
          ],
        );
        const uses = await Promise.all([
          store.consumeSmsPasscode('new1', START_MS),
          store.consumeSmsPasscode('new1', START_MS),
        ]);
        assert.equal(uses.filter(Boolean).length, 1);
        assert.equal(await store.consumeSmsPasscode('old1', START_MS), false);
        assert.equal(await store.consumeSmsPasscode('new2', START_MS + 1000), false);
      },
    );
  });
}
