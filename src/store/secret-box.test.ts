// Tests for SecretBox (AES-256-GCM sealing) and loadSecretKey (env var or <dataDir>/secret.key).
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, test } from 'node:test';
import { loadSecretKey } from '../config/secret-key.ts';
import {
  associatedData,
  createCachingSecretBox,
  createSecretBox,
  type SealBinding,
} from './secret-box.ts';
import { isStoreError } from './store-error.ts';

void describe('SecretBox', () => {
  const key = randomBytes(32);
  const appA: SealBinding = { table: 'applications', column: 'skey_sealed', rowId: 'DIA' };
  const appB: SealBinding = { table: 'applications', column: 'skey_sealed', rowId: 'DIB' };

  /** A v1 value as the store wrote it before migration 0006: AES-256-GCM without AAD. */
  function sealV1(plaintext: string, v1Key = key): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', v1Key, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return 'v1:' + Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64');
  }

  void test('open returns what seal was given, including non-ASCII text', () => {
    const box = createSecretBox(key);
    for (const plaintext of ['', 'JBSWY3DPEHPK3PXP', 'skey-ü-✓-🔑'.repeat(20)]) {
      assert.equal(box.open(box.seal(plaintext, appA), appA), plaintext);
    }
  });

  void test('sealed values carry the v2 prefix and never the plaintext', () => {
    const sealed = createSecretBox(key).seal('JBSWY3DPEHPK3PXP', appA);
    assert.match(sealed, /^v2:[A-Za-z0-9+/]+=*$/);
    assert.ok(!sealed.includes('JBSWY3DPEHPK3PXP'));
  });

  void test('the associated data names table, column and row', () => {
    assert.equal(associatedData(appA), 'airlock:v2:applications:skey_sealed:DIA');
  });

  void test('open refuses a value sealed for another row, column or table', () => {
    const box = createSecretBox(key);
    const sealed = box.seal('skey of A', appA);
    for (const other of [
      appB,
      { ...appA, column: 'other_sealed' },
      { ...appA, table: 'admin_api_keys' },
    ]) {
      assert.throws(
        () => box.open(sealed, other),
        (err: unknown) =>
          isStoreError(err, 'STORE_SECRET_UNREADABLE') &&
          /cannot open .*: authentication failed .*moved from another row/.test(err.message),
      );
    }
  });

  void test('sealing the same plaintext twice gives different values (fresh IV each time)', () => {
    const box = createSecretBox(key);
    assert.notEqual(box.seal('same', appA), box.seal('same', appA));
  });

  void test('open refuses a value sealed under another key', () => {
    const sealed = createSecretBox(key).seal('secret', appA);
    assert.throws(
      () => createSecretBox(randomBytes(32)).open(sealed, appA),
      /authentication failed/,
    );
  });

  void test('open refuses a value with any byte altered', () => {
    const box = createSecretBox(key);
    const sealed = box.seal('a secret long enough to span blocks', appA);
    const raw = Buffer.from(sealed.slice(3), 'base64');
    for (const index of [0, 12, 28, raw.length - 1]) {
      const tampered = Buffer.from(raw);
      tampered[index] = (tampered[index] ?? 0) ^ 0x01;
      assert.throws(
        () => box.open('v2:' + tampered.toString('base64'), appA),
        /authentication failed/,
      );
    }
  });

  void test('open refuses unversioned and truncated values', () => {
    const box = createSecretBox(key);
    assert.throws(() => box.open('plaintext', appA), /not a sealed value/);
    assert.throws(() => box.open('v2:' + Buffer.alloc(10).toString('base64'), appA), /truncated/);
  });

  void test('open refuses a v1 value (no row binding): only migration 0006 reads those', () => {
    const box = createSecretBox(key);
    assert.throws(
      () => box.open(sealV1('skey of A'), appA),
      (err: unknown) =>
        isStoreError(err, 'STORE_SECRET_UNREADABLE') &&
        /applications\.skey_sealed of row DIA: a v1 value/.test(err.message),
    );
  });

  void test('reseal turns a v1 value into a v2 value bound to the row', () => {
    const box = createSecretBox(key);
    const resealed = box.reseal(sealV1('skey of A'), appA);
    assert.match(resealed, /^v2:/);
    assert.equal(box.open(resealed, appA), 'skey of A');
    assert.throws(() => box.open(resealed, appB), /authentication failed/);
  });

  void test('reseal keeps a v2 value of the same row and refuses a moved or altered one', () => {
    const box = createSecretBox(key);
    const sealed = box.seal('skey of A', appA);
    assert.equal(box.reseal(sealed, appA), sealed);
    assert.throws(() => box.reseal(sealed, appB), /authentication failed/);
    assert.throws(() => box.reseal(sealV1('x', randomBytes(32)), appA), /authentication failed/);
    assert.throws(() => box.reseal('plaintext', appA), /not a sealed value/);
  });

  void test('refuses a key that is not 32 bytes', () => {
    assert.throws(() => createSecretBox(randomBytes(16)), /32 bytes/);
  });
});

void describe('loadSecretKey', () => {
  const withDir = (fn: (dir: string) => void) => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-key-'));
    try {
      fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  void test('uses AIRLOCK_SECRET_KEY when set and writes no file', () => {
    withDir((dir) => {
      const key = randomBytes(32);
      const loaded = loadSecretKey({
        dataDir: dir,
        env: { AIRLOCK_SECRET_KEY: key.toString('base64') },
      });
      assert.deepEqual(loaded, key);
      assert.throws(() => statSync(join(dir, 'secret.key')), /ENOENT/);
    });
  });

  void test('rejects an AIRLOCK_SECRET_KEY that is not base64 of 32 bytes', () => {
    withDir((dir) => {
      for (const bad of [
        randomBytes(16).toString('base64'),
        'not base64!',
        randomBytes(33).toString('base64'),
      ]) {
        assert.throws(
          () => loadSecretKey({ dataDir: dir, env: { AIRLOCK_SECRET_KEY: bad } }),
          /AIRLOCK_SECRET_KEY: secret key must be the base64 encoding of exactly 32 bytes/,
        );
      }
    });
  });

  void test('creates <dataDir>/secret.key with mode 0600 on first use and reuses it after', () => {
    withDir((dir) => {
      const dataDir = join(dir, 'nested', 'data');
      const first = loadSecretKey({ dataDir, env: {} });
      assert.equal(first.length, 32);
      const path = join(dataDir, 'secret.key');
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.deepEqual(Buffer.from(readFileSync(path, 'utf8').trim(), 'base64'), first);
      assert.deepEqual(loadSecretKey({ dataDir, env: {} }), first);
    });
  });

  void test('rejects a damaged secret.key file, naming the file', () => {
    withDir((dir) => {
      writeFileSync(join(dir, 'secret.key'), 'short', { mode: 0o600 });
      assert.throws(
        () => loadSecretKey({ dataDir: dir, env: {} }),
        /secret\.key: secret key must be/,
      );
    });
  });

  void test('refuses a secret.key that group or others may read or write, naming the file and the fix', () => {
    withDir((dir) => {
      const path = join(dir, 'secret.key');
      writeFileSync(path, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
      for (const mode of [0o644, 0o640, 0o604, 0o620]) {
        chmodSync(path, mode);
        assert.throws(
          () => loadSecretKey({ dataDir: dir, env: {} }),
          (e: Error) =>
            e.message.includes(path) &&
            e.message.includes(`mode 0${mode.toString(8)}`) &&
            e.message.includes(`chmod 600 ${path}`),
        );
      }
      chmodSync(path, 0o400);
      assert.equal(loadSecretKey({ dataDir: dir, env: {} }).length, 32);
    });
  });
});

describe('createCachingSecretBox', () => {
  const place: SealBinding = { table: 'otp_tokens', column: 'secret_sealed', rowId: 'T1' };

  it('opens each sealed value once and still refuses a tampered one', () => {
    let opens = 0;
    const inner = createSecretBox(randomBytes(32));
    const counting = {
      seal: (p: string, b: SealBinding) => inner.seal(p, b),
      open: (s: string, b: SealBinding) => (opens++, inner.open(s, b)),
      reseal: (s: string, b: SealBinding) => inner.reseal(s, b),
    };
    const box = createCachingSecretBox(counting, 2);
    const sealed = box.seal('JBSWY3DPEHPK3PXP', place);
    assert.equal(box.open(sealed, place), 'JBSWY3DPEHPK3PXP');
    assert.equal(box.open(sealed, place), 'JBSWY3DPEHPK3PXP');
    assert.equal(opens, 1);
    const bytes = Buffer.from(sealed.slice('v2:'.length), 'base64');
    bytes[bytes.length - 1]! ^= 0x01; // flip one bit of the ciphertext
    const tampered = `v2:${bytes.toString('base64')}`;
    assert.throws(() => box.open(tampered, place));
    assert.throws(() => box.open(tampered, place), 'a failure is never cached as a success');
  });

  it('a value opened for one row is not served from the cache for another row', () => {
    const box = createCachingSecretBox(createSecretBox(randomBytes(32)));
    const sealed = box.seal('JBSWY3DPEHPK3PXP', place);
    assert.equal(box.open(sealed, place), 'JBSWY3DPEHPK3PXP');
    assert.throws(() => box.open(sealed, { ...place, rowId: 'T2' }), /authentication failed/);
  });
});
