// The layer boundaries of eslint.config.js hold: probe files that break them fail lint, legal ones pass.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';

const root = fileURLToPath(new URL('..', import.meta.url));

// The project's own config, with only the boundary rules run and without type information (the
// probe files do not exist on disk, so the TypeScript project service cannot load them).
const eslint = new ESLint({
  cwd: root,
  overrideConfig: {
    languageOptions: { parserOptions: { projectService: false, project: null } },
  },
  ruleFilter: ({ ruleId }) =>
    ruleId === 'no-restricted-imports' ||
    ruleId === 'no-restricted-properties' ||
    ruleId === 'max-lines',
});

/** The rule ids and messages lint reports for `code` placed at `filePath`. */
async function lintProbe(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  assert.ok(result, `no lint result for ${filePath}`);
  return result.messages.map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
}

describe('layer boundaries (eslint.config.js)', () => {
  it('fails a core file that imports the store', async () => {
    const messages = await lintProbe(
      'src/core/probe.ts',
      "import type { Store } from '../store/store.ts';\nexport type S = Store;\n",
    );
    assert.equal(messages.length, 1, messages.join('\n'));
    assert.match(messages[0]!, /^no-restricted-imports: .*src\/core imports no other src folder/);
  });

  it('fails a core file that imports node:fs', async () => {
    const messages = await lintProbe(
      'src/core/probe.ts',
      "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n",
    );
    assert.equal(messages.length, 1, messages.join('\n'));
    assert.match(messages[0]!, /^no-restricted-imports: .*pure/);
  });

  it('fails a protocol file that takes randomness or a socket', async () => {
    const messages = await lintProbe(
      'src/protocol/radius/probe.ts',
      [
        "import { randomBytes } from 'node:crypto';",
        "import { createSocket } from 'node:dgram';",
        "import { connect } from 'node:net';",
        'export const all = [randomBytes, createSocket, connect];',
        '',
      ].join('\n'),
    );
    assert.equal(messages.length, 3, messages.join('\n'));
  });

  it('fails a proxy file that imports the service, even a type', async () => {
    const messages = await lintProbe(
      'src/proxy/primary/probe.ts',
      "import type { OobHub } from '../../service/push/oob-hub.ts';\nexport type H = OobHub;\n",
    );
    assert.equal(messages.length, 1, messages.join('\n'));
    assert.match(messages[0]!, /^no-restricted-imports: .*src\/proxy may import only/);
  });

  it('fails a service file that imports the proxy', async () => {
    const messages = await lintProbe(
      'src/service/policy/probe.ts',
      "export { PrimaryOnlyWatcher } from '../../proxy/primary-only-switch.ts';\n",
    );
    assert.equal(messages.length, 1, messages.join('\n'));
  });

  it('fails a pages file that imports the service or the gateway; core is fine', async () => {
    const messages = await lintProbe(
      'src/pages/probe.ts',
      [
        "import { t } from '../service/prompt/prompt-messages.ts';",
        "import { t as u } from '../gateway/portal-messages.ts';",
        "import { html } from '../core/html.ts';",
        'export const all = [t, u, html];',
        '',
      ].join('\n'),
    );
    assert.equal(messages.length, 2, messages.join('\n'));
    assert.match(
      messages[0]!,
      /^no-restricted-imports: .*src\/pages may import only src\/\{core\}/,
    );
  });

  it('fails Date.now() outside src/runtime', async () => {
    const messages = await lintProbe('src/proxy/probe.ts', 'export const now = Date.now();\n');
    assert.equal(messages.length, 1, messages.join('\n'));
    assert.match(messages[0]!, /^no-restricted-properties: .*Clock/);
  });

  it('passes legal imports', async () => {
    assert.deepEqual(
      await lintProbe(
        'src/core/probe.ts',
        [
          "import { createHmac, timingSafeEqual } from 'node:crypto';",
          "import { isIPv4 } from 'node:net';",
          "import { matchesIp } from './ip-ranges.ts';",
          'export const all = [createHmac, timingSafeEqual, isIPv4, matchesIp];',
          '',
        ].join('\n'),
      ),
      [],
    );
    assert.deepEqual(
      await lintProbe(
        'src/proxy/primary/probe.ts',
        [
          "import { readFileSync } from 'node:fs';",
          "import type { AuthApiClient } from '../../client/auth-api-client.ts';",
          "import { isFailmode } from '../../core/failmode-decision.ts';",
          "import { SystemClock } from '../../runtime/clock.ts';",
          "import { readPrimaryOnly } from '../../runtime/primary-only-state-file.ts';",
          "import { ChallengeStore } from '../challenge-store.ts';",
          'export type C = AuthApiClient;',
          'export const all = [readFileSync, isFailmode, SystemClock, readPrimaryOnly, ChallengeStore];',
          '',
        ].join('\n'),
      ),
      [],
    );
    assert.deepEqual(
      await lintProbe(
        'src/runtime/probe.ts',
        "import { primaryOnlyState } from '../core/primary-only.ts';\nexport const now = () => [Date.now(), primaryOnlyState];\n",
      ),
      [],
    );
  });
  it('fails a gateway file that imports the service, the store or the proxy beyond primary/', async () => {
    const messages = await lintProbe(
      'src/gateway/probe.ts',
      [
        "import type { Store } from '../store/store.ts';",
        "import { buildService } from '../service/build-service.ts';",
        "import { startProxy } from '../proxy/start-proxy.ts';",
        'export type S = Store;',
        'export const all = [buildService, startProxy];',
        '',
      ].join('\n'),
    );
    assert.equal(messages.length, 3, messages.join('\n'));
    assert.match(messages[2]!, /src\/gateway may import only src\/proxy\/primary\//);
  });

  it('passes a gateway file that uses the proxy primary, the client and the config', async () => {
    assert.deepEqual(
      await lintProbe(
        'src/gateway/probe.ts',
        [
          "import { createLdapPrimary } from '../proxy/primary/ldap-primary.ts';",
          "import type { AuthApiClient } from '../client/auth-api-client.ts';",
          "import { loadGatewayConfig } from '../config/gateway-config.ts';",
          'export type C = AuthApiClient;',
          'export const all = [createLdapPrimary, loadGatewayConfig];',
          '',
        ].join('\n'),
      ),
      [],
    );
  });

  it('fails a proxy file that imports the gateway', async () => {
    const messages = await lintProbe(
      'src/proxy/probe.ts',
      "import { startGateway } from '../gateway/start-gateway.ts';\nexport const s = startGateway;\n",
    );
    assert.equal(messages.length, 1, messages.join('\n'));
  });

  it('fails a source file over 1,000 lines, not a test file', async () => {
    const lines = (n: number) => Array.from({ length: n }, (_, i) => `export const v${i} = ${i};`);
    assert.deepEqual(await lintProbe('src/core/probe.ts', lines(1000).join('\n')), []);
    const long = await lintProbe('src/core/probe.ts', lines(1001).join('\n'));
    assert.equal(long.length, 1, long.join('\n'));
    assert.match(long[0]!, /^max-lines: /);
    assert.deepEqual(await lintProbe('src/core/probe.test.ts', lines(1001).join('\n')), []);
  });
});
