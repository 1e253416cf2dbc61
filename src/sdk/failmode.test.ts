// The web failmode decision over its whole table: every error kind under both failmodes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideFailmode } from './failmode.ts';
import { WEB_SDK_ERROR_KINDS, WebSdkError, type WebSdkErrorKind } from './web-sdk-error.ts';

const OPENS_UNDER_SAFE: readonly WebSdkErrorKind[] = ['unreachable', 'timeout', 'server_error'];

describe('decideFailmode', () => {
  for (const kind of WEB_SDK_ERROR_KINDS) {
    const error = new WebSdkError(kind, 'x');
    const opens = OPENS_UNDER_SAFE.includes(kind);
    it(`${kind}: ${opens ? 'lets in under safe only' : 'refuses under both failmodes'}`, () => {
      assert.deepEqual(decideFailmode({ failmode: 'safe', error }), {
        allowed: opens,
        secondFactorChecked: false,
        reason: opens ? `failmode-safe-${kind}` : `error-${kind}`,
      });
      assert.deepEqual(decideFailmode({ failmode: 'secure', error }), {
        allowed: false,
        secondFactorChecked: false,
        reason: opens ? `failmode-secure-${kind}` : `error-${kind}`,
      });
    });
  }

  it('refuses an error that is not the SDK’s (a bug is not an outage), under both failmodes', () => {
    for (const failmode of ['safe', 'secure'] as const) {
      for (const error of [new Error('boom'), new TypeError('x'), 'text', undefined, null]) {
        assert.equal(decideFailmode({ failmode, error }).allowed, false);
      }
    }
  });

  it('treats a failmode that is neither safe nor secure as secure', () => {
    const decision = decideFailmode({
      failmode: 'open' as 'safe',
      error: new WebSdkError('unreachable', 'x'),
    });
    assert.equal(decision.allowed, false);
  });
});
