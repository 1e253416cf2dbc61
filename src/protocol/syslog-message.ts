// RFC 5424 syslog messages and RFC 6587 octet-counting frames: format and parse, bytes in, values out.
import { ProtocolError } from './protocol-error.ts';

/** RFC 5424 §6.2.1 table 1, in code order (the code is the index). */
export const SYSLOG_FACILITIES = [
  'kern',
  'user',
  'mail',
  'daemon',
  'auth',
  'syslog',
  'lpr',
  'news',
  'uucp',
  'cron',
  'authpriv',
  'ftp',
  'ntp',
  'security',
  'console',
  'solaris-cron',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
] as const;
export type SyslogFacility = (typeof SYSLOG_FACILITIES)[number];
export const isSyslogFacility = (v: unknown): v is SyslogFacility =>
  typeof v === 'string' && (SYSLOG_FACILITIES as readonly string[]).includes(v);

/** RFC 5424 §6.2.1 table 2, in code order. */
export const SYSLOG_SEVERITIES = [
  'emerg',
  'alert',
  'crit',
  'err',
  'warning',
  'notice',
  'info',
  'debug',
] as const;
export type SyslogSeverity = (typeof SYSLOG_SEVERITIES)[number];

/** The SD-ID Airlock's records use: RFC 5612's documentation enterprise number, 32473. */
export const AIRLOCK_SD_ID = 'airlock@32473';

export interface SyslogMessage {
  facility: SyslogFacility;
  severity: SyslogSeverity;
  /** Milliseconds since the epoch; written as UTC with milliseconds (RFC 5424 §6.2.3). */
  timestampMs: number;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  /** SD-ID → parameters; an empty map is the NILVALUE `-`. */
  structuredData: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** MSG (MSG-ANY: no BOM); the empty string writes no MSG. */
  message: string;
}

/** RFC 5424 §6.1: header fields are PRINTUSASCII with maximum lengths; `-` is NILVALUE. */
function headerField(value: string, maxLength: number): string {
  const printable = value.replace(/[^\x21-\x7e]/g, '_').slice(0, maxLength);
  return printable === '' ? '-' : printable;
}

/** RFC 5424 §6.3.3: `"`, `\` and `]` are escaped in PARAM-VALUE. */
function escapeParamValue(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** SD-NAME: 1–32 PRINTUSASCII except `=`, space, `]`, `"` (RFC 5424 §6.3.2). */
function sdName(name: string): string {
  const cleaned = name.replace(/[^\x21-\x7e]|[= \]"]/g, '_').slice(0, 32);
  return cleaned === '' ? '_' : cleaned;
}

/** One RFC 5424 SYSLOG-MSG, without transport framing. */
export function formatSyslogMessage(m: SyslogMessage): string {
  const pri = SYSLOG_FACILITIES.indexOf(m.facility) * 8 + SYSLOG_SEVERITIES.indexOf(m.severity);
  const timestamp = new Date(m.timestampMs).toISOString();
  const elements = Object.entries(m.structuredData).map(
    ([id, params]) =>
      `[${sdName(id)}${Object.entries(params)
        .map(([k, v]) => ` ${sdName(k)}="${escapeParamValue(v)}"`)
        .join('')}]`,
  );
  const sd = elements.length === 0 ? '-' : elements.join('');
  const header = [
    `<${pri}>1`,
    timestamp,
    headerField(m.hostname, 255),
    headerField(m.appName, 48),
    headerField(m.procId, 128),
    headerField(m.msgId, 32),
  ].join(' ');
  return m.message === '' ? `${header} ${sd}` : `${header} ${sd} ${m.message}`;
}

/** RFC 6587 §3.4.1 octet counting: `MSG-LEN SP SYSLOG-MSG`, the length in octets. */
export function frameOctetCounted(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}

/**
 * Splits a TCP/TLS byte stream into octet-counted frames (RFC 6587 §3.4.1). Returns the complete
 * messages and the bytes of an incomplete one still to come.
 */
export function splitOctetCounted(buffer: Buffer): { messages: string[]; rest: Buffer } {
  const messages: string[] = [];
  let offset = 0;
  for (;;) {
    const space = buffer.indexOf(0x20, offset);
    if (space === -1) break;
    const lengthText = buffer.subarray(offset, space).toString('ascii');
    if (!/^[1-9][0-9]{0,8}$/.test(lengthText)) {
      throw new ProtocolError('SYSLOG_MALFORMED', `bad octet count ${JSON.stringify(lengthText)}`);
    }
    const end = space + 1 + Number(lengthText);
    if (end > buffer.length) break;
    messages.push(buffer.subarray(space + 1, end).toString('utf8'));
    offset = end;
  }
  return { messages, rest: buffer.subarray(offset) };
}

/** Parses one RFC 5424 SYSLOG-MSG; a message that is not one throws a ProtocolError. */
export function parseSyslogMessage(text: string): SyslogMessage {
  const header = /^<([0-9]{1,3})>1 (\S+) (\S{1,255}) (\S{1,48}) (\S{1,128}) (\S{1,32}) /.exec(text);
  if (!header) throw new ProtocolError('SYSLOG_MALFORMED', 'not an RFC 5424 header');
  const [whole, priText, timestamp, hostname, appName, procId, msgId] = header as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const pri = Number(priText);
  const facility = SYSLOG_FACILITIES[Math.floor(pri / 8)];
  const severity = SYSLOG_SEVERITIES[pri % 8];
  if (facility === undefined || severity === undefined || pri > 191) {
    throw new ProtocolError('SYSLOG_MALFORMED', `PRI ${pri} out of range`);
  }
  const timestampMs = Date.parse(timestamp);
  if (
    !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)$/.test(timestamp) ||
    Number.isNaN(timestampMs)
  ) {
    throw new ProtocolError('SYSLOG_MALFORMED', `bad TIMESTAMP ${JSON.stringify(timestamp)}`);
  }
  const { structuredData, rest } = parseStructuredData(text.slice(whole.length));
  if (rest !== '' && !rest.startsWith(' ')) {
    throw new ProtocolError('SYSLOG_MALFORMED', 'no space between STRUCTURED-DATA and MSG');
  }
  const message = rest.slice(1).replace(/^\uFEFF/, '');
  const nil = (v: string) => (v === '-' ? '' : v);
  return {
    facility,
    severity,
    timestampMs,
    hostname: nil(hostname),
    appName: nil(appName),
    procId: nil(procId),
    msgId: nil(msgId),
    structuredData,
    message,
  };
}

function parseStructuredData(text: string): {
  structuredData: Record<string, Record<string, string>>;
  rest: string;
} {
  if (text.startsWith('-')) return { structuredData: {}, rest: text.slice(1) };
  const structuredData: Record<string, Record<string, string>> = {};
  let i = 0;
  if (text[i] !== '[')
    throw new ProtocolError('SYSLOG_MALFORMED', 'STRUCTURED-DATA must be - or [');
  while (text[i] === '[') {
    const idMatch = /^\[([^ =\]"]{1,32})/.exec(text.slice(i));
    if (!idMatch?.[1]) throw new ProtocolError('SYSLOG_MALFORMED', 'bad SD-ID');
    const params: Record<string, string> = {};
    structuredData[idMatch[1]] = params;
    i += idMatch[0].length;
    while (text[i] === ' ') {
      const nameMatch = /^ ([^ =\]"]{1,32})="/.exec(text.slice(i));
      if (!nameMatch?.[1]) throw new ProtocolError('SYSLOG_MALFORMED', 'bad SD-PARAM');
      i += nameMatch[0].length;
      let value = '';
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) i += 1;
        value += text[i];
        i += 1;
      }
      if (text[i] !== '"') throw new ProtocolError('SYSLOG_MALFORMED', 'unterminated PARAM-VALUE');
      params[nameMatch[1]] = value;
      i += 1;
    }
    if (text[i] !== ']') throw new ProtocolError('SYSLOG_MALFORMED', 'unterminated SD-ELEMENT');
    i += 1;
  }
  return { structuredData, rest: text.slice(i) };
}
