// `airlock token …` and `airlock bypass-codes`: passcode factors an admin hands out.
import { type Command, InvalidArgumentError } from 'commander';
import QRCode from 'qrcode';
import { OTP_ALGORITHMS } from '../../core/model.ts';
import { replaceBypassCodes } from '../../operations/bypass-code-operations.ts';
import { requireUser } from '../../operations/record-lookups.ts';
import { addHotpToken, addTotpToken, deleteOtpToken } from '../../operations/token-operations.ts';
import { withContext } from '../open-context.ts';
import { emit, isoTime, table } from '../output.ts';
import { choice, commonOptions, nonNegativeInt, positiveInt, type CommonFlags } from './common.ts';

interface TotpFlags extends CommonFlags {
  name?: string;
  algorithm: string;
  digits: number;
  period: number;
  issuer: string;
}

interface HotpFlags extends CommonFlags {
  name?: string;
  algorithm: string;
  digits: number;
  secret: string;
  counter: number;
}

export function registerTokenCommands(program: Command): void {
  const token = program
    .command('token')
    .description('manage passcode tokens (TOTP apps, HOTP hardware tokens)');

  commonOptions(
    token
      .command('add-totp <user>')
      .description('create a TOTP secret for a user; prints the otpauth URI and a QR code to scan')
      .option('--name <name>', 'label for this token')
      .option('--algorithm <alg>', OTP_ALGORITHMS.join('|'), 'SHA1')
      .option('--digits <n>', '6 or 8', positiveInt, 6)
      .option('--period <seconds>', 'time step', positiveInt, 30)
      .option('--issuer <name>', 'issuer shown in the authenticator app', 'Airlock'),
  ).action(async (userRef: string, flags: TotpFlags) =>
    withContext(flags, async (ctx) => {
      const { user, token, secret, uri } = await addTotpToken(ctx, userRef, {
        name: flags.name ?? null,
        algorithm: choice(flags.algorithm, OTP_ALGORITHMS, '--algorithm'),
        digits: flags.digits,
        periodSeconds: flags.period,
        issuer: flags.issuer,
      });
      const qr = flags.json ? '' : await QRCode.toString(uri, { type: 'terminal', small: true });
      emit(flags, { token_id: token.id, username: user.username, secret, uri }, () =>
        [
          `TOTP token added for "${user.username}". Scan this with an authenticator app:`,
          qr,
          `otpauth URI: ${uri}`,
          `secret (base32): ${secret}`,
          'The secret is shown only now.',
        ].join('\n'),
      );
    }),
  );

  commonOptions(
    token
      .command('add-hotp <user>')
      .description('register an HOTP (counter-based) hardware token by its secret')
      .requiredOption('--secret <base32>', "the token's seed, base32")
      .option('--counter <n>', 'current counter of the token', nonNegativeInt, 0)
      .option('--name <name>', 'label for this token (e.g. its serial number)')
      .option('--algorithm <alg>', OTP_ALGORITHMS.join('|'), 'SHA1')
      .option('--digits <n>', '6 or 8', positiveInt, 6),
  ).action(async (userRef: string, flags: HotpFlags) =>
    withContext(flags, async (ctx) => {
      const { user, token } = await addHotpToken(ctx, userRef, {
        secret: flags.secret,
        counter: flags.counter,
        name: flags.name ?? null,
        algorithm: choice(flags.algorithm, OTP_ALGORITHMS, '--algorithm'),
        digits: flags.digits,
      });
      emit(
        flags,
        { token_id: token.id, username: user.username },
        () => `HOTP token added for "${user.username}".`,
      );
    }),
  );

  commonOptions(
    program
      .command('bypass-codes <user>')
      .description('generate bypass codes for a user, replacing any earlier ones; printed once')
      .option('--count <n>', 'how many codes', positiveInt, 10)
      .option('--uses <n>', 'uses per code (0 = unlimited until expiry)', nonNegativeInt, 1)
      .option(
        '--valid-for <duration>',
        'lifetime, e.g. 30m, 12h, 7d (default: no expiry)',
        parseDuration,
      ),
  ).action(
    async (
      userRef: string,
      flags: CommonFlags & { count: number; uses: number; validFor?: number },
    ) =>
      withContext(flags, async (ctx) => {
        const { user, codes, expiresAtMs } = await replaceBypassCodes(ctx, userRef, {
          count: flags.count,
          uses: flags.uses,
          ...(flags.validFor !== undefined ? { validForMs: flags.validFor } : {}),
        });
        emit(
          flags,
          { username: user.username, codes, uses: flags.uses, expires: isoTime(expiresAtMs) },
          () =>
            [
              `Bypass codes for "${user.username}" (each valid for ${flags.uses === 0 ? 'unlimited uses' : `${flags.uses} use(s)`}${expiresAtMs ? `, until ${isoTime(expiresAtMs)}` : ''}):`,
              ...codes.map((c) => `  ${c}`),
              'Earlier codes no longer work. These are shown only now.',
            ].join('\n'),
        );
      }),
  );

  commonOptions(
    token.command('list <user>').description("list a user's passcode tokens (never the secrets)"),
  ).action(async (userRef: string, flags: CommonFlags) =>
    withContext(flags, async (ctx) => {
      const user = await requireUser(ctx.store, userRef);
      const rows = (await ctx.store.listOtpTokens(user.id)).map((t) => ({
        token_id: t.id,
        type: t.type,
        name: t.name,
      }));
      emit(flags, rows, () => table(rows, ['token_id', 'type', 'name']));
    }),
  );

  commonOptions(
    token.command('delete <user> <token_id>').description("delete one of a user's passcode tokens"),
  ).action(async (userRef: string, tokenId: string, flags: CommonFlags) =>
    withContext(flags, async (ctx) => {
      const user = await deleteOtpToken(ctx, userRef, tokenId);
      emit(
        flags,
        { deleted: true, token_id: tokenId, username: user.username },
        () => `Deleted token ${tokenId} of "${user.username}".`,
      );
    }),
  );
}

function parseDuration(value: string): number {
  const m = /^([0-9]+)([smhd])$/.exec(value);
  if (!m) throw new InvalidArgumentError('must look like 30m, 12h or 7d');
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}
