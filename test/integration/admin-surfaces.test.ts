// Every audited admin action through all three surfaces — the built `airlock` command, the Admin
// API (HMAC-signed) and the console (form posts with a session and its CSRF token) — must leave the
// same audit records and the same rows: they all call src/operations. Replaces cli-parity.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent } from '../../src/core/model.ts';
import { openContext } from '../../src/cli/open-context.ts';
import { csrfTokenFor, CSRF_FIELD, SESSION_COOKIE } from '../../src/service/admin/admin-auth.ts';
import type { Store } from '../../src/store/store.ts';
import {
  consoleLogin,
  createTestAdmin,
  signedCall,
  type KeyCredentials,
  type Params,
} from './admin-client.ts';
import { airlock, airlockFails, airlockJson } from './airlock-process.ts';
import { IT_BACKEND, itDatabase, startService, totpAt, type Harness } from './service-harness.ts';

type Surface = 'cli' | 'api' | 'console';
type Method = 'GET' | 'POST' | 'DELETE';

/** What a step needs from the world it runs in: ids only the store knows (tokens). */
interface StepEnv {
  tokenId(username: string): Promise<string>;
  activeControlId(): Promise<string>;
}

type Awaitable<T> = T | Promise<T>;

interface Step {
  action: string;
  cli: (env: StepEnv) => Awaitable<string[]>;
  api: (env: StepEnv) => Awaitable<[Method, string, Params?]>;
  /** Undefined: the console has no page for it (the step then goes through the Admin API). */
  console?: (env: StepEnv) => Awaitable<[string, Params?]>;
}

const DEVICE_ID = 'DPPARITYPHONE0000001';
const POLICY = { allowedFactors: ['passcode'] };
const EMERGENCY = {
  kind: 'app-bypass-groups',
  app_id: 'vpn',
  group_ids: ['staff'],
  reason: 'outage',
  duration_minutes: 30,
};

/** The audited admin actions, in an order that works on every surface. */
const STEPS: readonly Step[] = [
  {
    action: 'user.create',
    cli: () => ['user', 'create', 'zoe', '--real-name', 'Zoe Z', '--email', 'z@example.org'],
    api: () => [
      'POST',
      '/admin/v1/users',
      { username: 'zoe', realname: 'Zoe Z', email: 'z@example.org' },
    ],
    console: () => ['/admin/users', { username: 'zoe', realname: 'Zoe Z', email: 'z@example.org' }],
  },
  {
    action: 'user.update',
    cli: () => ['user', 'set', 'zoe', '--email', 'zoe@example.org'],
    api: () => ['POST', '/admin/v1/users/zoe', { email: 'zoe@example.org' }],
    console: () => ['/admin/users/zoe', { email: 'zoe@example.org' }],
  },
  {
    action: 'user.set-aliases',
    cli: () => ['user', 'set', 'zoe', '--aliases', 'zz,zoe.z'],
    api: () => ['POST', '/admin/v1/users/zoe/aliases', { aliases: ['zz', 'zoe.z'] }],
    console: () => ['/admin/users/zoe/aliases', { aliases_text: 'zz, zoe.z' }],
  },
  {
    action: 'user.set-status',
    cli: () => ['user', 'set-status', 'zoe', 'disabled'],
    api: () => ['POST', '/admin/v1/users/zoe', { status: 'disabled' }],
    console: () => ['/admin/users/zoe', { status: 'disabled' }],
  },
  {
    action: 'group.create',
    cli: () => ['group', 'create', 'staff', '--description', 'on staff'],
    api: () => ['POST', '/admin/v1/groups', { name: 'staff', desc: 'on staff' }],
    console: () => ['/admin/groups', { name: 'staff', desc: 'on staff' }],
  },
  {
    action: 'group.add-member',
    cli: () => ['group', 'add-member', 'staff', 'zoe'],
    api: () => ['POST', '/admin/v1/groups/staff/members', { user_id: 'zoe' }],
    console: () => ['/admin/groups/staff/members', { user_id: 'zoe' }],
  },
  {
    action: 'group.update',
    cli: () => ['group', 'set', 'staff', '--description', 'night shift'],
    api: () => ['POST', '/admin/v1/groups/staff', { desc: 'night shift' }],
  },
  {
    action: 'application.create',
    cli: () => ['app', 'create', 'vpn'],
    api: () => ['POST', '/admin/v1/applications', { name: 'vpn' }],
    console: () => ['/admin/applications', { name: 'vpn', type: 'auth-api' }],
  },
  {
    action: 'group.set-status',
    cli: () => ['group', 'set-status', 'staff', 'bypass'],
    api: () => ['POST', '/admin/v1/groups/staff', { status: 'bypass' }],
    console: () => ['/admin/groups/staff/status', { status: 'bypass', confirm: 'true' }],
  },
  {
    action: 'application.update',
    cli: () => [
      'app',
      'set',
      'vpn',
      '--rate-limit',
      '10',
      '--new-user-policy',
      'deny',
      '--allow-v1-signature',
    ],
    api: () => [
      'POST',
      '/admin/v1/applications/vpn',
      { rate_limit: 10, new_user_policy: 'deny', allow_v1_signature: true },
    ],
    console: () => [
      '/admin/applications/vpn',
      { rate_limit: '10', new_user_policy: 'deny', allow_v1_signature: 'true' },
    ],
  },
  {
    action: 'application.rotate-secret',
    cli: () => ['app', 'rotate-secret', 'vpn'],
    api: () => ['POST', '/admin/v1/applications/vpn/rotate_secret'],
    console: () => ['/admin/applications/vpn/rotate-secret'],
  },
  {
    action: 'emergency.start',
    cli: () => [
      'emergency',
      'bypass-groups',
      '--app',
      'vpn',
      '--groups',
      'staff',
      '--reason',
      'outage',
      '--for',
      '30m',
      '--yes',
    ],
    api: () => ['POST', '/admin/v1/emergency_controls', { ...EMERGENCY, confirm: true }],
    console: () => ['/admin/emergency/start', { ...EMERGENCY, confirm: 'true' }],
  },
  {
    action: 'emergency.revert',
    cli: async (env) => ['emergency', 'revert', await env.activeControlId(), '--reason', 'over'],
    api: async (env) => [
      'POST',
      `/admin/v1/emergency_controls/${await env.activeControlId()}/revert`,
      { reason: 'over' },
    ],
    console: async (env) => [
      `/admin/emergency/${await env.activeControlId()}/revert`,
      { reason: 'over' },
    ],
  },
  {
    action: 'group.remove-member',
    cli: () => ['group', 'remove-member', 'staff', 'zoe'],
    api: () => ['DELETE', '/admin/v1/groups/staff/members/zoe'],
    console: () => ['/admin/groups/staff/members/zoe/remove'],
  },
  {
    action: 'token.add',
    cli: () => ['token', 'add-totp', 'zoe', '--name', 'phone'],
    api: () => ['POST', '/admin/v1/users/zoe/tokens/totp', { name: 'phone' }],
    console: () => ['/admin/users/zoe/tokens/totp', { name: 'phone' }],
  },
  {
    action: 'token.delete',
    cli: async (env) => ['token', 'delete', 'zoe', await env.tokenId('zoe')],
    api: async (env) => ['DELETE', `/admin/v1/users/zoe/tokens/${await env.tokenId('zoe')}`],
    console: async (env) => [`/admin/users/zoe/tokens/${await env.tokenId('zoe')}/remove`],
  },
  {
    action: 'bypass-codes.replace',
    cli: () => ['bypass-codes', 'zoe', '--count', '3'],
    api: () => ['POST', '/admin/v1/users/zoe/bypass_codes', { count: 3 }],
    console: () => ['/admin/users/zoe/bypass-codes', { count: '3' }],
  },
  {
    action: 'device.enroll',
    cli: () => ['device', 'enroll', 'zoe'],
    api: () => ['POST', '/admin/v1/users/zoe/devices/activation'],
    console: () => ['/admin/users/zoe/devices/activation'],
  },
  {
    action: 'device.remove',
    cli: () => ['device', 'remove', DEVICE_ID],
    api: () => ['DELETE', `/admin/v1/users/zoe/devices/${DEVICE_ID}`],
    console: () => [`/admin/users/zoe/devices/${DEVICE_ID}/remove`],
  },
  {
    action: 'policy.set',
    cli: () => ['policy', 'set', '--factors', 'passcode', '--yes'],
    api: () => [
      'POST',
      '/admin/v1/policies/global',
      { policy: JSON.stringify(POLICY), confirm: true },
    ],
    console: () => [
      '/admin/policies/global/apply',
      { policy: JSON.stringify(POLICY), confirm: 'true' },
    ],
  },
  {
    action: 'policy.clear',
    cli: () => ['policy', 'clear'],
    api: () => ['DELETE', '/admin/v1/policies/global'],
    console: () => ['/admin/policies/global/clear'],
  },
  {
    action: 'application.delete',
    cli: () => ['app', 'delete', 'vpn'],
    api: () => ['DELETE', '/admin/v1/applications/vpn'],
  },
  {
    action: 'user.delete',
    cli: () => ['user', 'delete', 'zoe'],
    api: () => ['DELETE', '/admin/v1/users/zoe'],
    console: () => ['/admin/users/zoe/delete'],
  },
  {
    action: 'group.delete',
    cli: () => ['group', 'delete', 'staff'],
    api: () => ['DELETE', '/admin/v1/groups/staff'],
    console: () => ['/admin/groups/staff/delete'],
  },
];

const AUDITED = new Set(STEPS.map((s) => s.action));

/** One surface with its own store; runs steps and reads the store afterwards. */
interface World {
  surface: Surface;
  run(step: Step): Promise<void>;
  /** Runs `fn` on the world's store (opened for the CLI between commands). */
  withStore<T>(fn: (store: Store) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The built command on a data directory (and a fresh PostgreSQL database on that backend). */
async function cliWorld(): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-surfaces-'));
  const database = await itDatabase();
  const data = ['--data-dir', dir, ...(database ? ['--database-url', database.url] : [])];
  const withStore = async <T>(fn: (store: Store) => Promise<T>): Promise<T> => {
    const ctx = await openContext({ dataDir: dir, databaseUrl: database?.url });
    try {
      return await fn(ctx.store);
    } finally {
      await ctx.close();
    }
  };
  const env = stepEnv(withStore);
  return {
    surface: 'cli',
    withStore,
    async run(step) {
      await airlock([...(await step.cli(env)), ...data]);
    },
    async close() {
      await database?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function serviceWorld(surface: 'api' | 'console'): Promise<World> {
  const h = await startService();
  const key: KeyCredentials = { ikey: 'DAPARITYKEY000000001', skey: 'p'.repeat(40) };
  await h.store.createAdminApiKey({ ...key, name: 'parity' });
  const session = surface === 'console' ? await loginToConsole(h) : undefined;
  const withStore = <T>(fn: (store: Store) => Promise<T>) => fn(h.store);
  const env = stepEnv(withStore);
  const viaApi = async (step: Step) => {
    const [method, path, params] = await step.api(env);
    const res = await signedCall(h.service, h.clock, key, method, path, params ?? {});
    assert.equal(res.status, 200, `${step.action}: ${JSON.stringify(res.body)}`);
  };
  return {
    surface,
    withStore,
    async run(step) {
      if (session === undefined || step.console === undefined) return viaApi(step);
      const [path, fields] = await step.console(env);
      const res = await consolePost(h, session, path, fields ?? {});
      assert.ok([200, 303].includes(res.status), `${step.action}: ${res.status} ${res.body}`);
      assert.doesNotMatch(res.body, /class="error"/, step.action);
    },
    close: () => h.close(),
  };
}

function stepEnv(withStore: World['withStore']): StepEnv {
  return {
    tokenId: (username) =>
      withStore(async (store) => {
        const user = await store.findUser(username);
        const [token] = user ? await store.listOtpTokens(user.id) : [];
        assert.ok(token, `${username} has a token`);
        return token.id;
      }),
    activeControlId: () =>
      withStore(async (store) => {
        const [control] = await store.listEmergencyControls({ state: 'active' });
        assert.ok(control, 'an emergency control is active');
        return control.id;
      }),
  };
}

async function loginToConsole(h: Harness): Promise<string> {
  const admin = await createTestAdmin(h.store, 'parity', 'a long parity password');
  const login = await consoleLogin(h.service, {
    username: admin.username,
    password: admin.password,
    code: totpAt(admin.totp, h.clock),
  });
  assert.ok(login.token, `console login: ${login.status} ${login.body}`);
  return login.token;
}

/** A browser's form post: the session cookie and the CSRF token as a form field. */
async function consolePost(h: Harness, session: string, path: string, fields: Params) {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) form.append(k, String(v));
  form.append(CSRF_FIELD, csrfTokenFor(session));
  const res = await h.service.server.inject({
    method: 'POST',
    url: path,
    headers: {
      host: 'localhost',
      cookie: `${SESSION_COOKIE}=${session}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    payload: form.toString(),
  });
  return { status: res.statusCode, body: res.body };
}

const TIMES = new Set(['expiresAtMs', 'createdAtMs', 'endedAtMs']);

/** Ids differ between worlds: every id a world has made is replaced by a stable name. */
class IdNames {
  readonly #names = new Map<string, string>();

  async learn(store: Store): Promise<void> {
    for (const u of await store.listUsers()) {
      this.#names.set(u.id, `user:${u.username}`);
      for (const t of await store.listOtpTokens(u.id)) this.#names.set(t.id, `token:${t.name}`);
    }
    for (const g of await store.listGroups()) this.#names.set(g.id, `group:${g.name}`);
    for (const a of await store.listApplications()) this.#names.set(a.id, `app:${a.name}`);
    for (const [n, c] of (await store.listEmergencyControls()).entries()) {
      this.#names.set(c.id, `control:${n}`);
    }
  }

  name(value: unknown): unknown {
    if (typeof value === 'string') {
      const app = /^app:(.+)$/.exec(value);
      if (app) return `policy-of-${String(this.name(app[1]))}`;
      const exact = this.#names.get(value);
      if (exact !== undefined) return exact;
      // Messages (the advisor's warnings) quote ids too.
      let text = value;
      for (const [id, name] of this.#names) text = text.replaceAll(id, name);
      return text;
    }
    if (Array.isArray(value)) return value.map((v) => this.name(v));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [
          k,
          // Times follow each world's clock, and who acted differs by surface by design.
          TIMES.has(k) && typeof v === 'number'
            ? '<time>'
            : k === 'startedBy'
              ? '<actor>'
              : this.name(v),
        ]),
      );
    }
    return value;
  }
}

/** An audit record without id, time, actor and address, with names for ids. */
function comparableAudit(e: AuditEvent, ids: IdNames) {
  return ids.name({
    action: e.action,
    targetType: e.targetType,
    targetId: e.targetId,
    appId: e.appId,
    username: e.username,
    result: e.result,
    detail: e.detail,
  });
}

/** The rows an admin change can touch, without ids, times and secrets. */
async function comparableRows(store: Store, ids: IdNames) {
  const users = await Promise.all(
    (await store.listUsers()).map(async (u) => ({
      username: u.username,
      realName: u.realName,
      email: u.email,
      status: u.status,
      aliases: [...u.aliases].sort(),
      failedAttempts: u.failedAttempts,
      groups: (await store.listUserGroups(u.id)).map((g) => g.name),
      tokens: (await store.listOtpTokens(u.id)).map((t) => [t.type, t.name, t.algorithm, t.digits]),
      bypassCodes: (await store.listBypassCodes(u.id)).map((c) => [c.remainingUses, c.expiresAtMs]),
      devices: (await store.listDevices(u.id)).map((d) => [d.name, d.platform]),
    })),
  );
  const groups = (await store.listGroups()).map((g) => [g.name, g.description, g.status]);
  const apps = (await store.listApplications()).map((a) =>
    ids.name([
      a.name,
      a.type,
      a.newUserPolicy,
      a.restrictionLevel,
      a.rateLimitPerSecond,
      a.verifiedPush,
      a.allowV1Signature,
      a.allowedGroupIds,
    ]),
  );
  const policies = (await store.listPolicies()).map((p) => ids.name([p.scope, p.policy]));
  const controls = (await store.listEmergencyControls()).map((c) =>
    ids.name([c.scope, c.state, c.reason, c.endReason]),
  );
  return { users, groups, apps, policies, controls };
}

describe(`every audited admin action: CLI, Admin API and console agree (${IT_BACKEND})`, () => {
  const worlds: World[] = [];
  const ids = new Map<Surface, IdNames>();
  const rowsAfter = new Map<Surface, unknown[]>();

  before(async () => {
    worlds.push(await cliWorld(), await serviceWorld('api'), await serviceWorld('console'));
    for (const world of worlds) {
      ids.set(world.surface, new IdNames());
      rowsAfter.set(world.surface, []);
    }
  });
  after(async () => {
    for (const world of worlds) await world.close();
  });

  it('performs each action on each surface and leaves the same rows after every step', async () => {
    for (const world of worlds) {
      const names = ids.get(world.surface)!;
      for (const step of STEPS) {
        if (step.action === 'device.remove') await addPhone(world);
        await world.run(step);
        const rows = await world.withStore(async (store) => {
          await names.learn(store);
          return comparableRows(store, names);
        });
        rowsAfter.get(world.surface)!.push({ after: step.action, rows });
      }
    }
    const [cli, api, consoleRows] = worlds.map((w) => rowsAfter.get(w.surface));
    assert.deepEqual(api, cli, 'Admin API rows differ from the CLI rows');
    assert.deepEqual(consoleRows, cli, 'console rows differ from the CLI rows');
  });

  it('writes the same audit record for each action, once', async () => {
    const audits = await Promise.all(
      worlds.map((w) =>
        w.withStore(async (store) =>
          (await store.listAudit({ sinceMs: 0, limit: 1000 }))
            .filter((e) => AUDITED.has(e.action))
            .map((e) => comparableAudit(e, ids.get(w.surface)!)),
        ),
      ),
    );
    const [cli, api, consoleAudit] = audits;
    assert.deepEqual(
      (cli as { action: string }[]).map((e) => e.action),
      STEPS.map((s) => s.action),
      'one record per action, in order',
    );
    assert.deepEqual(api, cli, 'Admin API audit differs from the CLI audit');
    assert.deepEqual(consoleAudit, cli, 'console audit differs from the CLI audit');
  });

  it('names who acted: cli:<os user>, adminkey:<ikey> or admin:<name>', async () => {
    const actors = await Promise.all(
      worlds.map((w) =>
        w.withStore(async (store) => {
          const events = await store.listAudit({ sinceMs: 0, action: 'user.create', limit: 10 });
          return events.map((e) => e.actor);
        }),
      ),
    );
    assert.match(actors[0]![0] ?? '', /^cli:/);
    assert.deepEqual(actors[1], ['adminkey:DAPARITYKEY000000001']);
    assert.deepEqual(actors[2], ['admin:parity']);
  });
});

/** A phone for `device.remove`: only the CLI can add one, so every world gets it from the store. */
async function addPhone(world: World): Promise<void> {
  await world.withStore(async (store) => {
    const user = await store.findUser('zoe');
    assert.ok(user);
    await store.createDevice({
      id: DEVICE_ID,
      userId: user.id,
      name: 'desk phone',
      platform: 'phone',
      phoneNumber: '+15551230100',
    });
  });
}

describe('the CLI surface: what it refuses and how it says so', () => {
  let dir: string;
  const data = () => ['--data-dir', dir];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-surfaces-cli-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('user set keeps what is not given and refuses to change nothing', async () => {
    await airlock(['user', 'create', 'zoe', '--email', 'zoe@example.org', ...data()]);
    const set = await airlockJson<{ realname: string; email: string; aliases: string[] }>([
      'user',
      'set',
      'zoe',
      '--real-name',
      'Zoe Zimmer',
      '--aliases',
      'zz, zoe.z',
      ...data(),
    ]);
    assert.deepEqual(
      [set.realname, set.email, set.aliases.sort()],
      ['Zoe Zimmer', 'zoe@example.org', ['zoe.z', 'zz']],
    );
    const cleared = await airlockJson<{ email: string | null; aliases: string[] }>([
      'user',
      'set',
      'zz',
      '--email',
      '',
      '--aliases',
      '',
      ...data(),
    ]);
    assert.deepEqual([cleared.email, cleared.aliases], [null, []]);
    const nothing = await airlockFails(['user', 'set', 'zoe', ...data()]);
    assert.match(nothing.stderr, /nothing to change/);
  });

  it('names the missing group and the missing token', async () => {
    await airlock(['group', 'create', 'night-shift', ...data()]);
    await airlock(['group', 'delete', 'night-shift', ...data()]);
    const missing = await airlockFails(['group', 'delete', 'night-shift', ...data()]);
    assert.match(missing.stderr, /no group "night-shift"/);
    const token = await airlockFails(['token', 'delete', 'zoe', 'DTNOSUCHTOKEN', ...data()]);
    assert.match(token.stderr, /has no token/);
  });
});
