// Policy evaluation: global and per-application policies plus emergency overlays decide a login.
// Network ranges reuse the authproxy.cfg range parser, which is pure (node:net address checks only).
import { isOneOf } from './closed-set.ts';
import { matchesIp, parseIpRange, type IpMatcher } from './ip-ranges.ts';
import type { GroupStatus, NewUserPolicy, RestrictionLevel, UserStatus } from './model.ts';
import { PREAUTH_REASONS } from './preauth-decision.ts';

/** Second factors a policy can allow; `passcode` covers TOTP/HOTP codes and bypass codes. */
export const FACTORS = ['push', 'sms', 'phone', 'passcode'] as const;
export type Factor = (typeof FACTORS)[number];
export const isFactor = (v: unknown): v is Factor => isOneOf(FACTORS, v);

export const NETWORK_ACTIONS = ['allow', 'require-2fa', 'deny'] as const;
/**
 * `allow`: a known user from these addresses needs no second factor. `require-2fa`: these
 * addresses get no network allow (later rules are not consulted for them). `deny`: denied,
 * whatever any other rule says.
 */
export type NetworkAction = (typeof NETWORK_ACTIONS)[number];
export const isNetworkAction = (v: unknown): v is NetworkAction => isOneOf(NETWORK_ACTIONS, v);

export interface NetworkRule {
  /** Each one address, CIDR, IPv4 netmask or `a-b` range, as `parseIpRange` accepts. */
  ranges: readonly string[];
  action: NetworkAction;
}

/**
 * A policy. Every field is optional so that an application policy overrides the global policy
 * field by field; `mergePolicies` states how each field combines.
 */
export interface Policy {
  newUserPolicy?: NewUserPolicy | undefined;
  allowedFactors?: readonly Factor[] | undefined;
  /** Members of these groups need no second factor. */
  bypassGroupIds?: readonly string[] | undefined;
  /** Members of these groups are denied. */
  denyGroupIds?: readonly string[] | undefined;
  /** Ordered: the first matching non-deny rule decides; any matching deny rule denies. */
  networkRules?: readonly NetworkRule[] | undefined;
}

/** An active emergency control of kind `app-bypass-groups`, as policy evaluation sees it. */
export interface EmergencyOverlay {
  controlId: string;
  appId: string;
  groupIds: readonly string[];
}

export const POLICY_RESULTS = ['allow', 'deny', 'auth', 'enroll'] as const;
export type PolicyResult = (typeof POLICY_RESULTS)[number];

/** Why the decision came out as it did: decidePreauth's reasons plus the policies' own. Stable. */
export const POLICY_REASONS = [
  ...PREAUTH_REASONS,
  'network-deny',
  'invalid-network-rule',
  'group-denied',
  'policy-bypass-group',
  'emergency-bypass-group',
  'network-allow',
  'no-allowed-factors',
] as const;
export type PolicyReason = (typeof POLICY_REASONS)[number];
export const isPolicyReason = (v: unknown): v is PolicyReason => isOneOf(POLICY_REASONS, v);

/** Where a rule comes from. `default` = built in (an enrolled user authenticates). */
export const RULE_SOURCES = [
  'global',
  'application',
  'emergency',
  'user-status',
  'group-status',
  'default',
] as const;
export type RuleSource = (typeof RULE_SOURCES)[number];

export interface PolicyRule {
  source: RuleSource;
  /**
   * What the rule is about: the group id (group rules), the emergency control id, the
   * application id (group restriction, new-user policy from the application), or
   * `networkRules[i]` (network rules of the policy named by `source`).
   */
  id?: string;
  text: string;
}

export interface PolicyInput {
  /** Undefined when the username is unknown to Airlock. */
  user: { id?: string; username?: string; status: UserStatus } | undefined;
  /** The user has at least one usable second factor. */
  enrolled: boolean;
  /** Every group the user is a member of. */
  groups: readonly { id: string; name?: string; status: GroupStatus }[];
  application: {
    id: string;
    name: string;
    newUserPolicy: NewUserPolicy;
    /** Groups allowed to use the application; empty = everyone. */
    allowedGroupIds: readonly string[];
    restrictionLevel: RestrictionLevel;
  };
  /** The client's address as the application reports it; absent = no network rule applies. */
  clientIp?: string | undefined;
  globalPolicy?: Policy | undefined;
  appPolicy?: Policy | undefined;
  /** Active overlays; those for other applications are ignored. */
  emergencyOverlays?: readonly EmergencyOverlay[] | undefined;
}

export interface PolicyDecision {
  result: PolicyResult;
  reason: PolicyReason;
  /** The message for the Auth API's `status_msg`; equal to decidePreauth's where they overlap. */
  statusMsg: string;
  /** The rule that made the decision. */
  rule: PolicyRule;
  /** The factors the user may authenticate with (also given when no second factor is needed). */
  allowedFactors: readonly Factor[];
}

const MESSAGES: Record<PolicyReason, string> = {
  // The first ten are decidePreauth's, word for word (a test checks it).
  'user-disabled': 'Your account is disabled.',
  'user-locked-out': 'Your account is locked out.',
  'group-disabled': 'Your account is disabled.',
  'not-in-allowed-group': 'You are not allowed to use this application.',
  'user-bypass': 'Allowing user in bypass status.',
  'group-bypass': 'Allowing user in a bypass group.',
  enrolled: 'Account is active',
  'new-user-enroll': 'Enroll an authentication device to proceed',
  'new-user-allow': 'Allowing unknown user',
  'new-user-deny': 'Enrollment is required and not allowed here.',
  'network-deny': 'Access from your network is not allowed.',
  'invalid-network-rule': 'Access is denied by policy.',
  'group-denied': 'You are not allowed to use this application.',
  'policy-bypass-group': 'Allowing user in a bypass group.',
  'emergency-bypass-group': 'Allowing user under a temporary policy.',
  'network-allow': 'Allowing user from a trusted network.',
  'no-allowed-factors': 'No authentication method is allowed for this application.',
};

/** The statusMsg of a reason. */
export function policyStatusMessage(reason: PolicyReason): string {
  return MESSAGES[reason];
}

type PolicySource = 'global' | 'application';

const NEW_USER_REASONS: Record<NewUserPolicy, PolicyReason> = {
  enroll: 'new-user-enroll',
  allow: 'new-user-allow',
  deny: 'new-user-deny',
};

/** A policy after merging, each entry carrying the policy it came from. */
export interface MergedPolicy {
  /** Undefined: neither policy sets it; the application record's new-user policy applies. */
  newUserPolicy: { value: NewUserPolicy; source: PolicySource } | undefined;
  allowedFactors: { value: readonly Factor[]; source: PolicySource | 'default' };
  bypassGroups: readonly { groupId: string; source: PolicySource | 'emergency'; id?: string }[];
  denyGroups: readonly { groupId: string; source: PolicySource }[];
  /** Application rules first, then global rules; `index` is the position in its own policy. */
  networkRules: readonly { rule: NetworkRule; source: PolicySource; index: number }[];
}

/**
 * Merges the global policy, an application policy and the application's emergency overlays:
 * - `newUserPolicy`, `allowedFactors`, `bypassGroupIds`: the application's value replaces the
 *   global one when set (an application can narrow bypass to `[]`); overlays add bypass groups.
 * - `denyGroupIds`: union. A more specific policy never lifts a deny.
 * - `networkRules`: application rules, then global rules. Any matching deny rule of either denies,
 *   so a global deny is never lifted either; among the others the first match decides.
 * Overlays are taken as given; `evaluatePolicy` passes only the application's own.
 */
export function mergePolicies(
  global: Policy | undefined,
  app: Policy | undefined,
  emergencyOverlays: readonly EmergencyOverlay[] = [],
): MergedPolicy {
  const factors = pickField(global, app, 'allowedFactors');
  const bypass = pickField(global, app, 'bypassGroupIds');
  const bypassGroups: { groupId: string; source: PolicySource | 'emergency'; id?: string }[] =
    bypass ? bypass.value.map((groupId) => ({ groupId, source: bypass.source })) : [];
  for (const overlay of emergencyOverlays) {
    for (const groupId of overlay.groupIds) {
      bypassGroups.push({ groupId, source: 'emergency', id: overlay.controlId });
    }
  }
  return {
    newUserPolicy: pickField(global, app, 'newUserPolicy'),
    allowedFactors: factors ?? { value: FACTORS, source: 'default' },
    bypassGroups,
    denyGroups: [
      ...(global?.denyGroupIds ?? []).map((groupId) => ({ groupId, source: 'global' as const })),
      ...(app?.denyGroupIds ?? []).map((groupId) => ({ groupId, source: 'application' as const })),
    ],
    networkRules: [...networkRulesOf(app, 'application'), ...networkRulesOf(global, 'global')],
  };
}

/** Every problem in a policy, each naming its field; empty when the policy is valid. */
export function validatePolicy(policy: Policy): string[] {
  const errors: string[] = [];
  if (policy.allowedFactors !== undefined) {
    if (policy.allowedFactors.length === 0) {
      errors.push('allowedFactors: must name at least one factor (or be left unset)');
    }
    for (const f of policy.allowedFactors as readonly unknown[]) {
      if (!isFactor(f)) errors.push(`allowedFactors: unknown factor ${JSON.stringify(f)}`);
    }
  }
  (policy.networkRules ?? []).forEach((rule, i) => {
    if (!isNetworkAction(rule.action)) {
      errors.push(`networkRules[${i}].action: must be allow, require-2fa or deny`);
    }
    if (rule.ranges.length === 0) errors.push(`networkRules[${i}].ranges: must not be empty`);
    for (const range of rule.ranges) {
      const parsed = parseIpRange(range);
      if (!parsed.ok) errors.push(`networkRules[${i}].ranges: ${parsed.error}`);
    }
  });
  return errors;
}

/** Which tier a rule belongs to: any deny outranks any allow, any allow outranks the fallback. */
export const RULE_TIERS = ['deny', 'allow', 'fallback'] as const;
export type RuleTier = (typeof RULE_TIERS)[number];

/** One rule as evaluation saw it. */
export interface RuleCheck {
  tier: RuleTier;
  rule: PolicyRule;
  /** Whether the rule matched this login. */
  applies: boolean;
  /** What it decides when it applies (and is the first that does). */
  result: PolicyResult;
  reason: PolicyReason;
  /** Why it applies or does not, for `explain`. */
  why: string;
}

/**
 * Every rule that bears on this login, in precedence order (the first that applies decides):
 *
 * deny tier
 *  1. the user is `disabled` / `locked out`                         (user-status)
 *  2. a network rule that does not parse (fail closed)              (global / application)
 *  3. a `deny` network rule matches the client IP                   (global / application)
 *  4. the user is in a deny group (any of the user's groups)        (global / application)
 *  5. the application is restricted to groups and the user is in none (application)
 *  6. a group that gives access is `disabled`                        (group-status)
 * allow tier (no second factor)
 *  7. the user is in `bypass`                                        (user-status)
 *  8. a group that gives access is in `bypass`                       (group-status)
 *  9. the user is in a policy bypass group that is not disabled      (global / application)
 * 10. the user is in an emergency bypass group that is not disabled  (emergency)
 * 11. a known user's IP matches an `allow` rule before any `require-2fa` rule (global / application)
 * fallback
 * 12. a known, enrolled user authenticates with the allowed factors (none allowed → deny)
 * 13. otherwise the new-user policy: application policy, else global policy, else the
 *     application's own setting.
 */
export function checkPolicyRules(input: PolicyInput): RuleCheck[] {
  return runChecks(input).checks;
}

function runChecks(input: PolicyInput): { checks: RuleCheck[]; merged: MergedPolicy } {
  const { user, application } = input;
  const overlays = (input.emergencyOverlays ?? []).filter((o) => o.appId === application.id);
  const merged = mergePolicies(input.globalPolicy, input.appPolicy, overlays);
  const restricted = application.allowedGroupIds.length > 0;
  const accessGroups = restricted
    ? input.groups.filter((g) => application.allowedGroupIds.includes(g.id))
    : input.groups;
  const checks: RuleCheck[] = [];
  const status = user?.status;
  const userText = user ? 'the user' : 'an unknown user';

  // 1. User status.
  addCheck(
    checks,
    'deny',
    { source: 'user-status', text: 'a disabled user is denied' },
    status === 'disabled',
    'deny',
    'user-disabled',
    status === 'disabled' ? 'the user is disabled' : `${userText} is not disabled`,
  );
  addCheck(
    checks,
    'deny',
    { source: 'user-status', text: 'a locked-out user is denied' },
    status === 'locked out',
    'deny',
    'user-locked-out',
    status === 'locked out' ? 'the user is locked out' : `${userText} is not locked out`,
  );

  // 2-3. Network rules. Parse each once; a rule that does not parse denies (fail closed).
  const ip = input.clientIp?.trim() || undefined;
  const parsedRules = merged.networkRules.map((entry) => {
    const matchers: IpMatcher[] = [];
    let invalid: string | undefined;
    for (const range of entry.rule.ranges) {
      const parsed = parseIpRange(range);
      if (parsed.ok) matchers.push(parsed.matcher);
      else invalid ??= parsed.error;
    }
    if (entry.rule.ranges.length === 0) invalid ??= 'no ranges';
    if (!isNetworkAction(entry.rule.action))
      invalid ??= `unknown action ${JSON.stringify(entry.rule.action)}`;
    const matches = ip !== undefined && matchers.some((m) => matchesIp(m, ip));
    return { ...entry, invalid, matches };
  });
  for (const r of parsedRules) {
    const rule = networkRule(r.source, application.id, r.index, r.rule);
    if (r.invalid !== undefined) {
      addCheck(
        checks,
        'deny',
        rule,
        true,
        'deny',
        'invalid-network-rule',
        `the rule cannot be evaluated: ${r.invalid}`,
      );
    }
  }
  for (const r of parsedRules) {
    if (r.invalid !== undefined || r.rule.action !== 'deny') continue;
    const rule = networkRule(r.source, application.id, r.index, r.rule);
    const why =
      ip === undefined
        ? 'no client IP was given, so no network rule applies'
        : r.matches
          ? `${ip} is in ${r.rule.ranges.join(', ')}`
          : `${ip} is not in ${r.rule.ranges.join(', ')}`;
    addCheck(checks, 'deny', rule, r.matches, 'deny', 'network-deny', why);
  }

  // 4. Deny groups, over all the user's groups.
  for (const d of merged.denyGroups) {
    const g = memberOf(input.groups, d.groupId);
    addCheck(
      checks,
      'deny',
      {
        source: d.source,
        id: d.groupId,
        text: `${policyName(d.source)}: members of group ${groupName(input.groups, d.groupId)} are denied`,
      },
      g !== undefined,
      'deny',
      'group-denied',
      g ? 'the user is a member' : `${userText} is not a member`,
    );
  }

  // 5-6. The application's group restriction and group status, as decidePreauth.
  if (restricted) {
    addCheck(
      checks,
      'deny',
      {
        source: 'application',
        id: application.id,
        text: `application "${application.name}" is restricted to groups ${application.allowedGroupIds.join(', ')}`,
      },
      accessGroups.length === 0,
      'deny',
      'not-in-allowed-group',
      accessGroups.length === 0
        ? `${userText} is in none of them`
        : `the user is in ${accessGroups.map((g) => g.id).join(', ')}`,
    );
  }
  for (const g of input.groups) {
    if (g.status !== 'disabled') continue;
    const gives = accessGroups.includes(g);
    addCheck(
      checks,
      'deny',
      {
        source: 'group-status',
        id: g.id,
        text: `group ${groupName(input.groups, g.id)} is disabled`,
      },
      gives,
      'deny',
      'group-disabled',
      gives
        ? 'the group gives access to the application'
        : 'the group gives no access to the application',
    );
  }

  // 7-8. Bypass status.
  addCheck(
    checks,
    'allow',
    { source: 'user-status', text: 'a user in bypass status needs no second factor' },
    status === 'bypass',
    'allow',
    'user-bypass',
    status === 'bypass' ? 'the user is in bypass' : `${userText} is not in bypass`,
  );
  for (const g of input.groups) {
    if (g.status !== 'bypass') continue;
    const gives = accessGroups.includes(g);
    addCheck(
      checks,
      'allow',
      {
        source: 'group-status',
        id: g.id,
        text: `group ${groupName(input.groups, g.id)} is in bypass`,
      },
      gives,
      'allow',
      'group-bypass',
      gives
        ? 'the group gives access to the application'
        : 'the group gives no access to the application',
    );
  }

  // 9-10. Bypass groups of the policies and of emergency overlays. A disabled group grants nothing.
  for (const b of merged.bypassGroups) {
    const g = memberOf(input.groups, b.groupId);
    const applies = g !== undefined && g.status !== 'disabled';
    const emergency = b.source === 'emergency';
    const rule: PolicyRule =
      b.source === 'emergency'
        ? {
            source: 'emergency',
            id: b.id ?? '',
            text: `emergency control ${b.id ?? ''}: members of group ${groupName(input.groups, b.groupId)} need no second factor on "${application.name}"`,
          }
        : {
            source: b.source,
            id: b.groupId,
            text: `${policyName(b.source)}: members of group ${groupName(input.groups, b.groupId)} need no second factor`,
          };
    addCheck(
      checks,
      'allow',
      rule,
      applies,
      'allow',
      emergency ? 'emergency-bypass-group' : 'policy-bypass-group',
      g === undefined
        ? `${userText} is not a member`
        : applies
          ? 'the user is a member'
          : 'the user is a member, but the group is disabled',
    );
  }

  // 11. Network allow: the first matching non-deny rule decides; only for known users.
  const firstOpen = parsedRules.find(
    (r) => r.invalid === undefined && r.rule.action !== 'deny' && r.matches,
  );
  for (const r of parsedRules) {
    if (r.invalid !== undefined || r.rule.action === 'deny') continue;
    const rule = networkRule(r.source, application.id, r.index, r.rule);
    let why: string;
    let applies = false;
    if (ip === undefined) why = 'no client IP was given, so no network rule applies';
    else if (!r.matches) why = `${ip} is not in ${r.rule.ranges.join(', ')}`;
    else if (r !== firstOpen) why = `${ip} matched an earlier rule first`;
    else if (r.rule.action === 'require-2fa')
      why = `${ip} is in ${r.rule.ranges.join(', ')}: no network allow`;
    else if (!user) why = `${ip} matches, but an unknown user gets the new-user policy`;
    else {
      applies = true;
      why = `${ip} is in ${r.rule.ranges.join(', ')}`;
    }
    addCheck(checks, 'allow', rule, applies, 'allow', 'network-allow', why);
  }

  // 12-13. Fallback.
  const factors = merged.allowedFactors.value;
  const enrolled = user !== undefined && input.enrolled;
  const noFactors = factors.length === 0;
  addCheck(
    checks,
    'fallback',
    {
      source: merged.allowedFactors.source === 'default' ? 'default' : merged.allowedFactors.source,
      text:
        merged.allowedFactors.source === 'default'
          ? 'an enrolled user authenticates with a second factor'
          : `${policyName(merged.allowedFactors.source)}: an enrolled user authenticates with ${noFactors ? 'no factor (none allowed)' : factors.join(', ')}`,
    },
    enrolled,
    noFactors ? 'deny' : 'auth',
    noFactors ? 'no-allowed-factors' : 'enrolled',
    enrolled
      ? 'the user has a usable second factor'
      : user
        ? 'the user is not enrolled'
        : 'the user is unknown',
  );
  const nup = merged.newUserPolicy ?? {
    value: application.newUserPolicy,
    source: 'record' as const,
  };
  addCheck(
    checks,
    'fallback',
    nup.source === 'record'
      ? {
          source: 'application',
          id: application.id,
          text: `application "${application.name}" new-user policy: ${nup.value}`,
        }
      : { source: nup.source, text: `${policyName(nup.source)} new-user policy: ${nup.value}` },
    !enrolled,
    nup.value,
    NEW_USER_REASONS[nup.value],
    enrolled ? 'the user is enrolled' : user ? 'the user is not enrolled' : 'the user is unknown',
  );
  return { checks, merged };
}

/** The decision for a login: the first rule of `checkPolicyRules` that applies. */
export function evaluatePolicy(input: PolicyInput): PolicyDecision {
  const { checks, merged } = runChecks(input);
  // The last check (new-user policy) applies whenever the one before it (enrolled) does not.
  const deciding = checks.find((c) => c.applies) as RuleCheck;
  return {
    result: deciding.result,
    reason: deciding.reason,
    statusMsg: MESSAGES[deciding.reason],
    rule: deciding.rule,
    allowedFactors: merged.allowedFactors.value,
  };
}

function addCheck(
  checks: RuleCheck[],
  tier: RuleTier,
  rule: PolicyRule,
  applies: boolean,
  result: PolicyResult,
  reason: PolicyReason,
  why: string,
): void {
  checks.push({ tier, rule, applies, result, reason, why });
}

function pickField<K extends keyof Policy>(
  global: Policy | undefined,
  app: Policy | undefined,
  key: K,
): { value: NonNullable<Policy[K]>; source: PolicySource } | undefined {
  const fromApp = app?.[key];
  if (fromApp !== undefined && fromApp !== null) return { value: fromApp, source: 'application' };
  const fromGlobal = global?.[key];
  if (fromGlobal !== undefined && fromGlobal !== null)
    return { value: fromGlobal, source: 'global' };
  return undefined;
}

function networkRulesOf(policy: Policy | undefined, source: PolicySource) {
  return (policy?.networkRules ?? []).map((rule, index) => ({ rule, source, index }));
}

function memberOf(
  groups: PolicyInput['groups'],
  id: string,
): PolicyInput['groups'][number] | undefined {
  return groups.find((g) => g.id === id);
}

function groupName(groups: PolicyInput['groups'], id: string): string {
  const name = memberOf(groups, id)?.name;
  return name ? `"${name}" (${id})` : id;
}

function policyName(source: PolicySource): string {
  return source === 'global' ? 'global policy' : 'application policy';
}

function networkRule(
  source: PolicySource,
  appId: string,
  index: number,
  rule: NetworkRule,
): PolicyRule {
  const verb =
    rule.action === 'allow'
      ? 'need no second factor'
      : rule.action === 'require-2fa'
        ? 'get no network allow'
        : 'are denied';
  return {
    source,
    id: `networkRules[${index}]`,
    text: `${policyName(source)}${source === 'application' ? ` (${appId})` : ''} network rule ${index}: logins from ${rule.ranges.join(', ')} ${verb}`,
  };
}
