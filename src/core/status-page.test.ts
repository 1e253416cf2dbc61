// Component status from measured health: factors, proxy reports and their silence, application
// groups from open incidents, overrides over everything; the page indicator.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Incident } from './incident.ts';
import { deriveComponents, pageIndicator, type StatusInput } from './status-page.ts';

const NOW = 1_800_000_000_000;

function input(over: Partial<StatusInput> = {}): StatusInput {
  return {
    nowMs: NOW,
    silenceMs: 90_000,
    factors: [],
    reports: [],
    applications: [],
    overrides: [],
    openIncidents: [],
    ...over,
  };
}

function incident(over: Partial<Incident>): Incident {
  return {
    id: 1,
    title: 't',
    status: 'investigating',
    impact: 'minor',
    appIds: [],
    factor: null,
    componentIds: [],
    createdAtMs: NOW,
    updatedAtMs: NOW,
    resolvedAtMs: null,
    createdBy: 'cli:x',
    ...over,
  };
}

const statusOf = (i: StatusInput, id: string) =>
  deriveComponents(i).find((c) => c.id === id)?.status;

describe('deriveComponents', () => {
  it('reports a proxy as it reports itself until the silence, then major_outage', () => {
    const report = {
      reporter: 'proxy:vpn1',
      kind: 'proxy' as const,
      name: 'vpn1',
      status: 'degraded_performance' as const,
      detail: 'x',
      receivedAtMs: NOW - 90_000,
    };
    assert.equal(statusOf(input({ reports: [report] }), 'proxy-vpn1'), 'degraded_performance');
    assert.equal(
      statusOf(input({ reports: [{ ...report, receivedAtMs: NOW - 90_001 }] }), 'proxy-vpn1'),
      'major_outage',
    );
  });

  it('groups applications by restriction level, each by the open incidents that affect it', () => {
    const apps = [
      { id: 'A', name: 'payroll', restrictionLevel: 'most-restrictive' as const },
      { id: 'B', name: 'vpn', restrictionLevel: 'restrictive' as const },
      { id: 'C', name: 'wiki', restrictionLevel: 'restrictive' as const },
    ];
    const i = input({
      applications: apps,
      openIncidents: [incident({ appIds: ['C'], impact: 'major' })],
    });
    const components = deriveComponents(i);
    assert.deepEqual(
      components.map((c) => [c.id, c.status, c.groupId]),
      [
        ['auth-api', 'operational', null],
        ['apps-most-restrictive', 'operational', null],
        ['app-A', 'operational', 'apps-most-restrictive'],
        ['apps-restrictive', 'partial_outage', null],
        ['app-B', 'operational', 'apps-restrictive'],
        ['app-C', 'partial_outage', 'apps-restrictive'],
      ],
    );
    // An incident naming no application affects them all.
    assert.equal(
      statusOf(
        input({ applications: apps, openIncidents: [incident({ impact: 'critical' })] }),
        'app-A',
      ),
      'major_outage',
    );
  });

  it('lets an override win over measurement and incidents, and an incident raise a named component', () => {
    const factors = [
      { factor: 'sms', provider: 'twilio', degraded: true, reason: 'failure rate 60%' },
    ];
    assert.equal(statusOf(input({ factors }), 'factor-sms-twilio'), 'degraded_performance');
    assert.equal(
      statusOf(
        input({
          factors,
          openIncidents: [incident({ componentIds: ['factor-sms-twilio'], impact: 'critical' })],
        }),
        'factor-sms-twilio',
      ),
      'major_outage',
    );
    assert.equal(
      statusOf(
        input({
          factors,
          overrides: [{ componentId: 'factor-sms-twilio', status: 'operational', reason: 'known' }],
        }),
        'factor-sms-twilio',
      ),
      'operational',
    );
  });
});

describe('pageIndicator', () => {
  for (const [status, indicator] of [
    ['operational', 'none'],
    ['under_maintenance', 'none'],
    ['degraded_performance', 'minor'],
    ['partial_outage', 'major'],
    ['major_outage', 'critical'],
  ] as const) {
    it(`is ${indicator} when the worst component is ${status}`, () => {
      const components = deriveComponents(
        input({ overrides: [{ componentId: 'auth-api', status, reason: 'r' }] }),
      );
      assert.equal(pageIndicator(components, []).indicator, indicator);
    });
  }

  it('takes an open incident’s impact when it is worse', () => {
    const components = deriveComponents(input());
    assert.deepEqual(pageIndicator(components, [incident({ impact: 'major' })]), {
      indicator: 'major',
      description: 'Partial System Outage',
    });
  });
});
