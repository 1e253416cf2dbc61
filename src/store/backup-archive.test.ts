// The backup file format: what it seals opens with the same key only, and a change of any byte
// (header, ciphertext, tag), a truncation or another key is refused with BACKUP_UNREADABLE.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { isAirlockError } from '../core/error-registry.ts';
import { BACKUP_MAGIC, openBackup, readBackupHeader, sealBackup } from './backup-archive.ts';

const KEY = randomBytes(32);
const DATABASE = Buffer.concat([Buffer.from('SQLite format 3\0'), randomBytes(4096)]);
const META = { schemaVersion: 9, createdMs: 1_700_000_000_000 };

const unreadable = (pattern: RegExp) => (err: unknown) => {
  assert.ok(isAirlockError(err) && err.code === 'BACKUP_UNREADABLE', String(err));
  assert.match(err.message, pattern);
  return true;
};

describe('backup archive', () => {
  it('opens with the key it was sealed with, giving back the database and the header', () => {
    const file = sealBackup(DATABASE, KEY, META);
    const { header, database } = openBackup(file, KEY);
    assert.ok(database.equals(DATABASE));
    assert.equal(header.schema_version, 9);
    assert.equal(header.format_version, 1);
    assert.equal(header.created_ms, META.createdMs);
    assert.deepEqual(readBackupHeader(file), header);
    assert.ok(file.subarray(0, BACKUP_MAGIC.length).equals(Buffer.from(BACKUP_MAGIC)));
    assert.equal(file.indexOf('SQLite format 3'), -1, 'the database is not in the clear');
  });

  it('never seals two backups alike (fresh salt and IV)', () => {
    const a = sealBackup(DATABASE, KEY, META);
    const b = sealBackup(DATABASE, KEY, META);
    assert.notDeepEqual(readBackupHeader(a), readBackupHeader(b));
    assert.ok(!a.equals(b));
  });

  it('refuses a file with any single byte changed', () => {
    const file = sealBackup(DATABASE, KEY, META);
    // Every byte of the header lines, and a spread of the ciphertext and the tag.
    const headerEnd = file.indexOf(0x0a, BACKUP_MAGIC.length) + 1;
    const offsets = [
      ...Array.from({ length: headerEnd }, (_, i) => i),
      ...Array.from(
        { length: 64 },
        (_, i) => headerEnd + Math.floor((i * (file.length - headerEnd)) / 64),
      ),
      file.length - 1,
    ];
    for (const offset of offsets) {
      const copy = Buffer.from(file);
      copy[offset] = copy[offset]! ^ 0x20;
      assert.throws(() => openBackup(copy, KEY), unreadable(/./), `byte ${offset}`);
    }
  });

  it('refuses another key, a truncated file and a file that is not a backup', () => {
    const file = sealBackup(DATABASE, KEY, META);
    assert.throws(() => openBackup(file, randomBytes(32)), unreadable(/another key file/));
    assert.throws(
      () => openBackup(file.subarray(0, file.length - 1), KEY),
      unreadable(/authentication failed/),
    );
    const headerEnd = file.indexOf(0x0a, BACKUP_MAGIC.length) + 1;
    assert.throws(() => openBackup(file.subarray(0, headerEnd + 3), KEY), unreadable(/truncated/));
    assert.throws(() => openBackup(DATABASE, KEY), unreadable(/not an Airlock backup/));
    assert.throws(
      () =>
        openBackup(
          Buffer.from(`${BACKUP_MAGIC}{"format_version":2,"schema_version":9,"salt":"","iv":""}\n`),
          KEY,
        ),
      unreadable(/backup format 2/),
    );
  });
});
