// `airlock policy`, `explain`, `lint` and `emergency` as a user runs them: the built CLI, spawned.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { airlock, airlockFails, airlockJson, airlockOutput } from './airlock-process.ts';

interface ControlRow {
  id: string;
  kind: string;
  state: string;
  started_by: string;
  reason: string;
  remaining: string | null;
  record: { expiresAtMs: number; createdAtMs: number };
}

describe('airlock policy, explain, lint and emergency', () => {
  let dir: string;
  const data = () => ['--data-dir', dir];
  const groupsOf = async (user: string) =>
    (await airlockJson<{ groups: string[] }>(['user', 'show', user, ...data()])).groups.sort();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-policy-cli-'));
    await airlock(['app', 'create', 'vpn', '--restriction-level', 'restrictive', ...data()]);
    await airlock([
      'app',
      'create',
      'payroll',
      '--restriction-level',
      'most-restrictive',
      ...data(),
    ]);
    await airlock(['group', 'create', 'oncall', ...data()]);
    await airlock(['group', 'create', 'contractors', ...data()]);
    await airlock(['group', 'create', 'outage-bypass', '--status', 'bypass', ...data()]);
    for (const u of ['alice', 'bob', 'carol']) await airlock(['user', 'create', u, ...data()]);
    await airlock(['group', 'add-member', 'oncall', 'alice', ...data()]);
    await airlock(['group', 'add-member', 'oncall', 'bob', ...data()]);
    await airlock(['group', 'add-member', 'outage-bypass', 'carol', ...data()]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('sets, shows and clears a policy; explain names the deciding rule', async () => {
    const set = await airlockJson<{ scope: string; deny_groups: string[]; network_rules: unknown }>(
      [
        'policy',
        'set',
        '--app',
        'vpn',
        '--deny-groups',
        'contractors',
        '--network',
        'deny:198.51.100.0/24',
        '--network',
        'allow:192.0.2.0/24',
        ...data(),
      ],
    );
    assert.deepEqual(set.deny_groups, ['contractors']);
    assert.deepEqual(set.network_rules, [
      { ranges: ['198.51.100.0/24'], action: 'deny' },
      { ranges: ['192.0.2.0/24'], action: 'allow' },
    ]);
    const shown = await airlockJson<{ scope: string }[]>([
      'policy',
      'show',
      '--app',
      'vpn',
      ...data(),
    ]);
    assert.deepEqual(
      shown.map((p) => p.scope),
      [set.scope],
    );

    const denied = await airlockJson<{
      result: string;
      reason: string;
      rule: { source: string; id: string };
    }>(['explain', 'alice', '--app', 'vpn', '--ip', '198.51.100.20', ...data()]);
    assert.deepEqual(
      [denied.result, denied.reason, denied.rule.source, denied.rule.id],
      ['deny', 'network-deny', 'application', 'networkRules[0]'],
    );
    const text = await airlock(['explain', 'alice', '--app', 'vpn', ...data()]);
    assert.match(text, /^Decision: enroll \(new-user-enroll\)/);
    assert.match(text, /no client IP was given/);

    const cleared = await airlockJson<{ changed: boolean }>([
      'policy',
      'clear',
      '--app',
      'vpn',
      ...data(),
    ]);
    assert.equal(cleared.changed, true);
    assert.deepEqual(await airlockJson<unknown[]>(['policy', 'show', ...data()]), []);
  });

  it('refuses a bad network rule and an unknown group with clear errors', async () => {
    const usage = await airlockFails(['policy', 'set', '--network', 'block:10.0.0.0/8', ...data()]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--network must be allow\|require-2fa\|deny:RANGE/);
    const invalid = await airlockFails([
      'policy',
      'set',
      '--network',
      'deny:10.0.0.0/40',
      ...data(),
    ]);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /invalid policy for global:\n {2}networkRules\[0\]\.ranges/);
    const unknown = await airlockFails(['policy', 'set', '--deny-groups', 'nobody', ...data()]);
    assert.match(unknown.stderr, /no group "nobody"/);
  });

  it('moves users into a bypass group and back, keeping the member who was there before', async () => {
    const csv = join(dir, 'users.csv');
    writeFileSync(csv, 'username,reason\nalice,oncall\ncarol,lead\n');
    const started = await airlockJson<ControlRow>([
      'emergency',
      'bypass-users',
      '--group',
      'outage-bypass',
      '--csv',
      csv,
      '--apps',
      'vpn,payroll',
      '--reason',
      'INC-21 push down',
      '--for',
      '45m',
      ...data(),
    ]);
    assert.equal(started.kind, 'users-to-bypass-group');
    assert.equal(started.record.expiresAtMs - started.record.createdAtMs, 45 * 60_000);
    assert.deepEqual(await groupsOf('alice'), ['oncall', 'outage-bypass']);
    const listed = await airlockJson<ControlRow[]>(['emergency', 'list', ...data()]);
    assert.deepEqual(
      listed.map((c) => [c.id, c.state, c.reason]),
      [[started.id, 'active', 'INC-21 push down']],
    );
    assert.match(listed[0]!.started_by, /^cli:/);

    const reverted = await airlockJson<{ state: string }>([
      'emergency',
      'revert',
      started.id,
      '--reason',
      'push provider back',
      ...data(),
    ]);
    assert.equal(reverted.state, 'reverted');
    assert.deepEqual(await groupsOf('alice'), ['oncall']);
    assert.deepEqual(await groupsOf('carol'), ['outage-bypass'], 'carol was a member before');
    assert.deepEqual(await airlockJson<unknown[]>(['emergency', 'list', ...data()]), []);
    const all = await airlockJson<ControlRow[]>(['emergency', 'list', '--all', ...data()]);
    assert.equal(all.find((c) => c.id === started.id)?.state, 'reverted');
    const again = await airlockFails([
      'emergency',
      'revert',
      started.id,
      '--reason',
      'x',
      ...data(),
    ]);
    assert.match(again.stderr, /already reverted/);
  });

  it("group set-status GROUP bypass prints the advisor's reach warning, and returns it with --json", async () => {
    await airlock(['group', 'create', 'night-shift', ...data()]);
    const text = await airlockOutput(['group', 'set-status', 'night-shift', 'bypass', ...data()]);
    // The console's warning, from the same advisor: every application the group reaches.
    assert.match(
      text.stderr,
      /advisor error: \[bypass-reaches-unnamed-applications\] bypass for group "night-shift" \([^)]+\) \(0 members\) also applies to "payroll" \(most-restrictive\), "vpn" \(restrictive\)/,
    );
    assert.match(text.stdout, /is now in bypass/);
    await airlock(['group', 'set-status', 'night-shift', 'active', ...data()]);
    const json = await airlockJson<{
      status: string;
      warnings: { code: string; severity: string; message: string }[];
    }>(['group', 'set-status', 'night-shift', 'bypass', ...data()]);
    assert.equal(json.status, 'bypass');
    assert.deepEqual(
      json.warnings.map((w) => [w.code, w.severity]),
      [['bypass-reaches-unnamed-applications', 'error']],
    );
    assert.match(json.warnings[0]!.message, /"payroll" \(most-restrictive\)/);
    const audit = await airlockJson<{ detail: { to: string; warnings: string[] } }[]>([
      'audit',
      '--action',
      'group.set-status',
      '--limit',
      '1000',
      ...data(),
    ]);
    assert.match(audit.at(-1)?.detail.warnings[0] ?? '', /"payroll" \(most-restrictive\)/);
    // Back out of bypass, so the lint below sees only the groups it sets up.
    await airlock(['group', 'set-status', 'night-shift', 'active', ...data()]);
  });

  it('asks for --yes when the bypass group reaches applications not named', async () => {
    const refused = await airlockFails([
      'emergency',
      'bypass-users',
      '--group',
      'outage-bypass',
      '--users',
      'bob',
      '--apps',
      'vpn',
      '--reason',
      'INC-22',
      ...data(),
    ]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /bypass-reaches-unnamed-applications.*"payroll" \(most-restrictive\)/,
    );
    assert.match(refused.stderr, /repeat with --yes/);
    assert.deepEqual(await groupsOf('bob'), ['oncall'], 'nothing changed');
  });

  it('warns before a temporary bypass on a most-restrictive application and starts it with --yes', async () => {
    const args = [
      'emergency',
      'bypass-groups',
      '--app',
      'payroll',
      '--groups',
      'oncall',
      '--reason',
      'INC-23',
    ];
    const refused = await airlockFails([...args, ...data()]);
    assert.match(refused.stderr, /most-restrictive-bypass-reach/);
    const started = await airlockJson<ControlRow>([...args, '--yes', ...data()]);
    assert.equal(started.kind, 'app-bypass-groups');
    assert.equal(started.remaining, '1h', 'one hour by default');
    await airlock(['emergency', 'revert', started.id, '--reason', 'over', ...data()]);
  });

  it('refuses an expiry beyond the maximum, which the environment can lower', async () => {
    const tooLong = await airlockFails([
      'emergency',
      'bypass-groups',
      '--app',
      'vpn',
      '--groups',
      'oncall',
      '--reason',
      'r',
      '--for',
      '25h',
      ...data(),
    ]);
    assert.match(tooLong.stderr, /expiry: must be at most 24 hours from now/);
    const bad = await airlockFails([
      'emergency',
      'primary-only',
      '--proxy-state-dir',
      dir,
      '--reason',
      'r',
      '--for',
      'soon',
      ...data(),
    ]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--for must be a duration/);
    await assert.rejects(
      airlock(
        [
          'emergency',
          'bypass-groups',
          '--app',
          'vpn',
          '--groups',
          'oncall',
          '--reason',
          'r',
          '--for',
          '1h',
          ...data(),
        ],
        { AIRLOCK_EMERGENCY_MAX_DURATION: '30m' },
      ),
      /must be at most 30 minutes from now/,
    );
  });

  it("switches a proxy's primary-only mode through its state directory, and back", async () => {
    const stateDir = join(dir, 'proxy-state');
    const started = await airlockJson<ControlRow>([
      'emergency',
      'primary-only',
      '--proxy-state-dir',
      stateDir,
      '--reason',
      'INC-24 service unreachable',
      '--for',
      '20m',
      ...data(),
    ]);
    assert.ok(existsSync(join(stateDir, 'primary-only.json')));
    const status = await airlockJson<{ active: boolean }>([
      'proxy',
      'primary-only',
      'status',
      '--config',
      writeProxyConfig(stateDir),
    ]);
    assert.equal(status.active, true);
    await airlock(['emergency', 'revert', started.id, '--reason', 'service back', ...data()]);
    assert.equal(existsSync(join(stateDir, 'primary-only.json')), false);
  });

  it('lint reports a most-restrictive application behind a failmode=safe proxy section', async () => {
    const apps = await airlockJson<{ name: string; ikey: string }[]>(['app', 'list', ...data()]);
    const payroll = apps.find((a) => a.name === 'payroll')!;
    const cfg = writeProxyConfig(join(dir, 'lint-state'), payroll.ikey, 'safe');
    const codes = async (extra: string[]) => {
      const lint = await airlockFails(['lint', '--json', ...extra, ...data()]);
      assert.equal(lint.code, 1, 'an error finding makes lint exit 1');
      return (JSON.parse(lint.stdout) as { code: string }[]).map((f) => f.code).sort();
    };
    // The bypass group reaches payroll either way; the proxy config adds the failmode finding.
    assert.deepEqual(await codes([]), ['most-restrictive-bypass-reach']);
    assert.deepEqual(await codes(['--proxy-config', cfg]), [
      'most-restrictive-bypass-reach',
      'most-restrictive-failmode-safe',
    ]);
  });

  function writeProxyConfig(
    stateDir: string,
    ikey = 'DIXXXXXXXXXXXXXXXXXX',
    failmode = 'secure',
  ): string {
    const file = join(dir, `authproxy-${failmode}.cfg`);
    writeFileSync(
      file,
      [
        '[main]',
        `state_dir=${stateDir}`,
        `log_dir=${join(dir, 'log')}`,
        '',
        '[duo_only_client]',
        '',
        '[radius_server_auto]',
        `ikey=${ikey}`,
        'skey=XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
        'api_host=localhost',
        'client=duo_only_client',
        `failmode=${failmode}`,
        'port=0',
        'radius_ip_1=127.0.0.1',
        'radius_secret_1=testing123',
        '',
      ].join('\n'),
    );
    return file;
  }
});
