import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { PROTOCOL_ERROR_CODES } from '../protocol/protocol-error.ts';
import { TLS_MATERIAL_ERROR_CODES } from '../runtime/tls-material.ts';
import { STORE_ERROR_CODES } from '../store/store-error.ts';
import { AirlockError, ERRORS } from './error-registry.ts';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
/** code -> [HTTP, Duo code, message] from the tables of docs/errors.md. */
const documented = new Map(
  [...doc.matchAll(/^\| `([A-Z_]+)` \|\s*([0-9]*)\s*\|\s*([0-9]*)\s*\|([^|]*)\|/gm)].map((m) => [
    m[1]!,
    [m[2]!, m[3]!, m[4]!.trim()],
  ]),
);

describe('error registry', () => {
  it('documents every registered error with its HTTP status, Duo code and message', () => {
    for (const [code, spec] of Object.entries(ERRORS)) {
      const row = documented.get(code);
      assert.ok(row, `${code} is missing from docs/errors.md`);
      const duoCode = 'duoCode' in spec ? String(spec.duoCode) : '';
      assert.deepEqual(row, [String(spec.status), duoCode, spec.message], code);
    }
  });

  it('documents every typed error code of the protocol, store and TLS modules', () => {
    for (const code of [
      ...PROTOCOL_ERROR_CODES,
      ...STORE_ERROR_CODES,
      ...TLS_MATERIAL_ERROR_CODES,
    ]) {
      assert.ok(documented.has(code), `${code} is missing from docs/errors.md`);
    }
  });

  it('documents no code that does not exist', () => {
    const known = new Set<string>([
      ...Object.keys(ERRORS),
      ...PROTOCOL_ERROR_CODES,
      ...STORE_ERROR_CODES,
      ...TLS_MATERIAL_ERROR_CODES,
    ]);
    for (const code of documented.keys())
      assert.ok(known.has(code), `docs/errors.md lists unknown ${code}`);
  });

  it('exposes client errors and hides server errors', () => {
    assert.equal(new AirlockError('AUTH_BAD_SIGNATURE').expose, true);
    assert.equal(new AirlockError('AUTH_INTERNAL').expose, false);
    assert.equal(new AirlockError('AUTH_MISSING_PARAMETERS', 'username').detail, 'username');
  });
});
