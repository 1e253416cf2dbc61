// The RADIUS socket loop of one server section: admit known clients, decode, de-duplicate
// retransmits, run the login flow, answer. Every dropped packet is counted by reason and logged.
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import type { ServerConfig } from '../config/authproxy-config.ts';
import { radiusClientFor } from '../config/authproxy-config-model.ts';
import { ProtocolError } from '../protocol/protocol-error.ts';
import {
  attributeType,
  createAttribute,
  getAttribute,
} from '../protocol/radius/radius-attributes.ts';
import type { RadiusAttribute } from '../protocol/radius/radius-packet.ts';
import {
  decodeAccessRequest,
  decodePasswordText,
  type AccessRequest,
} from '../protocol/radius/radius-request.ts';
import { encodeResponse, type AnsweredRequest } from '../protocol/radius/radius-response.ts';
import type { Clock } from '../runtime/clock.ts';
import type { LoginAnswer, LoginFlow, LoginInput } from './login-flow.ts';
import type { ProxyLogs } from './proxy-logs.ts';
import type { ProxyMetrics } from './proxy-metrics.ts';

/** How long an answer is kept for retransmits (docs/design/auth-api.md §3.11: 30 s). */
const DEDUP_TTL_MS = 30_000;
/** Codes of the log line `Returning response code N: AccessX` (docs/design/auth-api.md §3.12). */
const CODE_NUMBERS = { 'Access-Accept': 2, 'Access-Reject': 3, 'Access-Challenge': 11 } as const;

/** What answering a login needs of its Access-Request, kept while the login runs. */
interface PendingReply {
  /** The retransmit table's key. */
  key: string;
  secret: ServerConfig['radiusClients'][number]['secret'];
  /** Identifier, Request Authenticator and the Proxy-State attributes to copy (RFC 2865 §5.33). */
  request: AnsweredRequest;
}

interface DedupEntry {
  /** Undefined while the first copy is still being authenticated (such an entry never expires). */
  reply: Buffer | undefined;
  expiresAtMs: number;
}

export interface RadiusServer {
  readonly section: string;
  readonly address: { address: string; port: number };
  close(): Promise<void>;
}

export interface RadiusServerDeps {
  /** The section as started: its name, address and port (a reload never changes them). */
  section: ServerConfig;
  flow: LoginFlow;
  /**
   * The section's configuration and login flow now, read once per packet: after a reload a new
   * packet gets the new ones, while a login in flight keeps those it started with. Default: the
   * `section` and `flow` above.
   */
  current?: () => { section: ServerConfig; flow: LoginFlow };
  logs: ProxyLogs;
  metrics: ProxyMetrics;
  clock: Clock;
}

export async function startRadiusServer(deps: RadiusServerDeps): Promise<RadiusServer> {
  const { section, logs, metrics, clock } = deps;
  const family = isIP(section.bindAddress) === 6 ? 'udp6' : 'udp4';
  const socket = dgram.createSocket({ type: family, reuseAddr: false });
  const dedup = new Map<string, DedupEntry>();

  const drop = (reason: string, address: string, port: number, detail?: string) => {
    metrics.dropped.inc({ section: section.section, reason });
    logs.line(
      `[${section.section}] dropped packet from ${address}:${port}: ${reason}${detail ? ` (${detail})` : ''}`,
    );
  };

  const current = deps.current ?? (() => ({ section: deps.section, flow: deps.flow }));

  /**
   * Synchronous: admit the client, decode, de-duplicate, then start the login. Only what the
   * answer needs (PendingReply) and the login's input outlive this call: a login may wait
   * minutes for a push, and thousands may wait at once (bench:push), so the packet, its decoded
   * attributes and the sender's RemoteInfo are not kept for that long.
   */
  const admit = (msg: Buffer, address: string, port: number): void => {
    const { section: live, flow } = current();
    const client = radiusClientFor(live.radiusClients, address);
    if (!client) return drop('unknown-client', address, port);

    let request: AccessRequest;
    try {
      request = decodeAccessRequest(msg, client.secret, {
        requireMessageAuthenticator: live.requireMessageAuthenticator,
      });
    } catch (e) {
      if (e instanceof ProtocolError) return drop(e.code, address, port);
      throw e;
    }

    // RFC 2865 §5: a retransmit carries the same Identifier and Request Authenticator.
    const key = `${address}|${port}|${request.identifier}|${request.authenticator.toString('hex')}`;
    const seen = dedup.get(key);
    // A login still running never expires (a push may wait past the 30 s answer cache): a
    // retransmit must not start a second login and send a second push.
    if (seen && (seen.reply === undefined || seen.expiresAtMs > clock.nowMs())) {
      metrics.retransmits.inc({ section: section.section, answered: seen.reply ? 'yes' : 'no' });
      // Still authenticating: the first copy's answer will go out; never start a second login.
      if (seen.reply) socket.send(seen.reply, port, address);
      return;
    }
    dedup.set(key, { reply: undefined, expiresAtMs: clock.nowMs() + DEDUP_TTL_MS });

    const username = request.userName ?? '';
    const ref: LoginInput['ref'] = {
      section: section.section,
      ip: address,
      port,
      username,
      identifier: request.identifier,
    };
    const pending: PendingReply = {
      key,
      secret: client.secret,
      request: {
        identifier: request.identifier,
        authenticator: request.authenticator,
        attributes: proxyStatesOf(request),
      },
    };
    let input: LoginInput;
    try {
      input = {
        username,
        password: decodePassword(request),
        oversizedPasswordOctets: request.oversizedPasswordOctets,
        state: request.state,
        clientIp: clientIpOf(live, request),
        nasIp: address,
        // Only sections that send it pay for the hash.
        ...(section.sendLoginKey
          ? { loginKey: loginKeyOf(address, username, request.authenticator) }
          : {}),
        ref,
      };
    } catch (e) {
      // The entry is set: without an answer the login would never end and every retransmit
      // would be swallowed as a duplicate of it.
      return sendOrFree(rejectInternalError(ref, e), ref, pending);
    }
    void answerLogin(flow, input, pending);
  };

  /** Runs the login and sends its answer (kept for retransmits); never rejects. */
  const answerLogin = async (
    flow: LoginFlow,
    input: LoginInput,
    pending: PendingReply,
  ): Promise<void> => {
    const { ref } = input;
    let given: LoginAnswer;
    try {
      given = await flow(input);
    } catch (e) {
      given = rejectInternalError(ref, e);
    }
    sendOrFree(given, ref, pending);
  };

  /** A bug must never turn into an allow: a reject, saying why in the log. */
  const rejectInternalError = (ref: LoginInput['ref'], e: unknown): LoginAnswer => {
    logs.request(ref, `Internal error: ${(e as Error).message}`);
    metrics.dropped.inc({ section: section.section, reason: 'internal-error' });
    return { code: 'Access-Reject', replyMessage: 'Internal error', attributes: [] };
  };

  /** Sends the answer; if even that fails, frees the entry so that a retransmit starts over. */
  const sendOrFree = (given: LoginAnswer, ref: LoginInput['ref'], pending: PendingReply): void => {
    try {
      sendAnswer(given, ref, pending);
    } catch (e) {
      if (dedup.get(pending.key)?.reply === undefined) dedup.delete(pending.key);
      drop('internal-error', ref.ip, ref.port, (e as Error).message);
    }
  };

  const sendAnswer = (given: LoginAnswer, ref: LoginInput['ref'], pending: PendingReply) => {
    let answer = given;
    const { request, secret } = pending;
    const attributes = [...answer.attributes];
    if (answer.replyMessage)
      attributes.push(createAttribute('Reply-Message', answer.replyMessage.slice(0, 253)));
    if (answer.state) attributes.push(createAttribute('State', answer.state));
    let reply: Buffer;
    try {
      reply = encodeResponse({ request, code: answer.code, attributes, secret });
    } catch (e) {
      // E.g. pass-through plus fail-open attributes beyond 4096 octets: answer with a plain reject.
      logs.request(ref, `Cannot encode the answer (${(e as Error).message}): rejecting`);
      answer = { code: 'Access-Reject', replyMessage: 'Internal error', attributes: [] };
      reply = encodeResponse({
        request,
        code: 'Access-Reject',
        attributes: [createAttribute('Reply-Message', 'Internal error')],
        secret,
      });
    }
    dedup.set(pending.key, { reply, expiresAtMs: clock.nowMs() + DEDUP_TTL_MS });
    metrics.responses.inc({ section: section.section, code: answer.code });
    logs.request(
      ref,
      `Returning response code ${CODE_NUMBERS[answer.code]}: ${answer.code.replace('-', '')}`,
    );
    logs.request(ref, 'Sending response');
    socket.send(reply, ref.port, ref.ip);
  };

  socket.on('message', (msg, from) => {
    try {
      admit(msg, from.address, from.port);
    } catch (e) {
      drop('internal-error', from.address, from.port, (e as Error).message);
    }
  });

  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(section.port, section.bindAddress, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('error', (e) => logs.line(`[${section.section}] socket error: ${e.message}`));
  sizeReceiveBuffer(socket, deps);

  const sweep = setInterval(() => {
    const now = clock.nowMs();
    for (const [key, entry] of dedup)
      if (entry.expiresAtMs <= now && entry.reply) dedup.delete(key);
  }, 5_000);
  sweep.unref();

  const bound = socket.address();
  metrics.watchUdpSocket(section.section, bound.address, bound.port);
  return {
    section: section.section,
    address: { address: bound.address, port: bound.port },
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(sweep);
        socket.close(() => resolve());
      }),
  };
}

/**
 * Asks for `recv_buffer_bytes` so that a burst of Access-Requests waits in the kernel instead of
 * being dropped, and says so when the kernel grants less (it caps SO_RCVBUF at
 * net.core.rmem_max; Linux reports twice the granted size, its bookkeeping included).
 */
function sizeReceiveBuffer(socket: dgram.Socket, deps: RadiusServerDeps): void {
  const { section, logs, metrics } = deps;
  const wanted = section.recvBufferBytes;
  try {
    socket.setRecvBufferSize(wanted);
  } catch (e) {
    logs.line(`[${section.section}] cannot set the receive buffer: ${(e as Error).message}`);
  }
  const granted = socket.getRecvBufferSize();
  metrics.receiveBufferBytes.set({ section: section.section }, granted);
  if (granted < wanted) {
    logs.line(
      `[${section.section}] WARNING: the kernel granted a ${granted}-byte receive buffer, not recv_buffer_bytes=${wanted}: a burst of Access-Requests beyond it is dropped until NASes retransmit; raise the cap with sysctl -w net.core.rmem_max=${wanted} (docs/proxy.md, Bursts)`,
    );
  }
}

/**
 * One key per login, the same for every copy of its Access-Request: a NAS that fails over to the
 * other proxy of a pair resends the same Request Authenticator (RFC 2865 §3, RFC 5080 §2.2.1).
 * Hashed, so that the service never sees the authenticator itself.
 */
function loginKeyOf(nasIp: string, username: string, authenticator: Buffer): string {
  return createHash('sha256')
    .update(`${nasIp}\0${username}\0`)
    .update(authenticator)
    .digest('base64url');
}

const NO_ATTRIBUTES: readonly RadiusAttribute[] = Object.freeze([]);
const PROXY_STATE = attributeType('Proxy-State');

/** The request's Proxy-State attributes (usually none: one shared empty list). */
function proxyStatesOf(request: AccessRequest): readonly RadiusAttribute[] {
  const found = request.attributes.filter((a) => a.type === PROXY_STATE);
  return found.length === 0 ? NO_ATTRIBUTES : found;
}

/** The password as text; undefined when absent or not decodable (usually a wrong shared secret). */
function decodePassword(request: AccessRequest): string | undefined {
  if (!request.password) return undefined;
  try {
    return decodePasswordText(request.password);
  } catch (e) {
    if (e instanceof ProtocolError) return undefined;
    throw e;
  }
}

/** The end user's IP from `client_ip_attr` (default Calling-Station-Id), when it is an address. */
function clientIpOf(section: ServerConfig, request: AccessRequest): string | undefined {
  const name = section.clientIpAttr === 'paloalto' ? 'Calling-Station-Id' : section.clientIpAttr;
  if (name !== 'Calling-Station-Id') return undefined;
  let value: string | undefined;
  try {
    value = getAttribute(request.attributes, 'Calling-Station-Id');
  } catch (e) {
    // Not UTF-8, so not an address either: the login goes on without a client IP.
    if (e instanceof ProtocolError) return undefined;
    throw e;
  }
  return typeof value === 'string' && isIP(value.trim()) ? value.trim() : undefined;
}
