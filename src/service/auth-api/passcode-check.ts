// Checks a passcode against a user's TOTP and HOTP tokens and bypass codes, consuming what it uses.
import { matchBypassCode, normalizePasscode } from '../../core/bypass-code.ts';
import { verifyHotp, verifyTotp } from '../../core/otp-verify.ts';
import { usableBypassCodes } from '../../operations/policy-input.ts';
import type { AuthSubject, Store } from '../../store/store.ts';

export type PasscodeMethod = 'totp' | 'hotp' | 'bypass' | 'sms';
export type PasscodeCheck =
  | { ok: true; method: PasscodeMethod; credentialId: string }
  | { ok: false; reason: 'mismatch' | 'replayed' | 'malformed' };

const PASSCODE_SHAPE = /^[0-9]{6,12}$/;

export async function checkPasscode(
  store: Store,
  subject: AuthSubject,
  input: string,
  context: { nowMs: number; bypassPepper: Buffer },
): Promise<PasscodeCheck> {
  const code = normalizePasscode(input);
  if (!PASSCODE_SHAPE.test(code)) return { ok: false, reason: 'malformed' };
  let replayed = false;

  for (const token of subject.tokens) {
    if (token.type === 'totp') {
      const r = verifyTotp({
        secret: token.secret,
        algorithm: token.algorithm,
        digits: token.digits,
        periodSeconds: token.periodSeconds,
        code,
        nowMs: context.nowMs,
        lastStep: token.lastStep,
      });
      if (r.ok) {
        // The claim is one conditional UPDATE: of two concurrent logins with one code, one wins.
        if (await store.claimTotpStep(token.id, r.step)) {
          return { ok: true, method: 'totp', credentialId: token.id };
        }
        replayed = true;
      } else if (r.reason === 'replayed') {
        replayed = true;
      }
    } else {
      const r = verifyHotp({
        secret: token.secret,
        algorithm: token.algorithm,
        digits: token.digits,
        counter: token.counter,
        code,
      });
      if (r.ok && (await store.advanceHotpCounter(token.id, token.counter, r.nextCounter))) {
        return { ok: true, method: 'hotp', credentialId: token.id };
      }
    }
  }

  const codes = usableBypassCodes(subject, context.nowMs);
  const index = matchBypassCode(
    context.bypassPepper,
    code,
    codes.map((c) => c.codeHash),
  );
  const matched = index >= 0 ? codes[index] : undefined;
  if (matched && (await store.consumeBypassCode(matched.id, context.nowMs))) {
    return { ok: true, method: 'bypass', credentialId: matched.id };
  }

  // SMS passcodes are hashed like bypass codes; deleting the row is the single-use claim.
  const sms = subject.smsPasscodes.filter((c) => c.expiresAtMs > context.nowMs);
  const smsIndex = matchBypassCode(
    context.bypassPepper,
    code,
    sms.map((c) => c.codeHash),
  );
  const smsMatched = smsIndex >= 0 ? sms[smsIndex] : undefined;
  if (smsMatched && (await store.consumeSmsPasscode(smsMatched.id, context.nowMs))) {
    return { ok: true, method: 'sms', credentialId: smsMatched.id };
  }
  return { ok: false, reason: replayed ? 'replayed' : 'mismatch' };
}
