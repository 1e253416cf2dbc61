// INI parsing with ConfigParser semantics: whole-line comments only, continuations, errors with lines.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIniError, parseIni, type IniDocument } from './ini-parse.ts';

/** `{ section: { key: value } }`, for compact assertions. */
function flat(doc: IniDocument): Record<string, Record<string, string>> {
  return Object.fromEntries(
    doc.sections.map((s) => [s.name, Object.fromEntries(s.entries.map((e) => [e.key, e.value]))]),
  );
}

describe('parseIni', () => {
  const valueCases: Array<[name: string, text: string, expected: Record<string, string>]> = [
    [
      'keeps ; and # inside a value',
      'radius_secret_1=pa;ss#word',
      { radius_secret_1: 'pa;ss#word' },
    ],
    ['keeps " ; x" after a value', 'skey = abc ; not a comment', { skey: 'abc ; not a comment' }],
    ['accepts key: value', 'failmode: secure', { failmode: 'secure' }],
    ['splits on the first = or :', 'api_host: localhost:8443', { api_host: 'localhost:8443' }],
    ['splits on the first = when the value has :', 'radius_ip_1 = ::1', { radius_ip_1: '::1' }],
    ['lower-cases keys', 'FailMode = Secure', { failmode: 'Secure' }],
    ['trims keys and values', '   port   =   1812   ', { port: '1812' }],
    ['allows an empty value', 'security_group_dn =', { security_group_dn: '' }],
    ['keeps = in a value', 'ldap_filter = (cn=a=b)', { ldap_filter: '(cn=a=b)' }],
    ['keeps quotes as written', 'secret = "quoted"', { secret: '"quoted"' }],
  ];
  for (const [name, line, expected] of valueCases) {
    it(name, () => {
      const doc = parseIni(`[s]\n${line}\n`);
      assert.deepEqual(doc.errors, []);
      assert.deepEqual(flat(doc), { s: expected });
    });
  }

  it('skips whole-line comments, also indented ones', () => {
    const doc = parseIni('# top\n[s]\n; one\n   # two\n\t; three\na=1\n');
    assert.deepEqual(doc.errors, []);
    assert.deepEqual(flat(doc), { s: { a: '1' } });
  });

  it('joins indented continuation lines with newlines', () => {
    const doc = parseIni('[s]\nldap_filter = (|\n  (a=1)\n  (b=2))\nnext = x\n');
    assert.deepEqual(flat(doc), { s: { ldap_filter: '(|\n(a=1)\n(b=2))', next: 'x' } });
  });

  it('keeps blank lines inside a continued value and drops trailing ones', () => {
    const doc = parseIni('[s]\na = 1\n\n  2\n\n\nb = 3\n');
    assert.deepEqual(flat(doc), { s: { a: '1\n\n2', b: '3' } });
  });

  it('starts a continued value after an empty first line without a leading newline', () => {
    const doc = parseIni('[s]\nnames =\n  User-Name\n  Class\n');
    assert.deepEqual(flat(doc), { s: { names: 'User-Name\nClass' } });
  });

  it('does not let a comment line end a continuation', () => {
    const doc = parseIni('[s]\na = 1\n# note\n  2\n');
    assert.deepEqual(flat(doc), { s: { a: '1\n2' } });
  });

  it('measures continuation against the key line indent', () => {
    const doc = parseIni('[s]\n  a = 1\n  b = 2\n    c\n');
    assert.deepEqual(flat(doc), { s: { a: '1', b: '2\nc' } });
  });

  it('keeps sections in order with the line numbers of headers and keys', () => {
    const doc = parseIni('[main]\ndebug=true\n\n[radius_server_auto]\n\nikey=x\nport = 1812\n');
    assert.deepEqual(
      doc.sections.map((s) => [s.name, s.line, s.entries.map((e) => [e.key, e.line])]),
      [
        ['main', 1, [['debug', 2]]],
        [
          'radius_server_auto',
          4,
          [
            ['ikey', 6],
            ['port', 7],
          ],
        ],
      ],
    );
  });

  it('keeps section names as written and allows an empty section', () => {
    const doc = parseIni('[Main]\n[duo_only_client]\n');
    assert.deepEqual(flat(doc), { Main: {}, duo_only_client: {} });
  });

  it('tolerates a BOM and CRLF or CR line ends', () => {
    const doc = parseIni('\uFEFF[s]\r\na = 1\r\n  2\r\nb=3\rc=4\r\n');
    assert.deepEqual(doc.errors, []);
    assert.deepEqual(flat(doc), { s: { a: '1\n2', b: '3', c: '4' } });
  });

  it('parses the empty text to nothing', () => {
    assert.deepEqual(parseIni(''), { sections: [], errors: [] });
  });

  const errorCases: Array<[name: string, text: string, errors: string[]]> = [
    ['a key before any section', 'a=1\nb=2\n[s]\n', ['line 1: key before any [section] header']],
    [
      'a duplicate section',
      '[s]\na=1\n[t]\n[s]\nb=2\n',
      ['line 4: duplicate section [s] (first at line 1)'],
    ],
    [
      'a duplicate key, whatever its case',
      '[s]\nport=1\nPORT=2\n',
      ['line 3: duplicate key port in [s] (first at line 2)'],
    ],
    [
      'a line that is neither header nor key',
      '[s]\njust words\n',
      [
        'line 2: expected "key = value", "key: value" or "[section]" (continuation lines must be indented deeper than their key)',
      ],
    ],
    ['a missing key', '[s]\n= value\n', ['line 2: missing key before "=" or ":"']],
    ['an empty section name', '[ ]\n', ['line 1: empty section name']],
    [
      'a header with an inline comment',
      '[s] ; the server\n',
      ['line 1: malformed section header: write [name] alone on the line (no inline comments)'],
    ],
  ];
  for (const [name, text, errors] of errorCases) {
    it(`reports ${name} with its line number`, () => {
      assert.deepEqual(parseIni(text).errors.map(formatIniError), errors);
    });
  }

  it('reports every error in one pass and keeps the good parts', () => {
    const doc = parseIni('orphan=1\n[s]\na=1\na=2\nnonsense\n[s]\nb=1\n[t]\nc=3\n');
    assert.deepEqual(
      doc.errors.map((e) => e.line),
      [1, 4, 5, 6],
    );
    // The duplicate [s] block is skipped, not merged.
    assert.deepEqual(flat(doc), { s: { a: '1' }, t: { c: '3' } });
  });

  it('never quotes the offending line, which could hold a secret', () => {
    const doc = parseIni('[s]\nhunter2-secret-on-its-own-line\n[s]\nsecret=x\nsecret=hunter3\n');
    const text = doc.errors.map(formatIniError).join('\n');
    assert.doesNotMatch(text, /hunter/);
  });

  it('consumes the continuation lines of a refused duplicate key', () => {
    const doc = parseIni('[s]\na=1\na=2\n  more\nb=3\n');
    assert.equal(doc.errors.length, 1);
    assert.deepEqual(flat(doc), { s: { a: '1', b: '3' } });
  });
});
