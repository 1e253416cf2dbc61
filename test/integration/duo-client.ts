// Duo's official Node client (@duosecurity/duo_api), unchanged, pointed at a local Airlock service.
// It pins Duo's CA and port 443, so we swap its CA constant for ours and route its connections
// through an agent (the issue allows both; the client itself is not forked).
import https from 'node:https';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';

const require = createRequire(import.meta.url);
const duoConstants = require('@duosecurity/duo_api/lib/constants.js') as {
  DUO_PINNED_CERT: string | string[];
};
const duo = require('@duosecurity/duo_api') as {
  Client: new (ikey: string, skey: string, host: string, sigVersion?: number) => RawDuoClient;
  SIGNATURE_VERSION_2: number;
  SIGNATURE_VERSION_5: number;
};

interface RawDuoClient {
  jsonApiCall(
    method: string,
    path: string,
    params: Record<string, unknown>,
    cb: (res: DuoResponse) => void,
  ): void;
}

export interface DuoResponse {
  stat: 'OK' | 'FAIL' | 'ERROR';
  response?: unknown;
  code?: number;
  message?: string;
  message_detail?: string;
}

export type DuoCall = (
  method: string,
  path: string,
  params?: Record<string, unknown>,
) => Promise<DuoResponse>;

/** The host name the client signs and verifies TLS for. */
export const API_HOST = 'localhost';

/** Points every Duo client of this process at 127.0.0.1:port, trusting `caPem`. */
export function routeDuoClients(port: number, caPem: string): { close(): void } {
  duoConstants.DUO_PINNED_CERT = caPem;
  const agent = new RoutingAgent(port);
  (https as unknown as { globalAgent: https.Agent }).globalAgent = agent;
  return { close: () => agent.destroy() };
}

/** `host` is what the client signs and sends as Host; the connection goes to the service anyway. */
export function duoClient(
  credentials: { ikey: string; skey: string },
  sigVersion: 2 | 5 = 2,
  host: string = API_HOST,
): DuoCall {
  const client = new duo.Client(
    credentials.ikey,
    credentials.skey,
    host,
    sigVersion === 5 ? duo.SIGNATURE_VERSION_5 : duo.SIGNATURE_VERSION_2,
  );
  return (method, path, params = {}) =>
    new Promise((resolve) => client.jsonApiCall(method, path, params, resolve));
}

/** Sends every connection to the service's port on 127.0.0.1, verifying TLS for `localhost`. */
class RoutingAgent extends https.Agent {
  readonly #port: number;

  constructor(port: number) {
    super({ keepAlive: true, maxSockets: 64 });
    this.#port = port;
  }

  override createConnection(
    options: tls.ConnectionOptions,
    callback?: (err: Error | null, socket: Duplex) => void,
  ): Duplex {
    const socket = tls.connect({
      ...options,
      host: '127.0.0.1',
      port: this.#port,
      servername: API_HOST,
    });
    if (callback) socket.once('secureConnect', () => callback(null, socket));
    return socket;
  }
}
