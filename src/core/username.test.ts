// The name → key rules every username and alias lookup goes through (security finding 1).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  cleanUsername,
  isUsernameNormalization,
  normalizeUsername,
  simpleUsername,
  simpleUsernameKey,
  usernameKey,
} from './username.ts';

describe('usernameKey', () => {
  const table: [string, string][] = [
    ['alice', 'alice'],
    ['Alice', 'alice'],
    ['ALICE', 'alice'],
    [' alice ', 'alice'],
    ['\talice\n', 'alice'],
    ['EXAMPLE\\Alice', 'example\\alice'],
    ['Ölaf', 'ölaf'],
    // NFC: a decomposed Ö (O + combining diaeresis) is the same name as the composed one.
    ['O\u0308laf', 'ölaf'],
    ['', ''],
    ['   ', ''],
  ];
  for (const [name, key] of table) {
    it(`${JSON.stringify(name)} → ${JSON.stringify(key)}`, () => {
      assert.equal(usernameKey(name), key);
    });
  }
});

describe('simpleUsername (Duo\'s "simple" normalization)', () => {
  const table: [string, string][] = [
    ['alice', 'alice'],
    ['EXAMPLE\\alice', 'alice'],
    ['alice@example.org', 'alice'],
    ['EXAMPLE\\alice@example.org', 'alice'],
    [' CORP\\Alice ', 'Alice'],
    ['a\\b\\c', 'b\\c'],
    ['alice@b@c', 'alice'],
    // A name that would become empty stays whole: never an empty key.
    ['alice\\', 'alice\\'],
    ['@example.org', '@example.org'],
    ['\\', '\\'],
  ];
  for (const [name, bare] of table) {
    it(`${JSON.stringify(name)} → ${JSON.stringify(bare)}`, () => {
      assert.equal(simpleUsername(name), bare);
      assert.equal(simpleUsernameKey(name), usernameKey(bare));
    });
  }
});

describe('normalizeUsername', () => {
  it('simple strips the domain, none only the surrounding spaces', () => {
    assert.equal(normalizeUsername(' EXAMPLE\\Alice ', 'simple'), 'Alice');
    assert.equal(normalizeUsername(' EXAMPLE\\Alice ', 'none'), 'EXAMPLE\\Alice');
    assert.equal(cleanUsername('  bob '), 'bob');
  });
  it('knows its closed list', () => {
    assert.ok(isUsernameNormalization('simple'));
    assert.ok(isUsernameNormalization('none'));
    assert.ok(!isUsernameNormalization('Simple'));
    assert.ok(!isUsernameNormalization(undefined));
  });
});
