// `airlock admin …` (console administrators) and `airlock admin-key …` (Admin API keys).
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { Secret } from 'otpauth';
import QRCode from 'qrcode';
import type { Admin } from '../../core/admin-model.ts';
import { AirlockError } from '../../core/error-registry.ts';
import { newTotpUri } from '../../core/otp-verify.ts';
import { hashPassword } from '../../runtime/password-hash.ts';
import { generateId, generateSecretKey } from '../../runtime/random.ts';
import type { Store } from '../../store/store.ts';
import { withContext } from '../open-context.ts';
import { emit, isoTime, table } from '../output.ts';
import { adminAudit, commonOptions, type CommonFlags } from './common.ts';

/** NIST SP 800-63B §3.1.1.2 asks for at least 8; an administrator gets more. */
export const MIN_ADMIN_PASSWORD_LENGTH = 12;
const TOTP_SECRET_BYTES = 20;

interface CreateFlags extends CommonFlags {
  passwordStdin?: boolean;
  issuer: string;
}

export function registerAdminCommands(program: Command): void {
  const admin = program
    .command('admin')
    .description('manage console administrators (password + TOTP)');

  commonOptions(
    admin
      .command('create <username>')
      .description(
        'create an administrator; prints the TOTP secret as otpauth URI and QR code, once',
      )
      .option('--password-stdin', 'read the password from standard input (else it is prompted)')
      .option('--issuer <name>', 'issuer shown in the authenticator app', 'Airlock admin'),
  ).action(async (username: string, flags: CreateFlags) => {
    const password = flags.passwordStdin ? await readStdin() : await promptPassword();
    if (password.length < MIN_ADMIN_PASSWORD_LENGTH) {
      throw new AirlockError('CLI_USAGE', undefined, {
        message: `the password must have at least ${MIN_ADMIN_PASSWORD_LENGTH} characters`,
      });
    }
    await withContext(flags, async (ctx) => {
      const secret = new Secret({ buffer: toArrayBuffer(ctx.random.bytes(TOTP_SECRET_BYTES)) })
        .base32;
      const passwordHash = await hashPassword(password);
      const created = await ctx.store.transaction(async (tx) => {
        const a = await tx.createAdmin({
          id: generateId(ctx.random, 'DD'),
          username,
          passwordHash,
          totpSecret: secret,
        });
        await tx.appendAudit(adminAudit(ctx, 'admin.create', 'admin', a.id, { username }));
        return a;
      });
      const uri = newTotpUri({ issuer: flags.issuer, label: username, secret });
      const qr = flags.json ? '' : await QRCode.toString(uri, { type: 'terminal', small: true });
      emit(flags, { ...describeAdmin(created), totp_secret: secret, totp_uri: uri }, () =>
        [
          `Created administrator "${username}". Scan this with an authenticator app:`,
          qr,
          `otpauth URI: ${uri}`,
          `secret (base32): ${secret}`,
          'The secret is shown only now. Log in at https://<api host>/admin/',
        ].join('\n'),
      );
    });
  });

  commonOptions(admin.command('list').description('list administrators')).action(
    async (flags: CommonFlags) =>
      withContext(flags, async (ctx) => {
        const admins = (await ctx.store.listAdmins()).map(describeAdmin);
        emit(flags, admins, () => table(admins, ['username', 'admin_id', 'disabled', 'created']));
      }),
  );

  for (const [name, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    commonOptions(
      admin
        .command(`${name} <username>`)
        .description(
          disabled
            ? 'disable an administrator (ends its console sessions at once)'
            : 'enable a disabled administrator again',
        ),
    ).action(async (username: string, flags: CommonFlags) =>
      withContext(flags, async (ctx) => {
        const updated = await ctx.store.transaction(async (tx) => {
          const a = await requireAdmin(tx, username);
          const next = await tx.setAdminDisabled(a.id, disabled);
          await tx.appendAudit(adminAudit(ctx, `admin.${name}`, 'admin', a.id, { username }));
          return next;
        });
        emit(flags, describeAdmin(updated), () => `Administrator "${username}" is ${name}d.`);
      }),
    );
  }

  const key = program
    .command('admin-key')
    .description('manage Admin API keys (ikey/skey, signed like the Auth API)');

  commonOptions(
    key.command('create <name>').description('create an Admin API key; prints its skey once'),
  ).action(async (name: string, flags: CommonFlags) =>
    withContext(flags, async (ctx) => {
      const created = await ctx.store.transaction(async (tx) => {
        const k = await tx.createAdminApiKey({
          ikey: generateId(ctx.random, 'DA'),
          skey: generateSecretKey(ctx.random),
          name,
        });
        await tx.appendAudit(adminAudit(ctx, 'admin-key.create', 'admin-key', k.ikey, { name }));
        return k;
      });
      emit(flags, { ikey: created.ikey, skey: created.skey, name }, () =>
        [
          `Created Admin API key "${name}".`,
          `  integration key (ikey): ${created.ikey}`,
          `  secret key (skey):      ${created.skey}`,
          'The secret key is shown only now; it can change everything. Keep it like a root password.',
        ].join('\n'),
      );
    }),
  );

  commonOptions(key.command('list').description('list Admin API keys (never the skeys)')).action(
    async (flags: CommonFlags) =>
      withContext(flags, async (ctx) => {
        const keys = (await ctx.store.listAdminApiKeys()).map((k) => ({
          ikey: k.ikey,
          name: k.name,
          created: isoTime(k.createdAtMs),
          last_used: isoTime(k.lastUsedAtMs),
        }));
        emit(flags, keys, () => table(keys, ['ikey', 'name', 'created', 'last_used']));
      }),
  );

  commonOptions(
    key.command('revoke <ikey>').description('revoke an Admin API key (it stops working at once)'),
  ).action(async (ikey: string, flags: CommonFlags) =>
    withContext(flags, async (ctx) => {
      await ctx.store.transaction(async (tx) => {
        if (!(await tx.deleteAdminApiKey(ikey))) {
          throw new AirlockError('STORE_NOT_FOUND', `no Admin API key "${ikey}"`);
        }
        await tx.appendAudit(adminAudit(ctx, 'admin-key.revoke', 'admin-key', ikey, {}));
      });
      emit(flags, { ikey, revoked: true }, () => `Admin API key ${ikey} revoked.`);
    }),
  );
}

function describeAdmin(a: Admin) {
  return {
    admin_id: a.id,
    username: a.username,
    disabled: a.disabled,
    created: isoTime(a.createdAtMs),
  };
}

async function requireAdmin(store: Store, username: string): Promise<Admin> {
  const a = await store.findAdmin(username);
  if (!a) throw new AirlockError('STORE_NOT_FOUND', `no administrator "${username}"`);
  return a;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing newline (from echo or a file) is not part of the password.
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** Asks twice on the terminal without echoing. */
async function promptPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    throw new AirlockError('CLI_USAGE', undefined, {
      message: 'no terminal to ask for the password: use --password-stdin',
    });
  }
  const first = await askHidden('Password: ');
  const second = await askHidden('Password again: ');
  if (first !== second) {
    throw new AirlockError('CLI_USAGE', undefined, { message: 'the passwords differ' });
  }
  return first;
}

function askHidden(question: string): Promise<string> {
  process.stderr.write(question);
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  return new Promise((resolve) => {
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}

function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
