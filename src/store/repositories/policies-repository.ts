// Policies: the global one and per application.
import { type Selectable, sql } from 'kysely';
import { AirlockError } from '../../core/error-registry.ts';
import { type Policy, validatePolicy } from '../../core/policy.ts';
import type { PoliciesTable } from '../schema.ts';
import { GLOBAL_POLICY_SCOPE, isPolicyScope, type StoredPolicy } from '../store.ts';
import { Repository } from './repository.ts';

export class PoliciesRepository extends Repository {
  async getPolicy(scope: string): Promise<StoredPolicy | undefined> {
    const row = await this.db
      .selectFrom('policies')
      .selectAll()
      .where('scope', '=', scope)
      .executeTakeFirst();
    return row && toStoredPolicy(row);
  }

  async setPolicy(scope: string, policy: Policy, actor: string): Promise<StoredPolicy> {
    if (!isPolicyScope(scope)) {
      throw new AirlockError('POLICY_INVALID', undefined, {
        message: `policy scope must be "global" or "app:<application id>", got "${scope}"`,
      });
    }
    const problems = validatePolicy(policy);
    if (problems.length > 0) {
      throw new AirlockError('POLICY_INVALID', undefined, {
        message: `invalid policy for ${scope}:\n${problems.map((p) => `  ${p}`).join('\n')}`,
      });
    }
    const row: Selectable<PoliciesTable> = {
      scope,
      policy: JSON.stringify(normalizePolicy(policy)),
      updated_at_ms: this.clock.nowMs(),
      updated_by: actor,
    };
    await this.db
      .insertInto('policies')
      .values(row)
      .onConflict((oc) =>
        oc.column('scope').doUpdateSet({
          policy: row.policy,
          updated_at_ms: row.updated_at_ms,
          updated_by: row.updated_by,
        }),
      )
      .execute();
    return toStoredPolicy(row);
  }

  async deletePolicy(scope: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('policies')
      .where('scope', '=', scope)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async listPolicies(): Promise<StoredPolicy[]> {
    const rows = await this.db
      .selectFrom('policies')
      .selectAll()
      .orderBy(sql`CASE WHEN scope = ${GLOBAL_POLICY_SCOPE} THEN 0 ELSE 1 END`)
      .orderBy('scope')
      .execute();
    return rows.map(toStoredPolicy);
  }
}

/** Only the fields a policy has, so the stored JSON never carries stray keys. */
function normalizePolicy(p: Policy): Policy {
  return {
    ...(p.newUserPolicy === undefined ? {} : { newUserPolicy: p.newUserPolicy }),
    ...(p.allowedFactors === undefined ? {} : { allowedFactors: [...p.allowedFactors] }),
    ...(p.bypassGroupIds === undefined ? {} : { bypassGroupIds: [...p.bypassGroupIds] }),
    ...(p.denyGroupIds === undefined ? {} : { denyGroupIds: [...p.denyGroupIds] }),
    ...(p.networkRules === undefined
      ? {}
      : { networkRules: p.networkRules.map((r) => ({ ranges: [...r.ranges], action: r.action })) }),
  };
}

function toStoredPolicy(row: Selectable<PoliciesTable>): StoredPolicy {
  return {
    scope: row.scope,
    policy: JSON.parse(row.policy) as Policy,
    updatedAtMs: Number(row.updated_at_ms),
    updatedBy: row.updated_by,
  };
}
