// Decodes a policy sent as JSON (Admin API, console): every problem reported, each naming its field.
import { isOneOf } from './closed-set.ts';
import { NEW_USER_POLICIES } from './model.ts';
import { validatePolicy, type Factor, type NetworkAction, type Policy } from './policy.ts';

export const POLICY_FIELDS = [
  'newUserPolicy',
  'allowedFactors',
  'bypassGroupIds',
  'denyGroupIds',
  'networkRules',
] as const;

/** `policy` holds every field that decoded, even when `errors` is not empty. */
export interface DecodePolicyResult {
  policy: Policy;
  errors: string[];
}

/**
 * Checks the shape (an object of known fields with the right types), then `validatePolicy`.
 * Group references are kept as given: the caller resolves names to ids against its store.
 */
export function decodePolicy(value: unknown): DecodePolicyResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { policy: {}, errors: ['policy: must be a JSON object'] };
  }
  const errors: string[] = [];
  const input = value as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!isOneOf(POLICY_FIELDS, key)) {
      errors.push(`${key}: unknown field (known: ${POLICY_FIELDS.join(', ')})`);
    }
  }
  const policy: Policy = {};
  const nup = input.newUserPolicy;
  if (nup !== undefined) {
    if (isOneOf(NEW_USER_POLICIES, nup)) {
      policy.newUserPolicy = nup;
    } else errors.push(`newUserPolicy: must be one of ${NEW_USER_POLICIES.join(', ')}`);
  }
  const factors = stringList(input, 'allowedFactors', errors);
  if (factors) policy.allowedFactors = factors as Factor[];
  const bypass = stringList(input, 'bypassGroupIds', errors);
  if (bypass) policy.bypassGroupIds = bypass;
  const deny = stringList(input, 'denyGroupIds', errors);
  if (deny) policy.denyGroupIds = deny;
  const rules = input.networkRules;
  if (rules !== undefined) {
    if (!Array.isArray(rules)) errors.push('networkRules: must be an array');
    else {
      const decoded: { action: NetworkAction; ranges: string[] }[] = [];
      rules.forEach((rule: unknown, i) => {
        const r = rule as { action?: unknown; ranges?: unknown } | null;
        if (
          typeof r !== 'object' ||
          r === null ||
          typeof r.action !== 'string' ||
          !Array.isArray(r.ranges) ||
          !r.ranges.every((x) => typeof x === 'string')
        ) {
          errors.push(`networkRules[${i}]: must be {"action": "...", "ranges": ["..."]}`);
        } else decoded.push({ action: r.action as NetworkAction, ranges: r.ranges });
      });
      policy.networkRules = decoded;
    }
  }
  errors.push(...validatePolicy(policy));
  return { policy, errors };
}

function stringList(
  input: Record<string, unknown>,
  field: string,
  errors: string[],
): string[] | undefined {
  const v = input[field];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    errors.push(`${field}: must be an array of strings`);
    return undefined;
  }
  return v;
}
