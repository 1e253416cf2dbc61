// Migration 0012: Web SDK (Universal Prompt) applications: registered redirect URIs and the
// "remember this device" window per application, hosted-prompt logins with their authorization
// codes, and single-use markers (client assertion jti, authorize state) that survive restarts.
import type { Kysely, Migration } from 'kysely';

export function webSdkMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      // JSON array of absolute URLs; an authorize request to any other URI is refused.
      await db.schema
        .alterTable('applications')
        .addColumn('redirect_uris', 'text', (c) => c.notNull().defaultTo('[]'))
        .execute();
      // Hours the prompt may remember a device for this application; 0 = never (the default).
      await db.schema
        .alterTable('applications')
        .addColumn('remember_device_hours', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();

      // One hosted-prompt login: what the verified `request` JWT asked for, then its outcome and
      // the authorization code (hashed) that the application exchanges once.
      await db.schema
        .createTable('prompt_logins')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('app_id', 'text', (c) =>
          c.notNull().references('applications.id').onDelete('cascade'),
        )
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('redirect_uri', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('nonce', 'text')
        .addColumn('use_duo_code', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text')
        .addColumn('code_hash', 'text', (c) => c.unique())
        .addColumn('code_expires_at_ms', 'bigint')
        .addColumn('code_used', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('prompt_logins_expires')
        .on('prompt_logins')
        .column('expires_at_ms')
        .execute();

      // Values that may be used once until they expire: `jti:<client>:<jti>`, `state:<client>:<hash>`.
      await db.schema
        .createTable('single_use_marks')
        .addColumn('mark', 'text', (c) => c.primaryKey())
        .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('single_use_marks_expires')
        .on('single_use_marks')
        .column('expires_at_ms')
        .execute();

      // Devices a user chose to have remembered for one application (token hashed).
      await db.schema
        .createTable('remembered_devices')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('app_id', 'text', (c) =>
          c.notNull().references('applications.id').onDelete('cascade'),
        )
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('remembered_devices').execute();
      await db.schema.dropTable('single_use_marks').execute();
      await db.schema.dropTable('prompt_logins').execute();
      await db.schema.alterTable('applications').dropColumn('remember_device_hours').execute();
      await db.schema.alterTable('applications').dropColumn('redirect_uris').execute();
    },
  };
}
