// What `airlock --version` prints: the package version and the database schema it migrates to.
import { readFileSync } from 'node:fs';
import { latestSchemaVersion } from '../store/migrations/migration-provider.ts';

/** `airlock 0.1.0 (schema 9)`: the schema is the number of the latest migration. */
export function versionText(): string {
  // dist/cli/version.js and src/cli/version.ts both sit two levels below package.json.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return `airlock ${pkg.version} (schema ${latestSchemaVersion()})`;
}
