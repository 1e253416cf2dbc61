// `airlock drill --gateway-config` end to end, through the built command: each two-factor
// application of a gateway.cfg against every outage scenario (safe: in with Remote-2FA
// skipped-failmode; secure: refused), and a mismatch against --expect named with exit status 1.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { GatewayDrillCell } from '../../src/gateway/gateway-drill.ts';
import { DRILL_SCENARIOS } from '../../src/proxy/drill.ts';
import { airlock, airlockFails, airlockJson } from './airlock-process.ts';

const GATEWAY_CFG = [
  '[main]',
  'log_dir=log',
  '[gateway]',
  'portal_url=https://auth.example.org/',
  'cookie_domain=example.org',
  `session_secret=${'d'.repeat(40)}`,
  '[ad_client]',
  'host=127.0.0.1',
  'auth_type=plain',
  'bind_dn=cn=svc,dc=example,dc=org',
  'service_account_password=svcpw',
  'search_dn=ou=people,dc=example,dc=org',
  '[service]',
  'ikey=DIXXXXXXXXXXXXXXXXXX',
  `skey=${'s'.repeat(40)}`,
  'api_host=airlock.example.org',
  'api_ca_file=no-such-ca.pem',
  'api_timeout=2',
  '[app:wiki]',
  'hosts=wiki.example.org',
  'failmode=safe',
  '[app:hr]',
  'hosts=hr.example.org',
  'failmode=secure',
  '[app:intranet]',
  'hosts=intranet.example.org',
  'restriction=one_factor',
  '',
].join('\n');

describe('airlock drill --gateway-config', () => {
  let dir: string;
  let cfg: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-gateway-drill-'));
    cfg = join(dir, 'gateway.cfg');
    writeFileSync(cfg, GATEWAY_CFG);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('drills every two-factor app over every scenario: safe lets in with skipped-failmode, secure refuses', async () => {
    const report = await airlockJson<{ ok: boolean; cells: GatewayDrillCell[]; notes: string[] }>([
      'drill',
      '--gateway-config',
      cfg,
    ]);
    assert.equal(report.ok, true, JSON.stringify(report.cells, null, 2));
    assert.deepEqual(
      report.cells.map((c) => `${c.section} ${c.scenario}`),
      ['app:wiki', 'app:hr'].flatMap((s) => DRILL_SCENARIOS.map((x) => `${s} ${x}`)),
    );
    for (const cell of report.cells) {
      const failmode = cell.scenario !== 'degraded';
      const expected = !failmode
        ? 'refused (401, the service denied)'
        : cell.section === 'app:wiki'
          ? 'in, Remote-2FA: skipped-failmode'
          : 'refused (503)';
      assert.equal(cell.actualOutcome, expected, `${cell.section} ${cell.scenario}`);
      assert.equal(
        cell.actualLogLine,
        !failmode
          ? undefined
          : cell.section === 'app:wiki'
            ? 'Failmode Safe - Allowed Duo login on preauth failure'
            : 'Failmode Secure - Denied Duo login on preauth failure',
        `${cell.section} ${cell.scenario}`,
      );
    }
    assert.ok(report.notes.some((n) => /\[app:intranet\] restriction=one_factor/.test(n)));
    assert.ok(report.notes.some((n) => /no-such-ca\.pem could not be read/.test(n)));
  });

  it('fails non-zero, naming the cell, when an app does not behave as --expect says', async () => {
    const { code, stdout, stderr } = await airlockFails([
      'drill',
      '--gateway-config',
      cfg,
      '--section',
      'app:hr',
      '--expect',
      'hr=safe',
      '--scenario',
      '5xx,degraded',
    ]);
    assert.equal(code, 1);
    assert.match(
      stdout,
      /\[app:hr\] expected failmode=safe \(--expect; the config declares secure\)/,
    );
    assert.match(stderr, /drill FAILED: 1 of 2 cell\(s\) do not behave as expected/);
    assert.match(
      stderr,
      /\[app:hr\] 5xx: expected in, Remote-2FA: skipped-failmode, got refused \(503\); gateway\.log lacks "Failmode Safe - Allowed Duo login on preauth failure" \(it says "Failmode Secure - Denied Duo login on preauth failure"\)/,
    );
  });

  it('says how in --help, and refuses an app it does not drill', async () => {
    assert.match(await airlock(['drill', '--help']), /--gateway-config <file>/);
    const { code, stderr } = await airlockFails([
      'drill',
      '--gateway-config',
      cfg,
      '--section',
      'intranet',
    ]);
    assert.equal(code, 2);
    assert.match(stderr, /no two-factor \[app:intranet\]/);
  });
});
