// The LDAP listener of one [ldap_server_auto] section and its connection loop: admit allowed
// clients, frame and check every message, stream operations to the client's own directory
// connection and the answers back with back-pressure, intercept binds (ldap-bind.ts) and
// StartTLS. A malformed message closes that connection only; every close is counted and logged.
import net from 'node:net';
import tls from 'node:tls';
import type { LdapServerConfig } from '../config/authproxy-config.ts';
import { matchesIp } from '../core/ip-ranges.ts';
import { ProtocolError } from '../protocol/protocol-error.ts';
import {
  LDAP_OP,
  LDAP_RESULT,
  STARTTLS_OID,
  decodeLdapMessage,
  encodeBindRequest,
  encodeExtendedResponse,
  encodeNoticeOfDisconnection,
  splitLdapFrames,
  type LdapMessage,
} from '../protocol/ldap/ldap-message.ts';
import { handleBind, type BindDeps, type BindState, type UpstreamBindResult } from './ldap-bind.ts';
import type { LdapUpstream, OpenLdapUpstream } from './ldap-upstream.ts';
import type { ProxyLogs } from './proxy-logs.ts';
import type { ProxyMetrics } from './proxy-metrics.ts';

/** Responses from the directory may be large entries; still framed, still bounded. */
const UPSTREAM_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/** Messages read ahead of the one being handled before the client socket is paused. */
const MAX_QUEUED_MESSAGES = 32;
/** Octets read ahead before the client socket is paused (beside the message count above). */
const MAX_QUEUED_BYTES = 256 * 1024;

export interface LdapServer {
  readonly protocol: 'ldap';
  readonly section: string;
  readonly address: { address: string; port: number };
  /** The LDAPS listener, when the section has a certificate. */
  readonly sslAddress: { address: string; port: number } | undefined;
  close(): Promise<void>;
}

export interface LdapServerDeps extends BindDeps {
  section: LdapServerConfig;
  openUpstream: OpenLdapUpstream;
  logs: ProxyLogs;
  metrics: ProxyMetrics;
}

export async function startLdapServer(deps: LdapServerDeps): Promise<LdapServer> {
  const { section } = deps;
  const connections = new Set<LdapConnection>();
  const secureContext =
    section.sslCertPem && section.sslKeyPem
      ? tls.createSecureContext({
          cert: section.sslCertPem,
          key: section.sslKeyPem,
          minVersion: 'TLSv1.2',
        })
      : undefined;
  const admit = (socket: net.Socket, secure: boolean) => {
    const ip = normalizeIp(socket.remoteAddress ?? '');
    if (section.ldapClients.length > 0 && !section.ldapClients.some((m) => matchesIp(m, ip))) {
      deps.metrics.ldapConnections.inc({ section: section.section, result: 'refused' });
      deps.logs.line(
        `[${section.section}] refused LDAP connection from ${ip}: not in ldap_client_ip_N`,
      );
      socket.destroy();
      return;
    }
    if (connections.size >= section.maxConnections) {
      deps.metrics.ldapConnections.inc({ section: section.section, result: 'refused-limit' });
      deps.logs.line(
        `[${section.section}] refused LDAP connection from ${ip}: max_connections (${section.maxConnections}) reached`,
      );
      socket.destroy();
      return;
    }
    deps.metrics.ldapConnections.inc({ section: section.section, result: 'accepted' });
    const conn = new LdapConnection(
      deps,
      socket,
      { ip, port: socket.remotePort ?? 0 },
      secure,
      secureContext,
    );
    connections.add(conn);
    conn.closed.then(
      () => connections.delete(conn),
      () => connections.delete(conn),
    );
  };
  const plain = net.createServer({ pauseOnConnect: false }, (s) => admit(s, false));
  plain.on('error', (e) =>
    deps.logs.line(`[${section.section}] LDAP listener error: ${e.message}`),
  );
  const address = await listen(plain, section.port, section.bindAddress);
  let ldaps: tls.Server | undefined;
  let sslAddress: { address: string; port: number } | undefined;
  if (secureContext && section.sslPort !== undefined) {
    ldaps = tls.createServer(
      { cert: section.sslCertPem, key: section.sslKeyPem, minVersion: 'TLSv1.2' },
      (s) => admit(s, true),
    );
    ldaps.on('tlsClientError', (e) =>
      deps.logs.line(`[${section.section}] LDAPS handshake failed: ${e.message}`),
    );
    sslAddress = await listen(ldaps, section.sslPort, section.bindAddress);
  }
  return {
    protocol: 'ldap',
    section: section.section,
    address,
    sslAddress,
    close: async () => {
      const closing = [plain, ...(ldaps ? [ldaps] : [])].map(
        (s) => new Promise<void>((resolve) => s.close(() => resolve())),
      );
      for (const c of connections) c.destroy('proxy-closing');
      await Promise.all(closing);
    },
  };
}

function listen(
  server: net.Server,
  port: number,
  host: string,
): Promise<{ address: string; port: number }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const a = server.address() as net.AddressInfo;
      resolve({ address: a.address, port: a.port });
    });
  });
}

/** `::ffff:10.0.0.1` is 10.0.0.1 for ldap_client_ip_N and the logs. */
function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
}

interface PendingBind {
  messageId: number;
  resolve: (result: UpstreamBindResult) => void;
}

/** One client connection and its directory connection. */
class LdapConnection {
  readonly closed: Promise<void>;
  readonly #deps: LdapServerDeps;
  readonly #peer: { ip: string; port: number };
  readonly #secureContext: tls.SecureContext | undefined;
  readonly #state: BindState = { primaryBindDone: false, secondFactorBindDone: false };
  #client: net.Socket;
  #secure: boolean;
  #clientBuffer: Buffer = Buffer.alloc(0);
  #queue: Buffer[] = [];
  #queuedBytes = 0;
  /** Upstream reading is paused until the client drains. */
  #awaitingClientDrain = false;
  #pumping = false;
  #upstream: LdapUpstream | undefined;
  #upstreamOpening: Promise<LdapUpstream> | undefined;
  #upstreamBuffer: Buffer = Buffer.alloc(0);
  #pendingBind: PendingBind | undefined;
  #partialTimer: NodeJS.Timeout | undefined;
  #done = false;
  #resolveClosed!: () => void;

  constructor(
    deps: LdapServerDeps,
    socket: net.Socket,
    peer: { ip: string; port: number },
    secure: boolean,
    secureContext: tls.SecureContext | undefined,
  ) {
    this.#deps = deps;
    this.#peer = peer;
    this.#secure = secure;
    this.#secureContext = secureContext;
    this.#client = socket;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#attachClient(socket);
  }

  get #section(): LdapServerConfig {
    return this.#deps.section;
  }

  #attachClient(socket: net.Socket): void {
    this.#client = socket;
    socket.setNoDelay(true);
    socket.setTimeout(this.#section.idleTimeoutMs);
    socket.on('data', this.#onClientData);
    socket.on('timeout', this.#onIdle);
    socket.on('error', this.#onClientError);
    socket.on('close', this.#onClientClose);
  }

  #detachClient(socket: net.Socket): void {
    socket.off('data', this.#onClientData);
    socket.off('timeout', this.#onIdle);
    socket.off('error', this.#onClientError);
    socket.off('close', this.#onClientClose);
    socket.setTimeout(0);
  }

  readonly #onIdle = (): void => {
    this.#closeWithNotice('idle-timeout', LDAP_RESULT.unavailable, 'idle_timeout reached');
  };

  readonly #onClientError = (): void => {
    this.destroy('client-error');
  };

  readonly #onClientClose = (): void => {
    this.destroy(undefined);
  };

  readonly #onClientData = (chunk: Buffer): void => {
    this.#clientBuffer =
      this.#clientBuffer.length === 0 ? chunk : Buffer.concat([this.#clientBuffer, chunk]);
    let frames: Buffer[];
    try {
      const split = splitLdapFrames(this.#clientBuffer, this.#section.maxMessageBytes);
      frames = split.frames;
      this.#clientBuffer = Buffer.from(split.rest);
    } catch (err) {
      this.#malformed(err);
      return;
    }
    this.#armPartialTimer();
    this.#queue.push(...frames);
    for (const f of frames) this.#queuedBytes += f.length;
    // Back-pressure towards the client: read no further while a bind waits or the directory is slow.
    if (this.#queue.length >= MAX_QUEUED_MESSAGES || this.#queuedBytes >= MAX_QUEUED_BYTES) {
      this.#client.pause();
    }
    void this.#pump();
  };

  /** network_timeout: a message that has begun must be complete within it (slow-drip clients). */
  #armPartialTimer(): void {
    if (this.#clientBuffer.length === 0) {
      clearTimeout(this.#partialTimer);
      this.#partialTimer = undefined;
    } else if (this.#partialTimer === undefined) {
      this.#partialTimer = setTimeout(
        () =>
          this.#closeWithNotice(
            'network-timeout',
            LDAP_RESULT.protocolError,
            'message not completed within network_timeout',
          ),
        this.#section.networkTimeoutMs,
      );
      this.#partialTimer.unref();
    }
  }

  #malformed(err: unknown): void {
    const code = err instanceof ProtocolError ? err.code : 'internal-error';
    this.#deps.logs.line(
      `[${this.#section.section}] closing LDAP connection from ${this.#peer.ip}:${this.#peer.port}: ${code} (${(err as Error).message})`,
    );
    this.#closeWithNotice(code, LDAP_RESULT.protocolError, 'malformed LDAP message');
  }

  /** Handles queued messages one at a time, in order. */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (!this.#done && this.#queue.length > 0) {
        const frame = this.#queue.shift()!;
        this.#queuedBytes -= frame.length;
        let message: LdapMessage;
        try {
          message = decodeLdapMessage(frame, { maxMessageBytes: this.#section.maxMessageBytes });
        } catch (err) {
          this.#malformed(err);
          return;
        }
        await this.#handle(message);
      }
      if (!this.#done && this.#client.isPaused()) this.#client.resume();
    } catch (err) {
      this.#malformed(err);
    } finally {
      this.#pumping = false;
    }
  }

  async #handle(message: LdapMessage): Promise<void> {
    const op = message.operation;
    if (op.type === 'bindRequest') return this.#bind(message);
    if (op.type === 'extendedRequest' && op.requestName === STARTTLS_OID)
      return this.#startTls(message);
    if (op.type === 'unbindRequest') {
      // RFC 4511 §4.3: no response; the directory is told too, then both close.
      if (this.#upstream) this.#upstream.socket.end(message.raw);
      this.destroy(undefined);
      return;
    }
    const upstream = await this.#ensureUpstream();
    if (upstream === undefined) {
      this.#closeWithNotice(
        'directory-unreachable',
        LDAP_RESULT.unavailable,
        'the directory is unreachable',
      );
      return;
    }
    if (!upstream.socket.write(message.raw)) {
      // Back-pressure: the directory reads slower than the client writes.
      this.#client.pause();
      await new Promise<void>((resolve) => {
        const done = () => {
          upstream.socket.off('drain', done);
          upstream.socket.off('close', done);
          resolve();
        };
        upstream.socket.on('drain', done);
        upstream.socket.on('close', done);
      });
    }
  }

  async #bind(message: LdapMessage): Promise<void> {
    const upstream = await this.#ensureUpstream();
    const send = async (raw: Buffer): Promise<UpstreamBindResult> => {
      if (upstream === undefined || this.#done) {
        return { kind: 'error', reason: 'ldap-unreachable', detail: 'no directory connection' };
      }
      return this.#sendBind(upstream, message.messageId, raw);
    };
    const outcome = await handleBind(this.#deps, {
      message,
      state: this.#state,
      client: this.#peer,
      forward: () => send(message.raw),
      bind: (name, password) =>
        send(
          encodeBindRequest({
            messageId: message.messageId,
            version: message.operation.type === 'bindRequest' ? message.operation.version : 3,
            name,
            password,
          }),
        ),
    });
    if (this.#done) return;
    const code = outcome.response.length > 0 ? bindResultCode(outcome.response) : undefined;
    if (code !== undefined) {
      this.#deps.metrics.ldapBindResponses.inc({
        section: this.#section.section,
        result_code: String(code),
      });
    }
    this.#client.write(outcome.response);
    if (outcome.close) this.#end('bind-rule');
  }

  /** Sends a bind upstream and waits for its BindResponse, at most network_timeout. */
  #sendBind(upstream: LdapUpstream, messageId: number, raw: Buffer): Promise<UpstreamBindResult> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pendingBind = undefined;
        resolve({
          kind: 'error',
          reason: 'ldap-timeout',
          detail: 'no BindResponse within network_timeout',
        });
      }, this.#section.networkTimeoutMs);
      timer.unref();
      this.#pendingBind = {
        messageId,
        resolve: (result) => {
          clearTimeout(timer);
          this.#pendingBind = undefined;
          resolve(result);
        },
      };
      upstream.socket.write(raw);
    });
  }

  /** RFC 4511 §4.14: StartTLS towards the client with the section's certificate. */
  #startTls(message: LdapMessage): void {
    const answer = (resultCode: number, diagnosticMessage: string) =>
      encodeExtendedResponse({
        messageId: message.messageId,
        resultCode,
        matchedDn: '',
        diagnosticMessage,
        responseName: STARTTLS_OID,
      });
    if (!this.#secureContext) {
      this.#client.write(
        answer(
          LDAP_RESULT.protocolError,
          'StartTLS is not configured (ssl_cert_path, ssl_key_path)',
        ),
      );
      return;
    }
    if (this.#secure) {
      this.#client.write(answer(LDAP_RESULT.operationsError, 'TLS is already established'));
      return;
    }
    if (this.#clientBuffer.length > 0 || this.#queue.length > 0) {
      // RFC 4511 §4.14.1: nothing may follow the request until the response.
      this.#malformed(new ProtocolError('LDAP_MALFORMED', 'data after the StartTLS request'));
      return;
    }
    const raw = this.#client;
    this.#detachClient(raw);
    raw.write(answer(LDAP_RESULT.success, ''));
    const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: this.#secureContext });
    this.#secure = true;
    this.#attachClient(secure);
    raw.on('close', this.#onClientClose);
    raw.on('error', this.#onClientError);
  }

  async #ensureUpstream(): Promise<LdapUpstream | undefined> {
    if (this.#upstream) return this.#upstream;
    this.#upstreamOpening ??= this.#deps.openUpstream();
    try {
      const upstream = await this.#upstreamOpening;
      if (this.#done) {
        upstream.socket.destroy();
        return undefined;
      }
      this.#upstream = upstream;
      upstream.socket.on('data', this.#onUpstreamData);
      upstream.socket.on('error', () => this.#upstreamGone());
      upstream.socket.on('close', () => this.#upstreamGone());
      return upstream;
    } catch (err) {
      this.#deps.logs.line(
        `[${this.#section.section}] LDAP client ${this.#peer.ip}:${this.#peer.port}: ${(err as Error).message}`,
      );
      return undefined;
    }
  }

  readonly #onUpstreamData = (chunk: Buffer): void => {
    this.#upstreamBuffer =
      this.#upstreamBuffer.length === 0 ? chunk : Buffer.concat([this.#upstreamBuffer, chunk]);
    let frames: Buffer[];
    try {
      const split = splitLdapFrames(this.#upstreamBuffer, UPSTREAM_MAX_MESSAGE_BYTES);
      frames = split.frames;
      this.#upstreamBuffer = Buffer.from(split.rest);
    } catch (err) {
      this.#deps.logs.line(
        `[${this.#section.section}] malformed message from the directory: ${(err as Error).message}`,
      );
      this.#closeWithNotice(
        'directory-malformed',
        LDAP_RESULT.unavailable,
        'the directory sent a malformed message',
      );
      return;
    }
    for (const frame of frames) {
      const pending = this.#pendingBind;
      if (pending && frame[0] === 0x30) {
        const answer = bindResponseFor(frame, pending.messageId);
        if (answer !== undefined) {
          pending.resolve({ kind: 'response', result: answer, raw: frame });
          continue;
        }
      }
      if (!this.#client.write(frame) && this.#upstream && !this.#awaitingClientDrain) {
        // Back-pressure: the client reads slower than the directory answers.
        const upstream = this.#upstream.socket;
        this.#awaitingClientDrain = true;
        upstream.pause();
        this.#client.once('drain', () => {
          this.#awaitingClientDrain = false;
          upstream.resume();
        });
      }
    }
  };

  #upstreamGone(): void {
    if (this.#done) return;
    this.#pendingBind?.resolve({
      kind: 'error',
      reason: 'ldap-unreachable',
      detail: 'the directory closed the connection',
    });
    this.#closeWithNotice(
      'directory-closed',
      LDAP_RESULT.unavailable,
      'the directory closed the connection',
    );
  }

  /** RFC 4511 §4.4.1: tell the client why, then close. */
  #closeWithNotice(reason: string, resultCode: number, message: string): void {
    if (this.#done) return;
    if (this.#client.writable) this.#client.write(encodeNoticeOfDisconnection(resultCode, message));
    this.#end(reason);
  }

  #end(reason: string): void {
    if (this.#done) return;
    this.#count(reason);
    this.#finish();
    this.#client.end();
    // A client that never reads its socket does not hold it open.
    setTimeout(() => this.#client.destroy(), 5_000).unref();
  }

  destroy(reason: string | undefined): void {
    if (this.#done) return;
    if (reason !== undefined) this.#count(reason);
    this.#finish();
    this.#client.destroy();
  }

  #count(reason: string): void {
    this.#deps.metrics.ldapConnectionsClosed.inc({ section: this.#section.section, reason });
  }

  #finish(): void {
    this.#done = true;
    clearTimeout(this.#partialTimer);
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#pendingBind?.resolve({
      kind: 'error',
      reason: 'ldap-unreachable',
      detail: 'connection closed',
    });
    this.#upstream?.socket.destroy();
    void this.#upstreamOpening?.then(
      (u) => u.socket.destroy(),
      () => undefined,
    );
    this.#resolveClosed();
  }
}

/** The LDAPResult of `frame` when it is the BindResponse to `messageId`. */
function bindResponseFor(frame: Buffer, messageId: number) {
  try {
    const m = decodeLdapMessage(frame, { maxMessageBytes: UPSTREAM_MAX_MESSAGE_BYTES });
    return m.messageId === messageId && m.operation.type === 'bindResponse'
      ? m.operation.result
      : undefined;
  } catch {
    return undefined;
  }
}

function bindResultCode(frame: Buffer): number | undefined {
  try {
    const m = decodeLdapMessage(frame);
    return m.protocolOp === LDAP_OP.bindResponse && m.operation.type === 'bindResponse'
      ? m.operation.result.resultCode
      : undefined;
  } catch {
    return undefined;
  }
}
