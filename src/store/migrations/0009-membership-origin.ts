// Migration 0009: which emergency control made a group membership, so its revert removes exactly
// those (security finding 13). Null = an administrator's membership, which no revert removes.
import type { Kysely, Migration } from 'kysely';

export function membershipOriginMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      // Memberships that exist now are taken as the administrators' own: a revert of a control
      // active across the upgrade keeps them (and lists them as kept) rather than guess.
      await db.schema.alterTable('group_members').addColumn('added_by_control', 'text').execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('group_members').dropColumn('added_by_control').execute();
    },
  };
}
