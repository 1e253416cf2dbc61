import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adviseGroupBypass, bypassReach, lintSnapshot, type AdvisorSnapshot } from './advisor.ts';
import type { EmergencyControl } from './emergency-control.ts';

function snapshot(overrides: Partial<AdvisorSnapshot> = {}): AdvisorSnapshot {
  return {
    applications: [
      {
        id: 'vault',
        name: 'Vault',
        ikey: 'DIVAULT',
        restrictionLevel: 'most-restrictive',
        allowedGroupIds: ['admins'],
      },
      {
        id: 'vpn',
        name: 'VPN',
        ikey: 'DIVPN',
        restrictionLevel: 'less-restrictive',
        allowedGroupIds: [],
      },
      {
        id: 'wiki',
        name: 'Wiki',
        restrictionLevel: 'restrictive',
        allowedGroupIds: ['staff'],
      },
    ],
    groups: [
      { id: 'admins', name: 'Admins', status: 'active' },
      { id: 'staff', name: 'Staff', status: 'active' },
      { id: 'sales', name: 'Sales', status: 'active' },
    ],
    proxySections: [
      { proxy: 'p1', section: 'radius_server_auto', ikey: 'DIVAULT', failmode: 'secure' },
      { proxy: 'p1', section: 'radius_server_auto2', ikey: 'DIVPN', failmode: 'safe' },
    ],
    ...overrides,
  };
}

const codes = (s: AdvisorSnapshot) => lintSnapshot(s).map((f) => f.code);

describe('lintSnapshot', () => {
  it('finds nothing in a configuration that matches the restriction levels', () => {
    assert.deepEqual(lintSnapshot(snapshot()), []);
  });

  it('flags a most-restrictive application behind failmode=safe', () => {
    const s = snapshot({
      proxySections: [
        { proxy: 'p1', section: 'radius_server_auto', ikey: 'DIVAULT', failmode: 'safe' },
      ],
    });
    const [f, ...rest] = lintSnapshot(s);
    assert.deepEqual(rest, []);
    assert.equal(f?.code, 'most-restrictive-failmode-safe');
    assert.equal(f?.severity, 'error');
    assert.deepEqual(f?.subjects, [
      { type: 'application', id: 'vault' },
      { type: 'proxy-section', id: 'p1:radius_server_auto' },
    ]);
    assert.match(f?.message ?? '', /Vault.*failmode=safe/);
  });

  it('does not flag failmode=safe on a less-restrictive application', () => {
    // DIVPN is behind failmode=safe in the base snapshot.
    assert.deepEqual(codes(snapshot()), []);
  });

  it('flags a bypass group that can reach a most-restrictive application', () => {
    const s = snapshot({
      groups: [
        { id: 'admins', name: 'Admins', status: 'bypass' },
        { id: 'staff', name: 'Staff', status: 'active' },
      ],
    });
    const findings = lintSnapshot(s);
    assert.deepEqual(
      findings.map((f) => [f.code, f.subjects]),
      [
        [
          'most-restrictive-bypass-reach',
          [
            { type: 'application', id: 'vault' },
            { type: 'group', id: 'admins' },
          ],
        ],
      ],
    );
  });

  it('does not flag a bypass group the most-restrictive application does not admit', () => {
    const s = snapshot({
      groups: [
        { id: 'admins', name: 'Admins', status: 'active' },
        { id: 'sales', name: 'Sales', status: 'bypass' },
      ],
    });
    assert.deepEqual(codes(s), []);
  });

  it('does not flag a bypass group that a policy denies on the application', () => {
    const base = snapshot();
    const s = snapshot({
      groups: [{ id: 'admins', name: 'Admins', status: 'bypass' }],
      applications: base.applications.map((a) =>
        a.id === 'vault' ? { ...a, policy: { denyGroupIds: ['admins'] } } : a,
      ),
    });
    assert.deepEqual(codes(s), []);
  });

  it('flags a group in the bypass list of the global policy, unless the application narrows it', () => {
    const flagged = snapshot({ globalPolicy: { bypassGroupIds: ['sales'] } });
    assert.deepEqual(codes(flagged), ['most-restrictive-bypass-reach']);
    assert.match(lintSnapshot(flagged)[0]?.message ?? '', /global policy bypass group "Sales"/);

    const base = snapshot();
    const narrowed = snapshot({
      globalPolicy: { bypassGroupIds: ['sales'] },
      applications: base.applications.map((a) =>
        a.id === 'vault' ? { ...a, policy: { bypassGroupIds: [] } } : a,
      ),
    });
    assert.deepEqual(codes(narrowed), []);
  });

  it('flags an active emergency bypass on a most-restrictive application, not a reverted one', () => {
    const control: EmergencyControl = {
      id: 'E1',
      scope: { kind: 'app-bypass-groups', appId: 'vault', groupIds: ['admins'] },
      reason: 'push failing',
      actor: 'cli:alice',
      createdAtMs: 0,
      expiresAtMs: 3_600_000,
      state: 'active',
    };
    const active = lintSnapshot(snapshot({ emergencyControls: [control] }));
    assert.deepEqual(
      active.map((f) => f.subjects),
      [
        [
          { type: 'application', id: 'vault' },
          { type: 'group', id: 'admins' },
          { type: 'emergency-control', id: 'E1' },
        ],
      ],
    );
    assert.deepEqual(
      codes(snapshot({ emergencyControls: [{ ...control, state: 'reverted' }] })),
      [],
    );
  });

  it('does not flag a disabled bypass-listed group', () => {
    const s = snapshot({
      groups: [{ id: 'sales', name: 'Sales', status: 'disabled' }],
      globalPolicy: { bypassGroupIds: ['sales'] },
    });
    assert.deepEqual(codes(s), []);
  });
});

describe('bypassReach', () => {
  it('lists applications the group can reach that the admin did not name', () => {
    // staff reaches the Wiki (names staff) and the VPN (open to every group), not the Vault.
    assert.deepEqual(bypassReach(['staff'], ['wiki'], snapshot()), [
      { groupId: 'staff', appId: 'vpn', appName: 'VPN', restrictionLevel: 'less-restrictive' },
    ]);
    assert.deepEqual(
      bypassReach(['staff'], [], snapshot()).map((r) => r.appId),
      ['vpn', 'wiki'],
    );
  });

  it('is empty when the admin named every application the group reaches', () => {
    assert.deepEqual(bypassReach(['staff'], ['vpn', 'wiki'], snapshot()), []);
  });

  it('treats an application with no allowed groups as reachable by every group', () => {
    assert.deepEqual(
      bypassReach(['sales'], [], snapshot()).map((r) => r.appId),
      ['vpn'],
    );
  });

  it('leaves out applications where a policy denies the group', () => {
    assert.deepEqual(
      bypassReach(['sales'], [], snapshot({ globalPolicy: { denyGroupIds: ['sales'] } })),
      [],
    );
  });
});

describe('adviseGroupBypass', () => {
  it('warns with the member count and the unnamed applications', () => {
    const [f, ...rest] = adviseGroupBypass(
      ['staff'],
      ['wiki'],
      snapshot({ memberCounts: { staff: 12 } }),
    );
    assert.deepEqual(rest, []);
    assert.equal(f?.code, 'bypass-reaches-unnamed-applications');
    assert.equal(f?.severity, 'warning');
    assert.equal(
      f?.message,
      'bypass for group "Staff" (staff) (12 members) also applies to "VPN" (less-restrictive)',
    );
  });

  it('is an error when a most-restrictive application is among them', () => {
    const [f] = adviseGroupBypass(['admins'], ['vpn'], snapshot());
    assert.equal(f?.severity, 'error');
    assert.deepEqual(f?.subjects, [
      { type: 'group', id: 'admins' },
      { type: 'application', id: 'vault' },
    ]);
  });

  it('says nothing when the admin named everything the group reaches', () => {
    assert.deepEqual(adviseGroupBypass(['sales'], ['vpn'], snapshot()), []);
  });
});
