// What the LDAP proxy does with a BindRequest (docs/proxy.md, LDAP): refuse SASL, pass anonymous
// and exempt binds through, and give every other bind the second factor through the login flow,
// whose primary authentication is the bind itself on the client's directory connection.
import type { LdapServerConfig } from '../config/authproxy-config.ts';
import { normalizeDn, splitDn } from '../core/distinguished-name.ts';
import {
  LDAP_RESULT,
  encodeBindResponse,
  type LdapMessage,
  type LdapResult,
} from '../protocol/ldap/ldap-message.ts';
import type { LoginAnswer, LoginFlow } from './login-flow.ts';
import type { LdapDirectory } from './primary/ldap-primary.ts';
import type { PrimaryAuthenticator } from './primary/primary-authenticator.ts';
import type { AuthEvent, ProxyLogs, RequestRef } from './proxy-logs.ts';

/** The directory's answer to a bind sent on the client's connection, or why there is none. */
export type UpstreamBindResult =
  | { kind: 'response'; result: LdapResult; raw: Buffer }
  | { kind: 'error'; reason: 'ldap-unreachable' | 'ldap-timeout'; detail: string };

/** Per client connection: what its earlier binds allow the next one. */
export interface BindState {
  /** A bind succeeded since the connection opened (the first is exempt with exempt_primary_bind). */
  primaryBindDone: boolean;
  /** A bind passed the second factor: a further bind disconnects unless allow_unlimited_binds. */
  secondFactorBindDone: boolean;
}

export interface BindDeps {
  section: LdapServerConfig;
  directory: LdapDirectory;
  /** The section's login flow with this bind's primary authentication. */
  flowFor: (primary: PrimaryAuthenticator) => LoginFlow;
  logs: ProxyLogs;
}

export interface BindRequestContext {
  message: LdapMessage;
  state: BindState;
  client: { ip: string; port: number };
  /** Sends the client's bind message unchanged and waits for the directory's response. */
  forward(): Promise<UpstreamBindResult>;
  /** Sends a simple bind with this name and password (the client's messageID) and waits. */
  bind(name: string, password: Uint8Array): Promise<UpstreamBindResult>;
}

/** The BindResponse to send, and whether the connection closes after it. */
export interface BindOutcome {
  response: Buffer;
  close: boolean;
}

/** Handles one BindRequest; never throws (a bug answers invalidCredentials and closes). */
export async function handleBind(deps: BindDeps, ctx: BindRequestContext): Promise<BindOutcome> {
  const op = ctx.message.operation;
  if (op.type !== 'bindRequest') throw new Error('handleBind: not a BindRequest');
  const ref: RequestRef = {
    section: deps.section.section,
    ip: ctx.client.ip,
    port: ctx.client.port,
    username: op.name,
    identifier: ctx.message.messageId,
  };
  try {
    if (ctx.state.secondFactorBindDone && !deps.section.allowUnlimitedBinds) {
      return refuseFurtherBind(deps, ctx, ref);
    }
    if (op.authentication.kind === 'sasl') {
      return refuseSasl(deps, ctx, ref, op.authentication.mechanism);
    }
    const password = op.authentication.password;
    // RFC 4513 §5.1.2: a DN with an empty password is an unauthenticated bind, which some
    // directories answer with success; an application that takes that success for a login would
    // let anyone in without a second factor. Refused, as the RFC advises servers to by default.
    if (op.name !== '' && password.length === 0) return refuseUnauthenticated(deps, ctx, ref);
    // RFC 4513 §5.1.1: an anonymous bind proves nothing and passes through.
    if (op.name === '') return passThrough(deps, ctx, ref, undefined);
    const exemption = exemptionOf(deps.section, ctx.state, op.name);
    if (exemption !== undefined) return passThrough(deps, ctx, ref, exemption);
    return await secondFactorBind(deps, ctx, ref, op.name, password);
  } catch (err) {
    deps.logs.request(ref, `Internal error: ${(err as Error).message}`);
    return {
      response: bindResponse(ctx, LDAP_RESULT.invalidCredentials, 'Internal error'),
      close: true,
    };
  }
}

/**
 * Whether `dn` is `base` or an entry below it, RDN by RDN (so an escaped comma in a value,
 * `uid=x\\,ou=services,dc=org`, is not taken for a level of the tree).
 */
export function isDnUnder(dn: string, base: string): boolean {
  const rdns = splitDn(dn).map(normalizeDn);
  const baseRdns = splitDn(base).map(normalizeDn);
  if (baseRdns.length === 0 || rdns.length < baseRdns.length) return false;
  const offset = rdns.length - baseRdns.length;
  return baseRdns.every((rdn, i) => rdns[offset + i] === rdn);
}

type Exemption = { reason: 'exempt-primary-bind' | 'exempt-ou'; msg: string };

function exemptionOf(
  section: LdapServerConfig,
  state: BindState,
  dn: string,
): Exemption | undefined {
  if (section.exemptPrimaryBind && !state.primaryBindDone) {
    return { reason: 'exempt-primary-bind', msg: 'First bind on the connection exempted from 2FA' };
  }
  const ou = section.exemptOus.find((base) => isDnUnder(dn, base));
  return ou === undefined
    ? undefined
    : { reason: 'exempt-ou', msg: `DN under ${ou} exempted from 2FA` };
}

function refuseFurtherBind(deps: BindDeps, ctx: BindRequestContext, ref: RequestRef): BindOutcome {
  const msg =
    'A further bind after a 2FA bind on the same connection: disconnecting (allow_unlimited_binds=false)';
  deps.logs.request(ref, msg);
  return { response: bindResponse(ctx, LDAP_RESULT.unwillingToPerform, msg), close: true };
}

function refuseUnauthenticated(
  deps: BindDeps,
  ctx: BindRequestContext,
  ref: RequestRef,
): BindOutcome {
  return refuseBind(
    deps,
    ctx,
    ref,
    'Unauthenticated bind (a DN with an empty password) refused (RFC 4513 §5.1.2)',
    'unauthenticated-bind',
  );
}

function refuseSasl(
  deps: BindDeps,
  ctx: BindRequestContext,
  ref: RequestRef,
  mechanism: string,
): BindOutcome {
  return refuseBind(
    deps,
    ctx,
    ref,
    `SASL bind (${mechanism.slice(0, 64)}) refused: this proxy takes simple binds only`,
    'sasl-refused',
  );
}

/** A bind this proxy will not perform at all: logged, recorded, answered unwillingToPerform. */
function refuseBind(
  deps: BindDeps,
  ctx: BindRequestContext,
  ref: RequestRef,
  msg: string,
  reason: string,
): BindOutcome {
  deps.logs.request(ref, msg);
  primaryEvent(deps, ctx, ref, { msg, status: 'Reject', reason });
  return { response: bindResponse(ctx, LDAP_RESULT.unwillingToPerform, msg), close: false };
}

async function passThrough(
  deps: BindDeps,
  ctx: BindRequestContext,
  ref: RequestRef,
  exemption: Exemption | undefined,
): Promise<BindOutcome> {
  const answer = await ctx.forward();
  if (answer.kind === 'error') return directoryUnavailable(deps, ctx, ref, answer);
  const succeeded = answer.result.resultCode === LDAP_RESULT.success;
  if (exemption === undefined) {
    deps.logs.request(ref, `Anonymous bind passed through: result ${answer.result.resultCode}`);
    return { response: answer.raw, close: false };
  }
  if (succeeded) {
    ctx.state.primaryBindDone = true;
    deps.logs.request(ref, exemption.msg);
    event(deps, ctx, ref, {
      msg: exemption.msg,
      auth_stage: 'Secondary authentication',
      status: 'Allow',
      factor: null,
      second_factor_checked: false,
      reason: exemption.reason,
    });
  } else {
    rejectedByDirectory(deps, ctx, ref, answer.result);
  }
  return { response: answer.raw, close: false };
}

/**
 * The login flow with the bind as primary authentication: the password split in append mode
 * (the whole password tried when the split one fails), the user named by the entry's
 * username_attribute, then exempt users, preauth, failmode, the factor. The directory's success
 * reaches the client only when the flow accepts; otherwise the connection is made anonymous again.
 */
async function secondFactorBind(
  deps: BindDeps,
  ctx: BindRequestContext,
  ref: RequestRef,
  dn: string,
  password: Buffer,
): Promise<BindOutcome> {
  let last: UpstreamBindResult | undefined;
  const primary: PrimaryAuthenticator = {
    authenticate: async (input) => {
      last = await ctx.bind(dn, Buffer.from(input.password, 'utf8'));
      if (last.kind === 'error') return { kind: 'error', reason: last.reason };
      const code = last.result.resultCode;
      if (code === LDAP_RESULT.invalidCredentials)
        return { kind: 'reject', reason: 'invalid-credentials' };
      if (code !== LDAP_RESULT.success)
        return { kind: 'reject', reason: `directory-result-${code}` };
      const entry = await deps.directory.describeBoundDn(dn, deps.section.usernameAttribute);
      if (entry.kind === 'found') {
        return { kind: 'accept', username: entry.username, groups: entry.groups, attributes: [] };
      }
      return {
        kind: 'error',
        reason: entry.kind === 'not-found' ? 'username-not-found' : entry.reason,
      };
    },
    close: () => Promise.resolve(),
  };
  const answer: LoginAnswer = await deps.flowFor(primary)({
    username: dn,
    password: decodeUtf8(password),
    oversizedPasswordOctets: undefined,
    state: undefined,
    clientIp: ctx.client.ip,
    nasIp: ctx.client.ip,
    ref,
  });
  const bound = last?.kind === 'response' && last.result.resultCode === LDAP_RESULT.success;
  if (answer.code === 'Access-Accept' && bound && last?.kind === 'response') {
    ctx.state.primaryBindDone = true;
    ctx.state.secondFactorBindDone = true;
    return { response: last.raw, close: !deps.section.allowSearchesAfterBind };
  }
  if (bound) {
    // RFC 4511 §4.2.1: after a failed bind the connection is anonymous; the directory's is not
    // (it accepted the password), so an anonymous bind undoes that or the connection closes.
    const reset = await ctx.bind('', Buffer.alloc(0));
    const anonymous = reset.kind === 'response' && reset.result.resultCode === LDAP_RESULT.success;
    if (!anonymous)
      deps.logs.request(ref, 'Cannot return the directory connection to anonymous: closing');
    return {
      response: bindResponse(ctx, LDAP_RESULT.invalidCredentials, answer.replyMessage),
      close: !anonymous,
    };
  }
  if (last?.kind === 'response') return { response: last.raw, close: false };
  if (last?.kind === 'error') {
    return {
      response: bindResponse(ctx, LDAP_RESULT.unavailable, answer.replyMessage),
      close: true,
    };
  }
  return {
    response: bindResponse(ctx, LDAP_RESULT.invalidCredentials, answer.replyMessage),
    close: false,
  };
}

function directoryUnavailable(
  deps: BindDeps,
  ctx: BindRequestContext,
  ref: RequestRef,
  answer: Extract<UpstreamBindResult, { kind: 'error' }>,
): BindOutcome {
  const msg = `Primary authentication failed - ${answer.reason}`;
  deps.logs.request(ref, `${msg} (${answer.detail})`);
  primaryEvent(deps, ctx, ref, { msg, status: 'Error', reason: answer.reason });
  return { response: bindResponse(ctx, LDAP_RESULT.unavailable, msg), close: true };
}

function rejectedByDirectory(
  deps: BindDeps,
  ctx: BindRequestContext,
  ref: RequestRef,
  result: LdapResult,
): void {
  const reason =
    result.resultCode === LDAP_RESULT.invalidCredentials
      ? 'invalid-credentials'
      : `directory-result-${result.resultCode}`;
  const msg = `Primary credentials rejected - ${reason}`;
  deps.logs.request(ref, msg);
  primaryEvent(deps, ctx, ref, { msg, status: 'Reject', reason });
}

/** The auth event of a bind that ended at primary authentication: no second factor was asked. */
function primaryEvent(
  deps: BindDeps,
  ctx: BindRequestContext,
  ref: RequestRef,
  e: { msg: string; status: 'Reject' | 'Error'; reason: string },
): void {
  // Field order as every other auth event's: the log's lines read alike.
  event(deps, ctx, ref, {
    msg: e.msg,
    auth_stage: 'Primary authentication',
    status: e.status,
    factor: null,
    second_factor_checked: false,
    reason: e.reason,
  });
}

function event(
  deps: BindDeps,
  ctx: BindRequestContext,
  ref: RequestRef,
  e: Omit<
    AuthEvent,
    'username' | 'client_ip' | 'server_section' | 'server_section_ikey' | 'failmode'
  >,
): void {
  deps.logs.event({
    username: ref.username,
    client_ip: ctx.client.ip,
    server_section: deps.section.section,
    server_section_ikey: deps.section.ikey,
    failmode: deps.section.failmode,
    ...e,
  });
}

function bindResponse(
  ctx: BindRequestContext,
  resultCode: number,
  diagnosticMessage: string,
): Buffer {
  return encodeBindResponse({
    messageId: ctx.message.messageId,
    resultCode,
    matchedDn: '',
    diagnosticMessage,
  });
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The password as text; undefined when it is not UTF-8 (the flow rejects it). */
function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}
