// npm pack hooks. `prepack`: refuses a dist/ holding files the package must not ship (tests, the
// store contract suite, output of sources since deleted: tsc never removes those), then ships
// package-lock.json as npm-shrinkwrap.json, so an install from the tarball gets the exact
// dependency tree the tests ran on (npm honours a package's shrinkwrap, never its package-lock,
// and skips its dev entries). `postpack`: removes that copy again.
/* global process, URL */
import { copyFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);
const shrinkwrap = new URL('npm-shrinkwrap.json', root);

/** Compiled files of dist/ that are tests, the contract suite, or have no source any more. */
function unwantedDistFiles() {
  const dist = fileURLToPath(new URL('dist/', root));
  if (!existsSync(dist)) return []; // `prepare` builds it from scratch next
  return readdirSync(dist, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.js'))
    .filter(
      (f) =>
        f.endsWith('.test.js') ||
        f.startsWith('store/contract/') ||
        !existsSync(new URL(`src/${f.replace(/\.js$/, '.ts')}`, root)),
    )
    .filter((f) => !f.startsWith('service/authenticator-web/')); // static files, copied as is
}

if (process.argv[2] === 'prepack') {
  const unwanted = unwantedDistFiles();
  if (unwanted.length > 0) {
    process.stderr.write(
      `dist/ holds files that must not be packed:\n  ${unwanted.join('\n  ')}\n` +
        'remove dist/ (rm -rf dist) and pack again\n',
    );
    process.exit(1);
  }
  copyFileSync(new URL('package-lock.json', root), shrinkwrap);
} else if (process.argv[2] === 'postpack') {
  rmSync(shrinkwrap, { force: true });
} else {
  process.stderr.write('usage: node scripts/pack-hooks.mjs prepack|postpack\n');
  process.exit(2);
}
