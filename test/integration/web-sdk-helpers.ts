// Helpers for the Web SDK tests: a web-sdk application in the harness, Duo's own Node client
// (@duosecurity/duo_universal, unchanged) trusting the harness CA, Chromium, and a callback server
// standing in for the application's redirect URI.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import https from 'node:https';
import { Client } from '@duosecurity/duo_universal';
import type { Application } from '../../src/core/model.ts';
import { CryptoRandom, generateId, generateSecretKey } from '../../src/runtime/random.ts';
import type { Harness } from './service-harness.ts';

export const CHROMIUM = '/usr/bin/chromium';
// docs/STACK.md §7: the flags measured with Debian's Chromium here.
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const random = new CryptoRandom();

export async function createWebSdkApp(
  h: Harness,
  redirectUris: string[],
  extra: { rememberDeviceHours?: number; verifiedPush?: boolean; name?: string } = {},
): Promise<Application> {
  return h.store.createApplication({
    name: extra.name ?? `Portal ${random.uuid().slice(0, 8)}`,
    type: 'web-sdk',
    newUserPolicy: 'deny',
    restrictionLevel: 'restrictive',
    rateLimitPerSecond: 0,
    verifiedPush: extra.verifiedPush ?? false,
    redirectUris,
    rememberDeviceHours: extra.rememberDeviceHours ?? 0,
    ikey: generateId(random, 'DI'),
    skey: generateSecretKey(random),
  });
}

/**
 * Duo's client as an application would use it, given `localhost:<port>` as its API host. It pins
 * Duo's CA bundle in its own HTTPS agent; the only change is that agent's CA (the harness's).
 */
export function duoUniversal(
  h: Harness,
  credentials: { clientId: string; clientSecret: string },
  redirectUrl: string,
): Client {
  const client = new Client({
    clientId: credentials.clientId,
    clientSecret: credentials.clientSecret,
    apiHost: `localhost:${h.port}`,
    redirectUrl,
  });
  const axios = (client as unknown as { axios: { defaults: { httpsAgent: unknown } } }).axios;
  axios.defaults.httpsAgent = new https.Agent({ ca: h.caPem });
  return client;
}

/** The application's callback: records what the prompt sent the browser back with. */
export interface CallbackServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export async function startCallbackServer(): Promise<CallbackServer> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>callback</title><p>back at the application</p>');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/callback`,
    server,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
