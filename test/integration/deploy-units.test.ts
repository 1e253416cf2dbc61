// The systemd units in deploy/systemd/: `systemd-analyze verify` accepts them, and each keeps the
// hardening docs/deployment.md promises (dedicated user, read-only system, capabilities).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const UNITS = join(ROOT, 'deploy', 'systemd');
const INSTALLED_BIN = '/usr/local/bin/airlock';

/** Unit file name -> the instance name verified for templates. */
const UNIT_FILES = {
  'airlock-service.service': 'airlock-service.service',
  'airlock-proxy@.service': 'airlock-proxy@vpn.service',
  'airlock-gateway@.service': 'airlock-gateway@intranet.service',
} as const;

/** The `Key=value` lines of a unit (comments and sections left out). */
function directives(file: string): string[] {
  return readFileSync(join(UNITS, file), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('['));
}

describe('the systemd units', () => {
  it('are exactly the ones documented', () => {
    assert.deepEqual(readdirSync(UNITS).sort(), Object.keys(UNIT_FILES).sort());
  });

  it('pass systemd-analyze verify', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-units-'));
    try {
      // verify checks that ExecStart's program exists and is executable; on this machine the
      // command is the checkout's bin/airlock.js, not an installed /usr/local/bin/airlock. That
      // path is the only change made to the units.
      const bin = join(ROOT, 'bin', 'airlock.js');
      const names = Object.entries(UNIT_FILES).map(([file, instance]) => {
        const text = readFileSync(join(UNITS, file), 'utf8').replaceAll(INSTALLED_BIN, bin);
        writeFileSync(join(dir, instance), text);
        return join(dir, instance);
      });
      let result: { stdout: string; stderr: string; code: number };
      try {
        result = { ...(await run('systemd-analyze', ['verify', ...names])), code: 0 };
      } catch (e) {
        const err = e as { code?: number | string; stdout?: string; stderr?: string };
        if (err.code === 'ENOENT')
          assert.fail(
            'systemd-analyze is missing: install Debian\'s "systemd" package (scripts/ensure-test-packages.sh)',
          );
        result = { stdout: err.stdout ?? '', stderr: err.stderr ?? '', code: Number(err.code) };
      }
      // Warnings (an unknown key, a deprecated setting) do not change the exit status: any line
      // about our units fails the test too. Lines about the host's own units are not ours.
      const ours = `${result.stdout}\n${result.stderr}`
        .split('\n')
        .filter((l) => Object.values(UNIT_FILES).some((u) => l.includes(u)));
      assert.deepEqual(ours, [], `systemd-analyze verify:\n${result.stderr}${result.stdout}`);
      assert.equal(result.code, 0, `systemd-analyze verify:\n${result.stderr}${result.stdout}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const file of Object.keys(UNIT_FILES)) {
    it(`${file} runs as airlock with the system read-only and a heap limit`, () => {
      const d = directives(file);
      for (const needed of [
        'User=airlock',
        'Group=airlock',
        'NoNewPrivileges=yes',
        'ProtectSystem=strict',
        'ProtectHome=yes',
        'PrivateTmp=yes',
        'Restart=on-failure',
      ])
        assert.ok(d.includes(needed), `${file} lacks ${needed}`);
      assert.ok(
        d.some((l) => l.startsWith('StateDirectory=airlock')),
        `${file}: StateDirectory`,
      );
      assert.ok(
        d.some((l) => /^Environment=NODE_OPTIONS=--max-old-space-size=\d+$/.test(l)),
        `${file}: heap limit`,
      );
      assert.ok(!d.includes('MemoryDenyWriteExecute=yes'), 'V8 needs writable executable memory');
    });
  }

  it('gives the service no capability and the proxy only CAP_NET_BIND_SERVICE', () => {
    const service = directives('airlock-service.service');
    assert.ok(service.includes('CapabilityBoundingSet='));
    assert.ok(service.includes('AmbientCapabilities='));
    const proxy = directives('airlock-proxy@.service');
    assert.ok(proxy.includes('CapabilityBoundingSet=CAP_NET_BIND_SERVICE'));
    assert.ok(proxy.includes('AmbientCapabilities=CAP_NET_BIND_SERVICE'));
    assert.ok(
      proxy.includes('ExecStart=/usr/local/bin/airlock proxy --config /etc/airlock/%i.cfg'),
    );
  });

  it('declares ExecReload only for a component that reloads on SIGHUP (the proxy does)', () => {
    const proxyHandlesHup = ['src/cli/commands/proxy-commands.ts', 'src/proxy/start-proxy.ts']
      .map((f) => readFileSync(join(ROOT, f), 'utf8'))
      .some((text) => text.includes('SIGHUP'));
    const serviceHandlesHup = readFileSync(
      join(ROOT, 'src/cli/commands/serve-command.ts'),
      'utf8',
    ).includes('SIGHUP');
    // Without a handler, Node exits on SIGHUP: `systemctl reload` would stop the component.
    assert.equal(
      directives('airlock-proxy@.service').some((l) => l.startsWith('ExecReload=')),
      proxyHandlesHup,
    );
    assert.equal(
      directives('airlock-service.service').some((l) => l.startsWith('ExecReload=')),
      serviceHandlesHup,
    );
    assert.ok(proxyHandlesHup);
    assert.ok(directives('airlock-proxy@.service').includes('ExecReload=/bin/kill -HUP $MAINPID'));
  });
});
