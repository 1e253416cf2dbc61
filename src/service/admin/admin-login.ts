// Console login: argon2id password + TOTP (one use per step), rate-limited per address and per
// username and address, one generic failure for every reason, about the same time for every reason.
import { timingSafeEqual } from 'node:crypto';
import type { Admin } from '../../core/admin-model.ts';
import { AirlockError } from '../../core/error-registry.ts';
import { verifyTotp } from '../../core/otp-verify.ts';
import type { TakeResult, TokenBuckets } from '../../core/token-bucket.ts';
import type { Clock } from '../../runtime/clock.ts';
import { dummyPasswordHash, verifyPassword } from '../../runtime/password-hash.ts';
import type { Random } from '../../runtime/random.ts';
import type { Store } from '../../store/store.ts';
import { csrfTokenFor, hashToken, type AdminSessionOptions } from './admin-auth.ts';

export interface AdminLoginOptions extends AdminSessionOptions {
  /** Login attempts one username may make from one address at once… */
  loginBurst: number;
  /** …and then this many per minute. */
  loginPerMinute: number;
  /** Login attempts one address may make at once, whatever the usernames… */
  loginPerAddressBurst: number;
  /** …and then this many per minute. */
  loginPerAddressPerMinute: number;
}

export interface LoginInput {
  username: string;
  password: string;
  code: string;
  ip: string;
}

export interface LoginDeps {
  store: Store;
  clock: Clock;
  random: Random;
  limiter: TokenBuckets;
  options: AdminLoginOptions;
}

export interface LoggedIn {
  admin: Admin;
  /** Goes into the cookie; only its hash is stored. */
  sessionToken: string;
  csrfToken: string;
}

/** A secret no administrator has, checked when the username is unknown (same work either way). */
const DUMMY_TOTP_SECRET = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

/** Logs in or throws ADMIN_LOGIN_FAILED / ADMIN_RATE_LIMITED; writes the audit event either way. */
export async function loginAdmin(input: LoginInput, deps: LoginDeps): Promise<LoggedIn> {
  const nowMs = deps.clock.nowMs();
  // Both limits before any password check: argon2 runs only when the address and the username
  // at that address both have a token left (many usernames from one address do not multiply it).
  const limit = takeLoginTokens(input, nowMs, deps);
  if (!limit.ok) {
    await audit(deps, input, 'rate-limited', nowMs);
    throw new AirlockError('ADMIN_RATE_LIMITED', undefined, { cause: limit });
  }

  const admin = await deps.store.findAdmin(input.username);
  // Every check runs whatever the earlier ones said: the answer and its timing tell nothing
  // about which part was wrong, or whether the username exists.
  const passwordOk = await verifyPassword(
    admin?.passwordHash ?? (await dummyPasswordHash()),
    input.password,
  );
  const totp = verifyTotp({
    secret: admin?.totpSecret ?? DUMMY_TOTP_SECRET,
    algorithm: 'SHA1',
    digits: 6,
    periodSeconds: 30,
    code: input.code,
    nowMs,
    lastStep: admin?.totpLastStep ?? null,
  });
  const usernameOk =
    admin !== undefined && constantTimeEqual(admin.username, input.username) && !admin.disabled;
  if (!(usernameOk && passwordOk && totp.ok)) {
    await audit(deps, input, 'fail', nowMs);
    throw new AirlockError('ADMIN_LOGIN_FAILED');
  }
  // The conditional UPDATE is the one-use check: a code seen on the wire cannot log in twice.
  if (!(await deps.store.claimAdminTotpStep(admin.id, totp.step))) {
    await audit(deps, input, 'fail', nowMs);
    throw new AirlockError('ADMIN_LOGIN_FAILED');
  }

  const sessionToken = deps.random.bytes(32).toString('base64url');
  const csrfToken = csrfTokenFor(sessionToken);
  await deps.store.transaction(async (tx) => {
    await tx.createAdminSession({
      idHash: hashToken(sessionToken),
      adminId: admin.id,
      csrfTokenHash: hashToken(csrfToken),
      expiresAtMs: nowMs + deps.options.sessionMaxSeconds * 1000,
    });
    await tx.appendAudit({
      tsMs: nowMs,
      actor: `admin:${admin.username}`,
      action: 'admin.login',
      targetType: 'admin',
      targetId: admin.id,
      appId: null,
      username: null,
      result: 'ok',
      ip: input.ip,
      detail: {},
    });
  });
  return { admin, sessionToken, csrfToken };
}

function takeLoginTokens(input: LoginInput, nowMs: number, deps: LoginDeps): TakeResult {
  const { options, limiter } = deps;
  const byAddress = limiter.take(`address\n${input.ip}`, nowMs, {
    ratePerSecond: options.loginPerAddressPerMinute / 60,
    burst: options.loginPerAddressBurst,
  });
  if (!byAddress.ok) return byAddress;
  return limiter.take(`user\n${input.username.toLowerCase()}\n${input.ip}`, nowMs, {
    ratePerSecond: options.loginPerMinute / 60,
    burst: options.loginBurst,
  });
}

async function audit(deps: LoginDeps, input: LoginInput, result: string, nowMs: number) {
  await deps.store.appendAudit({
    tsMs: nowMs,
    actor: 'anonymous',
    action: 'admin.login',
    targetType: 'admin',
    targetId: null,
    appId: null,
    username: null,
    result,
    ip: input.ip,
    // The name tried, bounded: the field is the attacker's to fill.
    detail: { username: input.username.slice(0, 64) },
  });
}

function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
