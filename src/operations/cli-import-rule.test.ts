// The lint rule that keeps the CLI off the service's internals fires on a probe that breaks it.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The rules the repository's eslint.config.js reports for `code` placed at `filePath`. */
async function ruleIdsFor(code: string, filePath: string): Promise<string[]> {
  const eslint = new ESLint({
    cwd: root,
    // The probe is not a file of the TypeScript project: lint it without type information.
    overrideConfig: [{ files: [filePath], ...tseslint.configs.disableTypeChecked }],
  });
  const [result] = await eslint.lintText(code, { filePath: join(root, filePath) });
  const fatal = (result?.messages ?? []).filter((m) => m.fatal);
  assert.deepEqual(fatal, [], 'the probe must parse');
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

describe('lint: src/cli may not import src/service', () => {
  it('reports a CLI file that imports the service', async () => {
    const ids = await ruleIdsFor(
      "import { buildService } from '../service/build-service.ts';\nexport const probe = buildService;\n",
      'src/cli/probe.ts',
    );
    assert.ok(ids.includes('no-restricted-imports'), ids.join(', '));
  });

  it('reports a nested CLI command that reaches into a service folder', async () => {
    const ids = await ruleIdsFor(
      "import { userView } from '../../service/admin/admin-views.ts';\nexport const probe = userView;\n",
      'src/cli/commands/probe.ts',
    );
    assert.ok(ids.includes('no-restricted-imports'), ids.join(', '));
  });

  it('lets a CLI file import the operations', async () => {
    const ids = await ruleIdsFor(
      "import { createUser } from '../operations/user-operations.ts';\nexport const probe = createUser;\n",
      'src/cli/probe.ts',
    );
    assert.ok(!ids.includes('no-restricted-imports'), ids.join(', '));
  });
});
