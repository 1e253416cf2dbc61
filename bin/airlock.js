#!/usr/bin/env node
// Entry point of the `airlock` command: runs the compiled sources (`npm install` builds them).
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('airlock: not built yet; run `npm install` (or `npm run build`) first\n');
  process.exit(1);
}
await import(main.href);
