// Starts the real service in-process on an ephemeral HTTPS port, with fixtures and Duo's own client.
import { hkdfSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_HOST, duoClient, routeDuoClients, type DuoCall } from './duo-client.ts';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import pino from 'pino';
import { TOTP, Secret } from 'otpauth';
import { hashBypassCode } from '../../src/core/bypass-code.ts';
import type { EmergencyLimits } from '../../src/core/emergency-control.ts';
import type { Application, NewUserPolicy, UserStatus, GroupStatus } from '../../src/core/model.ts';
import type { UsernameNormalization } from '../../src/core/username.ts';
import { FixedClock } from '../../src/runtime/clock.ts';
import { CryptoRandom, generateId, generateSecretKey } from '../../src/runtime/random.ts';
import type { FactorsConfig } from '../../src/factors/factors-config.ts';
import { ensureTlsMaterial } from '../../src/runtime/tls-material.ts';
import type { SyslogSender } from '../../src/runtime/syslog-sender.ts';
import type { MailSender } from '../../src/runtime/mail-sender.ts';
import {
  buildService,
  DEFAULT_SERVICE_OPTIONS,
  type Service,
  type ServiceOptions,
} from '../../src/service/build-service.ts';
import type { AdminExtensions } from '../../src/service/admin/admin-extensions.ts';
import { openStore, SQLITE_FILE_NAME } from '../../src/store/open-store.ts';
import { createSecretBox } from '../../src/store/secret-box.ts';
import type { Store } from '../../src/store/store.ts';

export { API_HOST };

export interface Harness {
  port: number;
  caPem: string;
  /** The service's certificate and key (for a stand-in server the same clients trust). */
  tlsCertPem: string;
  tlsKeyPem: string;
  store: Store;
  clock: FixedClock;
  service: Service;
  pepper: Buffer;
  createApp(
    options?: Partial<{
      newUserPolicy: NewUserPolicy;
      rateLimitPerSecond: number;
      groups: string[];
      verifiedPush: boolean;
      usernameNormalization: UsernameNormalization;
    }>,
  ): Promise<Application>;
  createUser(
    username: string,
    options?: { status?: UserStatus; totp?: boolean; groups?: string[] },
  ): Promise<{ id: string; totp?: TOTP }>;
  createGroup(name: string, status?: GroupStatus): Promise<string>;
  addBypassCodes(username: string, codes: string[], uses?: number | null): Promise<void>;
  /** Duo's Node client; `host` is the host it signs and sends (default `API_HOST`). */
  duo(app: Application, sigVersion?: 2 | 5, host?: string): DuoCall;
  /**
   * Stops the service and starts a new instance on the same data (same database, key and clock),
   * as a restart would; `store`, `service` and `port` then refer to the new instance.
   */
  restart(): Promise<void>;
  /** Plain SQL on the service's database, beside the store (e.g. to tamper with a row). */
  rawSql(text: string): Promise<Record<string, unknown>[]>;
  /** The service's log lines at level warn and above, parsed. */
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

export async function startService(
  options: {
    lockoutThreshold?: number;
    lockoutDurationSeconds?: number;
    /** Wider than 300 s for tests that move the service clock far from Duo's client's wall clock. */
    dateWindowSeconds?: number;
    authStatusWaitSeconds?: number;
    pushRatePerMinute?: number;
    pushBurst?: number;
    factors?: FactorsConfig;
    adminExtensions?: AdminExtensions;
    /** Strict host mode (`serve --strict-host`): the host names signed requests must be for. */
    allowedHosts?: string[];
    /** `serve --trust-proxy`: peers whose X-Forwarded-For is honoured. */
    trustProxy?: string[];
    /** What `airlock serve` reads from AIRLOCK_EMERGENCY_MAX_DURATION (default: 24 hours). */
    emergencyLimits?: EmergencyLimits;
    /** Called with each built service before it listens (to add hooks), restarts included. */
    beforeListen?: (service: Service) => void;
    /** `serve --syslog-target`: audit events to this SIEM output. */
    siem?: SyslogSender;
    /** `serve --proxy-config`: proxy sections the console's DR plan shows. */
    proxySections?: ServiceOptions['proxySections'];
    /** `serve --smtp`: e-mail for the status page's subscribers. */
    statusMail?: MailSender;
    statusWebhookSecret?: string;
    statusSilenceSeconds?: number;
  } = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-it-'));
  const clock = new FixedClock(Date.now());
  const key = randomBytes(32);
  const pepper = Buffer.from(hkdfSync('sha256', key, '', 'pepper', 32));
  const database = await itDatabase();
  const store = await openStore({
    dataDir: dir,
    databaseUrl: database?.url,
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
  const logs: Record<string, unknown>[] = [];
  let serviceOptions: ServiceOptions | undefined;
  const build = (serviceStore: Store) =>
    buildService(
      {
        store: serviceStore,
        clock,
        random,
        logger: pino(
          { level: 'warn' },
          { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
        ),
        bypassPepper: pepper,
        adminExtensions: options.adminExtensions,
        ...(options.siem ? { siem: options.siem } : {}),
        ...(options.statusMail ? { statusMail: options.statusMail } : {}),
      },
      (serviceOptions = {
        ...DEFAULT_SERVICE_OPTIONS,
        lockoutThreshold: options.lockoutThreshold ?? DEFAULT_SERVICE_OPTIONS.lockoutThreshold,
        lockoutDurationSeconds:
          options.lockoutDurationSeconds ?? DEFAULT_SERVICE_OPTIONS.lockoutDurationSeconds,
        dateWindowSeconds: options.dateWindowSeconds ?? DEFAULT_SERVICE_OPTIONS.dateWindowSeconds,
        authStatusWaitSeconds:
          options.authStatusWaitSeconds ?? DEFAULT_SERVICE_OPTIONS.authStatusWaitSeconds,
        pushRatePerMinute: options.pushRatePerMinute ?? 600,
        pushBurst: options.pushBurst ?? 100,
        // Tests move the fixed clock and sweep by hand.
        sweepIntervalMs: 0,
        factors: options.factors,
        apiHost: API_HOST,
        allowedHosts: options.allowedHosts,
        trustProxy: options.trustProxy,
        emergencyLimits: options.emergencyLimits,
        proxySections: options.proxySections,
        statusWebhookSecret: options.statusWebhookSecret,
        statusPage: { name: 'Airlock test', silenceSeconds: options.statusSilenceSeconds ?? 90 },
        logoPng: undefined,
        https: { cert: material.certPem, key: material.keyPem },
      }),
    );
  const listen = async (s: Service): Promise<number> => {
    options.beforeListen?.(s);
    await s.server.listen({ host: '127.0.0.1', port: 0 });
    const address = s.server.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    // Providers call back to the port known only now (the service reads it per call).
    if (serviceOptions) serviceOptions.callbackHost = `localhost:${port}`;
    return port;
  };
  const service = build(store);
  const port = await listen(service);

  let routing = routeDuoClients(port, material.caCertPem);

  const harness: Harness = {
    port,
    caPem: material.caCertPem,
    tlsCertPem: material.certPem,
    tlsKeyPem: material.keyPem,
    store,
    clock,
    service,
    pepper,
    async createApp(o = {}) {
      const app = await harness.store.createApplication({
        name: `app-${random.uuid()}`,
        type: 'auth-api',
        newUserPolicy: o.newUserPolicy ?? 'enroll',
        restrictionLevel: 'restrictive',
        rateLimitPerSecond: o.rateLimitPerSecond ?? 0,
        verifiedPush: o.verifiedPush ?? false,
        ...(o.usernameNormalization ? { usernameNormalization: o.usernameNormalization } : {}),
        ikey: generateId(random, 'DI'),
        skey: generateSecretKey(random),
      });
      if (o.groups) {
        const ids = [];
        for (const name of o.groups) ids.push((await harness.store.getGroup(name))!.id);
        await harness.store.setApplicationGroups(app.id, ids);
      }
      return (await harness.store.getApplication(app.id))!;
    },
    async createUser(username, o = {}) {
      const user = await harness.store.createUser({
        id: generateId(random, 'DU'),
        username,
        status: o.status ?? 'active',
      });
      for (const g of o.groups ?? [])
        await harness.store.addGroupMember((await harness.store.getGroup(g))!.id, user.id);
      if (!o.totp) return { id: user.id };
      const secret = new Secret({ size: 20 });
      await harness.store.addOtpToken({
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
      return (await harness.store.createGroup({ id: generateId(random, 'DG'), name, status })).id;
    },
    async addBypassCodes(username, codes, uses = 1) {
      const user = (await harness.store.findUser(username))!;
      await harness.store.replaceBypassCodes(
        user.id,
        codes.map((c) => ({
          id: generateId(random, 'BC'),
          codeHash: hashBypassCode(pepper, c),
          remainingUses: uses,
          expiresAtMs: null,
        })),
      );
    },
    duo(app, sigVersion = 2, host = API_HOST) {
      return duoClient(app, sigVersion, host);
    },
    async restart() {
      routing.close();
      await harness.service.server.close();
      await harness.store.close();
      harness.store = await openStore({
        dataDir: dir,
        databaseUrl: database?.url,
        secretBox: createSecretBox(key),
        clock,
      });
      harness.service = build(harness.store);
      harness.port = await listen(harness.service);
      routing = routeDuoClients(harness.port, material.caCertPem);
    },
    async rawSql(text) {
      if (database) {
        const client = new pg.Client({ connectionString: database.url });
        await client.connect();
        try {
          return (await client.query(text)).rows as Record<string, unknown>[];
        } finally {
          await client.end();
        }
      }
      const db = new BetterSqlite3(join(dir, SQLITE_FILE_NAME));
      try {
        const statement = db.prepare(text);
        if (statement.reader) return statement.all() as Record<string, unknown>[];
        statement.run();
        return [];
      } finally {
        db.close();
      }
    },
    logs,
    async close() {
      routing.close();
      await harness.service.server.close();
      await harness.store.close();
      await database?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** The current TOTP code at the service's clock. */
export function totpAt(totp: TOTP, clock: FixedClock): string {
  return totp.generate({ timestamp: clock.nowMs() });
}

/** Which store the integration tests run on: `AIRLOCK_IT_BACKEND=postgres` or SQLite (default). */
export const IT_BACKEND = process.env.AIRLOCK_IT_BACKEND === 'postgres' ? 'postgres' : 'sqlite';

/** A fresh PostgreSQL database for this test process, dropped at the end; undefined for SQLite. */
export async function itDatabase(): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  if (IT_BACKEND !== 'postgres') return undefined;
  const adminUrl = process.env.AIRLOCK_TEST_DATABASE_URL;
  if (!adminUrl) {
    throw new Error(
      'AIRLOCK_TEST_DATABASE_URL not set: start PostgreSQL with scripts/start-pg.sh (npm test does)',
    );
  }
  const name = `airlock_it_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
