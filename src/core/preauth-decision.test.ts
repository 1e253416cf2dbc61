import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GroupStatus, NewUserPolicy, UserStatus } from './model.ts';
import { decidePreauth, type PreauthInput } from './preauth-decision.ts';

const USERS: (UserStatus | undefined)[] = [undefined, 'active', 'bypass', 'disabled', 'locked out'];
const GROUP_SETS: GroupStatus[][] = [
  [],
  ['active'],
  ['bypass'],
  ['disabled'],
  ['active', 'bypass'],
  ['bypass', 'disabled'],
];
const POLICIES: NewUserPolicy[] = ['enroll', 'allow', 'deny'];
/** none = app open to all; member = restricted to the user's first group; other = restricted elsewhere. */
const RESTRICTIONS = ['none', 'member', 'other'] as const;

function input(
  user: UserStatus | undefined,
  enrolled: boolean,
  groupStatuses: GroupStatus[],
  policy: NewUserPolicy,
  restriction: (typeof RESTRICTIONS)[number],
): PreauthInput {
  // An unknown user cannot be in a group.
  const groups = user ? groupStatuses.map((status, i) => ({ id: `G${i}`, status })) : [];
  const allowedGroupIds =
    restriction === 'none' ? [] : restriction === 'member' ? ['G0'] : ['G-elsewhere'];
  return {
    user: user ? { status: user } : undefined,
    enrolled,
    groups,
    application: { newUserPolicy: policy, allowedGroupIds },
  };
}

describe('decidePreauth', () => {
  const rows: [string, PreauthInput, string, string][] = [
    [
      'active enrolled user must authenticate',
      input('active', true, [], 'enroll', 'none'),
      'auth',
      'enrolled',
    ],
    [
      'disabled user is denied',
      input('disabled', true, [], 'allow', 'none'),
      'deny',
      'user-disabled',
    ],
    [
      'locked-out user is denied',
      input('locked out', true, [], 'allow', 'none'),
      'deny',
      'user-locked-out',
    ],
    ['bypass user is allowed', input('bypass', false, [], 'deny', 'none'), 'allow', 'user-bypass'],
    [
      'member of a bypass group is allowed',
      input('active', true, ['bypass'], 'enroll', 'none'),
      'allow',
      'group-bypass',
    ],
    [
      'member of a disabled group is denied',
      input('active', true, ['disabled'], 'allow', 'none'),
      'deny',
      'group-disabled',
    ],
    [
      'disabled group wins over bypass user',
      input('bypass', true, ['disabled'], 'allow', 'none'),
      'deny',
      'group-disabled',
    ],
    [
      'disabled group wins over bypass group',
      input('active', true, ['bypass', 'disabled'], 'allow', 'none'),
      'deny',
      'group-disabled',
    ],
    [
      'unknown user with enroll policy must enroll',
      input(undefined, false, [], 'enroll', 'none'),
      'enroll',
      'new-user-enroll',
    ],
    [
      'unknown user with allow policy is allowed',
      input(undefined, false, [], 'allow', 'none'),
      'allow',
      'new-user-allow',
    ],
    [
      'unknown user with deny policy is denied',
      input(undefined, false, [], 'deny', 'none'),
      'deny',
      'new-user-deny',
    ],
    [
      'known unenrolled user follows the new-user policy',
      input('active', false, [], 'deny', 'none'),
      'deny',
      'new-user-deny',
    ],
    [
      'user outside the allowed groups is denied',
      input('active', true, ['active'], 'allow', 'other'),
      'deny',
      'not-in-allowed-group',
    ],
    [
      'unknown user on a restricted app is denied even when unknown users are allowed',
      input(undefined, false, [], 'allow', 'member'),
      'deny',
      'not-in-allowed-group',
    ],
    [
      'member of the allowed group must authenticate',
      input('active', true, ['active'], 'deny', 'member'),
      'auth',
      'enrolled',
    ],
    [
      'bypass in a group without access to a restricted app does not allow',
      input('active', true, ['active', 'bypass'], 'deny', 'member'),
      'auth',
      'enrolled',
    ],
    [
      'disabled group without access to a restricted app does not deny',
      input('active', true, ['active', 'disabled'], 'deny', 'member'),
      'auth',
      'enrolled',
    ],
  ];
  for (const [name, given, result, reason] of rows) {
    it(name, () => {
      const d = decidePreauth(given);
      assert.equal(d.result, result);
      assert.equal(d.reason, reason);
      assert.ok(d.statusMsg.length > 0);
    });
  }

  // Every combination of the table's inputs, checked against the rules stated in
  // docs/design/auth-api.md, Decisions.
  it('holds the decision rules over every combination of inputs', () => {
    let count = 0;
    for (const user of USERS)
      for (const enrolled of [false, true])
        for (const groupSet of GROUP_SETS)
          for (const policy of POLICIES)
            for (const restriction of RESTRICTIONS) {
              const given = input(user, enrolled, groupSet, policy, restriction);
              const d = decidePreauth(given);
              const where = JSON.stringify({ user, enrolled, groupSet, policy, restriction });
              const access =
                restriction === 'none'
                  ? given.groups
                  : given.groups.filter((g) => given.application.allowedGroupIds.includes(g.id));
              const denied =
                user === 'disabled' ||
                user === 'locked out' ||
                (restriction !== 'none' && access.length === 0) ||
                access.some((g) => g.status === 'disabled');
              const bypassed = user === 'bypass' || access.some((g) => g.status === 'bypass');
              if (denied) assert.equal(d.result, 'deny', where);
              else if (bypassed) assert.equal(d.result, 'allow', where);
              else if (user && enrolled) assert.equal(d.result, 'auth', where);
              else assert.equal(d.result, policy, where);
              count++;
            }
    assert.equal(
      count,
      USERS.length * 2 * GROUP_SETS.length * POLICIES.length * RESTRICTIONS.length,
    );
  });
});
