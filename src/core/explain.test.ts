import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { explainDecision } from './explain.ts';
import { evaluatePolicy, type PolicyInput } from './policy.ts';

const input: PolicyInput = {
  user: { username: 'alice', status: 'bypass' },
  enrolled: true,
  groups: [
    { id: 'G1', name: 'contractors', status: 'active' },
    { id: 'G2', name: 'helpdesk', status: 'bypass' },
  ],
  application: {
    id: 'A1',
    name: 'VPN',
    newUserPolicy: 'enroll',
    allowedGroupIds: [],
    restrictionLevel: 'restrictive',
  },
  clientIp: '10.1.2.3',
  globalPolicy: { denyGroupIds: ['G1'] },
  appPolicy: { networkRules: [{ ranges: ['10.0.0.0/8'], action: 'allow' }] },
};

describe('explainDecision', () => {
  it('prints the decision, the deciding rule, the outranked rules and those that did not apply', () => {
    const { text } = explainDecision(evaluatePolicy(input), input);
    assert.equal(
      text,
      [
        'Decision: deny (group-denied): "You are not allowed to use this application."',
        'User: alice, bypass, enrolled; groups "contractors" (G1, active), "helpdesk" (G2, bypass)',
        'Application: "VPN" (A1), restrictive; client IP 10.1.2.3',
        'Deciding rule: [global] global policy: members of group "contractors" (G1) are denied: the user is a member',
        'Also applied, but outranked:',
        '  [user-status] a user in bypass status needs no second factor: the user is in bypass (would allow)',
        '  [group-status] group "helpdesk" (G2) is in bypass: the group gives access to the application (would allow)',
        '  [application] application policy (A1) network rule 0: logins from 10.0.0.0/8 need no second factor: 10.1.2.3 is in 10.0.0.0/8 (would allow)',
        '  [default] an enrolled user authenticates with a second factor: the user has a usable second factor (would auth)',
        'Did not apply:',
        '  [user-status] a disabled user is denied: the user is not disabled',
        '  [user-status] a locked-out user is denied: the user is not locked out',
        '  [application] application "VPN" new-user policy: enroll: the user is enrolled',
      ].join('\n'),
    );
  });

  it('gives the same content as JSON', () => {
    const decision = evaluatePolicy(input);
    const { json } = explainDecision(decision, input);
    assert.equal(json.result, 'deny');
    assert.equal(json.reason, 'group-denied');
    assert.deepEqual(json.rule, decision.rule);
    assert.deepEqual(
      json.outranked.map((r) => r.reason),
      ['user-bypass', 'group-bypass', 'network-allow', 'enrolled'],
    );
    assert.deepEqual(
      json.notApplied.map((r) => r.reason),
      ['user-disabled', 'user-locked-out', 'new-user-enroll'],
    );
    assert.deepEqual(json.notes, []);
    // Round-trips through JSON unchanged: plain data only.
    assert.deepEqual(JSON.parse(JSON.stringify(json)), json);
  });

  it('explains an unknown user without a client IP', () => {
    const unknown: PolicyInput = {
      ...input,
      user: undefined,
      enrolled: false,
      groups: [],
      clientIp: undefined,
      globalPolicy: { newUserPolicy: 'deny' },
    };
    const { text, json } = explainDecision(evaluatePolicy(unknown), unknown);
    assert.match(text, /^Decision: deny \(new-user-deny\)/);
    assert.match(text, /\nUser: unknown user; no groups\n/);
    assert.match(text, /client IP not given/);
    assert.match(
      text,
      /Deciding rule: \[global\] global policy new-user policy: deny: the user is unknown/,
    );
    assert.match(text, /no client IP was given, so no network rule applies/);
    assert.equal(json.user, null);
    assert.equal(json.clientIp, null);
  });

  it('lists the allowed factors when the user must authenticate', () => {
    const auth: PolicyInput = {
      ...input,
      user: { username: 'bob', status: 'active' },
      groups: [],
      clientIp: '192.0.2.1',
      appPolicy: { allowedFactors: ['push', 'passcode'] },
    };
    const { text } = explainDecision(evaluatePolicy(auth), auth);
    assert.match(text, /\nAllowed factors: push, passcode\n/);
    assert.match(
      text,
      /Deciding rule: \[application\] application policy: an enrolled user authenticates with push, passcode/,
    );
  });

  it('notes a login without second factor on a most-restrictive application', () => {
    const mr: PolicyInput = {
      ...input,
      globalPolicy: {},
      application: { ...input.application, restrictionLevel: 'most-restrictive' },
    };
    const { json, text } = explainDecision(evaluatePolicy(mr), mr);
    assert.equal(json.result, 'allow');
    assert.equal(json.notes.length, 1);
    assert.match(text, /Note: the application is most-restrictive/);
  });

  it('notes a decision that no longer matches its inputs', () => {
    const stale = evaluatePolicy({ ...input, globalPolicy: {} });
    const { json } = explainDecision(stale, input);
    assert.equal(json.result, 'allow', 'reports the decision it was given');
    assert.match(json.notes[0] ?? '', /does not match.*deny\/group-denied/);
  });
});
