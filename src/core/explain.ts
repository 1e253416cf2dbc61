// Explains a policy decision for `airlock explain`: the deciding rule and every other rule weighed.
import {
  checkPolicyRules,
  type PolicyDecision,
  type PolicyInput,
  type PolicyReason,
  type PolicyResult,
  type PolicyRule,
  type RuleCheck,
  type RuleTier,
} from './policy.ts';

export interface ExplainedRule {
  tier: RuleTier;
  rule: PolicyRule;
  /** What the rule decides when it applies. */
  result: PolicyResult;
  reason: PolicyReason;
  why: string;
}

/** The JSON form (`airlock explain --json`). */
export interface ExplanationJson {
  result: PolicyResult;
  reason: PolicyReason;
  statusMsg: string;
  rule: PolicyRule;
  allowedFactors: readonly string[];
  user: { username?: string; status: string; enrolled: boolean } | null;
  groups: { id: string; name?: string; status: string }[];
  application: { id: string; name: string; restrictionLevel: string };
  clientIp: string | null;
  /** Rules that applied too but were outranked by the deciding rule. */
  outranked: ExplainedRule[];
  /** Rules that were considered and did not apply. */
  notApplied: ExplainedRule[];
  /** Remarks: a restriction-level contradiction, or a decision that no longer matches. */
  notes: string[];
}

export interface Explanation {
  text: string;
  json: ExplanationJson;
}

/**
 * Explains `decision` (from `evaluatePolicy(input)`): the decision, the rule that made it, the
 * rules that also applied but were outranked, and the rules that did not apply, with why.
 */
export function explainDecision(decision: PolicyDecision, input: PolicyInput): Explanation {
  const checks = checkPolicyRules(input);
  const decidingIndex = checks.findIndex((c) => c.applies);
  const deciding = checks[decidingIndex];
  const notes: string[] = [];
  if (
    !deciding ||
    deciding.reason !== decision.reason ||
    deciding.result !== decision.result ||
    deciding.rule.text !== decision.rule.text
  ) {
    notes.push(
      'the decision given does not match these inputs evaluated now ' +
        `(${deciding ? `${deciding.result}/${deciding.reason}` : 'no rule applies'}); ` +
        'policies or memberships may have changed',
    );
  }
  if (input.application.restrictionLevel === 'most-restrictive' && decision.result === 'allow') {
    notes.push(
      'the application is most-restrictive, yet this login needs no second factor (see airlock lint)',
    );
  }
  const explained = (c: RuleCheck): ExplainedRule => ({
    tier: c.tier,
    rule: c.rule,
    result: c.result,
    reason: c.reason,
    why: c.why,
  });
  const outranked = checks.filter((c, i) => c.applies && i > decidingIndex).map(explained);
  const notApplied = checks.filter((c) => !c.applies).map(explained);

  const json: ExplanationJson = {
    result: decision.result,
    reason: decision.reason,
    statusMsg: decision.statusMsg,
    rule: decision.rule,
    allowedFactors: decision.allowedFactors,
    user: input.user
      ? {
          ...(input.user.username === undefined ? {} : { username: input.user.username }),
          status: input.user.status,
          enrolled: input.enrolled,
        }
      : null,
    groups: input.groups.map((g) => ({ ...g })),
    application: {
      id: input.application.id,
      name: input.application.name,
      restrictionLevel: input.application.restrictionLevel,
    },
    clientIp: input.clientIp ?? null,
    outranked,
    notApplied,
    notes,
  };
  return { text: renderText(json, deciding?.why), json };
}

function renderText(j: ExplanationJson, decidingWhy: string | undefined): string {
  const lines: string[] = [];
  lines.push(`Decision: ${j.result} (${j.reason}): "${j.statusMsg}"`);
  const who = j.user
    ? `${j.user.username ?? '(user)'}, ${j.user.status}, ${j.user.enrolled ? 'enrolled' : 'not enrolled'}`
    : 'unknown user';
  const groups =
    j.groups.length === 0
      ? 'no groups'
      : `groups ${j.groups.map((g) => `${g.name ? `"${g.name}" ` : ''}(${g.id}, ${g.status})`).join(', ')}`;
  lines.push(`User: ${who}; ${groups}`);
  lines.push(
    `Application: "${j.application.name}" (${j.application.id}), ${j.application.restrictionLevel}; ` +
      `client IP ${j.clientIp ?? 'not given'}`,
  );
  lines.push(
    `Deciding rule: [${j.rule.source}] ${j.rule.text}${decidingWhy ? `: ${decidingWhy}` : ''}`,
  );
  if (j.result === 'auth' || j.result === 'enroll') {
    lines.push(`Allowed factors: ${j.allowedFactors.join(', ') || 'none'}`);
  }
  if (j.outranked.length > 0) {
    lines.push('Also applied, but outranked:');
    for (const r of j.outranked) lines.push(`  ${ruleLine(r)} (would ${r.result})`);
  }
  if (j.notApplied.length > 0) {
    lines.push('Did not apply:');
    for (const r of j.notApplied) lines.push(`  ${ruleLine(r)}`);
  }
  for (const note of j.notes) lines.push(`Note: ${note}`);
  return lines.join('\n');
}

function ruleLine(r: ExplainedRule): string {
  return `[${r.rule.source}] ${r.rule.text}: ${r.why}`;
}
