// Starts the real service in-process on an ephemeral HTTPS port, with fixtures and Duo's own client.
import { hkdfSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import pino from 'pino';
import { TOTP, Secret } from 'otpauth';
import { hashBypassCode } from '../../src/core/bypass-code.ts';
import type { Application, NewUserPolicy, UserStatus, GroupStatus } from '../../src/core/model.ts';
import { FixedClock } from '../../src/runtime/clock.ts';
import { CryptoRandom, generateId, generateSecretKey } from '../../src/runtime/random.ts';
import { ensureTlsMaterial } from '../../src/runtime/tls-material.ts';
import {
  buildService,
  DEFAULT_SERVICE_OPTIONS,
  type Service,
} from '../../src/service/build-service.ts';
import { openStore } from '../../src/store/open-store.ts';
import { createSecretBox } from '../../src/store/secret-box.ts';
import type { Store } from '../../src/store/store.ts';

const require = createRequire(import.meta.url);
// Duo's official Node client, unchanged: it pins Duo's CA and port 443, so the harness swaps the
// CA constant for ours and routes its connections through an agent (the issue allows both).
const duoConstants = require('@duosecurity/duo_api/lib/constants.js') as {
  DUO_PINNED_CERT: string | string[];
};
const duo = require('@duosecurity/duo_api') as {
  Client: new (ikey: string, skey: string, host: string, sigVersion?: number) => DuoClient;
  SIGNATURE_VERSION_2: number;
  SIGNATURE_VERSION_5: number;
};

export interface DuoClient {
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

export const API_HOST = 'localhost';

export interface Harness {
  port: number;
  caPem: string;
  store: Store;
  clock: FixedClock;
  service: Service;
  pepper: Buffer;
  createApp(
    options?: Partial<{
      newUserPolicy: NewUserPolicy;
      rateLimitPerSecond: number;
      groups: string[];
    }>,
  ): Promise<Application>;
  createUser(
    username: string,
    options?: { status?: UserStatus; totp?: boolean; groups?: string[] },
  ): Promise<{ id: string; totp?: TOTP }>;
  createGroup(name: string, status?: GroupStatus): Promise<string>;
  addBypassCodes(username: string, codes: string[], uses?: number | null): Promise<void>;
  duo(
    app: Application,
    sigVersion?: 2 | 5,
  ): (method: string, path: string, params?: Record<string, unknown>) => Promise<DuoResponse>;
  close(): Promise<void>;
}

export async function startService(options: { lockoutThreshold?: number } = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-it-'));
  const clock = new FixedClock(Date.now());
  const key = randomBytes(32);
  const pepper = Buffer.from(hkdfSync('sha256', key, '', 'pepper', 32));
  const store = await openStore({
    dataDir: dir,
    databaseUrl: process.env.AIRLOCK_IT_DATABASE_URL,
    secretBox: createSecretBox(key),
    clock,
  });
  const material = await ensureTlsMaterial({
    dataDir: dir,
    hostname: 'localhost',
    extraSans: [],
    nowMs: Date.now(),
  });
  const random = new CryptoRandom();
  const service = buildService(
    { store, clock, random, logger: pino({ level: 'silent' }), bypassPepper: pepper },
    {
      ...DEFAULT_SERVICE_OPTIONS,
      lockoutThreshold: options.lockoutThreshold ?? DEFAULT_SERVICE_OPTIONS.lockoutThreshold,
      apiHost: API_HOST,
      logoPng: undefined,
      https: { cert: material.certPem, key: material.keyPem },
    },
  );
  await service.server.listen({ host: '127.0.0.1', port: 0 });
  const address = service.server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  duoConstants.DUO_PINNED_CERT = material.caCertPem;
  const agent = new RoutingAgent(port);
  (https as unknown as { globalAgent: https.Agent }).globalAgent = agent;

  const harness: Harness = {
    port,
    caPem: material.caCertPem,
    store,
    clock,
    service,
    pepper,
    async createApp(o = {}) {
      const app = await store.createApplication({
        name: `app-${random.uuid()}`,
        type: 'auth-api',
        newUserPolicy: o.newUserPolicy ?? 'enroll',
        restrictionLevel: 'restrictive',
        rateLimitPerSecond: o.rateLimitPerSecond ?? 0,
        ikey: generateId(random, 'DI'),
        skey: generateSecretKey(random),
      });
      if (o.groups) {
        const ids = [];
        for (const name of o.groups) ids.push((await store.getGroup(name))!.id);
        await store.setApplicationGroups(app.id, ids);
      }
      return (await store.getApplication(app.id))!;
    },
    async createUser(username, o = {}) {
      const user = await store.createUser({
        id: generateId(random, 'DU'),
        username,
        status: o.status ?? 'active',
      });
      for (const g of o.groups ?? [])
        await store.addGroupMember((await store.getGroup(g))!.id, user.id);
      if (!o.totp) return { id: user.id };
      const secret = new Secret({ size: 20 });
      await store.addOtpToken({
        id: generateId(random, 'DT'),
        userId: user.id,
        type: 'totp',
        secret: secret.base32,
        algorithm: 'SHA1',
        digits: 6,
        periodSeconds: 30,
        counter: 0,
      });
      return { id: user.id, totp: new TOTP({ secret, digits: 6, period: 30, algorithm: 'SHA1' }) };
    },
    async createGroup(name, status = 'active') {
      return (await store.createGroup({ id: generateId(random, 'DG'), name, status })).id;
    },
    async addBypassCodes(username, codes, uses = 1) {
      const user = (await store.findUser(username))!;
      await store.replaceBypassCodes(
        user.id,
        codes.map((c) => ({
          id: generateId(random, 'BC'),
          codeHash: hashBypassCode(pepper, c),
          remainingUses: uses,
          expiresAtMs: null,
        })),
      );
    },
    duo(app, sigVersion = 2) {
      const client = new duo.Client(
        app.ikey,
        app.skey,
        API_HOST,
        sigVersion === 5 ? duo.SIGNATURE_VERSION_5 : duo.SIGNATURE_VERSION_2,
      );
      return (method, path, params = {}) =>
        new Promise((resolve) => client.jsonApiCall(method, path, params, resolve));
    },
    async close() {
      agent.destroy();
      await service.server.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** Sends every connection to the service's port on 127.0.0.1, verifying TLS for `localhost`. */
class RoutingAgent extends https.Agent {
  readonly #port: number;

  constructor(port: number) {
    super({ keepAlive: true });
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

/** The current TOTP code at the service's clock. */
export function totpAt(totp: TOTP, clock: FixedClock): string {
  return totp.generate({ timestamp: clock.nowMs() });
}
