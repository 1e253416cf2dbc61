// Property-based round trips (fast-check) where the decoders have a model: encode -> decode = id.
// AIRLOCK_FC_RUNS sets the number of runs per property (default 200; docs/security.md for long runs).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseIni } from '../../src/config/ini-parse.ts';
import {
  canonicalizeParams,
  parseAuthorization,
  signRequest,
  verifySignature,
} from '../../src/protocol/duo-signature.ts';
import { createAttribute, getAttribute } from '../../src/protocol/radius/radius-attributes.ts';
import { hidePassword, unhidePassword } from '../../src/protocol/radius/radius-crypto.ts';
import {
  RADIUS_CODES,
  decodePacket,
  encodePacket,
  type RadiusPacket,
} from '../../src/protocol/radius/radius-packet.ts';
import {
  decodeAccessRequest,
  encodeAccessRequest,
} from '../../src/protocol/radius/radius-request.ts';
import { encodeResponse, verifyResponse } from '../../src/protocol/radius/radius-response.ts';
import { decodeForm } from '../../src/service/auth-api/request-params.ts';
import {
  decodeLdapMessage,
  encodeBindRequest,
  encodeBindResponse,
  splitLdapFrames,
} from '../../src/protocol/ldap/ldap-message.ts';

const numRuns = Number(process.env.AIRLOCK_FC_RUNS ?? 200);
function check<Ts extends [unknown, ...unknown[]]>(property: fc.IProperty<Ts>): void {
  fc.assert(property, { numRuns });
}

const octets = (min: number, max: number) =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a));
const authenticator = octets(16, 16);
const secret = fc.oneof(fc.string({ minLength: 1, maxLength: 64 }), octets(1, 64));
const attribute = fc.record({ type: fc.integer({ min: 1, max: 255 }), value: octets(0, 40) });
// Proxy-State (33) and Message-Authenticator (80) belong to the encoders; the others are free.
const freeAttribute = attribute.filter((a) => a.type !== 33 && a.type !== 80 && a.type !== 2);
// UTF-8 text that survives a fatal decoder: no lone surrogates.
const text = (max: number) =>
  fc.string({ unit: 'grapheme', maxLength: max }).filter((s) => Buffer.byteLength(s) <= 253);
const hostileKey = fc.constantFrom('constructor', '__proto__', 'toString', 'valueOf', '');

describe('RADIUS round trips (fast-check)', () => {
  it('decodePacket(encodePacket(p)) = p for any packet that fits 4096 octets', () => {
    const packet = fc.record({
      code: fc.constantFrom(...RADIUS_CODES),
      identifier: fc.integer({ min: 0, max: 255 }),
      authenticator,
      attributes: fc.array(attribute, { maxLength: 60 }),
    });
    check(
      fc.property(packet, (p: RadiusPacket) => {
        assert.deepEqual(decodePacket(encodePacket(p)), {
          ...p,
          attributes: p.attributes.map((a) => ({ ...a })),
        });
      }),
    );
  });

  it('typed attribute values decode to what was encoded (text, ipaddr, integer)', () => {
    check(
      fc.property(
        text(200),
        fc.ipV4(),
        fc.integer({ min: 0, max: 0xffffffff }),
        (name, ip, port) => {
          const attributes = [
            createAttribute('User-Name', name),
            createAttribute('NAS-IP-Address', ip),
            createAttribute('NAS-Port', port),
          ];
          assert.equal(getAttribute(attributes, 'User-Name'), name);
          assert.equal(getAttribute(attributes, 'NAS-IP-Address'), ip);
          assert.equal(getAttribute(attributes, 'NAS-Port'), port);
        },
      ),
    );
  });

  it('unhidePassword(hidePassword(p)) = p for passwords of 0..128 octets without a trailing NUL', () => {
    const password = octets(0, 128).filter((p) => p.length === 0 || p[p.length - 1] !== 0);
    check(
      fc.property(password, secret, authenticator, (p, s, a) => {
        assert.deepEqual(unhidePassword(hidePassword(p, s, a), s, a), p);
      }),
    );
  });

  it('an encoded Access-Request decodes to its user, password and attributes', () => {
    check(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        authenticator,
        secret,
        text(64),
        fc.option(text(100).filter((p) => !p.endsWith('\0') && Buffer.byteLength(p) <= 128)),
        fc.array(
          freeAttribute.filter((a) => ![1, 3, 24].includes(a.type)),
          { maxLength: 20 },
        ),
        (identifier, auth, s, userName, password, extra) => {
          const bytes = encodeAccessRequest({
            identifier,
            authenticator: auth,
            secret: s,
            attributes: [createAttribute('User-Name', userName), ...extra],
            password: password ?? undefined,
          });
          const request = decodeAccessRequest(bytes, s, { requireMessageAuthenticator: true });
          assert.equal(request.userName, userName);
          assert.equal(request.password?.toString('utf8'), password ?? undefined);
          assert.equal(request.identifier, identifier);
          assert.equal(request.hasMessageAuthenticator, true);
        },
      ),
    );
  });

  it('an encoded response verifies against its request and keeps Proxy-State in order', () => {
    check(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        authenticator,
        secret,
        fc.constantFrom('Access-Accept', 'Access-Reject', 'Access-Challenge' as const),
        fc.array(octets(0, 20), { maxLength: 5 }),
        fc.array(freeAttribute, { maxLength: 20 }),
        (identifier, auth, s, code, proxyStates, attributes) => {
          const proxyState = proxyStates.map((value) => ({ type: 33, value }));
          const request = { identifier, authenticator: auth, attributes: proxyState };
          const response = encodeResponse({ request, code, attributes, secret: s });
          const verified = verifyResponse({
            request,
            response,
            secret: s,
            requireMessageAuthenticator: true,
          });
          assert.equal(verified.code, code);
          assert.deepEqual(
            verified.attributes.filter((a) => a.type === 33),
            proxyState,
          );
        },
      ),
    );
  });
});

describe('Duo request signing round trips (fast-check)', () => {
  const params = fc.dictionary(
    fc.oneof(fc.string(), hostileKey),
    fc.array(fc.string(), {
      minLength: 1,
      maxLength: 3,
    }),
  );

  it('a form encoded from any parameters decodes to the same parameters, prototype keys included', () => {
    check(
      fc.property(params, (p) => {
        const form = new URLSearchParams();
        for (const [key, values] of Object.entries(p)) for (const v of values) form.append(key, v);
        const decoded = decodeForm(form.toString());
        assert.ok(inheritsNothing(decoded), 'a parameter map inherits nothing');
        // Lone surrogates become U+FFFD on the way through UTF-8, as in any HTTP client.
        const wellFormed = (s: string) => Buffer.from(s, 'utf8').toString('utf8');
        const expected = Object.fromEntries(
          Object.entries(p).map(([k, vs]) => [wellFormed(k), vs.map(wellFormed)]),
        );
        assert.equal(canonicalizeParams(decoded), canonicalizeParams(expected));
      }),
    );
  });

  it('a request signed over decoded parameters verifies, and parseAuthorization returns the ikey', () => {
    const ikey = fc.stringMatching(/^[\x21-\x39\x3b-\x7e]{1,40}$/);
    check(
      fc.property(params, ikey, fc.string({ minLength: 1 }), (p, key, skey) => {
        const form = new URLSearchParams();
        for (const [k, values] of Object.entries(p)) for (const v of values) form.append(k, v);
        const decoded = decodeForm(form.toString());
        const date = 'Tue, 21 Apr 2026 10:00:00 -0000';
        const base = { method: 'POST', host: 'api.example', path: '/auth/v2/auth', date };
        const authorization = signRequest({ ...base, ikey: key, skey, params: decoded });
        const credentials = parseAuthorization(authorization);
        assert.equal(credentials.ikey, key);
        const result = verifySignature({
          ...base,
          skey,
          signature: credentials.signature,
          params: decoded,
        });
        assert.deepEqual(result, { ok: true, version: 'v2-sha512' });
      }),
    );
  });
});

describe('LDAP message round trips (fast-check)', () => {
  // DNs and messages: UTF-8 text without lone surrogates (the decoder is fatal on bad UTF-8).
  const utf8Text = (min: number, max: number) =>
    fc.string({ unit: 'grapheme', minLength: min, maxLength: max });
  const messageId = fc.integer({ min: 0, max: 0x7fffffff });
  it('a BindRequest decodes to its messageID, version, DN and password, and frames out of any stream split', () => {
    check(
      fc.property(
        messageId,
        fc.integer({ min: 1, max: 127 }),
        utf8Text(0, 300),
        octets(0, 300),
        fc.integer({ min: 0, max: 400 }),
        (id, version, name, password, cut) => {
          const raw = encodeBindRequest({ messageId: id, version, name, password });
          assert.deepEqual(decodeLdapMessage(raw).operation, {
            type: 'bindRequest',
            version,
            name,
            authentication: { kind: 'simple', password },
          });
          const at = Math.min(cut, raw.length);
          const head = splitLdapFrames(raw.subarray(0, at));
          assert.equal(head.frames.length, at === raw.length ? 1 : 0);
          const both = splitLdapFrames(Buffer.concat([raw, raw]));
          assert.deepEqual(both.frames, [raw, raw]);
          assert.equal(both.rest.length, 0);
        },
      ),
    );
  });

  it('a BindResponse decodes to its result', () => {
    check(
      fc.property(
        messageId,
        fc.integer({ min: 0, max: 0x7fffffff }),
        utf8Text(0, 200),
        utf8Text(0, 200),
        (id, resultCode, matchedDn, diagnosticMessage) => {
          const raw = encodeBindResponse({
            messageId: id,
            resultCode,
            matchedDn,
            diagnosticMessage,
          });
          const m = decodeLdapMessage(raw);
          assert.equal(m.messageId, id);
          assert.deepEqual(m.operation, {
            type: 'bindResponse',
            result: { resultCode, matchedDn, diagnosticMessage },
          });
        },
      ),
    );
  });
});

describe('INI round trip (fast-check)', () => {
  it('parseIni reads back the sections and entries a document was written from', () => {
    const key = fc.stringMatching(/^[a-z_][a-z0-9_]{0,15}$/);
    const value = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,30}[\x21-\x7e])?$/);
    const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_ ]{0,15}[A-Za-z0-9_]$/);
    const section = fc.record({
      name,
      entries: fc.dictionary(key, fc.oneof(value, fc.constant(''))),
    });
    check(
      fc.property(fc.uniqueArray(section, { selector: (s) => s.name, maxLength: 6 }), (doc) => {
        const text = doc
          .map((s) =>
            [`[${s.name}]`, ...Object.entries(s.entries).map(([k, v]) => `${k} = ${v}`)].join('\n'),
          )
          .join('\n\n');
        const parsed = parseIni(text);
        assert.deepEqual(parsed.errors, []);
        assert.deepEqual(
          parsed.sections.map((s) => ({
            name: s.name,
            entries: Object.fromEntries(s.entries.map((e) => [e.key, e.value])),
          })),
          doc.map((s) => ({ name: s.name, entries: { ...s.entries } })),
        );
      }),
    );
  });
});

/** Whether nothing can be inherited: every prototype in the chain is empty (no Object.prototype). */
function inheritsNothing(value: object): boolean {
  for (
    let p: object | null = Object.getPrototypeOf(value) as object | null;
    p;
    p = Object.getPrototypeOf(p) as object | null
  ) {
    if (Reflect.ownKeys(p).length > 0) return false;
  }
  return true;
}
