import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GroupStatus, NewUserPolicy, RestrictionLevel, UserStatus } from './model.ts';
import {
  FACTORS,
  POLICY_REASONS,
  RULE_TIERS,
  checkPolicyRules,
  evaluatePolicy,
  mergePolicies,
  policyStatusMessage,
  validatePolicy,
  type EmergencyOverlay,
  type Policy,
  type PolicyInput,
  type PolicyReason,
} from './policy.ts';
import { PREAUTH_REASONS, decidePreauth, type PreauthInput } from './preauth-decision.ts';

const APP = 'A1';

function base(overrides: Partial<PolicyInput> = {}): PolicyInput {
  return {
    user: { status: 'active' },
    enrolled: true,
    groups: [],
    application: {
      id: APP,
      name: 'VPN',
      newUserPolicy: 'enroll',
      allowedGroupIds: [],
      restrictionLevel: 'restrictive',
    },
    ...overrides,
  };
}

function withApp(patch: Partial<PolicyInput['application']>, rest: Partial<PolicyInput> = {}) {
  const b = base(rest);
  return { ...b, application: { ...b.application, ...patch } };
}

describe('evaluatePolicy equals decidePreauth when there are no policies', () => {
  // The same inputs the decidePreauth table test enumerates.
  const USERS: (UserStatus | undefined)[] = [
    undefined,
    'active',
    'bypass',
    'disabled',
    'locked out',
  ];
  const GROUP_SETS: GroupStatus[][] = [
    [],
    ['active'],
    ['bypass'],
    ['disabled'],
    ['active', 'bypass'],
    ['bypass', 'disabled'],
  ];
  const POLICIES: NewUserPolicy[] = ['enroll', 'allow', 'deny'];
  const RESTRICTIONS = ['none', 'member', 'other'] as const;
  const LEVELS: RestrictionLevel[] = ['most-restrictive', 'restrictive', 'less-restrictive'];
  const EMPTY_POLICIES: [Policy | undefined, Policy | undefined][] = [
    [undefined, undefined],
    [{}, {}],
    [{ bypassGroupIds: [], denyGroupIds: [], networkRules: [] }, { networkRules: [] }],
  ];

  it('gives the same result, reason and status message over every combination', () => {
    let count = 0;
    for (const user of USERS)
      for (const enrolled of [false, true])
        for (const statuses of GROUP_SETS)
          for (const newUserPolicy of POLICIES)
            for (const restriction of RESTRICTIONS)
              for (const restrictionLevel of LEVELS)
                for (const [globalPolicy, appPolicy] of EMPTY_POLICIES)
                  for (const clientIp of [undefined, '10.0.0.1']) {
                    const groups = user
                      ? statuses.map((status, i) => ({ id: `G${i}`, status }))
                      : [];
                    const allowedGroupIds =
                      restriction === 'none' ? [] : restriction === 'member' ? ['G0'] : ['Gx'];
                    const pre: PreauthInput = {
                      user: user ? { status: user } : undefined,
                      enrolled,
                      groups,
                      application: { newUserPolicy, allowedGroupIds },
                    };
                    const expected = decidePreauth(pre);
                    const got = evaluatePolicy({
                      ...pre,
                      application: {
                        id: APP,
                        name: 'VPN',
                        newUserPolicy,
                        allowedGroupIds,
                        restrictionLevel,
                      },
                      clientIp,
                      globalPolicy,
                      appPolicy,
                      emergencyOverlays: [],
                    });
                    const where = JSON.stringify({
                      user,
                      enrolled,
                      statuses,
                      newUserPolicy,
                      restriction,
                    });
                    assert.equal(got.result, expected.result, where);
                    assert.equal(got.reason, expected.reason, where);
                    assert.equal(got.statusMsg, expected.statusMsg, where);
                    assert.deepEqual(got.allowedFactors, FACTORS, where);
                    count++;
                  }
    assert.equal(count, 5 * 2 * 6 * 3 * 3 * 3 * 3 * 2);
  });

  it('keeps decidePreauth reasons as a prefix of the policy reasons', () => {
    assert.deepEqual(POLICY_REASONS.slice(0, PREAUTH_REASONS.length), [...PREAUTH_REASONS]);
  });
});

describe('evaluatePolicy: key rows', () => {
  const office = { ranges: ['10.0.0.0/8'], action: 'allow' as const };
  const rows: [string, PolicyInput, string, PolicyReason, string][] = [
    ['enrolled user authenticates', base(), 'auth', 'enrolled', 'default'],
    [
      'global deny group denies',
      base({ groups: [{ id: 'G1', status: 'active' }], globalPolicy: { denyGroupIds: ['G1'] } }),
      'deny',
      'group-denied',
      'global',
    ],
    [
      'application deny group denies even a bypass user',
      base({
        user: { status: 'bypass' },
        groups: [{ id: 'G1', status: 'active' }],
        appPolicy: { denyGroupIds: ['G1'] },
      }),
      'deny',
      'group-denied',
      'application',
    ],
    [
      'an application policy cannot lift a global deny group',
      base({
        groups: [{ id: 'G1', status: 'active' }],
        globalPolicy: { denyGroupIds: ['G1'] },
        appPolicy: { denyGroupIds: [], bypassGroupIds: ['G1'] },
      }),
      'deny',
      'group-denied',
      'global',
    ],
    [
      'policy bypass group allows',
      base({ groups: [{ id: 'G1', status: 'active' }], globalPolicy: { bypassGroupIds: ['G1'] } }),
      'allow',
      'policy-bypass-group',
      'global',
    ],
    [
      'application policy narrows bypass to none',
      base({
        groups: [{ id: 'G1', status: 'active' }],
        globalPolicy: { bypassGroupIds: ['G1'] },
        appPolicy: { bypassGroupIds: [] },
      }),
      'auth',
      'enrolled',
      'default',
    ],
    [
      'a disabled group in a bypass policy grants nothing',
      withApp(
        { allowedGroupIds: ['G2'] },
        {
          groups: [
            { id: 'G1', status: 'disabled' },
            { id: 'G2', status: 'active' },
          ],
          appPolicy: { bypassGroupIds: ['G1'] },
        },
      ),
      'auth',
      'enrolled',
      'default',
    ],
    [
      'emergency overlay bypasses for its application',
      base({
        groups: [{ id: 'G1', status: 'active' }],
        emergencyOverlays: [{ controlId: 'E1', appId: APP, groupIds: ['G1'] }],
      }),
      'allow',
      'emergency-bypass-group',
      'emergency',
    ],
    [
      'emergency overlay of another application is ignored',
      base({
        groups: [{ id: 'G1', status: 'active' }],
        emergencyOverlays: [{ controlId: 'E1', appId: 'A2', groupIds: ['G1'] }],
      }),
      'auth',
      'enrolled',
      'default',
    ],
    [
      'emergency overlay does not lift a deny group',
      base({
        groups: [{ id: 'G1', status: 'active' }],
        globalPolicy: { denyGroupIds: ['G1'] },
        emergencyOverlays: [{ controlId: 'E1', appId: APP, groupIds: ['G1'] }],
      }),
      'deny',
      'group-denied',
      'global',
    ],
    [
      'allow network rule allows a known user',
      base({ clientIp: '10.2.3.4', appPolicy: { networkRules: [office] } }),
      'allow',
      'network-allow',
      'application',
    ],
    [
      'allow network rule allows an unenrolled known user',
      base({ enrolled: false, clientIp: '10.2.3.4', appPolicy: { networkRules: [office] } }),
      'allow',
      'network-allow',
      'application',
    ],
    [
      'allow network rule does not open the new-user policy to unknown users',
      withApp(
        { newUserPolicy: 'deny' },
        {
          user: undefined,
          enrolled: false,
          clientIp: '10.2.3.4',
          globalPolicy: { networkRules: [office] },
        },
      ),
      'deny',
      'new-user-deny',
      'application',
    ],
    [
      'IPv4-mapped IPv6 client address matches an IPv4 range',
      base({ clientIp: '::ffff:10.2.3.4', appPolicy: { networkRules: [office] } }),
      'allow',
      'network-allow',
      'application',
    ],
    [
      'address outside the allowed range authenticates',
      base({ clientIp: '192.0.2.1', appPolicy: { networkRules: [office] } }),
      'auth',
      'enrolled',
      'default',
    ],
    [
      'require-2fa before allow takes the address out of the allow',
      base({
        clientIp: '10.1.2.3',
        appPolicy: {
          networkRules: [{ ranges: ['10.1.0.0/16'], action: 'require-2fa' }, office],
        },
      }),
      'auth',
      'enrolled',
      'default',
    ],
    [
      'require-2fa does not cancel a bypass group',
      base({
        clientIp: '10.1.2.3',
        groups: [{ id: 'G1', status: 'bypass' }],
        appPolicy: { networkRules: [{ ranges: ['0.0.0.0/0'], action: 'require-2fa' }] },
      }),
      'allow',
      'group-bypass',
      'group-status',
    ],
    [
      'a global deny rule listed after an application allow still denies',
      base({
        clientIp: '10.2.3.4',
        appPolicy: { networkRules: [office] },
        globalPolicy: { networkRules: [{ ranges: ['10.2.0.0/16'], action: 'deny' }] },
      }),
      'deny',
      'network-deny',
      'global',
    ],
    [
      'deny network rule denies a bypass user',
      base({
        user: { status: 'bypass' },
        clientIp: '2001:db8::1',
        globalPolicy: { networkRules: [{ ranges: ['2001:db8::/32'], action: 'deny' }] },
      }),
      'deny',
      'network-deny',
      'global',
    ],
    [
      'no network rule applies without a client IP',
      base({ globalPolicy: { networkRules: [{ ranges: ['0.0.0.0/0', '::/0'], action: 'deny' }] } }),
      'auth',
      'enrolled',
      'default',
    ],
    [
      'a client IP that is not an address matches nothing',
      base({
        clientIp: 'not-an-ip',
        globalPolicy: { networkRules: [{ ranges: ['0.0.0.0/0'], action: 'deny' }] },
      }),
      'auth',
      'enrolled',
      'default',
    ],
    [
      'a network rule that does not parse denies (fail closed)',
      base({
        user: { status: 'bypass' },
        clientIp: '10.2.3.4',
        appPolicy: { networkRules: [{ ranges: ['10.0.0.0/33'], action: 'allow' }] },
      }),
      'deny',
      'invalid-network-rule',
      'application',
    ],
    [
      'application new-user policy overrides the global one',
      base({
        user: undefined,
        enrolled: false,
        globalPolicy: { newUserPolicy: 'deny' },
        appPolicy: { newUserPolicy: 'allow' },
      }),
      'allow',
      'new-user-allow',
      'application',
    ],
    [
      'global new-user policy overrides the application record',
      withApp(
        { newUserPolicy: 'allow' },
        { user: undefined, enrolled: false, globalPolicy: { newUserPolicy: 'deny' } },
      ),
      'deny',
      'new-user-deny',
      'global',
    ],
    [
      'no allowed factor denies an enrolled user',
      base({ appPolicy: { allowedFactors: [] } }),
      'deny',
      'no-allowed-factors',
      'application',
    ],
    [
      'no allowed factor does not deny a bypass user',
      base({ user: { status: 'bypass' }, appPolicy: { allowedFactors: [] } }),
      'allow',
      'user-bypass',
      'user-status',
    ],
    [
      'most-restrictive level does not by itself change the decision',
      withApp(
        { restrictionLevel: 'most-restrictive' },
        { groups: [{ id: 'G1', status: 'bypass' }] },
      ),
      'allow',
      'group-bypass',
      'group-status',
    ],
  ];
  for (const [name, given, result, reason, source] of rows) {
    it(name, () => {
      const d = evaluatePolicy(given);
      assert.equal(d.result, result);
      assert.equal(d.reason, reason);
      assert.equal(d.rule.source, source);
      assert.equal(d.statusMsg, policyStatusMessage(reason));
      assert.ok(d.rule.text.length > 0);
    });
  }

  it('reports the allowed factors of the application policy, else the global one', () => {
    assert.deepEqual(
      evaluatePolicy(base({ globalPolicy: { allowedFactors: ['push', 'passcode'] } }))
        .allowedFactors,
      ['push', 'passcode'],
    );
    assert.deepEqual(
      evaluatePolicy(
        base({
          globalPolicy: { allowedFactors: ['push'] },
          appPolicy: { allowedFactors: ['sms'] },
        }),
      ).allowedFactors,
      ['sms'],
    );
  });

  it('names the emergency control and the group in the deciding rule', () => {
    const d = evaluatePolicy(
      base({
        groups: [{ id: 'G1', name: 'helpdesk', status: 'active' }],
        emergencyOverlays: [{ controlId: 'E7', appId: APP, groupIds: ['G1'] }],
      }),
    );
    assert.equal(d.rule.id, 'E7');
    assert.match(d.rule.text, /E7/);
    assert.match(d.rule.text, /"helpdesk" \(G1\)/);
  });
});

describe('evaluatePolicy over every combination', () => {
  // Groups: the user may be in G0 and G1 (statuses from GROUP_SETS). The application may be
  // open, restricted to G0, or restricted to a group the user is not in.
  const USERS: (UserStatus | undefined)[] = [
    undefined,
    'active',
    'bypass',
    'disabled',
    'locked out',
  ];
  const GROUP_SETS: GroupStatus[][] = [
    [],
    ['active'],
    ['bypass'],
    ['disabled'],
    ['active', 'bypass'],
    ['bypass', 'disabled'],
    ['active', 'disabled'],
  ];
  const RESTRICTIONS = ['none', 'G0', 'other'] as const;
  type Restriction = (typeof RESTRICTIONS)[number];
  /** [application record's new-user policy, global policy, application policy]. */
  type NewUser = [NewUserPolicy, Policy, Policy];
  const NEW_USER: NewUser[] = [
    ['enroll', {}, {}],
    ['allow', { newUserPolicy: 'deny' }, {}],
    ['deny', { newUserPolicy: 'deny' }, { newUserPolicy: 'allow' }],
    ['deny', {}, { allowedFactors: [] }],
  ];
  type Named = [string, Policy, Policy];
  const DENY_GROUPS: Named[] = [
    ['none', {}, {}],
    ['global G0', { denyGroupIds: ['G0'] }, {}],
    ['app G1', {}, { denyGroupIds: ['G1'] }],
  ];
  const BYPASS: Named[] = [
    ['none', {}, {}],
    ['global G0', { bypassGroupIds: ['G0'] }, {}],
    ['app G1', {}, { bypassGroupIds: ['G1'] }],
    ['global G0 narrowed by app', { bypassGroupIds: ['G0'] }, { bypassGroupIds: [] }],
  ];
  const OVERLAYS: [string, EmergencyOverlay[]][] = [
    ['none', []],
    ['G0 here', [{ controlId: 'E1', appId: APP, groupIds: ['G0'] }]],
    ['G1 elsewhere', [{ controlId: 'E2', appId: 'A-other', groupIds: ['G1'] }]],
  ];
  const office = (action: 'allow' | 'deny' | 'require-2fa', range = '10.0.0.0/8') => ({
    networkRules: [{ ranges: [range], action }],
  });
  type Network = [string, string | undefined, Policy, Policy];
  const NO_NETWORK: Network = ['no rules', '10.1.2.3', {}, {}];
  const NETWORKS: Network[] = [
    NO_NETWORK,
    ['app allow, inside', '10.1.2.3', {}, office('allow')],
    ['app allow, outside', '192.0.2.9', {}, office('allow')],
    [
      'global deny after app allow, inside both',
      '10.1.2.3',
      office('deny', '10.1.0.0/16'),
      office('allow'),
    ],
    [
      'require-2fa before allow',
      '10.1.2.3',
      {},
      {
        networkRules: [
          { ranges: ['10.1.0.0/16'], action: 'require-2fa' },
          { ranges: ['10.0.0.0/8'], action: 'allow' },
        ],
      },
    ],
    ['deny everything, no IP', undefined, office('deny', '0.0.0.0/0'), {}],
    ['invalid allow rule', '10.1.2.3', {}, office('allow', '10.0.0.0/40')],
  ];

  interface Combination {
    user: UserStatus | undefined;
    enrolled: boolean;
    statuses: GroupStatus[];
    restriction: Restriction;
    nu: NewUser;
    deny: Named;
    bypass: Named;
    overlay: [string, EmergencyOverlay[]];
    network: Network;
  }

  /** The rules of docs/policies.md, written independently of the implementation's step list. */
  function expected(c: Combination): { result: string; reason: PolicyReason } {
    const groups = c.user ? c.statuses.map((status, i) => ({ id: `G${i}`, status })) : [];
    const inG = (id: string) => groups.find((g) => g.id === id);
    const usable = (id: string) => inG(id) !== undefined && inG(id)?.status !== 'disabled';
    const access = c.restriction === 'none' ? groups : groups.filter((g) => g.id === c.restriction);
    const [deny, bypass, overlay, network] = [c.deny[0], c.bypass[0], c.overlay[0], c.network[0]];
    const denies: PolicyReason[] = [];
    if (c.user === 'disabled') denies.push('user-disabled');
    if (c.user === 'locked out') denies.push('user-locked-out');
    if (network === 'invalid allow rule') denies.push('invalid-network-rule');
    if (network === 'global deny after app allow, inside both') denies.push('network-deny');
    if (deny === 'global G0' && inG('G0')) denies.push('group-denied');
    if (deny === 'app G1' && inG('G1')) denies.push('group-denied');
    if (c.restriction !== 'none' && access.length === 0) denies.push('not-in-allowed-group');
    if (access.some((g) => g.status === 'disabled')) denies.push('group-disabled');
    if (denies[0]) return { result: 'deny', reason: denies[0] };

    if (c.user === 'bypass') return { result: 'allow', reason: 'user-bypass' };
    if (access.some((g) => g.status === 'bypass')) {
      return { result: 'allow', reason: 'group-bypass' };
    }
    if ((bypass === 'global G0' && usable('G0')) || (bypass === 'app G1' && usable('G1'))) {
      return { result: 'allow', reason: 'policy-bypass-group' };
    }
    if (overlay === 'G0 here' && usable('G0')) {
      return { result: 'allow', reason: 'emergency-bypass-group' };
    }
    if (c.user && network === 'app allow, inside')
      return { result: 'allow', reason: 'network-allow' };

    const [record, global, app] = c.nu;
    if (c.user && c.enrolled) {
      return app.allowedFactors?.length === 0
        ? { result: 'deny', reason: 'no-allowed-factors' }
        : { result: 'auth', reason: 'enrolled' };
    }
    const policy = app.newUserPolicy ?? global.newUserPolicy ?? record;
    return { result: policy, reason: `new-user-${policy}` };
  }

  function inputOf(c: Combination): PolicyInput {
    const [, clientIp, netGlobal, netApp] = c.network;
    return {
      user: c.user ? { status: c.user } : undefined,
      enrolled: c.enrolled,
      groups: c.user ? c.statuses.map((status, i) => ({ id: `G${i}`, status })) : [],
      application: {
        id: APP,
        name: 'VPN',
        newUserPolicy: c.nu[0],
        allowedGroupIds: c.restriction === 'none' ? [] : c.restriction === 'G0' ? ['G0'] : ['Gx'],
        restrictionLevel: 'restrictive',
      },
      clientIp,
      globalPolicy: { ...c.nu[1], ...c.deny[1], ...c.bypass[1], ...netGlobal },
      appPolicy: { ...c.nu[2], ...c.deny[2], ...c.bypass[2], ...netApp },
      emergencyOverlays: c.overlay[1],
    };
  }

  /** Checks one combination; returns what is wrong with it (nothing when it holds). */
  function verify(c: Combination, seen: Set<PolicyReason>): string[] {
    const problems: string[] = [];
    const input = inputOf(c);
    const d = evaluatePolicy(input);
    seen.add(d.reason);
    const want = expected(c);
    if (d.result !== want.result || d.reason !== want.reason) {
      problems.push(`got ${d.result}/${d.reason}, want ${want.result}/${want.reason}`);
    }
    if (d.statusMsg !== policyStatusMessage(d.reason)) problems.push('status message');

    const checks = checkPolicyRules(input);
    // Any deny rule that applies makes the result a deny, whatever allows.
    if (checks.some((k) => k.tier === 'deny' && k.applies) && d.result !== 'deny') {
      problems.push('a deny rule applies but the result is not deny');
    }
    // The checks come in tier order, and the first that applies decides.
    const tiers = checks.map((k) => RULE_TIERS.indexOf(k.tier));
    if (tiers.some((t, i) => i > 0 && t < (tiers[i - 1] ?? 0))) problems.push('tier order');
    const first = checks.find((k) => k.applies);
    if (first?.reason !== d.reason || first.rule.text !== d.rule.text) {
      problems.push('the decision is not the first check that applies');
    }

    // Adding a matching deny never leaves an allow: a deny group for one of the user's groups,
    // or else a deny network rule for the client's address.
    const global = input.globalPolicy ?? {};
    const firstGroup = input.groups[0];
    const clientIp = input.clientIp;
    const withDeny: Policy | undefined = firstGroup
      ? { ...global, denyGroupIds: [...(global.denyGroupIds ?? []), firstGroup.id] }
      : clientIp
        ? {
            ...global,
            networkRules: [
              ...(global.networkRules ?? []),
              { ranges: [`${clientIp}/32`], action: 'deny' },
            ],
          }
        : undefined;
    if (withDeny) {
      const denied = evaluatePolicy({ ...input, globalPolicy: withDeny });
      if (denied.result !== 'deny') problems.push(`an added deny gave ${denied.result}`);
    }
    return problems.map((p) => `${p} for ${JSON.stringify(c)}`);
  }

  function* combinations(
    networks: Network[],
    groupSets: GroupStatus[][],
    newUsers: NewUser[],
    overlays: [string, EmergencyOverlay[]][],
  ) {
    for (const user of USERS)
      for (const enrolled of [false, true])
        for (const statuses of groupSets)
          for (const restriction of RESTRICTIONS)
            for (const nu of newUsers)
              for (const deny of DENY_GROUPS)
                for (const bypass of BYPASS)
                  for (const overlay of overlays)
                    for (const network of networks) {
                      const c: Combination = {
                        user,
                        enrolled,
                        statuses,
                        restriction,
                        nu,
                        deny,
                        bypass,
                        overlay,
                        network,
                      };
                      yield c;
                    }
  }

  // Two products keep the run short: every identity, group and policy dimension with no network
  // rule; then every network case with every dimension, over fewer group sets, new-user cases
  // and overlays.
  it('follows the precedence over every user, group, policy and overlay combination', () => {
    const seen = new Set<PolicyReason>();
    const failures: string[] = [];
    let count = 0;
    for (const c of combinations([NO_NETWORK], GROUP_SETS, NEW_USER, OVERLAYS)) {
      failures.push(...verify(c, seen));
      count++;
    }
    assert.deepEqual(failures.slice(0, 5), []);
    assert.equal(count, 5 * 2 * 7 * 3 * 4 * 3 * 4 * 3);
    // Every reason but the network ones is reached, so no rule goes untested.
    assert.deepEqual(
      POLICY_REASONS.filter((r) => !seen.has(r)),
      ['network-deny', 'invalid-network-rule', 'network-allow'],
    );
  });

  it('follows the precedence over every network case combined with the other dimensions', () => {
    const seen = new Set<PolicyReason>();
    const failures: string[] = [];
    let count = 0;
    const groupSets: GroupStatus[][] = [
      [],
      ['active'],
      ['bypass', 'disabled'],
      ['active', 'disabled'],
    ];
    for (const c of combinations(NETWORKS, groupSets, NEW_USER.slice(0, 2), OVERLAYS.slice(0, 2))) {
      failures.push(...verify(c, seen));
      count++;
    }
    assert.deepEqual(failures.slice(0, 5), []);
    assert.equal(count, 5 * 2 * 4 * 3 * 2 * 3 * 4 * 2 * 7);
    assert.deepEqual(
      POLICY_REASONS.filter((r) => !seen.has(r)),
      ['new-user-allow', 'no-allowed-factors'], // reached by the first product
    );
  });
});

describe('mergePolicies', () => {
  it('takes each field from the application policy when set, else the global one', () => {
    const m = mergePolicies(
      { newUserPolicy: 'deny', allowedFactors: ['push'], bypassGroupIds: ['G1'] },
      { allowedFactors: ['passcode'] },
    );
    assert.deepEqual(m.newUserPolicy, { value: 'deny', source: 'global' });
    assert.deepEqual(m.allowedFactors, { value: ['passcode'], source: 'application' });
    assert.deepEqual(m.bypassGroups, [{ groupId: 'G1', source: 'global' }]);
  });

  it('allows every factor when neither policy says', () => {
    assert.deepEqual(mergePolicies(undefined, undefined).allowedFactors, {
      value: FACTORS,
      source: 'default',
    });
  });

  it('unites deny groups and keeps both lists of network rules, application first', () => {
    const m = mergePolicies(
      { denyGroupIds: ['G1'], networkRules: [{ ranges: ['10.0.0.0/8'], action: 'deny' }] },
      { denyGroupIds: ['G2'], networkRules: [{ ranges: ['10.1.0.0/16'], action: 'allow' }] },
    );
    assert.deepEqual(m.denyGroups, [
      { groupId: 'G1', source: 'global' },
      { groupId: 'G2', source: 'application' },
    ]);
    assert.deepEqual(
      m.networkRules.map((r) => [r.source, r.index, r.rule.action]),
      [
        ['application', 0, 'allow'],
        ['global', 0, 'deny'],
      ],
    );
  });

  it('adds the overlays’ groups to the bypass groups', () => {
    const m = mergePolicies({}, { bypassGroupIds: ['G1'] }, [
      { controlId: 'E1', appId: APP, groupIds: ['G2', 'G3'] },
    ]);
    assert.deepEqual(m.bypassGroups, [
      { groupId: 'G1', source: 'application' },
      { groupId: 'G2', source: 'emergency', id: 'E1' },
      { groupId: 'G3', source: 'emergency', id: 'E1' },
    ]);
  });
});

describe('validatePolicy', () => {
  it('accepts an empty policy and a full valid one', () => {
    assert.deepEqual(validatePolicy({}), []);
    assert.deepEqual(
      validatePolicy({
        newUserPolicy: 'enroll',
        allowedFactors: ['push', 'passcode'],
        bypassGroupIds: ['G1'],
        denyGroupIds: ['G2'],
        networkRules: [{ ranges: ['10.0.0.0/8', '2001:db8::/32'], action: 'allow' }],
      }),
      [],
    );
  });

  it('reports every problem, each naming its field', () => {
    const errors = validatePolicy({
      allowedFactors: ['push', 'carrier-pigeon' as never],
      networkRules: [
        { ranges: [], action: 'allow' },
        { ranges: ['10.0.0.0/33', 'x'], action: 'block' as never },
      ],
    });
    assert.deepEqual(
      errors.map((e) => e.split(':')[0]),
      [
        'allowedFactors',
        'networkRules[0].ranges',
        'networkRules[1].action',
        'networkRules[1].ranges',
        'networkRules[1].ranges',
      ],
    );
    assert.deepEqual(validatePolicy({ allowedFactors: [] }).length, 1);
  });
});
