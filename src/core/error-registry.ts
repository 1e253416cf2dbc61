// The one error registry: stable codes, HTTP status, Duo wire code and message. Codes are API.

interface ErrorSpec {
  /** HTTP status, when the error reaches a client over HTTP. */
  status: number;
  /** Duo's five-digit wire code (Auth API errors only). */
  duoCode?: number;
  message: string;
}

export const ERRORS = {
  AUTH_MISSING_PARAMETERS: {
    status: 400,
    duoCode: 40001,
    message: 'Missing required request parameters',
  },
  AUTH_INVALID_PARAMETERS: { status: 400, duoCode: 40002, message: 'Invalid request parameters' },
  AUTH_NO_CAPABLE_DEVICE: { status: 400, duoCode: 40002, message: 'Invalid request parameters' },
  AUTH_USERNAME_TAKEN: { status: 400, duoCode: 40002, message: 'Invalid request parameters' },
  AUTH_USERNAME_AMBIGUOUS: {
    status: 400,
    duoCode: 40002,
    message: 'Invalid request parameters',
  },
  AUTH_LOGO_NOT_FOUND: { status: 400, duoCode: 40002, message: 'Logo not found' },
  AUTH_MISSING_CREDENTIALS: { status: 401, duoCode: 40101, message: 'Missing request credentials' },
  AUTH_UNKNOWN_IKEY: {
    status: 401,
    duoCode: 40102,
    message: 'Invalid integration key in request credentials',
  },
  AUTH_BAD_SIGNATURE: {
    status: 401,
    duoCode: 40103,
    message: 'Invalid signature in request credentials',
  },
  // Strict host mode: the signature is good but covers another host name; Duo's code for a
  // signature that does not verify for this host.
  AUTH_WRONG_HOST: {
    status: 401,
    duoCode: 40103,
    message: 'Invalid signature in request credentials',
  },
  AUTH_BAD_DATE: { status: 401, duoCode: 40105, message: 'Bad request timestamp' },
  AUTH_WRONG_INTEGRATION_TYPE: { status: 403, duoCode: 40301, message: 'Access forbidden' },
  AUTH_USER_SECRET_UNREADABLE: { status: 403, duoCode: 40301, message: 'Access forbidden' },
  AUTH_NOT_FOUND: { status: 404, duoCode: 40401, message: 'Resource not found' },
  AUTH_METHOD_NOT_ALLOWED: { status: 405, duoCode: 40501, message: 'Method not allowed' },
  AUTH_BODY_TOO_LARGE: { status: 413, duoCode: 41301, message: 'Request entity too large' },
  AUTH_UNSUPPORTED_MEDIA_TYPE: { status: 415, duoCode: 41501, message: 'Unsupported media type' },
  AUTH_RATE_LIMITED: { status: 429, duoCode: 42901, message: 'Too many requests' },
  AUTH_INTERNAL: { status: 500, duoCode: 50001, message: 'Internal server error' },
  ADMIN_MISSING_PARAMETERS: {
    status: 400,
    duoCode: 40001,
    message: 'Missing required request parameters',
  },
  ADMIN_INVALID_PARAMETERS: { status: 400, duoCode: 40002, message: 'Invalid request parameters' },
  ADMIN_MISSING_CREDENTIALS: {
    status: 401,
    duoCode: 40101,
    message: 'Missing request credentials',
  },
  ADMIN_UNKNOWN_IKEY: {
    status: 401,
    duoCode: 40102,
    message: 'Invalid integration key in request credentials',
  },
  ADMIN_BAD_SIGNATURE: {
    status: 401,
    duoCode: 40103,
    message: 'Invalid signature in request credentials',
  },
  ADMIN_WRONG_HOST: {
    status: 401,
    duoCode: 40103,
    message: 'Invalid signature in request credentials',
  },
  ADMIN_BAD_DATE: { status: 401, duoCode: 40105, message: 'Bad request timestamp' },
  ADMIN_SESSION_EXPIRED: { status: 401, duoCode: 40106, message: 'Console session expired' },
  ADMIN_LOGIN_FAILED: {
    status: 401,
    duoCode: 40107,
    message: 'Invalid username, password or code',
  },
  ADMIN_CSRF: { status: 403, duoCode: 40302, message: 'Missing or invalid CSRF token' },
  ADMIN_NOT_FOUND: { status: 404, duoCode: 40401, message: 'Resource not found' },
  ADMIN_CONFLICT: { status: 409, duoCode: 40901, message: 'Conflicts with an existing record' },
  ADMIN_BODY_TOO_LARGE: { status: 413, duoCode: 41301, message: 'Request entity too large' },
  ADMIN_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    duoCode: 41501,
    message: 'Unsupported media type',
  },
  ADMIN_RATE_LIMITED: { status: 429, duoCode: 42901, message: 'Too many requests' },
  ADMIN_INTERNAL: { status: 500, duoCode: 50001, message: 'Internal server error' },
  ADMIN_NOT_AVAILABLE: {
    status: 501,
    duoCode: 50101,
    message: 'Not available in this installation',
  },
  CONFIG_INVALID: { status: 500, message: 'Invalid configuration' },
  STORE_CONFLICT: { status: 409, message: 'Conflicts with an existing record' },
  STORE_NOT_FOUND: { status: 404, message: 'No such record' },
  STORE_AMBIGUOUS_USERNAME: { status: 400, message: 'Name matches more than one user' },
  CLI_USAGE: { status: 400, message: 'Invalid command usage' },
  POLICY_INVALID: { status: 400, message: 'Invalid policy' },
  EMERGENCY_INVALID: { status: 400, message: 'Invalid emergency control' },
  EMERGENCY_CONFLICT: { status: 409, message: 'Emergency control changed meanwhile' },
  EMERGENCY_NEEDS_CONFIRMATION: { status: 409, message: 'Confirmation required' },
  // A good signature v1 (no date, replayable) for an application that does not allow it.
  AUTH_LEGACY_SIGNATURE_NOT_ALLOWED: {
    status: 403,
    duoCode: 40301,
    message: 'Access forbidden',
  },
  // Web SDK v4 (docs/web-sdk.md): OAuth-style answers of the OIDC endpoints; `message` is the
  // OAuth `error` (health_check answers Duo's envelope with code 40002 and message invalid_client).
  WEBSDK_INVALID_CLIENT: { status: 400, duoCode: 40002, message: 'invalid_client' },
  WEBSDK_INVALID_GRANT: { status: 400, message: 'invalid_grant' },
  WEBSDK_UNSUPPORTED_GRANT_TYPE: { status: 400, message: 'unsupported_grant_type' },
  WEBSDK_AUTHORIZE_REFUSED: { status: 400, message: 'Login request refused' },
  BACKUP_UNREADABLE: { status: 400, message: 'Backup does not open' },
  BACKUP_NEWER_SCHEMA: { status: 400, message: 'Backup made by a newer release' },
  BACKUP_REFUSED: { status: 409, message: 'Backup or restore refused' },
  SECRET_KEY_ROTATION_REFUSED: { status: 409, message: 'Secret key rotation refused' },
  OUTAGE_INVALID: { status: 400, message: 'Invalid outage operation' },
  OUTAGE_CONFLICT: { status: 409, message: 'Incident changed meanwhile' },
  OUTAGE_DELIVERY_FAILED: { status: 502, message: 'Notification delivery failed' },
  // A health report for a component name that another application's keys reported first.
  AUTH_HEALTH_REPORTER_TAKEN: { status: 403, duoCode: 40301, message: 'Access forbidden' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** An error with a registered code. `expose` tells whether its message may reach a client. */
export class AirlockError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly duoCode: number | undefined;
  readonly expose: boolean;
  /** Duo's `message_detail`: the offending parameter or reason. */
  readonly detail: string | undefined;

  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown; message?: string }) {
    const spec: ErrorSpec = ERRORS[code];
    super(options?.message ?? (detail ? `${spec.message}: ${detail}` : spec.message), {
      cause: options?.cause,
    });
    this.name = 'AirlockError';
    this.code = code;
    this.status = spec.status;
    this.duoCode = spec.duoCode;
    this.expose = spec.status < 500;
    this.detail = detail;
  }
}

export function isAirlockError(e: unknown): e is AirlockError {
  return e instanceof AirlockError;
}
