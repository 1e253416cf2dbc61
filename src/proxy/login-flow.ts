// One RADIUS login through a server section: primary authentication, then the second factor
// through the Auth API, with failmode and primary-only mode deciding when the service cannot
// answer (AUTH-API.md §3.5–3.10), per-group failmode from the user's directory groups, and the
// fail-open attributes on every accept given without a second factor (docs/proxy.md). Sockets and
// packets stay in radius-server.ts.
import type { AuthApiClient, AuthParams } from '../client/auth-api-client.ts';
import { summarizeOutcome } from '../client/auth-api-client.ts';
import type { PreauthResponse } from '../client/auth-api-response.ts';
import type { ServerConfig } from '../config/authproxy-config.ts';
import {
  decideSecondFactor,
  type GroupFailmode,
  type SecondFactorDecision,
  type SecondFactorInput,
} from '../core/failmode-decision.ts';
import type { PrimaryOnlyState } from '../core/primary-only.ts';
import { findAttributeByName } from '../protocol/radius/radius-attributes.ts';
import { RADIUS_MAX_PASSWORD_LENGTH } from '../protocol/radius/radius-crypto.ts';
import type { Random } from '../runtime/random.ts';
import type { ChallengeStore } from './challenge-store.ts';
import type { PushWait } from './push-waiter.ts';
import type { PrimaryAuthenticator, PrimaryResult } from './primary/primary-authenticator.ts';
import type { AuthEvent, EventStatus, ProxyLogs, RequestRef } from './proxy-logs.ts';

export interface LoginInput {
  username: string;
  /** The decoded User-Password; undefined when absent, undecodable or oversized. */
  password: string | undefined;
  /** Set when the User-Password was longer than RADIUS carries (RFC 2865 §5.2: 128 octets). */
  oversizedPasswordOctets: number | undefined;
  /** The State of an Access-Request that answers our Access-Challenge. */
  state: Buffer | undefined;
  /** The user's address, from the section's `client_ip_attr` (Calling-Station-Id). */
  clientIp: string | undefined;
  /** The address the Access-Request came from: the RADIUS client (NAS) a challenge is bound to. */
  nasIp: string;
  ref: RequestRef;
}

export const ANSWER_CODES = ['Access-Accept', 'Access-Reject', 'Access-Challenge'] as const;
export type AnswerCode = (typeof ANSWER_CODES)[number];

export interface LoginAnswer {
  code: AnswerCode;
  /** Sent as Reply-Message. */
  replyMessage: string;
  /**
   * Attributes passed through from the primary authentication, plus `fail_open_attributes` when
   * no second factor was checked (Access-Accept only).
   */
  attributes: { type: number; value: Buffer }[];
  /** Access-Challenge only. */
  state?: Buffer;
}

export interface LoginFlowDeps {
  section: ServerConfig;
  /** Undefined for `[duo_only_client]`: no primary authentication. */
  primary: PrimaryAuthenticator | undefined;
  api: AuthApiClient;
  logs: ProxyLogs;
  primaryOnly: { state(): PrimaryOnlyState };
  challenges: ChallengeStore;
  random: Random;
  /** Waits for async push and phone results (one stream per API host, see push-waiter.ts). */
  pushes: { wait(txid: string, host: string, timeoutMs: number): Promise<PushWait> };
}

/** Factor words a user may type instead of a passcode (in append mode or at a challenge). */
const FACTOR_WORD = /^(push|phone|sms)([0-9]*)$/;

export type LoginFlow = (input: LoginInput) => Promise<LoginAnswer>;

export function createLoginFlow(deps: LoginFlowDeps): LoginFlow {
  const { section, logs } = deps;
  const passThroughTypes = passThroughTypeSet(section);
  const failOpen = failOpenAttributes(section);

  /** The decision with the user's groups: duo-only and RADIUS primaries give none (section failmode). */
  const decide = (
    input: Omit<SecondFactorInput, 'failmode' | 'groupFailmode'>,
    primary: PrimaryAttributes,
  ): SecondFactorDecision =>
    decideSecondFactor({
      ...input,
      failmode: section.failmode,
      groupFailmode: groupFailmodeOf(section, primary.groups),
    });

  /**
   * An Access-Accept without a second factor (failmode, primary-only mode, exempt user, the
   * service's preauth allow): the fail-open attributes replace any passed-through attribute of
   * the same type, so a restriction is never contradicted by the primary's reply.
   */
  const acceptWithoutSecondFactor = (
    replyMessage: string,
    primary: PrimaryAttributes,
  ): LoginAnswer => ({
    code: 'Access-Accept',
    replyMessage,
    attributes: [
      ...primary.attributes.filter((a) => !failOpen.types.has(a.type)),
      ...failOpen.attributes,
    ],
  });
  /** Event fields of an accept without a second factor. */
  const failOpenEventFields = (): Pick<AuthEvent, 'fail_open_attributes'> =>
    failOpen.names.length === 0 ? {} : { fail_open_attributes: [...failOpen.names] };

  const event = (
    input: LoginInput,
    e: Omit<
      AuthEvent,
      'username' | 'client_ip' | 'server_section' | 'server_section_ikey' | 'failmode'
    >,
  ) =>
    logs.event({
      username: input.username,
      client_ip: input.clientIp ?? null,
      server_section: section.section,
      server_section_ikey: section.ikey,
      failmode: section.failmode,
      ...e,
    });

  const reject = (
    input: LoginInput,
    stage: AuthEvent['auth_stage'],
    status: EventStatus,
    msg: string,
    reason?: string,
  ): LoginAnswer => {
    logs.request(input.ref, msg);
    event(input, {
      msg,
      auth_stage: stage,
      status,
      factor: null,
      second_factor_checked: false,
      ...(reason ? { reason } : {}),
    });
    return { code: 'Access-Reject', replyMessage: msg, attributes: [] };
  };

  /** Applies a failmode/primary-only/rejection decision that did not proceed to the service's answer. */
  /**
   * Without primary authentication ([duo_only_client]) an allow that skipped the second factor
   * would let in anyone who types a username: refuse it (BRIEF: failmode safe allows a user *who
   * passed primary authentication*).
   */
  const refuseWithoutPrimary = (input: LoginInput, why: string): LoginAnswer =>
    reject(
      input,
      'Secondary authentication',
      'Reject',
      `${why}, but this section has no primary authentication: denied`,
      'no-primary-authentication',
    );

  const finishDecision = (
    input: LoginInput,
    decision: SecondFactorDecision,
    primary: PrimaryAttributes,
  ): LoginAnswer => {
    if (decision.action === 'allow' && !deps.primary) {
      return refuseWithoutPrimary(input, decision.logMessage);
    }
    const allowed = decision.action === 'allow';
    const byGroup = decision.effectiveFailmodeReason !== 'section-failmode';
    logs.request(
      input.ref,
      byGroup && decision.failmodeInvoked
        ? `${decision.logMessage} (failmode ${decision.effectiveFailmode} for members of ${decision.failmodeGroup ?? 'a failmode group'})`
        : decision.logMessage,
    );
    event(input, {
      msg: decision.logMessage,
      auth_stage: 'Secondary authentication',
      status: allowed ? 'Allow' : 'Reject',
      factor: null,
      second_factor_checked: false,
      failmode_invoked: decision.failmodeInvoked,
      reason: decision.reason,
      ...(byGroup
        ? {
            effective_failmode: decision.effectiveFailmode,
            effective_failmode_reason: decision.effectiveFailmodeReason,
            ...(decision.failmodeGroup === undefined
              ? {}
              : { failmode_group: decision.failmodeGroup }),
          }
        : {}),
      ...(allowed ? failOpenEventFields() : {}),
    });
    return allowed
      ? acceptWithoutSecondFactor(decision.logMessage, primary)
      : { code: 'Access-Reject', replyMessage: decision.logMessage, attributes: [] };
  };

  async function secondFactor(
    input: LoginInput,
    primary: PrimaryAttributes,
    params: AuthParams,
    factorName: string,
  ): Promise<LoginAnswer> {
    const outcome = await deps.api.auth(params);
    const decision = decide({ stage: 'auth', outcome: summarizeOutcome(outcome) }, primary);
    if (decision.action !== 'proceed' || outcome.kind !== 'ok')
      return finishDecision(input, decision, primary);
    return serviceAnswer(input, primary, outcome.response, factorName);
  }

  /** The service checked the second factor: its answer is the login's. */
  function serviceAnswer(
    input: LoginInput,
    primary: PrimaryAttributes,
    answer: { result: string; status_msg: string },
    factorName: string,
  ): LoginAnswer {
    const { result, status_msg: statusMsg } = answer;
    const allowed = result === 'allow';
    logs.request(input.ref, `Duo authentication returned '${result}': '${statusMsg}'`);
    event(input, {
      msg: statusMsg,
      auth_stage: 'Secondary authentication',
      status: allowed ? 'Allow' : 'Reject',
      factor: factorName,
      second_factor_checked: true,
    });
    return allowed
      ? { code: 'Access-Accept', replyMessage: statusMsg, attributes: primary.attributes }
      : { code: 'Access-Reject', replyMessage: statusMsg, attributes: [] };
  }

  /**
   * Push or phone: an async /auth (the service's answer comes at once, so api_timeout and failmode
   * apply to it as to any call), then the user's answer through the result stream, for at most
   * push_timeout. No socket is held per waiting login.
   */
  async function outOfBandFactor(
    input: LoginInput,
    primary: PrimaryAttributes,
    params: AuthParams,
    factorName: string,
  ): Promise<LoginAnswer> {
    const started = await startOutOfBand(params);
    if (started.kind === 'answer') {
      const decision = decide(
        { stage: 'auth', outcome: summarizeOutcome(started.outcome) },
        primary,
      );
      return finishDecision(input, decision, primary);
    }
    return awaitOutOfBand(input, primary, started.txid, started.host, factorName);
  }

  async function startOutOfBand(
    params: AuthParams,
  ): Promise<
    | { kind: 'started'; txid: string; host: string }
    | { kind: 'answer'; outcome: Awaited<ReturnType<AuthApiClient['auth']>> }
  > {
    const outcome = await deps.api.auth({ ...params, async: true });
    if (outcome.kind !== 'ok') return { kind: 'answer', outcome };
    // The resilient client says which API host took the request: its stream carries the result.
    const host = (outcome as { host?: string }).host ?? section.apiAuthority;
    return { kind: 'started', txid: outcome.response.txid, host };
  }

  async function awaitOutOfBand(
    input: LoginInput,
    primary: PrimaryAttributes,
    txid: string,
    host: string,
    factorName: string,
  ): Promise<LoginAnswer> {
    const waited = await deps.pushes.wait(txid, host, section.pushTimeoutMs);
    if (waited.kind === 'timeout') {
      return reject(
        input,
        'Secondary authentication',
        'Reject',
        `Login timed out: no answer to the ${factorName} within ${section.pushTimeoutMs / 1000} s`,
        'push-timeout',
      );
    }
    return serviceAnswer(input, primary, waited.result, factorName);
  }

  /** Sends the second factor the user typed (append mode, duo-only, or a challenge answer). */
  function typedFactor(
    input: LoginInput,
    primary: PrimaryAttributes,
    typed: string,
  ): Promise<LoginAnswer> {
    const base = {
      username: input.username,
      ...(input.clientIp ? { ipaddr: input.clientIp } : {}),
    };
    const word = FACTOR_WORD.exec(typed.trim().toLowerCase());
    if (word) {
      const factor = word[1] as 'push' | 'phone' | 'sms';
      const params: AuthParams = { ...base, factor, device: 'auto' };
      return factor === 'sms'
        ? secondFactor(input, primary, params, factor)
        : outOfBandFactor(input, primary, params, factor);
    }
    return secondFactor(
      input,
      primary,
      { ...base, factor: 'passcode', passcode: typed.trim() },
      'passcode',
    );
  }

  function challenge(
    input: LoginInput,
    primary: PrimaryAttributes,
    factors: readonly string[] | undefined,
    text: string,
    push?: { txid: string; host: string },
  ): LoginAnswer {
    const state = deps.random.bytes(16);
    deps.challenges.put(state, {
      section: section.section,
      username: input.username,
      nasIp: input.nasIp,
      clientIp: input.clientIp,
      attributes: primary.attributes,
      groups: primary.groups,
      factors,
      push,
    });
    logs.request(input.ref, `Sending Access-Challenge: ${text}`);
    event(input, {
      msg: text,
      auth_stage: 'Secondary authentication',
      status: 'Challenge',
      factor: null,
      second_factor_checked: false,
    });
    return { code: 'Access-Challenge', replyMessage: text, attributes: [], state };
  }

  async function answerChallenge(input: LoginInput, state: Buffer): Promise<LoginAnswer> {
    const pending = deps.challenges.take(state);
    if (!pending || pending.section !== section.section || pending.username !== input.username) {
      return reject(
        input,
        'Secondary authentication',
        'Error',
        'Unknown or expired challenge: log in again',
        'unknown-state',
      );
    }
    if (pending.nasIp !== input.nasIp) {
      // Taken all the same (one answer per State); the NAS addresses go to the log, not the reply.
      logs.request(
        input.ref,
        `Challenge answered from ${input.nasIp}, not from ${pending.nasIp} where it was sent: rejected`,
      );
      return reject(
        input,
        'Secondary authentication',
        'Reject',
        'Unknown or expired challenge: log in again',
        'state-other-client',
      );
    }
    const pendingPrimary = { attributes: pending.attributes, groups: pending.groups };
    // challenge_push: Enter (an empty answer) means "I approved it on my device".
    if (pending.push && (input.password ?? '').trim() === '') {
      return awaitOutOfBand(input, pendingPrimary, pending.push.txid, pending.push.host, 'push');
    }
    if (!input.password)
      return reject(
        input,
        'Secondary authentication',
        'Reject',
        'No passcode given',
        'empty-answer',
      );
    return typedFactor(
      input,
      { attributes: pending.attributes, groups: pending.groups },
      input.password,
    );
  }

  async function primaryAuthentication(
    input: LoginInput,
    password: string,
  ): Promise<{ result: PrimaryResult; typed: string | undefined }> {
    const primary = deps.primary;
    // [duo_only_client]: no primary authentication; what the user typed is the second factor.
    if (!primary)
      return {
        result: { kind: 'accept', groups: [], attributes: [] },
        typed: password === '' ? undefined : password,
      };
    const split = splitAppended(section, password);
    if (split) {
      const first = await primary.authenticate({
        username: input.username,
        password: split.password,
        clientIp: input.clientIp,
      });
      if (first.kind === 'accept') return { result: first, typed: split.factor };
      // The delimiter may belong to the password itself: retry with the whole of it (§3.5).
      if (first.kind === 'error') return { result: first, typed: undefined };
    }
    return {
      result: await primary.authenticate({
        username: input.username,
        password,
        clientIp: input.clientIp,
      }),
      typed: undefined,
    };
  }

  return async function login(input: LoginInput): Promise<LoginAnswer> {
    if (input.oversizedPasswordOctets !== undefined) {
      // Typically a long password with the passcode appended: say so, or the user retries blind.
      return reject(
        input,
        'Unknown',
        'Error',
        `Password too long: the User-Password of ${input.oversizedPasswordOctets} octets is longer than the ${RADIUS_MAX_PASSWORD_LENGTH} RADIUS allows (RFC 2865 §5.2)`,
        'password-too-long',
      );
    }
    if (input.state) return answerChallenge(input, input.state);
    if (input.password === undefined) {
      return reject(input, 'Unknown', 'Error', 'Cannot decode password', 'no-password');
    }

    const { result: primaryResult, typed } = await primaryAuthentication(input, input.password);
    if (primaryResult.kind === 'reject') {
      return reject(
        input,
        'Primary authentication',
        'Reject',
        `Primary credentials rejected - ${primaryResult.reason}`,
        primaryResult.reason,
      );
    }
    if (primaryResult.kind === 'error') {
      return reject(
        input,
        'Primary authentication',
        'Error',
        `Primary authentication failed - ${primaryResult.reason}`,
        primaryResult.reason,
      );
    }
    const primary: PrimaryAttributes = {
      attributes: primaryResult.attributes.filter(
        (a) => passThroughTypes === 'all' || passThroughTypes.has(a.type),
      ),
      groups: primaryResult.groups,
    };
    if (deps.primary) logs.request(input.ref, 'Primary authentication succeeded');

    if (isExempt(section, input.username)) {
      if (!deps.primary) return refuseWithoutPrimary(input, 'User exempted from 2FA');
      const msg = 'User exempted from 2FA';
      logs.request(input.ref, msg);
      event(input, {
        msg,
        auth_stage: 'Secondary authentication',
        status: 'Allow',
        factor: null,
        second_factor_checked: false,
        reason: 'exempt',
        ...failOpenEventFields(),
      });
      return acceptWithoutSecondFactor(msg, primary);
    }

    // Primary-only mode: no call to the service at all; the section's failmode decides.
    if (deps.primaryOnly.state().active) {
      return finishDecision(
        input,
        decide({ stage: 'preauth', outcome: { kind: 'primary-only' } }, primary),
        primary,
      );
    }

    const pre = await deps.api.preauth({
      username: input.username,
      ...(input.clientIp ? { ipaddr: input.clientIp } : {}),
    });
    const preDecision = decide({ stage: 'preauth', outcome: summarizeOutcome(pre) }, primary);
    if (preDecision.action !== 'proceed' || pre.kind !== 'ok')
      return finishDecision(input, preDecision, primary);
    const preauth = pre.response;
    logs.request(input.ref, `Got preauth result for: '${preauth.result}'`);

    switch (preauth.result) {
      case 'allow':
        // The service's policy (bypass, allowed new user) lets the user in without a second factor.
        if (!deps.primary) return refuseWithoutPrimary(input, preauth.status_msg);
        event(input, {
          msg: preauth.status_msg,
          auth_stage: 'Secondary authentication',
          status: 'Allow',
          factor: null,
          second_factor_checked: false,
          reason: 'preauth-allow',
          ...failOpenEventFields(),
        });
        return acceptWithoutSecondFactor(preauth.status_msg, primary);
      case 'deny':
        return reject(
          input,
          'Secondary authentication',
          'Reject',
          preauth.status_msg,
          'preauth-deny',
        );
      case 'enroll':
        return reject(
          input,
          'Secondary authentication',
          'Reject',
          'User is not enrolled. Enrollment link sent.',
          'not-enrolled',
        );
      case 'auth':
        break;
    }

    if (typed !== undefined) return typedFactor(input, primary, typed);
    const usable = usableFactors(section.factors, preauth);
    if (section.kind === 'challenge') {
      if (section.challengePush && (usable.includes('push') || usable.includes('auto'))) {
        const started = await startOutOfBand({
          username: input.username,
          factor: 'push',
          device: 'auto',
          ...(input.clientIp ? { ipaddr: input.clientIp } : {}),
        });
        if (started.kind === 'answer') {
          const decision = decide(
            { stage: 'auth', outcome: summarizeOutcome(started.outcome) },
            primary,
          );
          return finishDecision(input, decision, primary);
        }
        return challenge(
          input,
          primary,
          usable,
          'A login request was sent to your device. Approve it, then press Enter (or type a passcode):',
          { txid: started.txid, host: started.host },
        );
      }
      return challenge(input, primary, usable, challengeText(usable));
    }
    const first = usable[0];
    if (first === undefined) {
      return reject(
        input,
        'Secondary authentication',
        'Reject',
        'User has no Duo factors usable with this configuration',
        'no-usable-factor',
      );
    }
    if (first === 'passcode') return challenge(input, primary, undefined, 'Enter passcode:');
    const factor = first as 'auto' | 'push' | 'phone';
    return outOfBandFactor(
      input,
      primary,
      {
        username: input.username,
        factor,
        device: 'auto',
        ...(input.clientIp ? { ipaddr: input.clientIp } : {}),
      },
      factor,
    );
  };
}

interface PrimaryAttributes {
  attributes: { type: number; value: Buffer }[];
  /** Directory groups (DNs) from primary authentication; none from RADIUS or duo-only primaries. */
  groups: readonly string[];
}

/** Per-group failmode input; undefined when the section sets no failmode group. */
function groupFailmodeOf(
  section: ServerConfig,
  groups: readonly string[],
): GroupFailmode | undefined {
  if (section.failmodeSecureGroups.length === 0 && section.failmodeSafeGroups.length === 0) {
    return undefined;
  }
  return {
    groups,
    secureGroups: section.failmodeSecureGroups,
    safeGroups: section.failmodeSafeGroups,
  };
}

/** The section's `fail_open_attributes`, decoded once. */
function failOpenAttributes(section: ServerConfig): {
  attributes: { type: number; value: Buffer }[];
  types: ReadonlySet<number>;
  names: readonly string[];
} {
  const configured = section.failOpenAttributes;
  return {
    attributes: configured.map((a) => ({ type: a.type, value: Buffer.from(a.valueHex, 'hex') })),
    types: new Set(configured.map((a) => a.type)),
    names: [...new Set(configured.map((a) => a.name))],
  };
}

/** Append mode (`allow_concat`): `password<delimiter>passcode`, split on the LAST delimiter (§3.5). */
export function splitAppended(
  section: ServerConfig,
  password: string,
): { password: string; factor: string } | undefined {
  if (section.kind !== 'auto' || !section.allowConcat) return undefined;
  if (section.delimitedPasswordLength > 0) {
    if (password.length <= section.delimitedPasswordLength) return undefined;
    return {
      password: password.slice(0, section.delimitedPasswordLength),
      factor: password.slice(section.delimitedPasswordLength),
    };
  }
  const at = password.lastIndexOf(section.delimiter);
  if (at < 0) return undefined;
  const factor = password.slice(at + section.delimiter.length);
  if (factor === '') return undefined;
  return { password: password.slice(0, at), factor };
}

/** The configured factors this user can use, in order; `passcode` is always usable. */
function usableFactors(factors: readonly string[], preauth: PreauthResponse): string[] {
  const capabilities = new Set((preauth.devices ?? []).flatMap((d) => d.capabilities));
  return factors.filter(
    (f) => f === 'passcode' || capabilities.has(f) || (f === 'auto' && capabilities.size > 0),
  );
}

function challengeText(factors: readonly string[]): string {
  const words = factors.filter((f) => f !== 'passcode');
  return words.length === 0
    ? 'Enter passcode:'
    : `Enter a passcode, or one of: ${words.join(', ')}`;
}

function isExempt(section: ServerConfig, username: string): boolean {
  const lower = username.toLowerCase();
  return section.exemptUsernames.some((u) => u.toLowerCase() === lower);
}

function passThroughTypeSet(section: ServerConfig): Set<number> | 'all' {
  const client = section.client;
  if (section.passThroughAll || (client.kind === 'radius' && client.passThroughAll)) return 'all';
  const names = [
    ...section.passThroughAttrNames,
    ...(client.kind === 'radius' ? client.passThroughAttrNames : []),
  ];
  return new Set(
    names.map((n) => findAttributeByName(n)?.type).filter((t): t is number => t !== undefined),
  );
}
