// A stand-in Auth API on loopback that fails on demand: the drill and the outage benchmark put it
// between the proxy and the service to produce each outage class of docs/design/auth-api.md §3.9.
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../runtime/clock.ts';
import { ensureTlsMaterial } from '../runtime/tls-material.ts';

export const INJECTOR_MODES = [
  /** Answers at once: preauth `allow` (the service let the user in), ping/check `time`. */
  'healthy',
  /** Accepts TCP and never answers, not even the TLS handshake. */
  'blackhole',
  /** Answers like `degraded`, but after `slowDelayMs` (meant to exceed api_timeout). */
  'slow',
  /** HTTP 500 with a Duo FAIL envelope. */
  '5xx',
  /** HTTP 200 with JSON that is not a Duo envelope (no `stat`): malformed. */
  'garbage',
  /** TLS with a certificate from a CA the proxy does not trust. */
  'tls',
  /** Answers correctly after `degradedDelayMs`: preauth `auth` (one device), auth `deny`. */
  'degraded',
] as const;
export type InjectorMode = (typeof INJECTOR_MODES)[number];

export interface DrillTlsMaterial {
  /** The CA the proxy under drill trusts. */
  caPem: string;
  /** Issued by `caPem` for `localhost` and 127.0.0.1. */
  certPem: string;
  keyPem: string;
  /** From another CA: what the proxy sees in mode `tls`. */
  untrustedCertPem: string;
  untrustedKeyPem: string;
}

/** A throw-away CA and server certificate, plus an unrelated pair; nothing is left on disk. */
export async function createDrillTlsMaterial(nowMs: number): Promise<DrillTlsMaterial> {
  const make = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-drill-tls-'));
    try {
      return await ensureTlsMaterial({
        dataDir: dir,
        hostname: 'localhost',
        extraSans: ['127.0.0.1'],
        nowMs,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
  const [trusted, untrusted] = await Promise.all([make(), make()]);
  return {
    caPem: trusted.caCertPem,
    certPem: trusted.certPem,
    keyPem: trusted.keyPem,
    untrustedCertPem: untrusted.certPem,
    untrustedKeyPem: untrusted.keyPem,
  };
}

export interface FaultInjectorOptions {
  tls: DrillTlsMaterial;
  mode: InjectorMode;
  clock: Clock;
  /** `slow`: delay before each answer. */
  slowDelayMs?: number;
  /** `degraded`: delay before each answer. */
  degradedDelayMs?: number;
}

export interface FaultInjector {
  /** On 127.0.0.1. */
  readonly port: number;
  readonly mode: InjectorMode;
  /** Takes effect for the next connection and the next request, on any connection. */
  setMode(mode: InjectorMode): void;
  /** HTTP requests answered or held so far. */
  readonly requests: number;
  close(): Promise<void>;
}

/** Starts the injector on 127.0.0.1, port 0. */
export async function startFaultInjector(options: FaultInjectorOptions): Promise<FaultInjector> {
  let mode = options.mode;
  let requests = 0;
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    requests++;
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      if (body.length < 65_536) body += chunk;
    });
    // An async /auth (push, phone) gets a txid; its result then comes from auth_status.
    req.on('end', () => {
      const path = req.url ?? '/';
      const isAsyncAuth =
        path === '/auth/v2/auth' && new URLSearchParams(body).get('async') === '1';
      answer(mode, isAsyncAuth ? ASYNC_AUTH : path, res);
    });
  };
  // One TCP listener; each connection goes to the TLS server of the current mode, or nowhere.
  const trusted = https.createServer(
    { cert: options.tls.certPem, key: options.tls.keyPem },
    onRequest,
  );
  const untrusted = https.createServer(
    { cert: options.tls.untrustedCertPem, key: options.tls.untrustedKeyPem },
    onRequest,
  );
  const listener = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    if (mode === 'blackhole') return; // accept, read nothing, answer nothing
    (mode === 'tls' ? untrusted : trusted).emit('connection', socket);
  });

  const answer = (m: InjectorMode, path: string, res: ServerResponse) => {
    const json = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    const later = (delayMs: number, send: () => void) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        send();
      }, delayMs);
      timers.add(timer);
    };
    const nowSeconds = Math.floor(options.clock.nowMs() / 1000);
    switch (m) {
      case 'healthy':
        return json(200, { stat: 'OK', response: healthyAnswer(path, nowSeconds) });
      case '5xx':
        return json(500, { stat: 'FAIL', code: 50000, message: 'Internal server error' });
      case 'garbage':
        return json(200, { hello: 'world', answer: 42 });
      case 'slow':
        return later(options.slowDelayMs ?? 0, () =>
          json(200, { stat: 'OK', response: degradedAnswer(path, nowSeconds) }),
        );
      case 'tls':
      case 'degraded':
        return later(m === 'degraded' ? (options.degradedDelayMs ?? 0) : 0, () =>
          json(200, { stat: 'OK', response: degradedAnswer(path, nowSeconds) }),
        );
      case 'blackhole':
        return; // a connection made before the switch: hold it, as the outage would
    }
  };

  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(0, '127.0.0.1', () => resolve());
  });
  const address = listener.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    port,
    get mode() {
      return mode;
    },
    setMode(next) {
      // Open connections stay: a request on one is answered (or held, in `blackhole`) per the
      // new mode, as a network partition holds live connections rather than resetting them.
      mode = next;
    },
    get requests() {
      return requests;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
      trusted.close();
      untrusted.close();
    },
  };
}

/** Stands for an async /auth in `answer`: its answer is a txid. */
const ASYNC_AUTH = '/auth/v2/auth#async';

/** What a healthy service answers: the user may log in without a second factor. */
function healthyAnswer(path: string, nowSeconds: number): unknown {
  if (path === ASYNC_AUTH) return { txid: 'drill-healthy-txid' };
  if (path.startsWith('/auth/v2/preauth'))
    return { result: 'allow', status_msg: 'Allowed by the drill service' };
  if (path.startsWith('/auth/v2/auth_status') || path.startsWith('/auth/v2/auth'))
    return { result: 'allow', status: 'allow', status_msg: 'Success. Logging you in...' };
  return { time: nowSeconds };
}

/** The service answers, and authentication does not complete: 2FA required, then denied. */
function degradedAnswer(path: string, nowSeconds: number): unknown {
  if (path === ASYNC_AUTH) return { txid: 'drill-degraded-txid' };
  if (path.startsWith('/auth/v2/preauth')) {
    return {
      result: 'auth',
      status_msg: 'Account is active',
      devices: [
        {
          device: 'DPDRILL0000000000000',
          type: 'phone',
          number: 'XXX-XXX-0100',
          name: 'drill phone',
          display_name: 'drill phone',
          capabilities: ['auto', 'push', 'sms', 'phone', 'mobile_otp'],
        },
      ],
    };
  }
  if (path.startsWith('/auth/v2/auth_status') || path.startsWith('/auth/v2/auth'))
    return { result: 'deny', status: 'deny', status_msg: 'Login request denied.' };
  return { time: nowSeconds };
}

/** A port on 127.0.0.1 with nothing listening (bound, then released): connection refused. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
