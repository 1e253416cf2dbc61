// Primary authentication against upstream RADIUS servers (`[radius_client]`): PAP Access-Request over UDP.
//
// Per login: one Access-Request (Message-Authenticator first, User-Password hidden, NAS-IP-Address
// when configured, Calling-Station-Id = client IP) is sent to the first host, retransmitted
// unchanged every `retryWaitMs` up to `retries` times, then sent to the next host; the first
// authenticated reply decides. Replies are matched by Identifier and must carry a valid Response
// Authenticator and a valid Message-Authenticator (BlastRADIUS: required unless
// `requireMessageAuthenticator` is false; verified whenever present). Anything else is dropped,
// counted by reason and logged: a forged reply must not end the wait early. A reply whose Response
// Authenticator verifies but that lacks a required Message-Authenticator ends the login with an
// error (rejected, logged). All hosts silent -> `error` (the login is rejected: primary
// authentication is always required).
//
// One UDP socket per address family, shared by all logins of this authenticator; each login holds
// one Identifier for its whole life, so at most 256 are in flight and further logins queue.
import dgram from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';
import { ProtocolError, type ProtocolErrorCode } from '../../protocol/protocol-error.ts';
import {
  createAttribute,
  findAttributeByName,
  getAttributes,
} from '../../protocol/radius/radius-attributes.ts';
import { RADIUS_MAX_PASSWORD_LENGTH } from '../../protocol/radius/radius-crypto.ts';
import { RADIUS_HEADER_LENGTH, type RadiusAttribute } from '../../protocol/radius/radius-packet.ts';
import { encodeAccessRequest } from '../../protocol/radius/radius-request.ts';
import { verifyResponse, type AccessResponse } from '../../protocol/radius/radius-response.ts';
import type { Random } from '../../runtime/random.ts';
import type { PrimaryAuthenticator, PrimaryResult } from './primary-authenticator.ts';

/** Why a login was rejected by (or could not be put to) the upstream server. */
export const RADIUS_PRIMARY_REJECT_REASONS = [
  'upstream-reject',
  'upstream-challenge-unsupported',
  'username-too-long',
  'password-too-long',
] as const;
export type RadiusPrimaryRejectReason = (typeof RADIUS_PRIMARY_REJECT_REASONS)[number];

/** Why a login could not be decided. */
export const RADIUS_PRIMARY_ERROR_REASONS = [
  /** No host answered within `retries` retransmissions each. */
  'upstream-timeout',
  /** No request could even be sent (DNS failure, no route, socket error) on any host. */
  'upstream-unreachable',
  /** An authenticated reply without Message-Authenticator while it is required. */
  'upstream-missing-message-authenticator',
  'closed',
] as const;
export type RadiusPrimaryErrorReason = (typeof RADIUS_PRIMARY_ERROR_REASONS)[number];

/**
 * Why a reply was dropped: a decoder's code, no login waits for its Identifier, or a bug while
 * checking it (logged with its cause).
 */
export type RadiusPrimaryDropReason = ProtocolErrorCode | 'unknown-identifier' | 'internal-error';

/** The subset of a pino logger this module uses. */
export interface RadiusPrimaryLogger {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface RadiusPrimaryHost {
  readonly host: string;
  readonly port: number;
}

export interface RadiusPrimaryOptions {
  /** Tried in order (authproxy.cfg `host`/`port`, `host_2`/`port_2`, …). */
  readonly hosts: readonly RadiusPrimaryHost[];
  readonly secret: string;
  /** Retransmissions per host after the first send (`retries`, default 3). */
  readonly retries?: number | undefined;
  /** Wait for a reply after each send (`retry_wait`, default 2000 ms). */
  readonly retryWaitMs?: number | undefined;
  /** Sent as NAS-IP-Address (`nas_ip`); IPv4 only. */
  readonly nasIp?: string | undefined;
  /**
   * Refuse replies without Message-Authenticator (BlastRADIUS, CVE-2024-3596: a forged
   * Access-Accept can carry a valid Response Authenticator, never a valid Message-Authenticator).
   * On by default; FreeRADIUS before 3.2.5 (Debian 12's 3.2.1) must be set up to sign its replies.
   */
  readonly requireMessageAuthenticator?: boolean | undefined;
  /** Reply attributes copied into an accept, by FreeRADIUS name (`pass_through_attr_names`). */
  readonly passThroughAttrNames?: readonly string[] | undefined;
  /** Copy every reply attribute (`pass_through_all`). */
  readonly passThroughAll?: boolean | undefined;
  readonly random: Random;
  readonly logger?: RadiusPrimaryLogger | undefined;
}

export interface RadiusPrimary extends PrimaryAuthenticator {
  /** Replies dropped since creation, by reason. */
  droppedReplies(): Readonly<Partial<Record<RadiusPrimaryDropReason, number>>>;
}

export const RADIUS_PRIMARY_DEFAULTS = { retries: 3, retryWaitMs: 2000 } as const;

/** Creates the upstream RADIUS client; it opens its socket on the first login. */
export function createRadiusPrimary(options: RadiusPrimaryOptions): RadiusPrimary {
  return new RadiusPrimaryClient(options);
}

/** What ended one wait for a reply. */
type Outcome =
  | { kind: 'reply'; response: AccessResponse }
  | { kind: 'missing-message-authenticator' }
  | { kind: 'timeout' }
  | { kind: 'send-failed' }
  | { kind: 'closed' };

interface PendingRequest {
  readonly identifier: number;
  readonly authenticator: Buffer;
  /** Set while a wait is running; a reply or an error hands its outcome here. */
  deliver: ((outcome: Outcome) => void) | undefined;
}

type SocketType = 'udp4' | 'udp6';

const MAX_IN_FLIGHT = 256;
// Never copied from an upstream reply: ours are computed per response, and Proxy-State is
// between the upstream and us (RFC 2865 §5.33).
const NEVER_PASSED_THROUGH = new Set([33, 80]);
const NOOP_LOGGER: RadiusPrimaryLogger = { debug() {}, warn() {} };

class RadiusPrimaryClient implements RadiusPrimary {
  readonly #hosts: readonly RadiusPrimaryHost[];
  readonly #secret: string;
  readonly #retries: number;
  readonly #retryWaitMs: number;
  readonly #baseAttributes: readonly RadiusAttribute[];
  readonly #requireMessageAuthenticator: boolean;
  readonly #passThrough: ReadonlySet<number> | 'all';
  readonly #random: Random;
  readonly #logger: RadiusPrimaryLogger;
  readonly #sockets = new Map<SocketType, dgram.Socket>();
  readonly #inFlight = new Map<number, PendingRequest>();
  readonly #identifierWaiters: (() => void)[] = [];
  readonly #dropped: Partial<Record<RadiusPrimaryDropReason, number>> = {};
  #nextIdentifier: number;
  #closed = false;

  constructor(options: RadiusPrimaryOptions) {
    if (options.hosts.length === 0)
      throw new TypeError('radius_client: at least one host is needed');
    for (const { host, port } of options.hosts) {
      if (host.trim() === '' || !Number.isInteger(port) || port < 1 || port > 65535) {
        throw new TypeError(`radius_client: bad host ${JSON.stringify(host)} port ${port}`);
      }
    }
    if (options.secret.length === 0) throw new TypeError('radius_client: secret must not be empty');
    this.#retries = options.retries ?? RADIUS_PRIMARY_DEFAULTS.retries;
    this.#retryWaitMs = options.retryWaitMs ?? RADIUS_PRIMARY_DEFAULTS.retryWaitMs;
    if (!Number.isInteger(this.#retries) || this.#retries < 0) {
      throw new RangeError(`radius_client: retries must be an integer >= 0, got ${this.#retries}`);
    }
    if (!(this.#retryWaitMs > 0)) {
      throw new RangeError(`radius_client: retry wait must be > 0 ms, got ${this.#retryWaitMs}`);
    }
    if (options.nasIp !== undefined && !isIPv4(options.nasIp)) {
      throw new TypeError(`radius_client: nas_ip must be an IPv4 address, got ${options.nasIp}`);
    }
    this.#hosts = options.hosts.map(({ host, port }) => ({ host: host.trim(), port }));
    this.#secret = options.secret;
    this.#baseAttributes =
      options.nasIp === undefined ? [] : [createAttribute('NAS-IP-Address', options.nasIp)];
    this.#requireMessageAuthenticator = options.requireMessageAuthenticator ?? true;
    this.#passThrough = options.passThroughAll
      ? 'all'
      : new Set((options.passThroughAttrNames ?? []).map(passThroughType));
    this.#random = options.random;
    this.#logger = options.logger ?? NOOP_LOGGER;
    this.#nextIdentifier = this.#random.int(MAX_IN_FLIGHT);
  }

  droppedReplies(): Readonly<Partial<Record<RadiusPrimaryDropReason, number>>> {
    return { ...this.#dropped };
  }

  async authenticate(input: {
    username: string;
    password: string;
    clientIp?: string | undefined;
  }): Promise<PrimaryResult> {
    if (Buffer.byteLength(input.username, 'utf8') > 253) {
      return { kind: 'reject', reason: 'username-too-long' };
    }
    // RFC 2865 §5.2: PAP cannot carry more; the upstream could never accept it.
    if (Buffer.byteLength(input.password, 'utf8') > RADIUS_MAX_PASSWORD_LENGTH) {
      return { kind: 'reject', reason: 'password-too-long' };
    }
    const pending = await this.#acquire();
    if (pending === undefined) return { kind: 'error', reason: 'closed' };
    try {
      const attributes = [createAttribute('User-Name', input.username), ...this.#baseAttributes];
      if (input.clientIp !== undefined && Buffer.byteLength(input.clientIp) <= 253) {
        attributes.push(createAttribute('Calling-Station-Id', input.clientIp));
      }
      const packet = encodeAccessRequest({
        identifier: pending.identifier,
        authenticator: pending.authenticator,
        secret: this.#secret,
        attributes,
        password: input.password,
      });
      return await this.#exchange(pending, packet, input.username);
    } finally {
      this.#release(pending);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const pending of this.#inFlight.values()) pending.deliver?.({ kind: 'closed' });
    for (const wake of this.#identifierWaiters.splice(0)) wake();
    const sockets = [...this.#sockets.values()];
    this.#sockets.clear();
    await Promise.all(
      sockets.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))),
    );
  }

  /** Sends the same packet to each host in turn, with retransmissions, until one answers. */
  async #exchange(
    pending: PendingRequest,
    packet: Buffer,
    username: string,
  ): Promise<PrimaryResult> {
    let anyTimedOut = false;
    for (const target of this.#hosts) {
      for (let attempt = 0; attempt <= this.#retries; attempt++) {
        if (this.#closed) return { kind: 'error', reason: 'closed' };
        const outcome = this.#waitForReply(pending);
        this.#send(pending, packet, target);
        this.#logger.debug(
          {
            host: target.host,
            port: target.port,
            identifier: pending.identifier,
            attempt,
            username,
          },
          attempt === 0 ? 'radius access-request sent' : 'radius access-request retransmitted',
        );
        const result = await outcome;
        if (result.kind === 'timeout') {
          anyTimedOut = true;
          continue;
        }
        if (result.kind === 'send-failed') break; // this host cannot be reached: try the next
        if (result.kind === 'closed') return { kind: 'error', reason: 'closed' };
        if (result.kind === 'missing-message-authenticator') {
          return { kind: 'error', reason: 'upstream-missing-message-authenticator' };
        }
        return this.#toPrimaryResult(result.response);
      }
      this.#logger.warn(
        { host: target.host, port: target.port, attempts: this.#retries + 1 },
        'radius upstream did not answer',
      );
    }
    return { kind: 'error', reason: anyTimedOut ? 'upstream-timeout' : 'upstream-unreachable' };
  }

  #toPrimaryResult(response: AccessResponse): PrimaryResult {
    const replyMessages = getAttributes(response.attributes, 'Reply-Message');
    const message = replyMessages.length === 0 ? {} : { message: replyMessages.join('') };
    switch (response.code) {
      case 'Access-Accept':
        return {
          kind: 'accept',
          groups: [],
          attributes: response.attributes.filter((a) => this.#isPassedThrough(a.type)),
          ...message,
        };
      case 'Access-Reject':
        return { kind: 'reject', reason: 'upstream-reject', ...message };
      case 'Access-Challenge':
        // An upstream challenge (e.g. its own OTP step) would need the challenge relayed to the
        // user and the State round-tripped through our RADIUS server; like Duo's proxy with a
        // [radius_client], we do not support that, and a challenge is not an accept.
        return { kind: 'reject', reason: 'upstream-challenge-unsupported', ...message };
    }
  }

  #isPassedThrough(type: number): boolean {
    if (NEVER_PASSED_THROUGH.has(type)) return false;
    return this.#passThrough === 'all' || this.#passThrough.has(type);
  }

  /** Resolves when a reply for `pending` arrives, a send fails, the wait times out, or on close. */
  #waitForReply(pending: PendingRequest): Promise<Outcome> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle({ kind: 'timeout' }), this.#retryWaitMs);
      const settle = (outcome: Outcome): void => {
        clearTimeout(timer);
        pending.deliver = undefined;
        resolve(outcome);
      };
      pending.deliver = settle;
    });
  }

  #send(pending: PendingRequest, packet: Buffer, target: RadiusPrimaryHost): void {
    let socket: dgram.Socket;
    try {
      socket = this.#socketFor(target.host);
    } catch (error) {
      this.#logger.warn({ cause: String(error) }, 'radius client socket could not be opened');
      pending.deliver?.({ kind: 'send-failed' });
      return;
    }
    socket.send(packet, target.port, target.host, (error) => {
      if (error === null || error === undefined) return;
      this.#logger.warn(
        { host: target.host, port: target.port, cause: error.message },
        'radius access-request could not be sent',
      );
      pending.deliver?.({ kind: 'send-failed' });
    });
  }

  #socketFor(host: string): dgram.Socket {
    // A host name is resolved as IPv4; give an IPv6 literal for an IPv6 upstream.
    const type: SocketType = isIPv6(host) ? 'udp6' : 'udp4';
    let socket = this.#sockets.get(type);
    if (socket !== undefined) return socket;
    socket = dgram.createSocket(type);
    const created = socket;
    created.on('message', (datagram) => this.#onReply(datagram));
    created.on('error', (error) => {
      // Only asynchronous socket failures land here; the socket is replaced on the next send.
      this.#logger.warn({ cause: error.message }, 'radius client socket failed');
      if (this.#sockets.get(type) === created) this.#sockets.delete(type);
      try {
        created.close();
      } catch {
        // already closed
      }
      for (const pending of this.#inFlight.values()) pending.deliver?.({ kind: 'send-failed' });
    });
    this.#sockets.set(type, created);
    this.#updateRef();
    return created;
  }

  #onReply(datagram: Buffer): void {
    if (datagram.length < RADIUS_HEADER_LENGTH) {
      this.#drop('RADIUS_TRUNCATED', datagram);
      return;
    }
    const pending = this.#inFlight.get(datagram[1]!);
    if (pending?.deliver === undefined) {
      // A late answer to a retransmission, or to a login that gave up: normal, but counted.
      this.#drop('unknown-identifier', datagram);
      return;
    }
    try {
      const response = verifyResponse({
        request: pending,
        response: datagram,
        secret: this.#secret,
        requireMessageAuthenticator: this.#requireMessageAuthenticator,
      });
      pending.deliver({ kind: 'reply', response });
    } catch (error) {
      if (!(error instanceof ProtocolError)) {
        // Never let one datagram take the proxy down from inside a socket handler.
        this.#logger.warn({ cause: String(error) }, 'radius reply could not be checked');
        this.#drop('internal-error', datagram);
        return;
      }
      // verifyResponse checks the Response Authenticator first, so only a holder of the secret
      // gets here; that the reply lacks a required Message-Authenticator is a configuration
      // problem to report, not a forgery to wait out.
      if (
        error.code === 'RADIUS_MISSING_MESSAGE_AUTHENTICATOR' &&
        this.#requireMessageAuthenticator
      ) {
        this.#logger.warn(
          { identifier: pending.identifier },
          'radius upstream reply has no Message-Authenticator, which is required',
        );
        pending.deliver({ kind: 'missing-message-authenticator' });
        return;
      }
      this.#drop(error.code, datagram);
    }
  }

  #drop(reason: RadiusPrimaryDropReason, datagram: Buffer): void {
    this.#dropped[reason] = (this.#dropped[reason] ?? 0) + 1;
    const fields = { reason, identifier: datagram[1], length: datagram.length };
    if (reason === 'unknown-identifier') this.#logger.debug(fields, 'radius reply dropped');
    else this.#logger.warn(fields, 'radius reply dropped');
  }

  /** Reserves an Identifier, waiting while 256 are in flight; undefined once closed. */
  async #acquire(): Promise<PendingRequest | undefined> {
    while (this.#inFlight.size >= MAX_IN_FLIGHT && !this.#closed) {
      await new Promise<void>((resolve) => this.#identifierWaiters.push(resolve));
    }
    if (this.#closed) return undefined;
    let identifier = this.#nextIdentifier;
    while (this.#inFlight.has(identifier)) identifier = (identifier + 1) % MAX_IN_FLIGHT;
    this.#nextIdentifier = (identifier + 1) % MAX_IN_FLIGHT;
    const pending: PendingRequest = {
      identifier,
      // RFC 2865 §3: the Request Authenticator must be unpredictable and unique per request.
      authenticator: this.#random.bytes(16),
      deliver: undefined,
    };
    this.#inFlight.set(identifier, pending);
    this.#updateRef();
    return pending;
  }

  #release(pending: PendingRequest): void {
    if (this.#inFlight.get(pending.identifier) === pending)
      this.#inFlight.delete(pending.identifier);
    this.#updateRef();
    this.#identifierWaiters.shift()?.();
  }

  /** Idle sockets must not keep the process alive; busy ones must. */
  #updateRef(): void {
    for (const socket of this.#sockets.values()) {
      if (this.#inFlight.size === 0) socket.unref();
      else socket.ref();
    }
  }
}

function passThroughType(name: string): number {
  const definition = findAttributeByName(name);
  if (definition === undefined) {
    throw new TypeError(
      `radius_client: unknown RADIUS attribute ${JSON.stringify(name)} to pass through`,
    );
  }
  return definition.type;
}
