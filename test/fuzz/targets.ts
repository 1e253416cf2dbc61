// Fuzz targets: every decoder that reads bytes from the network or from an operator's file, each
// with its invariants. A target returns normally for any input; anything it throws is a finding.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AirlockError } from '../../src/core/error-registry.ts';
import { parseAuthProxyConfig } from '../../src/config/authproxy-config.ts';
import { parseIni } from '../../src/config/ini-parse.ts';
import { parseFactorsConfigText } from '../../src/factors/factors-config.ts';
import {
  importDevicePublicKey,
  signDeviceRequest,
  verifyDeviceRequest,
  type DeviceRequestParts,
} from '../../src/protocol/device-signature.ts';
import {
  canonicalizeParams,
  parseAuthorization,
  parseDuoDate,
  signRequest,
  signRequestV1,
  verifySignature,
  verifySignatureV1,
} from '../../src/protocol/duo-signature.ts';
import { ProtocolError } from '../../src/protocol/protocol-error.ts';
import {
  decodeAttributeValue,
  encodeAttributeValue,
  findAttributeByType,
} from '../../src/protocol/radius/radius-attributes.ts';
import {
  MESSAGE_AUTHENTICATOR_TYPE,
  computeResponseAuthenticator,
  hidePassword,
  signMessageAuthenticator,
} from '../../src/protocol/radius/radius-crypto.ts';
import {
  decodePacket,
  encodePacket,
  findAttributeValueOffsets,
} from '../../src/protocol/radius/radius-packet.ts';
import {
  decodeAccessRequest,
  decodePasswordText,
  encodeAccessRequest,
} from '../../src/protocol/radius/radius-request.ts';
import { encodeResponse, verifyResponse } from '../../src/protocol/radius/radius-response.ts';
import {
  LDAP_OP,
  decodeLdapMessage,
  encodeBindRequest,
  encodeBindResponse,
  encodeExtendedRequest,
  splitLdapFrames,
} from '../../src/protocol/ldap/ldap-message.ts';
import { param, readRequestParams } from '../../src/service/auth-api/request-params.ts';
import {
  authParamsFromV1,
  preauthParamsFromV1,
} from '../../src/service/auth-api/rest-v1-shapes.ts';
import type { FuzzTarget } from './engine.ts';

const SECRET = 'fuzz-shared-secret';
const HOSTILE_KEYS = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];

/** Runs `step`; a ProtocolError (the decoders' typed error) is an expected outcome. */
function allowProtocolError<T>(step: () => T): T | undefined {
  try {
    return step();
  } catch (e) {
    if (e instanceof ProtocolError) return undefined;
    throw e;
  }
}

/** Splits an input into `count` text fields at NUL bytes (the last takes the rest). */
function fields(data: Buffer, count: number): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < count - 1; i++) {
    const nul = data.indexOf(0, start);
    if (nul === -1) {
      out.push(data.subarray(start).toString('utf8'));
      start = data.length;
    } else {
      out.push(data.subarray(start, nul).toString('utf8'));
      start = nul + 1;
    }
  }
  out.push(data.subarray(start).toString('utf8'));
  return out;
}

// ---------------------------------------------------------------------------------------------
// RADIUS

/** decodePacket + every attribute's typed value; decode -> encode gives the same bytes back. */
const radiusPacket: FuzzTarget = {
  name: 'radius-packet',
  description:
    'decodePacket and attribute values: only ProtocolError; encode(decode(x)) = x up to Length; typed values re-encode to the same octets',
  maxLength: 4200,
  dictionary: [
    Buffer.from([1, 0, 0, 20]),
    Buffer.from([80, 18]),
    Buffer.from([2, 18]),
    Buffer.from([0x10, 0x00]),
  ],
  fuzz(data) {
    const packet = allowProtocolError(() => decodePacket(data));
    if (packet === undefined) return;
    const length = data.readUInt16BE(2);
    // Round trip: the framing keeps every octet up to Length (padding beyond it is dropped).
    assert.deepEqual(encodePacket(packet), data.subarray(0, length));
    for (const attribute of packet.attributes) {
      const definition = findAttributeByType(attribute.type);
      if (definition === undefined) continue;
      const value = allowProtocolError(() => decodeAttributeValue(definition, attribute.value));
      if (value === undefined) continue;
      assert.deepEqual(encodeAttributeValue(definition, value), attribute.value);
    }
  },
};

/**
 * The server side: decodeAccessRequest. The Message-Authenticator is signed with the secret
 * before decoding when the packet has exactly one, so the fuzzer gets past the HMAC to
 * User-Password unhiding; then the answer encoded for it must verify as the client would.
 */
const radiusAccessRequest: FuzzTarget = {
  name: 'radius-access-request',
  description:
    'decodeAccessRequest (User-Password unhiding, Message-Authenticator): only ProtocolError; hide(unhide(p)) = p; the encoded answer verifies',
  maxLength: 4200,
  dictionary: [
    Buffer.from([80, 18]),
    Buffer.from([2, 18]),
    Buffer.from([2, 34]),
    Buffer.from([79, 3, 0]),
    Buffer.from([24, 3, 0]),
    Buffer.from([33, 4]),
  ],
  fuzz(input) {
    const data = Buffer.from(input);
    const packet = allowProtocolError(() => decodePacket(data));
    if (packet !== undefined && (packet.identifier & 2) === 0) {
      allowProtocolError(() => signMessageAuthenticator(data, packet.authenticator, SECRET));
    }
    const request = allowProtocolError(() =>
      decodeAccessRequest(data, SECRET, {
        requireMessageAuthenticator: ((packet?.identifier ?? 0) & 1) === 1,
      }),
    );
    if (request === undefined) return;
    if (request.password !== undefined) {
      allowProtocolError(() => decodePasswordText(request.password!));
      const hidden = request.attributes.find((a) => a.type === 2)!.value;
      const padded = Math.max(16, Math.ceil(request.password.length / 16) * 16);
      // Unhiding strips trailing NULs; hiding pads them back: same bytes when the block count holds.
      if (padded === hidden.length) {
        assert.deepEqual(hidePassword(request.password, SECRET, request.authenticator), hidden);
      }
    }
    const answer = allowProtocolError(() =>
      encodeResponse({ request, code: 'Access-Reject', attributes: [], secret: SECRET }),
    );
    if (answer === undefined) return;
    const verified = verifyResponse({
      request: { identifier: request.identifier, authenticator: request.authenticator },
      response: answer,
      secret: SECRET,
      requireMessageAuthenticator: true,
    });
    assert.equal(verified.code, 'Access-Reject');
  },
};

const REQUEST_AUTHENTICATOR = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const SENT_REQUEST = encodeAccessRequest({
  identifier: 7,
  authenticator: REQUEST_AUTHENTICATOR,
  secret: SECRET,
  attributes: [{ type: 1, value: Buffer.from('alice') }],
  password: 'correct horse',
});

/**
 * The client side: verifyResponse of what an upstream RADIUS server sent. A zero first octet of
 * the authenticator field asks for valid authenticators, so both the forged and the genuine
 * paths are explored.
 */
const radiusResponse: FuzzTarget = {
  name: 'radius-response',
  description:
    'verifyResponse of an upstream answer: only ProtocolError; a verified answer has the request Identifier',
  maxLength: 4200,
  dictionary: [
    Buffer.from([80, 18]),
    Buffer.from([2, 7]),
    Buffer.from([3, 7]),
    Buffer.from([11, 7]),
  ],
  fuzz(input) {
    const data = Buffer.from(input);
    const packet = allowProtocolError(() => decodePacket(data));
    if (packet !== undefined && data[4] === 0) {
      data[1] = 7;
      if (findAttributeValueOffsets(data, MESSAGE_AUTHENTICATOR_TYPE).length === 1) {
        allowProtocolError(() => signMessageAuthenticator(data, REQUEST_AUTHENTICATOR, SECRET));
      }
      computeResponseAuthenticator(data, REQUEST_AUTHENTICATOR, SECRET).copy(data, 4);
    }
    const response = allowProtocolError(() =>
      verifyResponse({
        request: SENT_REQUEST,
        response: data,
        secret: SECRET,
        requireMessageAuthenticator: (data[5] ?? 0) % 2 === 1,
      }),
    );
    if (response !== undefined) assert.equal(response.identifier, 7);
  },
};

// ---------------------------------------------------------------------------------------------
// Auth API

const CONTENT_TYPES = ['application/x-www-form-urlencoded', 'application/json', ''];

/**
 * The Auth API's parameter decoding (query, form, JSON) as a request reaches it, then signing
 * and verifying over the decoded parameters. Input: selector octet, URL, NUL, body.
 */
const authApiForm: FuzzTarget = {
  name: 'auth-api-form',
  description:
    'readRequestParams (query, form, JSON body): only a 4xx AirlockError; null-prototype maps of string lists; a request signed (v2, v1) over the decoded params verifies; /rest/v1 translation: only a 4xx',
  maxLength: 2048,
  dictionary: [
    ...HOSTILE_KEYS,
    '=',
    '&',
    '%',
    '%00',
    '%ZZ',
    '+',
    '?',
    '{"',
    '":[',
    'null',
    'username=',
    'factor=push',
  ],
  fuzz(data) {
    const contentType = CONTENT_TYPES[(data[0] ?? 0) % CONTENT_TYPES.length]!;
    const [url = '', body = ''] = fields(data.subarray(1), 2);
    const req = {
      raw: { url: url.startsWith('/') ? url : `/auth/v2/preauth?${url}` },
      body: Buffer.from(body, 'utf8'),
      headers: contentType === '' ? {} : { 'content-type': contentType },
    } as unknown as FastifyRequest;
    let params: ReturnType<typeof readRequestParams>;
    try {
      params = readRequestParams(req);
    } catch (e) {
      if (e instanceof AirlockError && e.status < 500) return;
      throw e;
    }
    for (const map of [params.signed, params.values]) {
      assert.ok(inheritsNothing(map), 'a parameter map inherits nothing');
      for (const values of Object.values(map)) {
        assert.ok(Array.isArray(values) && values.every((v) => typeof v === 'string'));
      }
      for (const key of HOSTILE_KEYS) {
        assert.equal(param(map, key), Object.hasOwn(map, key) ? map[key]![0] : undefined);
      }
    }
    // Round trip: a request signed over exactly these parameters verifies.
    const date = 'Tue, 21 Apr 2026 10:00:00 -0000';
    const authorization = signRequest({
      ikey: 'DIXXXXXXXXXXXXXXXXXX',
      skey: 'fuzz-skey',
      date,
      method: 'POST',
      host: 'api.example',
      path: params.path,
      params: params.signed,
    });
    const credentials = parseAuthorization(authorization);
    const result = verifySignature({
      skey: 'fuzz-skey',
      signature: credentials.signature,
      method: 'POST',
      host: 'api.example',
      path: params.path,
      params: params.signed,
      date,
    });
    assert.equal(result.ok, true);
    // Signature v1 (/rest/v1): the same round trip without a date.
    const v1 = parseAuthorization(
      signRequestV1({
        ikey: 'DIXXXXXXXXXXXXXXXXXX',
        skey: 'fuzz-skey',
        method: 'POST',
        host: 'api.example',
        path: params.path,
        params: params.signed,
      }),
    );
    assert.equal(
      verifySignatureV1({
        skey: 'fuzz-skey',
        signature: v1.signature,
        method: 'POST',
        host: 'api.example',
        path: params.path,
        params: params.signed,
      }).ok,
      true,
    );
    // /rest/v1's translation into /auth/v2 parameters: a 4xx or a map that inherits nothing.
    for (const translate of [preauthParamsFromV1, authParamsFromV1]) {
      try {
        assert.ok(inheritsNothing(translate(params.values)), 'a translated map inherits nothing');
      } catch (e) {
        if (!(e instanceof AirlockError && e.status < 500)) throw e;
      }
    }
  },
};

/** Authorization header, date header and signature verification over fuzzed request parts. */
const duoSignature: FuzzTarget = {
  name: 'duo-signature',
  description:
    'parseAuthorization (only ProtocolError), parseDuoDate, verifySignature and verifySignatureV1 (never throw); parsed credentials and dates round-trip',
  maxLength: 4500,
  dictionary: [
    'Basic ',
    'basic ',
    '=',
    'Tue, 21 Apr 2026 10:00:00 -0000',
    'GMT',
    '+0000',
    ':',
    'x-duo-',
    '[::1]:443',
  ],
  fuzz(data) {
    const [authorization = '', date = '', host = '', path = '', paramsText = '', signature = ''] =
      fields(data, 6);
    const credentials = allowProtocolError(() => parseAuthorization(authorization));
    if (credentials !== undefined) {
      const again = parseAuthorization(
        'Basic ' + Buffer.from(`${credentials.ikey}:${credentials.signature}`).toString('base64'),
      );
      assert.deepEqual(again, credentials);
    }
    const nowMs = Date.UTC(2026, 3, 21, 10, 0, 0);
    const parsedDate = parseDuoDate(date, nowMs, 1e9);
    if (parsedDate.ok) {
      const reparsed = parseDuoDate(new Date(parsedDate.dateMs).toUTCString(), nowMs, 1e9);
      assert.deepEqual(reparsed, parsedDate);
    }
    const params = Object.create(null) as Record<string, string[]>;
    for (const [k, v] of new URLSearchParams(paramsText)) (params[k] ??= []).push(v);
    canonicalizeParams(params);
    const result = verifySignature({
      skey: 'fuzz-skey',
      signature,
      method: 'GET',
      host,
      path,
      params,
      date,
      headers: { 'x-duo-test': paramsText },
    });
    assert.equal(result.ok, false);
    assert.equal(
      verifySignatureV1({ skey: 'fuzz-skey', signature, method: 'GET', host, path, params }).ok,
      false,
    );
  },
};

const DEVICE_KEYS = generateKeyPairSync('ec', { namedCurve: 'P-256' });

/** Device API request signatures and public keys. */
const deviceSignature: FuzzTarget = {
  name: 'device-signature',
  description:
    'verifyDeviceRequest never throws (false for a forged signature); importDevicePublicKey throws only its own Error; sign -> verify round-trips',
  maxLength: 2048,
  dictionary: [
    'AirlockDevice-v1 ',
    '{"kty":"EC","crv":"P-256","x":"',
    '","y":"',
    '"}',
    'GET',
    'POST',
  ],
  fuzz(data) {
    const [method = '', pathAndQuery = '', date = '', deviceId = '', authorization = '', jwk = ''] =
      fields(data, 6);
    const parts: DeviceRequestParts = { method, pathAndQuery, date, deviceId, body: data };
    assert.equal(verifyDeviceRequest(parts, authorization, DEVICE_KEYS.publicKey), false);
    if ((data[0] ?? 0) % 8 === 0) {
      const signed = signDeviceRequest(parts, DEVICE_KEYS.privateKey);
      assert.equal(verifyDeviceRequest(parts, signed, DEVICE_KEYS.publicKey), true);
    }
    let value: unknown;
    try {
      value = JSON.parse(jwk);
    } catch {
      return;
    }
    try {
      importDevicePublicKey(value);
    } catch (e) {
      assert.ok(e instanceof Error && e.message.startsWith('public_key'), String(e));
    }
  },
};

// ---------------------------------------------------------------------------------------------
// Configuration files

const SECRET_KEY = /secret|skey|password|token/;

/**
 * The text with the value of every secret-looking key replaced by a marker that no message could
 * contain by chance (only values found exactly once in the text, so the replacement is exact).
 */
function markSecrets(text: string): { text: string; markers: string[] } {
  const markers: string[] = [];
  let marked = text;
  for (const section of parseIni(text).sections) {
    for (const entry of section.entries) {
      if (!SECRET_KEY.test(entry.key) || entry.value.length < 4) continue;
      if (marked.split(entry.value).length !== 2) continue;
      const marker = `SecretMarker${markers.length}x`;
      marked = marked.replace(entry.value, marker);
      markers.push(marker);
    }
  }
  return { text: marked, markers };
}

/** INI syntax: never throws; section names and keys within a section unique; keys lower-case. */
const ini: FuzzTarget = {
  name: 'ini',
  description: 'parseIni never throws; unique sections and keys; keys trimmed and lower-case',
  maxLength: 4096,
  dictionary: ['\n[', ']\n', '=', ':', '\n  ', '\n#', '\n;', '\r\n', '\uFEFF'],
  fuzz(data) {
    const doc = parseIni(data.toString('utf8'));
    const names = new Set(doc.sections.map((s) => s.name));
    assert.equal(names.size, doc.sections.length);
    for (const section of doc.sections) {
      const keys = section.entries.map((e) => e.key);
      assert.equal(new Set(keys).size, keys.length);
      for (const key of keys) assert.equal(key, key.trim().toLowerCase());
    }
  },
};

/** authproxy.cfg validation: never throws; every error a message; no secret value in any message. */
const authproxyConfig: FuzzTarget = {
  name: 'authproxy-config',
  description:
    'parseAuthProxyConfig never throws; errors are non-empty strings; a valid config is frozen; no secret value in an error or warning',
  maxLength: 4096,
  dictionary: [
    '[main]\n',
    '[ad_client]\n',
    '[radius_client]\n',
    '[radius_server_auto]\n',
    '[radius_server_challenge]\n',
    '[duo_only_client]\n',
    'ikey=DIXXXXXXXXXXXXXXXXXX\n',
    'skey=0123456789012345678901234567890123456789\n',
    'api_host=api.example\n',
    'radius_ip_1=10.0.0.1\n',
    'radius_secret_1=a-long-shared-secret\n',
    'client=ad_client\n',
    'failmode=safe\n',
    'failmode=secure\n',
    'port=1812\n',
    'host=10.0.0.2\n',
    'factors=auto\n',
    'http_proxy_port=',
    'service_account_password=',
    '_1=',
    '_2=',
  ],
  fuzz(data) {
    const { text, markers } = markSecrets(data.toString('utf8'));
    const result = parseAuthProxyConfig(text, {
      configDir: '/etc/airlock',
      readFile: () => {
        throw new Error('ENOENT');
      },
    });
    const messages = result.ok ? result.config.warnings : [...result.errors, ...result.warnings];
    for (const m of messages) assert.ok(typeof m === 'string' && m.length > 0);
    if (result.ok) assert.ok(Object.isFrozen(result.config) && Object.isFrozen(result.config.main));
    else assert.ok(result.errors.length > 0);
    for (const marker of markers) {
      for (const m of messages) assert.ok(!m.includes(marker), `a message quotes a secret: ${m}`);
    }
  },
};

/** factors.json validation: never throws; a valid config is frozen; no secret in a message. */
const factorsConfig: FuzzTarget = {
  name: 'factors-config',
  description:
    'parseFactorsConfigText never throws; a valid config is frozen; the Twilio authToken is never quoted in an error',
  maxLength: 4096,
  dictionary: [
    '{"sms":{"provider":"twilio","accountSid":"AC1","authToken":"tok-0123456789abcdef","from":"+15550100"}}',
    '{"phone":{"provider":"webhook","url":"https://hooks.example/k?key=s3cr3t","template":"{{message}}"}}',
    '{"sms":{"provider":"file","path":"m.jsonl"}}',
    '"provider":',
    '"twilio"',
    '"webhook"',
    '"file"',
    '"health":{',
    '"smsPasscodes":{"count":',
    '"headers":{',
    '"contentType":"json"',
    '"allowPlainHttp":true',
    '"timeoutMs":',
    '"__proto__":',
    '"constructor":',
    'null',
    '[',
    '1e400',
    '-0',
  ],
  fuzz(data) {
    const text = data.toString('utf8');
    const result = parseFactorsConfigText(text);
    if (result.ok) {
      assert.ok(Object.isFrozen(result.config));
      return;
    }
    assert.ok(result.errors.length > 0);
    for (const m of result.errors) assert.ok(typeof m === 'string' && m.length > 0);
    const token = /"authToken"\s*:\s*"([^"\\]{12,})"/.exec(text)?.[1];
    if (token !== undefined && text.split(token).length === 2) {
      for (const m of result.errors)
        assert.ok(!m.includes(token), `an error quotes authToken: ${m}`);
    }
  },
};

// ---------------------------------------------------------------------------------------------
// LDAP

/**
 * The LDAP proxy's codec: a byte stream is split into frames and each is decoded. Only
 * ProtocolError; the frames and the rest are the input, in order; a decoded bind, bind response
 * or extended request re-encodes to a message that decodes to the same operation.
 */
const ldapMessage: FuzzTarget = {
  name: 'ldap-message',
  description:
    'splitLdapFrames + decodeLdapMessage: only ProtocolError; frames + rest = input; re-encoded binds and extended requests decode the same',
  maxLength: 4096,
  dictionary: [
    Buffer.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff]),
    Buffer.from([0x30, 0x80]),
    Buffer.from([0x02, 0x01, 0x01]),
    Buffer.from([0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00]),
    Buffer.from([0xa3, 0x00]),
    Buffer.from([0x42, 0x00]),
    Buffer.from([0xa0, 0x00]),
    Buffer.from('1.3.6.1.4.1.1466.20037'),
  ],
  fuzz(data) {
    const split = allowProtocolError(() => splitLdapFrames(data, 2048));
    if (split === undefined) return;
    assert.deepEqual(Buffer.concat([...split.frames, split.rest]), data);
    for (const frame of split.frames) {
      const message = allowProtocolError(() => decodeLdapMessage(frame, { maxMessageBytes: 2048 }));
      if (message === undefined) continue;
      assert.equal(message.raw, frame);
      const op = message.operation;
      const { messageId } = message;
      let again: Buffer | undefined;
      if (op.type === 'bindRequest' && op.authentication.kind === 'simple') {
        again = encodeBindRequest({
          messageId,
          version: op.version,
          name: op.name,
          password: op.authentication.password,
        });
      } else if (op.type === 'bindResponse') {
        again = encodeBindResponse({ messageId, ...op.result });
      } else if (op.type === 'extendedRequest') {
        again = encodeExtendedRequest({
          messageId,
          requestName: op.requestName,
          ...(op.requestValue ? { requestValue: op.requestValue } : {}),
        });
      }
      if (again === undefined) continue;
      const decoded = decodeLdapMessage(again, { maxMessageBytes: 1 << 20 });
      assert.equal(decoded.messageId, messageId);
      assert.deepEqual(decoded.operation, op);
      assert.ok(
        [LDAP_OP.bindRequest, LDAP_OP.bindResponse, LDAP_OP.extendedRequest].includes(
          decoded.protocolOp as 0x60,
        ),
      );
    }
  },
};

export const FUZZ_TARGETS: readonly FuzzTarget[] = [
  ldapMessage,
  radiusPacket,
  radiusAccessRequest,
  radiusResponse,
  authApiForm,
  duoSignature,
  deviceSignature,
  ini,
  authproxyConfig,
  factorsConfig,
];

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
