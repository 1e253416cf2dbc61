import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { latestSchemaVersion } from './migration-provider.ts';

describe('latestSchemaVersion', () => {
  it('is the number of the newest migration file, so a new migration raises it', () => {
    const numbers = readdirSync(new URL('./', import.meta.url))
      .map((f) => /^(\d{4})-.*(?<!\.test)\.ts$/.exec(f)?.[1])
      .filter((n) => n !== undefined)
      .map(Number);
    assert.ok(numbers.length > 0);
    assert.equal(latestSchemaVersion(), Math.max(...numbers));
  });
});
