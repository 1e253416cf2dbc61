// RFC 5424 formatting and parsing (the RFC's own examples), RFC 6587 octet-counting frames.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError } from './protocol-error.ts';
import {
  formatSyslogMessage,
  frameOctetCounted,
  parseSyslogMessage,
  splitOctetCounted,
} from './syslog-message.ts';

describe('RFC 5424 syslog messages', () => {
  it('formats PRI, version, UTC timestamp with milliseconds, header fields, SD and MSG', () => {
    const text = formatSyslogMessage({
      facility: 'auth',
      severity: 'warning',
      timestampMs: Date.UTC(2026, 11, 6, 9, 30, 0, 125),
      hostname: 'proxy1.example.org',
      appName: 'airlock-proxy',
      procId: '4242',
      msgId: 'failmode',
      structuredData: { 'airlock@32473': { status: 'Reject', note: 'a "quoted" ]\\ value' } },
      message: '{"msg":"Failmode Secure"}',
    });
    // auth (4) * 8 + warning (4) = 36
    assert.equal(
      text,
      '<36>1 2026-12-06T09:30:00.125Z proxy1.example.org airlock-proxy 4242 failmode ' +
        '[airlock@32473 status="Reject" note="a \\"quoted\\" \\]\\\\ value"] {"msg":"Failmode Secure"}',
    );
  });

  it('round-trips through the parser, escapes included', () => {
    const m = {
      facility: 'local4',
      severity: 'info',
      timestampMs: Date.UTC(2026, 0, 2, 3, 4, 5, 6),
      hostname: 'h',
      appName: 'airlock',
      procId: '1',
      msgId: 'audit',
      structuredData: { 'airlock@32473': { a: 'x"]\\y', b: '' } },
      message: '{"k":"v w"}',
    } as const;
    assert.deepEqual(parseSyslogMessage(formatSyslogMessage(m)), m);
  });

  it('writes NILVALUE for empty fields and no SD', () => {
    const text = formatSyslogMessage({
      facility: 'kern',
      severity: 'emerg',
      timestampMs: 0,
      hostname: '',
      appName: 'a b',
      procId: '',
      msgId: '',
      structuredData: {},
      message: '',
    });
    assert.equal(text, '<0>1 1970-01-01T00:00:00.000Z - a_b - - -');
  });

  it('parses the examples of RFC 5424 §6.5', () => {
    const ex1 = parseSyslogMessage(
      "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \uFEFF'su root' failed for lonvick on /dev/pts/8",
    );
    assert.equal(ex1.facility, 'auth');
    assert.equal(ex1.severity, 'crit');
    assert.equal(ex1.procId, '');
    assert.equal(ex1.message, "'su root' failed for lonvick on /dev/pts/8");
    const ex3 = parseSyslogMessage(
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] \uFEFFAn application event log entry...',
    );
    assert.equal(ex3.facility, 'local4');
    assert.equal(ex3.severity, 'notice');
    assert.deepEqual(ex3.structuredData, {
      'exampleSDID@32473': { iut: '3', eventSource: 'Application', eventID: '1011' },
    });
    const ex4 = parseSyslogMessage(
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]',
    );
    assert.deepEqual(Object.keys(ex4.structuredData), [
      'exampleSDID@32473',
      'examplePriority@32473',
    ]);
    assert.equal(ex4.message, '');
  });

  for (const [what, text] of [
    ['RFC 3164 (BSD) syslog', '<34>Oct 11 22:14:15 mymachine su: failed'],
    ['a PRI above 191', '<192>1 2003-10-11T22:14:15.003Z h a - - -'],
    ['a timestamp without zone', '<34>1 2003-10-11T22:14:15 h a - - -'],
    ['an unterminated SD element', '<34>1 2003-10-11T22:14:15Z h a - - [x@1 a="b"'],
    ['SD that is neither - nor [', '<34>1 2003-10-11T22:14:15Z h a - - x'],
  ] as const) {
    it(`refuses ${what} with SYSLOG_MALFORMED`, () => {
      assert.throws(
        () => parseSyslogMessage(text),
        (e: unknown) => e instanceof ProtocolError && e.code === 'SYSLOG_MALFORMED',
      );
    });
  }
});

describe('RFC 6587 octet counting', () => {
  it('frames with the length in octets, not characters', () => {
    assert.equal(
      frameOctetCounted('<13>1 - - - - - - é').toString('utf8'),
      '20 <13>1 - - - - - - é',
    );
  });

  it('splits a stream at any chunk boundary and keeps the incomplete rest', () => {
    const stream = Buffer.concat([frameOctetCounted('first'), frameOctetCounted('second ü')]);
    for (let cut = 0; cut <= stream.length; cut += 1) {
      const a = splitOctetCounted(stream.subarray(0, cut));
      const b = splitOctetCounted(Buffer.concat([a.rest, stream.subarray(cut)]));
      assert.deepEqual([...a.messages, ...b.messages], ['first', 'second ü'], `cut at ${cut}`);
      assert.equal(b.rest.length, 0);
    }
  });

  it('refuses a frame whose length is not a number', () => {
    assert.throws(() => splitOctetCounted(Buffer.from('<34>1 x')), ProtocolError);
  });
});
