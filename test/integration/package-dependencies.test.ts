// The built `airlock` command (bin/ + dist/) needs exactly package.json's runtime dependencies:
// nothing it imports is a dev dependency (absent from a production install), and no runtime
// dependency is dead weight (tsx, playwright-core: test tools).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** Every .js file under `dir`. */
function jsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.js'))
    .map((f) => join(dir, f));
}

/** The packages a compiled file imports (static, side-effect and dynamic imports). */
function importedPackages(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [
    ...text.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/g),
    ...text.matchAll(/(?:^|[\s;])import\s*['"]([^'"]+)['"]/g),
    ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]!);
  return specifiers
    .filter((s) => !s.startsWith('.') && !s.startsWith('/') && !s.startsWith('node:'))
    .filter((s) => !builtinModules.includes(s))
    .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!));
}

describe('the dependencies of the built command', () => {
  const dist = join(ROOT, 'dist');

  it('imports only runtime dependencies, and every runtime dependency is imported', () => {
    assert.ok(existsSync(join(dist, 'cli', 'main.js')), 'dist/ is not built: run npm run build');
    const used = new Map<string, string>();
    for (const file of [...jsFiles(join(ROOT, 'bin')), ...jsFiles(dist)]) {
      for (const name of importedPackages(file)) used.set(name, file);
    }
    const runtime = Object.keys(pkg.dependencies);
    const missing = [...used].filter(([name]) => !runtime.includes(name));
    assert.deepEqual(missing, [], 'imported by the built command but not a runtime dependency');
    assert.deepEqual(
      runtime.filter((name) => !used.has(name)),
      [],
      'runtime dependencies the built command never imports (devDependencies?)',
    );
  });

  it('runs `airlock --help` with every dev dependency made unresolvable', async () => {
    const blocked = Object.keys(pkg.devDependencies);
    // A resolve hook that refuses dev dependencies, as a production install would lack them.
    const hook = `
      const blocked = ${JSON.stringify(blocked)};
      export async function resolve(specifier, context, next) {
        const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];
        if (blocked.includes(name)) throw new Error('dev dependency imported at run time: ' + specifier);
        return next(specifier, context);
      }`;
    const register = `import { register } from 'node:module'; register(${JSON.stringify(
      `data:text/javascript,${encodeURIComponent(hook)}`,
    )});`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--import',
        `data:text/javascript,${encodeURIComponent(register)}`,
        join(ROOT, 'bin', 'airlock.js'),
        '--help',
      ],
      { env: { ...process.env, NODE_OPTIONS: '' } },
    );
    assert.match(stdout, /Usage: airlock/);
    assert.ok(blocked.includes('tsx') && blocked.includes('playwright-core'));
  });
});
