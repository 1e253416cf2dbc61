// Migration 0002: authenticator devices, their activations, out-of-band requests (push, phone
// call) and SMS passcodes; the per-application verified-push switch.
import type { Kysely, Migration } from 'kysely';

export function devicesMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('applications')
        .addColumn('verified_push', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();

      await db.schema
        .createTable('devices')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('platform', 'text', (c) => c.notNull())
        // JWK (JSON text) of the device's P-256 key; NULL for a phone number without an app.
        .addColumn('public_key', 'text')
        .addColumn('phone_number', 'text')
        .addColumn('otp_token_id', 'text', (c) =>
          c.references('otp_tokens.id').onDelete('set null'),
        )
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at_ms', 'bigint')
        .execute();
      await db.schema.createIndex('devices_user_id').on('devices').column('user_id').execute();

      // Activation codes an administrator made for an existing user (Auth API /enroll codes stay
      // in `enrollments`, which enroll_status reads).
      await db.schema
        .createTable('device_activations')
        .addColumn('activation_code', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('oob_requests')
        .addColumn('txid', 'text', (c) => c.primaryKey())
        .addColumn('factor', 'text', (c) => c.notNull())
        .addColumn('app_id', 'text', (c) =>
          c.notNull().references('applications.id').onDelete('cascade'),
        )
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('device_id', 'text', (c) =>
          c.notNull().references('devices.id').onDelete('cascade'),
        )
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('context', 'text', (c) => c.notNull())
        .addColumn('verification_code', 'text')
        .addColumn('callback_token_hash', 'text')
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('delivered_at_ms', 'bigint')
        .addColumn('answered_at_ms', 'bigint')
        .execute();
      await db.schema
        .createIndex('oob_requests_device_status')
        .on('oob_requests')
        .columns(['device_id', 'status'])
        .execute();
      await db.schema
        .createIndex('oob_requests_user_id')
        .on('oob_requests')
        .column('user_id')
        .execute();

      await db.schema
        .createTable('sms_passcodes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('device_id', 'text', (c) =>
          c.notNull().references('devices.id').onDelete('cascade'),
        )
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('code_hash', 'text', (c) => c.notNull())
        // The first digit, shown as sms_nextcode so the user knows which message to use.
        .addColumn('first_digit', 'text', (c) => c.notNull())
        .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('sms_passcodes_user_id')
        .on('sms_passcodes')
        .column('user_id')
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      for (const table of ['sms_passcodes', 'oob_requests', 'device_activations', 'devices']) {
        await db.schema.dropTable(table).ifExists().execute();
      }
      await db.schema.alterTable('applications').dropColumn('verified_push').execute();
    },
  };
}
