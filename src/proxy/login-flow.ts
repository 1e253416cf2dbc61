// One RADIUS login through a server section: primary authentication, then the second factor
// through the Auth API, with failmode and primary-only mode deciding when the service cannot
// answer (docs/design/auth-api.md §3.5–3.10), per-group failmode from the user's directory groups,
// and the fail-open attributes on every accept given without a second factor (docs/proxy.md).
// Sockets and packets stay in radius-server.ts.
import type { AuthApiClient, AuthParams } from '../client/auth-api-client.ts';
import { summarizeOutcome } from '../client/auth-api-client.ts';
import type { ApiOutcome, PreauthResponse } from '../client/auth-api-response.ts';
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
import { callWithPreauthProbe } from './one-call-probe.ts';
import { cleanUsername, simpleUsernameKey, usernameKey } from '../core/username.ts';
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
  /**
   * The same for every copy of one Access-Request, whichever proxy of a pair it reaches: sent as
   * `login_key` when the section has `send_login_key=true` (docs/proxy.md, Proxy pairs).
   */
  loginKey?: string;
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
  const flow: SectionFlow = {
    deps,
    section: deps.section,
    logs: deps.logs,
    passThroughTypes: passThroughTypeSet(deps.section),
    failOpen: failOpenAttributes(deps.section),
  };
  return (input) => login(flow, input);
}

/** What every step of a login through one section needs; built once per section. */
interface SectionFlow {
  deps: LoginFlowDeps;
  section: ServerConfig;
  logs: ProxyLogs;
  passThroughTypes: Set<number> | 'all';
  failOpen: FailOpen;
}

/** A step either ends the login with an answer or hands what it learned to the next step. */
type Step<T> = { done: LoginAnswer } | { next: T };

/** One login: the named steps in the order docs/design/auth-api.md §3.5–3.10 gives them. */
async function login(flow: SectionFlow, typedInput: LoginInput): Promise<LoginAnswer> {
  if (typedInput.oversizedPasswordOctets !== undefined) return refuseLongPassword(flow, typedInput);
  if (typedInput.state) return answerChallenge(flow, typedInput, typedInput.state);
  if (typedInput.password === undefined) {
    return reject(flow, typedInput, 'Unknown', 'Error', 'Cannot decode password', 'no-password');
  }
  const passed = await primaryAuthentication(flow, typedInput, typedInput.password);
  if ('done' in passed) return passed.done;
  const { input, primary, typed } = passed.next;
  if (isExempt(flow.section, input.username)) return acceptExempt(flow, input, primary);
  const oneCall = typedPasscode(flow, typed);
  if (oneCall) return preauthWithPasscode(flow, input, primary, oneCall.passcode, oneCall.call);
  const pre = await askPreauth(flow, input, primary);
  if ('done' in pre) return pre.done;
  if (typed !== undefined) return typedFactor(flow, input, primary, typed);
  return chooseFactor(flow, input, primary, pre.next);
}

/** A login that passed primary authentication, about the user by the directory's own name. */
interface PassedPrimary {
  input: LoginInput;
  primary: PrimaryAttributes;
  /** The second factor the user typed with the password (append mode, duo-only). */
  typed: string | undefined;
}

/** Primary authentication: a reject or error ends the login. */
async function primaryAuthentication(
  flow: SectionFlow,
  typedInput: LoginInput,
  password: string,
): Promise<Step<PassedPrimary>> {
  const { result, typed } = await checkPrimary(flow, typedInput, password);
  if (result.kind === 'reject') {
    return {
      done: reject(
        flow,
        typedInput,
        'Primary authentication',
        'Reject',
        `Primary credentials rejected - ${result.reason}`,
        result.reason,
      ),
    };
  }
  if (result.kind === 'error') {
    return {
      done: reject(
        flow,
        typedInput,
        'Primary authentication',
        'Error',
        `Primary authentication failed - ${result.reason}`,
        result.reason,
      ),
    };
  }
  // From here on the login is about the user the directory authenticated, by its own name.
  // Object.assign, not `{ ...typedInput, username }` (V8 cost of a spread literal; see the client).
  const input: LoginInput = Object.assign({}, typedInput, {
    username: result.username ?? cleanUsername(typedInput.username),
  });
  const { passThroughTypes } = flow;
  const primary: PrimaryAttributes = {
    attributes: result.attributes.filter(
      (a) => passThroughTypes === 'all' || passThroughTypes.has(a.type),
    ),
    groups: result.groups,
  };
  if (flow.deps.primary) flow.logs.request(input.ref, 'Primary authentication succeeded');
  return { next: { input, primary, typed } };
}

/** The primary authenticator's answer, and the second factor appended to the password if any. */
async function checkPrimary(
  flow: SectionFlow,
  input: LoginInput,
  password: string,
): Promise<{ result: PrimaryResult; typed: string | undefined }> {
  const primary = flow.deps.primary;
  // [duo_only_client]: no primary authentication; what the user typed is the second factor.
  if (!primary)
    return {
      result: { kind: 'accept', groups: [], attributes: [] },
      typed: password === '' ? undefined : password,
    };
  const split = splitAppended(flow.section, password);
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

/** A user in `exempt_usernames` skips the second factor (never without primary authentication). */
function acceptExempt(
  flow: SectionFlow,
  input: LoginInput,
  primary: PrimaryAttributes,
): LoginAnswer {
  if (!flow.deps.primary) return refuseWithoutPrimary(flow, input, 'User exempted from 2FA');
  const msg = 'User exempted from 2FA';
  flow.logs.request(input.ref, msg);
  event(flow, input, {
    msg,
    auth_stage: 'Secondary authentication',
    status: 'Allow',
    factor: null,
    second_factor_checked: false,
    reason: 'exempt',
    ...failOpenEventFields(flow),
  });
  return acceptWithoutSecondFactor(flow, msg, primary);
}

/**
 * Preauth, unless primary-only mode is on (then the section's failmode decides without a call);
 * failmode decides when the service cannot answer. Only a preauth result of `auth` goes on.
 */
async function askPreauth(
  flow: SectionFlow,
  input: LoginInput,
  primary: PrimaryAttributes,
  asked?: Promise<ApiOutcome<PreauthResponse>>,
): Promise<Step<PreauthResponse>> {
  if (flow.deps.primaryOnly.state().active) {
    const decision = decide(flow, { stage: 'preauth', outcome: { kind: 'primary-only' } }, primary);
    return { done: finishDecision(flow, input, decision, primary) };
  }
  const pre = await (asked ?? preauthOf(flow, input));
  const decision = decide(flow, { stage: 'preauth', outcome: summarizeOutcome(pre) }, primary);
  if (decision.action !== 'proceed' || pre.kind !== 'ok') {
    return { done: finishDecision(flow, input, decision, primary) };
  }
  const preauth = pre.response;
  flow.logs.request(input.ref, `Got preauth result for: '${preauth.result}'`);
  const answer = preauthAnswer(flow, input, primary, preauth);
  return answer ? { done: answer } : { next: preauth };
}

/** The login's answer when preauth ends it (allow, deny, enroll); undefined for `auth`. */
function preauthAnswer(
  flow: SectionFlow,
  input: LoginInput,
  primary: PrimaryAttributes,
  preauth: PreauthResponse,
): LoginAnswer | undefined {
  switch (preauth.result) {
    case 'allow':
      // The service's policy (bypass, allowed new user) lets the user in without a second factor.
      if (!flow.deps.primary) return refuseWithoutPrimary(flow, input, preauth.status_msg);
      event(flow, input, {
        msg: preauth.status_msg,
        auth_stage: 'Secondary authentication',
        status: 'Allow',
        factor: null,
        second_factor_checked: false,
        reason: 'preauth-allow',
        ...failOpenEventFields(flow),
      });
      return acceptWithoutSecondFactor(flow, preauth.status_msg, primary);
    case 'deny':
      return reject(
        flow,
        input,
        'Secondary authentication',
        'Reject',
        preauth.status_msg,
        'preauth-deny',
      );
    case 'enroll':
      return reject(
        flow,
        input,
        'Secondary authentication',
        'Reject',
        'User is not enrolled. Enrollment link sent.',
        'not-enrolled',
      );
    case 'auth':
      return undefined;
  }
}

/**
 * Nothing typed: a challenge section asks the user (after sending a push with challenge_push);
 * an auto section uses the first configured factor the user can use.
 */
async function chooseFactor(
  flow: SectionFlow,
  input: LoginInput,
  primary: PrimaryAttributes,
  preauth: PreauthResponse,
): Promise<LoginAnswer> {
  const { section } = flow;
  const usable = usableFactors(section.factors, preauth);
  if (section.kind === 'challenge') {
    if (section.challengePush && (usable.includes('push') || usable.includes('auto'))) {
      return challengeWithPush(flow, input, primary, usable);
    }
    return challenge(flow, input, primary, usable, challengeText(usable));
  }
  const first = usable[0];
  if (first === undefined) {
    return reject(
      flow,
      input,
      'Secondary authentication',
      'Reject',
      'User has no Duo factors usable with this configuration',
      'no-usable-factor',
    );
  }
  if (first === 'passcode') return challenge(flow, input, primary, undefined, 'Enter passcode:');
  const factor = first as 'auto' | 'push' | 'phone';
  return outOfBandFactor(
    flow,
    input,
    primary,
    {
      username: input.username,
      factor,
      device: 'auto',
      ...(input.clientIp ? { ipaddr: input.clientIp } : {}),
      ...loginKeyParam(flow, input),
    },
    factor,
  );
}

/** `login_key` for the service, when the section sends it (proxy pairs). */
function loginKeyParam(flow: SectionFlow, input: LoginInput): { loginKey?: string } {
  return flow.section.sendLoginKey && input.loginKey ? { loginKey: input.loginKey } : {};
}

/**
 * `push_timeout` for the service, when the section sends it: the push leaves the phone when this
 * proxy stops waiting for it, instead of staying there for the service's own timeout. Only where
 * the wait starts with the push: challenge_push's wait starts when the user presses Enter.
 */
function pushTimeoutParam(flow: SectionFlow): { pushTimeoutSeconds?: number } {
  return flow.section.sendPushTimeout
    ? { pushTimeoutSeconds: flow.section.pushTimeoutMs / 1000 }
    : {};
}

/** challenge_push: the push goes out first; the challenge waits for Enter or a passcode. */
async function challengeWithPush(
  flow: SectionFlow,
  input: LoginInput,
  primary: PrimaryAttributes,
  usable: readonly string[],
): Promise<LoginAnswer> {
  const started = await startOutOfBand(flow, {
    username: input.username,
    factor: 'push',
    device: 'auto',
    ...(input.clientIp ? { ipaddr: input.clientIp } : {}),
    ...loginKeyParam(flow, input),
  });
  if (started.kind === 'answer') {
    const decision = decide(
      flow,
      { stage: 'auth', outcome: summarizeOutcome(started.outcome) },
      primary,
    );
    return finishDecision(flow, input, decision, primary);
  }
  return challenge(
    flow,
    input,
    primary,
    usable,
    'A login request was sent to your device. Approve it, then press Enter (or type a passcode):',
    { txid: started.txid, host: started.host },
  );
}

/** Sends an Access-Challenge and keeps what the answer needs under a fresh State. */
function challenge(
  flow: SectionFlow,
  input: LoginInput,
  primary: PrimaryAttributes,
  factors: readonly string[] | undefined,
  text: string,
  push?: { txid: string; host: string },
): LoginAnswer {
  const state = flow.deps.random.bytes(16);
  flow.deps.challenges.put(state, {
    section: flow.section.section,
    username: input.username,
    nasIp: input.nasIp,
    clientIp: input.clientIp,
    attributes: primary.attributes,
    groups: primary.groups,
    factors,
    push,
  });
  flow.logs.request(input.ref, `Sending Access-Challenge: ${text}`);
  event(flow, input, {
    msg: text,
    auth_stage: 'Secondary authentication',
    status: 'Challenge',
    factor: null,
    second_factor_checked: false,
  });
  return { code: 'Access-Challenge', replyMessage: text, attributes: [], state };
}

/** An Access-Request carrying the State of our challenge: the user's answer to it. */
/** Typically a long password with the passcode appended: say so, or the user retries blind. */
function refuseLongPassword(flow: SectionFlow, input: LoginInput): LoginAnswer {
  return reject(
    flow,
    input,
    'Unknown',
    'Error',
    `Password too long: the User-Password of ${input.oversizedPasswordOctets} octets is longer than the ${RADIUS_MAX_PASSWORD_LENGTH} RADIUS allows (RFC 2865 §5.2)`,
    'password-too-long',
  );
}

async function answerChallenge(
  flow: SectionFlow,
  typedInput: LoginInput,
  state: Buffer,
): Promise<LoginAnswer> {
  const pending = flow.deps.challenges.take(state);
  // The challenge holds the directory's name for the user; the answer may spell it as typed.
  const input: LoginInput = pending ? { ...typedInput, username: pending.username } : typedInput;
  if (
    !pending ||
    pending.section !== flow.section.section ||
    !namesSameUser(typedInput.username, pending.username)
  ) {
    return reject(
      flow,
      input,
      'Secondary authentication',
      'Error',
      'Unknown or expired challenge: log in again',
      'unknown-state',
    );
  }
  if (pending.nasIp !== input.nasIp) {
    // Taken all the same (one answer per State); the NAS addresses go to the log, not the reply.
    flow.logs.request(
      input.ref,
      `Challenge answered from ${input.nasIp}, not from ${pending.nasIp} where it was sent: rejected`,
    );
    return reject(
      flow,
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
    return awaitOutOfBand(
      flow,
      input,
      pendingPrimary,
      pending.push.txid,
      pending.push.host,
      'push',
    );
  }
  if (!input.password)
    return reject(
      flow,
      input,
      'Secondary authentication',
      'Reject',
      'No passcode given',
      'empty-answer',
    );
  return typedFactor(
    flow,
    input,
    { attributes: pending.attributes, groups: pending.groups },
    input.password,
  );
}

type PreauthAuthCall = NonNullable<AuthApiClient['preauthAuth']>;

/**
 * A passcode typed with the password, when the service takes preauth and the passcode in one
 * call (`preauthAuth`: the in-process transport, or `api_preauth_auth`) and primary-only mode is
 * off; undefined for a factor word, an empty passcode, or a service without it (Duo's).
 */
function typedPasscode(
  flow: SectionFlow,
  typed: string | undefined,
): { passcode: string; call: PreauthAuthCall } | undefined {
  const call = flow.deps.api.preauthAuth?.bind(flow.deps.api);
  if (typed === undefined || call === undefined || flow.deps.primaryOnly.state().active) {
    return undefined;
  }
  const passcode = typed.trim();
  if (passcode === '' || FACTOR_WORD.test(passcode.toLowerCase())) return undefined;
  return { passcode, call };
}

/**
 * One call instead of preauth then /auth (docs/auth-api.md, preauth_auth), with the answers, logs
 * and events of the two calls: preauth's allow, deny or enroll ends the login as `askPreauth`
 * does, else the passcode's answer is the login's. A failed call does not say which of its two
 * steps failed, so preauth alone is asked then, and its answer picks the row of the failmode
 * table the two calls would have met: preauth fails too (or ends the login) — preauth's row, as
 * `askPreauth` decides it; preauth answers `auth` — the passcode's row, with the one call's outcome.
 */
async function preauthWithPasscode(
  flow: SectionFlow,
  input: LoginInput,
  primary: PrimaryAttributes,
  passcode: string,
  call: PreauthAuthCall,
): Promise<LoginAnswer> {
  const { outcome, probe } = await callWithPreauthProbe(
    () =>
      call({
        username: input.username,
        ...(input.clientIp ? { ipaddr: input.clientIp } : {}),
        passcode,
      }),
    () => preauthOf(flow, input),
    flow.section.apiTimeoutMs / 2,
  );
  if (outcome.kind === 'ok') {
    const { preauth, auth } = outcome.response;
    flow.logs.request(input.ref, `Got preauth result for: '${preauth.result}'`);
    const answer = preauthAnswer(flow, input, primary, preauth);
    if (answer) return answer;
    // The guard gives `auth` whenever preauth's result is `auth`; without it, a deny below.
    if (auth) return serviceAnswer(flow, input, primary, auth, 'passcode');
  }
  const summary = summarizeOutcome(outcome);
  if (outcome.kind === 'unreachable') {
    const pre = await askPreauth(flow, input, primary, probe);
    if ('done' in pre) return pre.done;
    const decision = decide(flow, { stage: 'auth', outcome: summary }, primary);
    return finishDecision(flow, input, decision, primary);
  }
  // A rejection or an invalid answer denies at either step; preauth alone only names the step
  // for the log. It never allows here: the service's refusal (maybe of the passcode) stands. A
  // 429 needs no preauth: the service refuses a one call at its admission, before preauth's
  // step, where two calls meet it at their first, preauth (docs/auth-api.md).
  const admission = outcome.kind === 'rejected' && outcome.httpStatus === 429;
  const stage = admission ? 'preauth' : await refusedStage(flow, input, probe);
  const decision = decide(flow, { stage, outcome: summary }, primary);
  return finishDecision(flow, input, decision, primary);
}

/** Which of the two calls a refused one call stands for: /auth when preauth alone answers `auth`. */
async function refusedStage(
  flow: SectionFlow,
  input: LoginInput,
  asked: Promise<ApiOutcome<PreauthResponse>> | undefined,
): Promise<'preauth' | 'auth'> {
  const pre = await (asked ?? preauthOf(flow, input));
  if (pre.kind !== 'ok' || pre.response.result !== 'auth') return 'preauth';
  flow.logs.request(input.ref, `Got preauth result for: 'auth'`);
  return 'auth';
}

/** Preauth of the login's user (and client address). */
function preauthOf(flow: SectionFlow, input: LoginInput): Promise<ApiOutcome<PreauthResponse>> {
  return flow.deps.api.preauth({
    username: input.username,
    ...(input.clientIp ? { ipaddr: input.clientIp } : {}),
  });
}

/** Sends the second factor the user typed (append mode, duo-only, or a challenge answer). */
function typedFactor(
  flow: SectionFlow,
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
      ? secondFactor(flow, input, primary, params, factor)
      : outOfBandFactor(flow, input, primary, params, factor);
  }
  return secondFactor(
    flow,
    input,
    primary,
    { ...base, factor: 'passcode', passcode: typed.trim() },
    'passcode',
  );
}

/** A synchronous /auth (passcode, SMS): failmode decides when the service cannot answer. */
async function secondFactor(
  flow: SectionFlow,
  input: LoginInput,
  primary: PrimaryAttributes,
  params: AuthParams,
  factorName: string,
): Promise<LoginAnswer> {
  const outcome = await flow.deps.api.auth(params);
  const decision = decide(flow, { stage: 'auth', outcome: summarizeOutcome(outcome) }, primary);
  if (decision.action !== 'proceed' || outcome.kind !== 'ok')
    return finishDecision(flow, input, decision, primary);
  return serviceAnswer(flow, input, primary, outcome.response, factorName);
}

/**
 * Push or phone: an async /auth (the service's answer comes at once, so api_timeout and failmode
 * apply to it as to any call), then the user's answer through the result stream, for at most
 * push_timeout. No socket is held per waiting login.
 */
async function outOfBandFactor(
  flow: SectionFlow,
  input: LoginInput,
  primary: PrimaryAttributes,
  params: AuthParams,
  factorName: string,
): Promise<LoginAnswer> {
  const started = await startOutOfBand(flow, { ...params, ...pushTimeoutParam(flow) });
  if (started.kind === 'answer') {
    const decision = decide(
      flow,
      { stage: 'auth', outcome: summarizeOutcome(started.outcome) },
      primary,
    );
    return finishDecision(flow, input, decision, primary);
  }
  return awaitOutOfBand(flow, input, primary, started.txid, started.host, factorName);
}

async function startOutOfBand(
  flow: SectionFlow,
  params: AuthParams,
): Promise<
  | { kind: 'started'; txid: string; host: string }
  | { kind: 'answer'; outcome: Awaited<ReturnType<AuthApiClient['auth']>> }
> {
  const outcome = await flow.deps.api.auth({ ...params, async: true });
  if (outcome.kind !== 'ok') return { kind: 'answer', outcome };
  // The resilient client says which API host took the request: its stream carries the result.
  const host = (outcome as { host?: string }).host ?? flow.section.apiAuthority;
  return { kind: 'started', txid: outcome.response.txid, host };
}

/**
 * Waits for the user's answer. A `then` rather than an async function: thousands of logins may
 * wait at once (bench:push), and a suspended async frame costs several times this closure.
 */
function awaitOutOfBand(
  flow: SectionFlow,
  input: LoginInput,
  primary: PrimaryAttributes,
  txid: string,
  host: string,
  factorName: string,
): Promise<LoginAnswer> {
  const { pushTimeoutMs } = flow.section;
  return flow.deps.pushes
    .wait(txid, host, pushTimeoutMs)
    .then((waited) =>
      waited.kind === 'timeout' || endedWithTheWait(flow, waited.result)
        ? reject(
            flow,
            input,
            'Secondary authentication',
            'Reject',
            `Login timed out: no answer to the ${factorName} within ${pushTimeoutMs / 1000} s`,
            'push-timeout',
          )
        : serviceAnswer(flow, input, primary, waited.result, factorName),
    );
}

/**
 * The service's own `timeout` of a push that ends with the proxy's wait (`send_push_timeout`): it
 * expires a round trip before the proxy's timer, and whichever comes first, the login ends as the
 * proxy's timeout — one message and one log reason.
 */
function endedWithTheWait(flow: SectionFlow, result: { result: string; status: string }): boolean {
  return flow.section.sendPushTimeout && result.result === 'deny' && result.status === 'timeout';
}

/** The service checked the second factor: its answer is the login's. */
function serviceAnswer(
  flow: SectionFlow,
  input: LoginInput,
  primary: PrimaryAttributes,
  answer: { result: string; status_msg: string },
  factorName: string,
): LoginAnswer {
  const { result, status_msg: statusMsg } = answer;
  const allowed = result === 'allow';
  flow.logs.request(input.ref, `Duo authentication returned '${result}': '${statusMsg}'`);
  event(flow, input, {
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

/** The decision with the user's groups: duo-only and RADIUS primaries give none (section failmode). */
function decide(
  flow: SectionFlow,
  input: Omit<SecondFactorInput, 'failmode' | 'groupFailmode'>,
  primary: PrimaryAttributes,
): SecondFactorDecision {
  return decideSecondFactor({
    ...input,
    failmode: flow.section.failmode,
    groupFailmode: groupFailmodeOf(flow.section, primary.groups),
  });
}

/** Applies a failmode/primary-only/rejection decision that did not proceed to the service's answer. */
function finishDecision(
  flow: SectionFlow,
  input: LoginInput,
  decision: SecondFactorDecision,
  primary: PrimaryAttributes,
): LoginAnswer {
  if (decision.action === 'allow' && !flow.deps.primary) {
    return refuseWithoutPrimary(flow, input, decision.logMessage);
  }
  const allowed = decision.action === 'allow';
  const byGroup = decision.effectiveFailmodeReason !== 'section-failmode';
  flow.logs.request(
    input.ref,
    byGroup && decision.failmodeInvoked
      ? `${decision.logMessage} (failmode ${decision.effectiveFailmode} for members of ${decision.failmodeGroup ?? 'a failmode group'})`
      : decision.logMessage,
  );
  event(flow, input, {
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
    ...(allowed ? failOpenEventFields(flow) : {}),
  });
  return allowed
    ? acceptWithoutSecondFactor(flow, decision.logMessage, primary)
    : { code: 'Access-Reject', replyMessage: decision.logMessage, attributes: [] };
}

/**
 * Without primary authentication ([duo_only_client]) an allow that skipped the second factor
 * would let in anyone who types a username: refuse it (docs/design/goals-and-terms.md §3:
 * failmode safe allows a user *who passed primary authentication*).
 */
function refuseWithoutPrimary(flow: SectionFlow, input: LoginInput, why: string): LoginAnswer {
  return reject(
    flow,
    input,
    'Secondary authentication',
    'Reject',
    `${why}, but this section has no primary authentication: denied`,
    'no-primary-authentication',
  );
}

/**
 * An Access-Accept without a second factor (failmode, primary-only mode, exempt user, the
 * service's preauth allow): the fail-open attributes replace any passed-through attribute of
 * the same type, so a restriction is never contradicted by the primary's reply.
 */
function acceptWithoutSecondFactor(
  flow: SectionFlow,
  replyMessage: string,
  primary: PrimaryAttributes,
): LoginAnswer {
  const { failOpen } = flow;
  return {
    code: 'Access-Accept',
    replyMessage,
    attributes: [
      ...primary.attributes.filter((a) => !failOpen.types.has(a.type)),
      ...failOpen.attributes,
    ],
  };
}

/** Event fields of an accept without a second factor. */
function failOpenEventFields(flow: SectionFlow): Pick<AuthEvent, 'fail_open_attributes'> {
  const { names } = flow.failOpen;
  return names.length === 0 ? {} : { fail_open_attributes: [...names] };
}

function reject(
  flow: SectionFlow,
  input: LoginInput,
  stage: AuthEvent['auth_stage'],
  status: EventStatus,
  msg: string,
  reason?: string,
): LoginAnswer {
  flow.logs.request(input.ref, msg);
  event(flow, input, {
    msg,
    auth_stage: stage,
    status,
    factor: null,
    second_factor_checked: false,
    ...(reason ? { reason } : {}),
  });
  return { code: 'Access-Reject', replyMessage: msg, attributes: [] };
}

/** Logs an auth event with the login's user and the section's fields. */
function event(
  flow: SectionFlow,
  input: LoginInput,
  e: Omit<
    AuthEvent,
    'username' | 'client_ip' | 'server_section' | 'server_section_ikey' | 'failmode'
  >,
): void {
  const { section } = flow;
  flow.logs.event({
    username: input.username,
    client_ip: input.clientIp ?? null,
    server_section: section.section,
    server_section_ikey: section.ikey,
    failmode: section.failmode,
    ...e,
  });
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
interface FailOpen {
  attributes: { type: number; value: Buffer }[];
  types: ReadonlySet<number>;
  names: readonly string[];
}

function failOpenAttributes(section: ServerConfig): FailOpen {
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
  // [radius_server_auto] and [ldap_server_auto] have append mode; a challenge section asks instead.
  if (section.kind === 'challenge' || !section.allowConcat) return undefined;
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

/** Whether a name typed in a challenge answer means the user the challenge was sent to. */
function namesSameUser(typed: string, challenged: string): boolean {
  return (
    usernameKey(typed) === usernameKey(challenged) ||
    simpleUsernameKey(typed) === simpleUsernameKey(challenged)
  );
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
