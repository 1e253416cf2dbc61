// Web SDK rules: which redirect URIs can be registered, exact matching, the callback URL and the
// id_token's claims.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  callbackUrl,
  idTokenClaims,
  isRegisteredRedirectUri,
  redirectUriProblem,
  type PromptOutcome,
} from './web-sdk.ts';

describe('redirectUriProblem', () => {
  for (const ok of [
    'https://app.example/callback',
    'https://app.example:8443/duo/cb?tenant=1',
    'http://127.0.0.1:3000/duo-callback',
    'http://localhost/cb',
    'http://[::1]:9/cb',
  ]) {
    it(`accepts ${ok}`, () => assert.equal(redirectUriProblem(ok), undefined));
  }
  for (const [bad, why] of [
    ['/callback', 'not an absolute URL'],
    ['http://app.example/cb', 'must be https (http only for localhost)'],
    ['javascript:alert(1)', 'must be https (http only for localhost)'],
    ['https://user:pw@app.example/cb', 'must not carry credentials'],
    ['https://app.example/cb#frag', 'must not have a fragment'],
    ['https://app.example/cb#', 'must not have a fragment'],
  ] as const) {
    it(`refuses ${bad}: ${why}`, () => assert.equal(redirectUriProblem(bad), why));
  }
});

describe('isRegisteredRedirectUri', () => {
  const registered = ['https://app.example/cb'];
  it('matches the exact string only', () => {
    assert.equal(isRegisteredRedirectUri(registered, 'https://app.example/cb'), true);
    for (const other of [
      'https://app.example/cb/',
      'https://APP.example/cb',
      'https://app.example/cb?x=1',
      'https://app.example/cbx',
      'https://app.example:443/cb',
    ]) {
      assert.equal(isRegisteredRedirectUri(registered, other), false, other);
    }
  });
});

describe('callbackUrl', () => {
  it('adds duo_code (or code) and state, keeping the query the URI has', () => {
    assert.equal(
      callbackUrl('https://app.example/cb?tenant=a&b', 'C0DE', 's t&=', true),
      'https://app.example/cb?tenant=a&b=&duo_code=C0DE&state=s+t%26%3D',
    );
    assert.equal(
      callbackUrl('https://app.example/cb', 'C', 'S', false),
      'https://app.example/cb?code=C&state=S',
    );
  });
});

describe('idTokenClaims', () => {
  const outcome: PromptOutcome = {
    result: 'allow',
    status: 'allow',
    statusMsg: 'Success. Logging you in...',
    factor: 'duo_push',
    reason: 'user_approved',
    txid: 'tx-1',
    endedAtMs: 1_700_000_000_500,
    user: { name: 'alice', key: 'DU1', groups: ['staff'] },
    application: { name: 'Portal', key: 'DIAPP' },
    accessDevice: { ip: '203.0.113.5' },
    authDevice: { name: null },
  };
  it('has what Duo’s clients check, and the nonce only when there is one', () => {
    const claims = idTokenClaims({
      issuer: 'https://h/oauth/v1/token',
      clientId: 'DIAPP',
      username: 'alice',
      nonce: null,
      outcome,
      nowSeconds: 1_700_000_001,
      ttlSeconds: 300,
    });
    assert.equal(claims.iss, 'https://h/oauth/v1/token');
    assert.equal(claims.aud, 'DIAPP');
    assert.equal(claims.preferred_username, 'alice');
    assert.equal(claims.exp, 1_700_000_301);
    assert.equal(claims.iat, 1_700_000_001);
    assert.equal(claims.auth_time, 1_700_000_000);
    assert.equal('nonce' in claims, false);
    assert.deepEqual(claims.auth_result, {
      result: 'allow',
      status: 'allow',
      status_msg: 'Success. Logging you in...',
    });
    const context = claims.auth_context as Record<string, unknown>;
    assert.equal(context.result, 'success');
    assert.equal(context.factor, 'duo_push');
    assert.deepEqual(context.user, { name: 'alice', key: 'DU1', groups: ['staff'] });
    const denied = idTokenClaims({
      issuer: 'i',
      clientId: 'c',
      username: 'alice',
      nonce: 'n'.repeat(20),
      outcome: { ...outcome, result: 'deny', status: 'deny' },
      nowSeconds: 1,
      ttlSeconds: 1,
    });
    assert.equal(denied.nonce, 'n'.repeat(20));
    assert.equal((denied.auth_context as { result: string }).result, 'denied');
  });
});
