// The one error the Web SDK throws, with a kind that says what failed: the failmode decision
// (failmode.ts) reads the kind, never the message.

/**
 * `unreachable`: no HTTP answer (DNS, TCP, TLS). `timeout`: no answer in time. `server_error`: a
 * 5xx answer. `invalid_client`: the client id or secret is wrong. `invalid_grant`: the code is
 * unknown, used or expired. `bad_response`: an answer that is not what the protocol says.
 * `bad_token`: the id_token does not verify, or names another user or nonce. `bad_state`: the
 * callback's state is not the one this session sent.
 */
export const WEB_SDK_ERROR_KINDS = [
  'unreachable',
  'timeout',
  'server_error',
  'invalid_client',
  'invalid_grant',
  'bad_response',
  'bad_token',
  'bad_state',
] as const;
export type WebSdkErrorKind = (typeof WEB_SDK_ERROR_KINDS)[number];

/** Kinds where the 2FA service could not be asked at all: the only ones failmode safe lets in. */
export const UNREACHABLE_KINDS: readonly WebSdkErrorKind[] = [
  'unreachable',
  'timeout',
  'server_error',
];

/**
 * @example
 * try { await client.healthCheck(); } catch (e) { if (isWebSdkError(e)) console.log(e.kind); }
 */
export class WebSdkError extends Error {
  readonly kind: WebSdkErrorKind;

  constructor(kind: WebSdkErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WebSdkError';
    this.kind = kind;
  }
}

/** Whether `e` is a WebSdkError (of one of `kinds`, when given). */
export function isWebSdkError(e: unknown, ...kinds: WebSdkErrorKind[]): e is WebSdkError {
  return e instanceof WebSdkError && (kinds.length === 0 || kinds.includes(e.kind));
}
