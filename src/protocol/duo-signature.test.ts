// Duo request signing: docs/design/auth-api.md §2.5 vectors, duo_client_python vectors, tampering,
// parsing.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  canonicalRequest,
  canonicalRequestV1,
  canonicalizeParams,
  computeSignature,
  parseAuthorization,
  parseDuoDate,
  signRequest,
  signRequestV1,
  verifySignature,
  verifySignatureV1,
  type RequestParams,
  type VerifySignatureInput,
} from './duo-signature.ts';
import { ProtocolError } from './protocol-error.ts';

const sha512Hex = (s: string): string => createHash('sha512').update(s).digest('hex');
const basic = (credentials: string): string =>
  'Basic ' + Buffer.from(credentials, 'utf8').toString('base64');

// docs/design/auth-api.md §2.5 (duo_api_nodejs tests/duo_sig.js).
const DOC = {
  ikey: 'test_ikey',
  skey: 'test_skey',
  method: 'POST',
  host: 'test.duosecurity.com',
  path: '/test/v1',
  date: 'Tue, 21 Aug 2012 17:29:18 -0000',
  params: { realname: 'First Last', username: 'root' },
  body: '{"realname":"First Last","username":"root"}',
  v2Canonical:
    'Tue, 21 Aug 2012 17:29:18 -0000\nPOST\ntest.duosecurity.com\n/test/v1\nrealname=First%20Last&username=root',
  v2Sha512:
    '042a30c682bd836fc5ba467891a956eaa10091ca0f73a7fb396aefd56a3529e56932dea427a67213af664ba6841689ff2336b7a373766ea5ab7ab9fe2638226b',
  v2Sha1: '7db13501cda6278f27987468405fe8be61b5e3e3',
  v5Sha512:
    '7d02409a152764843cccd8284da153b3fb446baad5f998886325e24bc9cd4a244de85ad4bfa7ea285d68209f160835673d8b4f1e1b23d9cd521d26bfe7f366a4',
} as const;

// duo_client_python tests/test_client.py (TestCanonicalize, TestSign).
const PY = {
  date: 'Fri, 07 Dec 2012 17:18:00 -0000',
  host: 'foO.BAr52.cOm',
  method: 'PoSt',
  path: '/Foo/BaR2/qux',
  skey: 'gtdfxv9YgVBYcF6dl2Eq17KUQJN2PLM2ODVTkvoT',
  params: {
    '\u469a\u287b\u35d0\u8ef3\u6727\u502a\u0810\ud091\xc8\uc170': [
      '\u0f45\u1a76\u341a\u654c\uc23f\u9b09\uabe2\u8343\u1b27\u60d0',
    ],
    '\u7449\u7e4b\uccfb\u59ff\ufe5f\u83b7\uadcc\u900c\ucfd1\u7813': [
      '\u8db7\u5022\u92d3\u42ef\u207d\u8730\uacfe\u5617\u0946\u4e30',
    ],
    '\u7470\u9314\u901c\u9eae\u40d8\u4201\u82d8\u8c70\u1d31\ua042': [
      '\u17d9\u0ba8\u9358\uaadf\ua42a\u48be\ufb96\u6fe9\ub7ff\u32f3',
    ],
    '\uc2c5\u2c1d\u2620\u3617\u96b3F\u8605\u20e8\uac21\u5934': [
      '\ufba9\u41aa\ubd83\u840b\u2615\u3e6e\u652d\ua8b5\ud56bU',
    ],
  },
  paramsLine:
    '%E4%9A%9A%E2%A1%BB%E3%97%90%E8%BB%B3%E6%9C%A7%E5%80%AA%E0%A0%90%ED%82%91%C3%88%EC%85%B0=%E0%BD%85%E1%A9%B6%E3%90%9A%E6%95%8C%EC%88%BF%E9%AC%89%EA%AF%A2%E8%8D%83%E1%AC%A7%E6%83%90&%E7%91%89%E7%B9%8B%EC%B3%BB%E5%A7%BF%EF%B9%9F%E8%8E%B7%EA%B7%8C%E9%80%8C%EC%BF%91%E7%A0%93=%E8%B6%B7%E5%80%A2%E9%8B%93%E4%8B%AF%E2%81%BD%E8%9C%B0%EA%B3%BE%E5%98%97%E0%A5%86%E4%B8%B0&%E7%91%B0%E9%8C%94%E9%80%9C%E9%BA%AE%E4%83%98%E4%88%81%E8%8B%98%E8%B1%B0%E1%B4%B1%EA%81%82=%E1%9F%99%E0%AE%A8%E9%8D%98%EA%AB%9F%EA%90%AA%E4%A2%BE%EF%AE%96%E6%BF%A9%EB%9F%BF%E3%8B%B3&%EC%8B%85%E2%B0%9D%E2%98%A0%E3%98%97%E9%9A%B3F%E8%98%85%E2%83%A8%EA%B0%A1%E5%A4%B4=%EF%AE%A9%E4%86%AA%EB%B6%83%E8%90%8B%E2%98%95%E3%B9%AE%E6%94%AD%EA%A2%B5%ED%95%ABU',
  sha1: 'f01811cbbf9561623ab45b893096267fd46a5178',
  sha512:
    '0508065035a03b2a1de2f453e629e791d180329e157f65df6b3e0f08299d4321e1c5c7a7c7ee6b9e5fc80d1fb6fbf3ad5eb7c44dd3b3985a02c37aca53ec3698',
  jsonString: '{"alpha":["a","b","c","d"],"data":"abc123","info":{"another":2,"test":1}}',
} as const;

describe('canonicalizeParams', () => {
  const cases: Array<[string, RequestParams, string]> = [
    ['no params give an empty line', {}, ''],
    ['space becomes %20, never +', { realname: 'First Last' }, 'realname=First%20Last'],
    [
      'keys sort in byte order',
      { username: 'root', realname: 'First Last' },
      DOC.v2Canonical.split('\n')[4] ?? '',
    ],
    ['a prefix sorts first (foo < foo_bar)', { foo_bar: '2', foo: '1' }, 'foo=1&foo_bar=2'],
    ['unreserved characters stay literal', { k: 'AZaz09-_.~' }, 'k=AZaz09-_.~'],
    ["!'()* are encoded (unlike encodeURIComponent)", { k: "!'()*" }, 'k=%21%27%28%29%2A'],
    ['/ + = & are encoded', { 'a/b': 'c+d=e&f' }, 'a%2Fb=c%2Bd%3De%26f'],
    ['multi-values are sorted and repeated', { b: ['z', 'a', 'm'], a: '1' }, 'a=1&b=a&b=m&b=z'],
    ['an empty multi-value list contributes nothing', { a: [], b: 'x' }, 'b=x'],
    ['empty value keeps the =', { a: '' }, 'a='],
    ['unicode is UTF-8 then upper-case %XX', { é: '€😀' }, '%C3%A9=%E2%82%AC%F0%9F%98%80'],
    ['a lone surrogate becomes U+FFFD like Python', { k: '\ud800' }, 'k=%EF%BF%BD'],
    // duo_client_python TestQueryParameters.
    [
      'printable ASCII (python vector)',
      {
        digits: '0123456789',
        letters: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ',
        punctuation: '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
        whitespace: '\t\n\x0b\x0c\r ',
      },
      'digits=0123456789&letters=abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ&punctuation=%21%22%23%24%25%26%27%28%29%2A%2B%2C-.%2F%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E_%60%7B%7C%7D~&whitespace=%09%0A%0B%0C%0D%20',
    ],
    [
      'unicode fuzz values (python vector)',
      {
        bar: ['\u2815\uaaa3\u37cf\u4bb7\u36e9\ucc05\u668e\u8162\uc2bd\ua1f1'],
        baz: ['\u0df3\u84bd\u5669\u9985\ub8a4\uac3a\u7be7\u6f69\u934a\ub91c'],
        foo: ['\ud4ce\ud6d6\u7938\u50c0\u8a20\u8f15\ufd0b\u8024\u5cb3\uc655'],
        qux: ['\u8b97\uc846-\u828e\u831a\uccca\ua2d4\u8c3e\ub8b2\u99be'],
      },
      'bar=%E2%A0%95%EA%AA%A3%E3%9F%8F%E4%AE%B7%E3%9B%A9%EC%B0%85%E6%9A%8E%E8%85%A2%EC%8A%BD%EA%87%B1&baz=%E0%B7%B3%E8%92%BD%E5%99%A9%E9%A6%85%EB%A2%A4%EA%B0%BA%E7%AF%A7%E6%BD%A9%E9%8D%8A%EB%A4%9C&foo=%ED%93%8E%ED%9B%96%E7%A4%B8%E5%83%80%E8%A8%A0%E8%BC%95%EF%B4%8B%E8%80%A4%E5%B2%B3%EC%99%95&qux=%E8%AE%97%EC%A1%86-%E8%8A%8E%E8%8C%9A%EC%B3%8A%EA%8B%94%E8%B0%BE%EB%A2%B2%E9%A6%BE',
    ],
    ['unicode fuzz keys and values (python vector)', PY.params, PY.paramsLine],
  ];
  for (const [name, params, expected] of cases) {
    it(name, () => assert.equal(canonicalizeParams(params), expected));
  }
});

describe('canonicalRequest', () => {
  it('builds the docs/design/auth-api.md §2.5 v2 canonical string byte for byte', () => {
    const canonical = canonicalRequest({ version: 2, ...DOC });
    assert.equal(canonical, DOC.v2Canonical);
  });

  it('upper-cases the method and lower-cases the host but keeps the path (python v2 vector)', () => {
    assert.equal(
      canonicalRequest({ version: 2, ...PY }),
      `${PY.date}\nPOST\nfoo.bar52.com\n/Foo/BaR2/qux\n${PY.paramsLine}`,
    );
  });

  it('appends sha512(body) for v4 (python v4 vector)', () => {
    const canonical = canonicalRequest({
      version: 4,
      date: 'Tue, 04 Jul 2017 14:12:00',
      method: 'POST',
      host: 'foO.BaR52.cOm',
      path: '/Foo/BaR2/qux',
      params: {},
      body: PY.jsonString,
    });
    assert.equal(
      canonical,
      `Tue, 04 Jul 2017 14:12:00\nPOST\nfoo.bar52.com\n/Foo/BaR2/qux\n\n${sha512Hex(PY.jsonString)}`,
    );
  });

  const v5Base = {
    version: 5,
    date: 'Tue, 17 Nov 2020 14:12:00',
    method: 'POST',
    host: 'foO.BaR52.cOm',
    path: '/Foo/BaR2/qux',
    params: {},
    body: PY.jsonString,
  } as const;
  const v5Prefix = `Tue, 17 Nov 2020 14:12:00\nPOST\nfoo.bar52.com\n/Foo/BaR2/qux\n\n${sha512Hex(PY.jsonString)}\n`;

  it('appends the x-duo header hash for v5 (python v5 vector)', () => {
    const canonical = canonicalRequest({
      ...v5Base,
      duoHeaders: { 'X-Duo-Header-1': 'header_value_1' },
    });
    assert.equal(
      canonical,
      v5Prefix +
        '630b4bfe7e9abd03da2eee8f0a5d4e60a254ec880a839bcc2223bb5b9443e8ef24d58f0254f1f5934bf8c017ebd0fd5b1acf86766bdbe74185e712a4092df3ed',
    );
  });

  it('lower-cases then sorts x-duo header names for v5 (python vector)', () => {
    const canonical = canonicalRequest({
      ...v5Base,
      duoHeaders: { 'X-Duo-B': 'header_value_2', 'x-duo-A': 'header_value_1' },
    });
    assert.equal(
      canonical,
      v5Prefix +
        '60be11a30e0756f2ee2afdce1db849b987dcf86c1133394bd7bbbc9877920330c4d78aceacbb377ab8cbd9a8efe6a410fed4047376635ac71226ab46ca10d2b1',
    );
  });

  it('hashes an empty body and no headers as sha512("") for v5 GET', () => {
    const lines = canonicalRequest({ ...v5Base, method: 'GET', body: undefined }).split('\n');
    assert.equal(lines[5], sha512Hex(''));
    assert.equal(lines[6], sha512Hex(''));
    assert.ok(lines[5]?.startsWith('cf83e135') && lines[5].endsWith('927da3e'));
  });

  it('hashes a Buffer body by its bytes', () => {
    const a = canonicalRequest({ ...v5Base, body: Buffer.from(PY.jsonString, 'utf8') });
    assert.equal(a, canonicalRequest(v5Base));
  });

  const badHeaders: Array<[string, Record<string, string>]> = [
    ['a header not starting with X-Duo-', { 'X-Other': 'v' }],
    ['a NUL in a header value', { 'X-Duo-A': 'a\0b' }],
    ['a NUL in a header name', { 'X-Duo-\0': 'v' }],
    ['the same header twice in different case', { 'X-Duo-A': '1', 'x-duo-a': '2' }],
  ];
  for (const [name, duoHeaders] of badHeaders) {
    it(`rejects ${name} with SIG_INVALID_DUO_HEADER`, () => {
      assert.throws(
        () => canonicalRequest({ ...v5Base, duoHeaders }),
        (e: unknown) => e instanceof ProtocolError && e.code === 'SIG_INVALID_DUO_HEADER',
      );
    });
  }
});

describe('signRequest', () => {
  it('reproduces the v2 HMAC-SHA512 vector', () => {
    assert.equal(signRequest({ ...DOC }), basic(`test_ikey:${DOC.v2Sha512}`));
  });

  it('reproduces the v2 HMAC-SHA1 vector', () => {
    assert.equal(signRequest({ ...DOC, digest: 'sha1' }), basic(`test_ikey:${DOC.v2Sha1}`));
  });

  it('reproduces the v5 vector', () => {
    assert.equal(
      signRequest({ ...DOC, version: 5, params: {} }),
      basic(`test_ikey:${DOC.v5Sha512}`),
    );
  });

  it('reproduces the python unicode HMAC-SHA1 vector', () => {
    const header = signRequest({ ...PY, ikey: 'test_ikey', digest: 'sha1' });
    assert.equal(header, basic(`test_ikey:${PY.sha1}`));
  });

  it('reproduces the python unicode HMAC-SHA512 vector', () => {
    const header = signRequest({ ...PY, ikey: 'test_ikey' });
    assert.equal(header, basic(`test_ikey:${PY.sha512}`));
  });

  it('computeSignature gives lower-case hex', () => {
    assert.equal(computeSignature(DOC.skey, DOC.v2Canonical, 'sha1'), DOC.v2Sha1);
  });

  it('refuses v5 with HMAC-SHA1', () => {
    assert.throws(() => signRequest({ ...DOC, version: 5, digest: 'sha1' }), RangeError);
  });
});

describe('parseAuthorization', () => {
  it('splits a Basic header into ikey and signature', () => {
    assert.deepEqual(parseAuthorization(basic(`test_ikey:${DOC.v2Sha512}`)), {
      ikey: 'test_ikey',
      signature: DOC.v2Sha512,
    });
  });

  it('accepts a lower-case scheme, extra spaces and unpadded base64', () => {
    const token = Buffer.from('DIXXXXXXXXXXXXXXXXXX:abc').toString('base64').replace(/=+$/, '');
    assert.deepEqual(parseAuthorization(`  basic   ${token} `), {
      ikey: 'DIXXXXXXXXXXXXXXXXXX',
      signature: 'abc',
    });
  });

  it('splits on the first colon only', () => {
    assert.deepEqual(parseAuthorization(basic('ikey:a:b')), { ikey: 'ikey', signature: 'a:b' });
  });

  for (const header of [undefined, '', '   ']) {
    it(`reports ${JSON.stringify(header)} as SIG_MISSING_AUTHORIZATION`, () => {
      assert.throws(
        () => parseAuthorization(header),
        (e: unknown) => e instanceof ProtocolError && e.code === 'SIG_MISSING_AUTHORIZATION',
      );
    });
  }

  const malformed: Array<[string, string]> = [
    ['another scheme', 'Bearer dGVzdDp4'],
    ['a scheme without credentials', 'Basic'],
    ['a scheme glued to the token', 'BasicdGVzdDp4'],
    ['non-base64 characters', 'Basic !!!!'],
    ['base64 with junk inside', 'Basic dGVz dDp4'],
    ['base64 with too much padding', 'Basic dGVzdDp4==='],
    ['non-canonical base64 length', 'Basic dGVzdDp4a'],
    ['no colon', basic('test_ikey')],
    ['an empty ikey', basic(':abcdef')],
    ['an empty signature', basic('test_ikey:')],
    ['a space in the ikey', basic('test ikey:abc')],
    ['a control character in the ikey', basic('test\nikey:abc')],
    ['non-ASCII in the signature', basic('test_ikey:abcé')],
    ['invalid UTF-8', 'Basic ' + Buffer.from([0xff, 0x3a, 0x61]).toString('base64')],
    ['an oversized header', basic('ikey:' + 'a'.repeat(5000))],
  ];
  for (const [name, header] of malformed) {
    it(`rejects ${name} with SIG_MALFORMED_AUTHORIZATION`, () => {
      assert.throws(
        () => parseAuthorization(header),
        (e: unknown) => e instanceof ProtocolError && e.code === 'SIG_MALFORMED_AUTHORIZATION',
      );
    });
  }
});

describe('verifySignature', () => {
  const formPost: VerifySignatureInput = {
    skey: DOC.skey,
    signature: DOC.v2Sha512,
    method: 'POST',
    host: DOC.host,
    path: DOC.path,
    params: DOC.params,
    body: 'realname=First+Last&username=root',
    headers: { host: DOC.host, date: DOC.date },
    date: DOC.date,
  };
  const jsonPost: VerifySignatureInput = {
    ...formPost,
    signature: DOC.v5Sha512,
    params: {},
    body: Buffer.from(DOC.body, 'utf8'),
  };

  it('accepts the v2 HMAC-SHA512 vector', () => {
    assert.deepEqual(verifySignature(formPost), { ok: true, version: 'v2-sha512' });
  });

  it('accepts the v2 HMAC-SHA1 vector', () => {
    assert.deepEqual(verifySignature({ ...formPost, signature: DOC.v2Sha1 }), {
      ok: true,
      version: 'v2-sha1',
    });
  });

  it('accepts the v5 vector over the raw body bytes', () => {
    assert.deepEqual(verifySignature(jsonPost), { ok: true, version: 'v5' });
  });

  it('accepts a v4 signature', () => {
    const canonical = canonicalRequest({ version: 4, ...DOC, params: {} });
    const signature = computeSignature(DOC.skey, canonical, 'sha512');
    assert.deepEqual(verifySignature({ ...jsonPost, signature }), { ok: true, version: 'v4' });
  });

  it('accepts the python unicode vectors (SHA1 and SHA512)', () => {
    const input = { ...PY, signature: PY.sha1, host: PY.host, headers: {} };
    assert.deepEqual(verifySignature(input), { ok: true, version: 'v2-sha1' });
    assert.deepEqual(verifySignature({ ...input, signature: PY.sha512 }), {
      ok: true,
      version: 'v2-sha512',
    });
  });

  it('accepts an upper-case hex signature', () => {
    const signature = DOC.v2Sha512.toUpperCase();
    assert.equal(verifySignature({ ...formPost, signature }).ok, true);
  });

  it('includes received X-Duo-* headers in the v5 header hash, whatever their case', () => {
    const xDuoDate = DOC.date;
    const header = signRequest({
      ...DOC,
      version: 5,
      params: {},
      duoHeaders: { 'X-Duo-Date': xDuoDate, 'X-Duo-Extra': 'v' },
    });
    const { signature } = parseAuthorization(header);
    const headers = { 'X-Duo-Extra': 'v', 'x-duo-date': xDuoDate, 'content-type': 'x' };
    assert.deepEqual(verifySignature({ ...jsonPost, signature, headers }), {
      ok: true,
      version: 'v5',
    });
    // The same signature no longer verifies once a signed header is dropped or changed.
    assert.equal(
      verifySignature({ ...jsonPost, signature, headers: { 'x-duo-date': xDuoDate } }).ok,
      false,
    );
    const changed = { ...headers, 'X-Duo-Extra': 'w' };
    assert.equal(verifySignature({ ...jsonPost, signature, headers: changed }).ok, false);
  });

  describe('host and port', () => {
    const signedFor = (host: string): string =>
      parseAuthorization(signRequest({ ...DOC, host })).signature;
    const cases: Array<[string, string, string, boolean]> = [
      ['bare host signed, Host header with port', 'localhost', 'localhost:8443', true],
      ['host:port signed, Host header with port', 'localhost:8443', 'localhost:8443', true],
      ['mixed case signed, Host header lower case', 'LocalHost', 'localhost:8443', true],
      ['Host header in upper case', 'localhost', 'LOCALHOST', true],
      ['IPv6 literal with port', '[::1]', '[::1]:8443', true],
      ['IPv6 literal signed with port', '[::1]:8443', '[::1]:8443', true],
      ['a different port was signed', 'localhost:9999', 'localhost:8443', false],
      ['a different host was signed', 'example.com', 'localhost:8443', false],
      ['the Host header lacks the signed port', 'localhost:8443', 'localhost', false],
    ];
    for (const [name, signedHost, hostHeader, ok] of cases) {
      it(`${ok ? 'accepts' : 'rejects'} when ${name}`, () => {
        const result = verifySignature({
          ...formPost,
          host: hostHeader,
          signature: signedFor(signedHost),
        });
        assert.equal(result.ok, ok);
      });
    }
  });

  describe('rejects tampering', () => {
    const flipLastHex = (hex: string): string => hex.slice(0, -1) + (hex.endsWith('0') ? '1' : '0');
    const tamper: Array<[string, Partial<VerifySignatureInput>]> = [
      ['skey', { skey: 'test_skeX' }],
      ['signature (last hex digit)', { signature: flipLastHex(DOC.v2Sha512) }],
      ['method', { method: 'GET' }],
      ['host', { host: 'evil.duosecurity.com' }],
      ['path', { path: '/test/v2' }],
      ['path case', { path: '/Test/v1' }],
      ['param value', { params: { realname: 'First Last', username: 'admin' } }],
      ['added param', { params: { ...DOC.params, factor: 'push' } }],
      ['removed param', { params: { username: 'root' } }],
      [
        'param turned multi-valued',
        { params: { realname: 'First Last', username: ['root', 'x'] } },
      ],
      ['date', { date: 'Tue, 21 Aug 2012 17:29:19 -0000' }],
      ['date format with same instant', { date: 'Tue, 21 Aug 2012 17:29:18 GMT' }],
    ];
    for (const [field, change] of tamper) {
      it(`v2: ${field} changed`, () => {
        assert.deepEqual(verifySignature({ ...formPost, ...change }), { ok: false });
        const sha1 = change.signature === undefined ? DOC.v2Sha1 : flipLastHex(DOC.v2Sha1);
        assert.deepEqual(verifySignature({ ...formPost, ...change, signature: sha1 }), {
          ok: false,
        });
      });
    }
    const tamperV5: Array<[string, Partial<VerifySignatureInput>]> = [
      ['skey', { skey: 'test_skeX' }],
      ['signature', { signature: flipLastHex(DOC.v5Sha512) }],
      ['method', { method: 'PUT' }],
      ['host', { host: 'evil.duosecurity.com' }],
      ['path', { path: '/test/v2' }],
      ['query params', { params: { a: 'b' } }],
      ['body byte', { body: DOC.body.replace('root', 'roop') }],
      [
        'body re-serialized with spaces',
        { body: '{"realname": "First Last", "username": "root"}' },
      ],
      ['body removed', { body: undefined }],
      ['x-duo header added', { headers: { 'x-duo-extra': '1' } }],
      ['date', { date: 'Tue, 21 Aug 2012 17:29:17 -0000' }],
    ];
    for (const [field, change] of tamperV5) {
      it(`v5: ${field} changed`, () => {
        assert.deepEqual(verifySignature({ ...jsonPost, ...change }), { ok: false });
      });
    }
  });

  describe('rejects signatures of the wrong shape', () => {
    const shapes: Array<[string, string]> = [
      ['empty', ''],
      ['39 hex chars', DOC.v2Sha1.slice(0, 39)],
      ['41 hex chars (odd length would truncate)', DOC.v2Sha1 + '0'],
      ['64 hex chars (SHA-256 size)', DOC.v2Sha512.slice(0, 64)],
      ['127 hex chars', DOC.v2Sha512.slice(0, 127)],
      ['129 hex chars', DOC.v2Sha512 + '0'],
      ['non-hex of the right length', 'g'.repeat(128)],
      ['base64 instead of hex', Buffer.from(DOC.v2Sha512, 'hex').toString('base64')],
    ];
    for (const [name, signature] of shapes) {
      it(name, () => assert.deepEqual(verifySignature({ ...formPost, signature }), { ok: false }));
    }
  });
});

describe('parseDuoDate', () => {
  const instant = Date.UTC(2012, 7, 21, 17, 29, 18);

  const formats: Array<[string, string, number]> = [
    ['Python -0000', 'Tue, 21 Aug 2012 17:29:18 -0000', instant],
    ['Node GMT', 'Tue, 21 Aug 2012 17:29:18 GMT', instant],
    ['Go/Duo Unix +0000', 'Tue, 21 Aug 2012 17:29:18 +0000', instant],
    ['a negative offset', 'Tue, 21 Aug 2012 12:29:18 -0500', instant],
    ['UT', 'Tue, 21 Aug 2012 17:29:18 UT', instant],
    ['UTC', 'Tue, 21 Aug 2012 17:29:18 UTC', instant],
    ['no day-of-week', '21 Aug 2012 17:29:18 -0000', instant],
    ['a one-digit day', 'Sat, 1 Sep 2012 00:00:00 GMT', Date.UTC(2012, 8, 1)],
    ['no seconds', 'Tue, 21 Aug 2012 17:29 GMT', instant - 18_000],
    ['a lower-case month and zone', 'tue, 21 aug 2012 17:29:18 gmt', instant],
    ['an offset that crosses midnight', 'Wed, 22 Aug 2012 02:29:18 +0900', instant],
  ];
  for (const [name, header, expectedMs] of formats) {
    it(`accepts ${name}`, () => {
      const result = parseDuoDate(header, expectedMs);
      assert.deepEqual(result, { ok: true, dateMs: expectedMs });
    });
  }

  it('applies a +0530 offset', () => {
    const result = parseDuoDate('Tue, 21 Aug 2012 23:00:18 +0530', instant);
    assert.deepEqual(result, { ok: true, dateMs: Date.UTC(2012, 7, 21, 17, 30, 18) });
  });

  const header = 'Tue, 21 Aug 2012 17:29:18 GMT';
  const edges: Array<[string, number, boolean]> = [
    ['exactly 300 s behind the server', instant + 300_000, true],
    ['exactly 300 s ahead of the server', instant - 300_000, true],
    ['301 s behind the server', instant + 301_000, false],
    ['301 s ahead of the server', instant - 301_000, false],
    ['1 ms past the window', instant + 300_001, false],
  ];
  for (const [name, nowMs, ok] of edges) {
    it(`${ok ? 'accepts' : 'rejects as skewed'} a date ${name}`, () => {
      const result = parseDuoDate(header, nowMs);
      assert.deepEqual(
        result,
        ok ? { ok: true, dateMs: instant } : { ok: false, reason: 'skewed' },
      );
    });
  }

  it('honours a custom window', () => {
    assert.deepEqual(parseDuoDate(header, instant + 61_000, 60), { ok: false, reason: 'skewed' });
    assert.equal(parseDuoDate(header, instant + 60_000, 60).ok, true);
  });

  for (const missing of [undefined, '', '  ']) {
    it(`reports ${JSON.stringify(missing)} as missing`, () => {
      assert.deepEqual(parseDuoDate(missing, instant), { ok: false, reason: 'missing' });
    });
  }

  const unparseable = [
    'garbage',
    '1',
    '2012-08-21T17:29:18Z',
    '1345570158',
    'Tue, 21 Aug 2012 17:29:18',
    'Tue, 21 Aug 2012 17:29:18 EST',
    'Tue, 21 Aug 2012 17:29:18 +05',
    'Tue, 21 Aug 2012 17:29:18 +0560',
    'Mon, 21 Aug 2012 17:29:18 GMT',
    'Tue, 21 Foo 2012 17:29:18 GMT',
    'Thu, 31 Feb 2012 17:29:18 GMT',
    'Tue, 21 Aug 2012 24:00:00 GMT',
    'Tue, 21 Aug 2012 17:60:00 GMT',
    'Tue, 21 Aug 12 17:29:18 GMT',
    'Tue, 21 Aug 2012 17:29:18 GMT trailing',
  ];
  for (const text of unparseable) {
    it(`rejects ${JSON.stringify(text)} as unparseable`, () => {
      assert.deepEqual(parseDuoDate(text, instant), { ok: false, reason: 'unparseable' });
    });
  }
});

// Signature v1 (docs/design/auth-api.md §2.3): METHOD, host, path, params; no date line.
describe('signature v1', () => {
  // HMAC-SHA1 of the four-line canonical string of the §2.5 request, computed independently with
  // Python's hmac module (and equal to duo_client_python's sign(..., sig_version=1, sha1)).
  const V1_SHA1 = 'd69d73b373223f386201de1f4c5964c82b3f45c7';
  const V1_SHA512 =
    'efebba49af3a7f52311b176a25f11b6eef73081fab3ab658f9b22fb61013a0b36a6977791758bde32bc4512b51fd35cd10598c32569baa32943888f9d3167e59';

  it('builds the canonical string without a date (python v1 vector)', () => {
    assert.equal(canonicalRequestV1(PY), `POST\nfoo.bar52.com\n/Foo/BaR2/qux\n${PY.paramsLine}`);
    assert.equal(canonicalRequestV1(DOC), DOC.v2Canonical.split('\n').slice(1).join('\n'));
  });

  it('signs with HMAC-SHA1 by default, SHA-512 on request', () => {
    assert.equal(signRequestV1(DOC), basic(`test_ikey:${V1_SHA1}`));
    assert.equal(signRequestV1({ ...DOC, digest: 'sha512' }), basic(`test_ikey:${V1_SHA512}`));
  });

  it('verifies both digests, with or without a port on the Host header', () => {
    for (const [signature, version] of [
      [V1_SHA1, 'v1-sha1'],
      [V1_SHA512, 'v1-sha512'],
    ] as const) {
      for (const host of [DOC.host, `${DOC.host}:8443`, DOC.host.toUpperCase()]) {
        assert.deepEqual(verifySignatureV1({ ...DOC, host, skey: DOC.skey, signature }), {
          ok: true,
          version,
        });
      }
    }
  });

  const tampered: [string, Partial<Parameters<typeof verifySignatureV1>[0]>][] = [
    ['another skey', { skey: 'other_skey' }],
    ['another method', { method: 'GET' }],
    ['another host', { host: 'evil.example' }],
    ['another path', { path: '/test/v2' }],
    ['another parameter value', { params: { realname: 'First Last', username: 'admin' } }],
    ['a parameter more', { params: { ...DOC.params, factor: 'push' } }],
    ['a v2 signature (with a date line)', { signature: DOC.v2Sha1 }],
    ['a truncated signature', { signature: V1_SHA1.slice(0, 39) }],
    ['a non-hex signature', { signature: 'z'.repeat(40) }],
    ['an empty signature', { signature: '' }],
  ];
  for (const [name, change] of tampered) {
    it(`refuses ${name}`, () => {
      assert.deepEqual(
        verifySignatureV1({ ...DOC, skey: DOC.skey, signature: V1_SHA1, ...change }),
        { ok: false },
      );
    });
  }
});
