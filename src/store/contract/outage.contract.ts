// The Store contract: outage operations' records (run on both backends by store-contract.test.ts).
import assert from 'node:assert/strict';
import { before, describe } from 'node:test';
import type { FixedClock } from '../../runtime/clock.ts';
import type { Store } from '../store.ts';
import { newApplication, rejectsWith, type ContractContext } from './harness.ts';

export function outageContract(c: ContractContext): void {
  const { contractTest } = c;
  let store: Store;
  let clock: FixedClock;
  before(() => {
    ({ store, clock } = c.opened());
  });

  void describe('outage records', () => {
    void contractTest(
      'message templates: put replaces, delete returns to the default',
      async () => {
        const t = {
          kind: 'failmode-secure' as const,
          language: 'de' as const,
          subject: 'Betreff {incident}',
          body: 'Text für {application}',
          updatedAtMs: clock.nowMs(),
          updatedBy: 'cli:alice',
        };
        await store.putMessageTemplate(t);
        await store.putMessageTemplate({ ...t, body: 'Zweiter Text', updatedBy: 'cli:bob' });
        const listed = (await store.listMessageTemplates()).filter(
          (x) => x.kind === 'failmode-secure' && x.language === 'de',
        );
        assert.deepEqual(listed, [{ ...t, body: 'Zweiter Text', updatedBy: 'cli:bob' }]);
        assert.equal(await store.deleteMessageTemplate('failmode-secure', 'de'), true);
        assert.equal(await store.deleteMessageTemplate('failmode-secure', 'de'), false);
      },
    );

    void contractTest(
      'incidents: numbered, updated only from the expected status, updates oldest first',
      async () => {
        const at = clock.nowMs();
        const a = await store.createIncident(
          {
            title: 'SMS provider failing',
            status: 'investigating',
            impact: 'minor',
            appIds: ['APP1'],
            factor: 'sms',
            componentIds: ['factor-sms'],
            createdAtMs: at,
            createdBy: 'cli:alice',
          },
          { body: 'We are looking into it.' },
        );
        assert.equal(typeof a.id, 'number');
        assert.deepEqual(await store.getIncident(a.id), a);
        assert.equal(a.resolvedAtMs, null);
        const moved = await store.addIncidentUpdate(a.id, 'investigating', {
          status: 'identified',
          body: 'The provider confirmed.',
          createdAtMs: at + 1000,
          actor: 'admin:root',
        });
        assert.equal(moved?.status, 'identified');
        // A second writer who still believes it is investigating loses.
        assert.equal(
          await store.addIncidentUpdate(a.id, 'investigating', {
            status: 'monitoring',
            body: 'stale',
            createdAtMs: at + 2000,
            actor: 'cli:bob',
          }),
          undefined,
        );
        const resolved = await store.addIncidentUpdate(a.id, 'identified', {
          status: 'resolved',
          body: 'Fixed.',
          createdAtMs: at + 3000,
          actor: 'cli:alice',
        });
        assert.equal(resolved?.resolvedAtMs, at + 3000);
        assert.deepEqual(
          (await store.listIncidentUpdates(a.id)).map((u) => [u.status, u.body, u.actor]),
          [
            ['investigating', 'We are looking into it.', 'cli:alice'],
            ['identified', 'The provider confirmed.', 'admin:root'],
            ['resolved', 'Fixed.', 'cli:alice'],
          ],
        );
        const b = await store.createIncident(
          {
            title: 'second',
            status: 'investigating',
            impact: 'major',
            appIds: [],
            factor: null,
            componentIds: [],
            createdAtMs: at + 4000,
            createdBy: 'cli:alice',
          },
          { body: 'b' },
        );
        assert.ok(b.id > a.id);
        const open = await store.listIncidents({ open: true });
        assert.ok(open.some((i) => i.id === b.id));
        assert.ok(!open.some((i) => i.id === a.id));
        const all = await store.listIncidents();
        assert.ok(all.findIndex((i) => i.id === b.id) < all.findIndex((i) => i.id === a.id));
      },
    );

    void contractTest('subscriptions: one per target', async () => {
      const s = { id: 'SUB1', kind: 'email' as const, target: 'ops@example.org', createdAtMs: 1 };
      await store.createSubscription(s);
      await assert.rejects(
        store.createSubscription({ ...s, id: 'SUB2' }),
        rejectsWith('STORE_CONFLICT', /subscription/),
      );
      assert.deepEqual(
        (await store.listSubscriptions()).filter((x) => x.id === 'SUB1'),
        [s],
      );
      assert.equal(await store.deleteSubscription('SUB1'), true);
      assert.equal(await store.deleteSubscription('SUB1'), false);
    });

    void contractTest('component overrides and health reports are replaced by key', async () => {
      await store.putComponentOverride({
        componentId: 'auth-api',
        status: 'major_outage',
        reason: 'maintenance went wrong',
        actor: 'cli:alice',
        createdAtMs: 5,
      });
      await store.putComponentOverride({
        componentId: 'auth-api',
        status: 'partial_outage',
        reason: 'better',
        actor: 'cli:bob',
        createdAtMs: 6,
      });
      assert.deepEqual(
        (await store.listComponentOverrides()).filter((o) => o.componentId === 'auth-api'),
        [
          {
            componentId: 'auth-api',
            status: 'partial_outage',
            reason: 'better',
            actor: 'cli:bob',
            createdAtMs: 6,
          },
        ],
      );
      assert.equal(await store.deleteComponentOverride('auth-api'), true);
      const report = {
        reporter: 'proxy:vpn1',
        kind: 'proxy' as const,
        name: 'vpn1',
        status: 'operational' as const,
        detail: 'all API hosts reachable',
        receivedAtMs: 7,
      };
      const owner = await store.createApplication(newApplication('hrowner'));
      assert.equal(await store.putHealthReport(report, owner.id), true);
      assert.equal(
        await store.putHealthReport(
          { ...report, status: 'degraded_performance', receivedAtMs: 8 },
          owner.id,
        ),
        true,
      );
      assert.deepEqual(
        (await store.listHealthReports()).filter((r) => r.reporter === 'proxy:vpn1'),
        [{ ...report, status: 'degraded_performance', receivedAtMs: 8 }],
      );
    });

    void contractTest(
      'health reports: a name belongs to the first application that reported it, until it is deleted',
      async () => {
        const a = await store.createApplication(newApplication('hra'));
        const b = await store.createApplication(newApplication('hrb'));
        const report = {
          reporter: 'gateway:portal1',
          kind: 'gateway' as const,
          name: 'portal1',
          status: 'partial_outage' as const,
          detail: 'a',
          receivedAtMs: 10,
        };
        const listed = async () =>
          (await store.listHealthReports()).filter((r) => r.reporter === 'gateway:portal1');
        assert.equal(await store.putHealthReport(report, a.id), true);
        // Another application's keys change nothing: not the status, not the time of the report.
        assert.equal(
          await store.putHealthReport(
            { ...report, status: 'operational', detail: 'b', receivedAtMs: 11 },
            b.id,
          ),
          false,
        );
        assert.deepEqual(await listed(), [report]);
        // The same name of the other kind is another component.
        assert.equal(
          await store.putHealthReport(
            { ...report, reporter: 'proxy:portal1', kind: 'proxy', receivedAtMs: 12 },
            b.id,
          ),
          true,
        );
        assert.equal(await store.deleteApplication(a.id), true);
        assert.deepEqual(await listed(), []);
        assert.equal(await store.putHealthReport({ ...report, receivedAtMs: 13 }, b.id), true);
        assert.deepEqual(await listed(), [{ ...report, receivedAtMs: 13 }]);
      },
    );
  });
}
