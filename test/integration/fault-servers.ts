// Tiny local upstreams that fail the way docs/design/auth-api.md §3.9 classifies: for client and
// proxy tests.
import { mkdtempSync, rmSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTlsMaterial } from '../../src/runtime/tls-material.ts';

export const FAULT_MODES = [
  /** Accepts TCP and never answers, not even the TLS handshake: a deadline must end the call. */
  'blackhole',
  /** HTTP 500 with a Duo FAIL envelope. */
  'http500-json',
  /** HTTP 500 with a plain-text body. */
  'http500-text',
  /** HTTP 200 with JSON that is not a Duo envelope (no `stat`): malformed. */
  'garbage200',
  /** HTTP 200 whose body is not JSON: invalid (fail closed, docs/design/auth-api.md §3.9). */
  'text200',
  /** HTTP 200 `stat: OK` whose response lacks `result` (and `time`): malformed. */
  'malformed200',
  /** HTTP 404 with an HTML page: invalid. */
  'html404',
  /** Reads the request, then closes the connection without a response ("socket hang up"). */
  'hangup',
  /** Answers correctly, after `delayMs`. */
  'slow',
] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

export interface FaultServerOptions {
  certPem: string;
  keyPem: string;
  /** `slow` only: how long to wait before answering. Default 1000. */
  delayMs?: number;
  /**
   * Loopback address to listen on. Default 127.0.0.1, which the certificate names; 127.0.0.2
   * (Linux routes all of 127/8 to lo) gives a certificate that does not name the address.
   */
  host?: string;
}

export interface FaultServer {
  port: number;
  /** Connections accepted so far (counts blackholed ones too). */
  readonly connections: number;
  /** HTTP requests received so far (0 for `blackhole`). */
  readonly requests: number;
  /** Their paths, in order (without the query). */
  readonly paths: readonly string[];
  close(): Promise<void>;
}

export interface TestTlsMaterial {
  caPem: string;
  certPem: string;
  keyPem: string;
  /** Another CA that did not issue `certPem`: a client trusting only it must fail TLS. */
  otherCaPem: string;
}

let material: Promise<TestTlsMaterial> | undefined;

/** A local CA and a `localhost` certificate (plus an unrelated CA), made once per process. */
export function testTlsMaterial(): Promise<TestTlsMaterial> {
  material ??= (async () => {
    const make = async () => {
      const dir = mkdtempSync(join(tmpdir(), 'airlock-fault-tls-'));
      try {
        return await ensureTlsMaterial({
          dataDir: dir,
          hostname: 'localhost',
          extraSans: ['127.0.0.1'],
          nowMs: Date.now(),
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };
    const [main, other] = await Promise.all([make(), make()]);
    return {
      caPem: main.caCertPem,
      certPem: main.certPem,
      keyPem: main.keyPem,
      otherCaPem: other.caCertPem,
    };
  })();
  return material;
}

/** A correct answer for the Auth API path, for `slow`. */
function healthyAnswer(path: string): unknown {
  const time = Math.floor(Date.now() / 1000);
  if (path.startsWith('/auth/v2/preauth')) {
    return { result: 'auth', status_msg: 'Account is active', devices: [] };
  }
  if (path.startsWith('/auth/v2/auth_status') || path.startsWith('/auth/v2/auth')) {
    return { result: 'deny', status: 'deny', status_msg: 'Login request denied.' };
  }
  return { time };
}

/** Starts a fault server on `options.host` (127.0.0.1), port 0. */
export async function startFaultServer(
  mode: FaultMode,
  options: FaultServerOptions,
): Promise<FaultServer> {
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let connections = 0;
  let requests = 0;
  const paths: string[] = [];

  const server: net.Server =
    mode === 'blackhole'
      ? net.createServer(() => {
          // Accept, read nothing, answer nothing.
        })
      : https.createServer({ cert: options.certPem, key: options.keyPem }, (req, res) => {
          requests++;
          paths.push((req.url ?? '/').split('?')[0]!);
          req.resume();
          req.on('end', () => answer(mode, req.url ?? '/', res));
        });

  server.on('connection', (socket: net.Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  function answer(m: FaultMode, path: string, res: ServerResponse): void {
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    };
    const json = (status: number, body: unknown) =>
      send(status, 'application/json', JSON.stringify(body));
    switch (m) {
      case 'http500-json':
        return json(500, { stat: 'FAIL', code: 50000, message: 'Internal server error' });
      case 'http500-text':
        return send(500, 'text/plain', 'Internal Server Error');
      case 'garbage200':
        return json(200, { hello: 'world', answer: 42 });
      case 'text200':
        return send(200, 'text/plain', 'this is not JSON at all');
      case 'malformed200':
        return json(200, { stat: 'OK', response: { status_msg: 'no result here' } });
      case 'html404':
        return send(404, 'text/html', '<html><body><h1>404 Not Found</h1></body></html>');
      case 'hangup':
        res.socket?.destroy();
        return;
      case 'slow': {
        const timer = setTimeout(() => {
          timers.delete(timer);
          json(200, { stat: 'OK', response: healthyAnswer(path) });
        }, options.delayMs ?? 1000);
        timers.add(timer);
        return;
      }
      case 'blackhole':
        return;
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    port,
    get connections() {
      return connections;
    },
    get requests() {
      return requests;
    },
    paths,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port on 127.0.0.1 with nothing listening (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
