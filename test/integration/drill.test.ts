// `airlock drill` end to end, through the built command: the example configs pass, a section that
// does not behave as the operator expects fails with a matrix naming the cell.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { DRILL_SCENARIOS, type DrillCell } from '../../src/proxy/drill.ts';
import { airlock, airlockFails, airlockJson } from './airlock-process.ts';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));

interface DrillJson {
  ok: boolean;
  cells: DrillCell[];
  notes: string[];
}

/** A config with two failmode=safe sections (auto and challenge) and a CA file that is missing. */
function safeConfig(): string {
  const section = (kind: string) => [
    `[${kind}]`,
    'ikey=DIXXXXXXXXXXXXXXXXXX',
    'skey=XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
    'api_host=localhost',
    'api_port=8443',
    'api_ca_file=no-such-ca.pem',
    'api_timeout=2',
    'client=duo_only_client',
    'failmode=safe',
    'port=0',
    'radius_ip_1=127.0.0.1',
    'radius_secret_1=testing123',
    '',
  ];
  return [
    '[main]',
    'log_dir=log',
    'state_dir=state',
    '',
    '[duo_only_client]',
    '',
    ...section('radius_server_auto'),
    ...section('radius_server_challenge'),
  ].join('\n');
}

/**
 * examples/authproxy.cfg with its api_timeout (10 s) lowered to 2 s, and nothing else changed: the
 * drill waits on the section's own timeout (blackhole, slow) and half of it per call (degraded),
 * which is what the example's cells would cost, not what they show.
 */
function exampleWithShortTimeout(): string {
  const text = readFileSync(join(EXAMPLES, 'authproxy.cfg'), 'utf8');
  assert.equal(text.match(/^api_timeout=10$/gm)?.length, 1, 'examples/authproxy.cfg changed');
  return text.replace(/^api_timeout=10$/m, 'api_timeout=2');
}

describe('airlock drill', () => {
  let dir: string;
  let safeCfg: string;
  let exampleCfg: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-drill-test-'));
    safeCfg = join(dir, 'authproxy.cfg');
    writeFileSync(safeCfg, safeConfig());
    exampleCfg = join(dir, 'example-authproxy.cfg');
    writeFileSync(exampleCfg, exampleWithShortTimeout());
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('passes every scenario on examples/authproxy.cfg, api_timeout=2 (failmode=secure denies)', async () => {
    const report = await airlockJson<DrillJson>(['drill', '--config', exampleCfg]);
    assert.equal(report.ok, true, JSON.stringify(report.cells, null, 2));
    assert.deepEqual(
      report.cells.map((c) => c.scenario),
      [...DRILL_SCENARIOS],
    );
    for (const cell of report.cells) {
      assert.equal(cell.section, 'radius_server_auto');
      assert.equal(cell.actualCode, 'Access-Reject');
      assert.equal(cell.logLineSeen, true);
    }
    const degraded = report.cells.find((c) => c.scenario === 'degraded')!;
    assert.equal(degraded.failmodeExpected, false);
    assert.match(degraded.actualLogLine ?? '', /Duo authentication returned 'deny'/);
  });

  it('passes on examples/authproxy-ldap.cfg with the directory replaced by the stub', async () => {
    const out = await airlock([
      'drill',
      '--config',
      join(EXAMPLES, 'authproxy-ldap.cfg'),
      '--scenario',
      'unreachable,5xx,garbage,tls',
    ]);
    // Its [radius_server_auto] and its [ldap_server_auto], four scenarios each.
    assert.match(out, /\[ldap_server_auto\] failmode=secure \(declared\)/);
    assert.match(out, /PASS: all 8 cell\(s\) behave as expected/);
    assert.match(out, /stub that accepts the user/);
  });

  it('allows with the failmode safe log line on a generated failmode=safe config', async () => {
    const out = await airlock(['drill', '--config', safeCfg]);
    assert.match(out, /\[radius_server_auto\] failmode=safe \(declared\)/);
    assert.match(out, /\[radius_server_challenge\] failmode=safe \(declared\)/);
    assert.match(
      out,
      /blackhole\s+Access-Accept\s+Access-Accept\s+\d+ ms\s+Failmode Safe - Allowed Duo login on preauth failure\s+ok/,
    );
    assert.match(out, /PASS: all 14 cell\(s\) behave as expected/);
    // The missing CA file does not stop the drill: its own CA stands in, and it says so.
    assert.match(out, /no-such-ca\.pem could not be read; the drill's own CA stood in/);
  });

  it('fails non-zero, naming the cell, when a section does not behave as --expect says', async () => {
    const { code, stderr } = await airlockFails([
      'drill',
      '--config',
      exampleCfg,
      '--expect',
      'radius_server_auto=safe',
      '--scenario',
      '5xx,degraded',
    ]);
    assert.equal(code, 1);
    assert.match(stderr, /drill FAILED: 1 of 2 cell\(s\) do not behave as expected/);
    assert.match(
      stderr,
      /\[radius_server_auto\] 5xx: expected Access-Accept, got Access-Reject; authproxy\.log lacks "Failmode Safe - Allowed Duo login on preauth failure" \(it says "Failmode Secure - Denied Duo login on preauth failure"\)/,
    );
    assert.doesNotMatch(stderr, /degraded:/);
  });

  it('prints the JSON matrix, mismatching cell included, when it fails', async () => {
    const report = await airlockJson<DrillJson>([
      'drill',
      '--config',
      safeCfg,
      '--section',
      'radius_server_auto',
      '--scenario',
      'unreachable',
      '--expect',
      'radius_server_auto=secure',
    ]).catch((e: Error) => e);
    // airlockJson rejects on a non-zero exit; its message carries stdout (the JSON matrix).
    assert.ok(report instanceof Error);
    assert.match(report.message, /exited 1/);
    assert.match(report.message, /"expectedFailmode": "secure"/);
    assert.match(report.message, /"declaredFailmode": "safe"/);
    assert.match(report.message, /"match": false/);
  });

  it('rejects an unknown scenario or section with a usage error', async () => {
    const bad = await airlockFails(['drill', '--config', safeCfg, '--scenario', 'flood']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--scenario must be one of unreachable, blackhole/);
    const unknown = await airlockFails(['drill', '--config', safeCfg, '--section', 'nope']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no server section \[nope\].*radius_server_auto/);
  });
});
