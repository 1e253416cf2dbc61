// `airlock admin …` (console administrators) and `airlock admin-key …` (Admin API keys).
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import QRCode from 'qrcode';
import type { Admin } from '../../core/admin-model.ts';
import { AirlockError } from '../../core/error-registry.ts';
import { createAdminApiKey, revokeAdminApiKey } from '../../operations/admin-key-operations.ts';
import { createAdmin, setAdminDisabled } from '../../operations/admin-operations.ts';
import { withContext } from '../open-context.ts';
import { emit, isoTime, table } from '../output.ts';
import { commonOptions, type CommonFlags } from './common.ts';

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
    await withContext(flags, async (ctx) => {
      const {
        admin: created,
        totpSecret: secret,
        totpUri: uri,
      } = await createAdmin(ctx, { username, password, issuer: flags.issuer });
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
        const updated = await setAdminDisabled(ctx, username, disabled);
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
      const created = await createAdminApiKey(ctx, name);
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
      await revokeAdminApiKey(ctx, ikey);
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
