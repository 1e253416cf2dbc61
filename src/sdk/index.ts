// airlock/sdk: protect a web application with Airlock's hosted prompt (Duo Web SDK v4 protocol).
export {
  createWebSdkClient,
  isSameState,
  type HealthStatus,
  type TwoFactorResult,
  type WebSdkClient,
  type WebSdkClientOptions,
} from './web-sdk-client.ts';
export {
  decideFailmode,
  isWebFailmode,
  WEB_FAILMODES,
  type FailmodeDecision,
  type WebFailmode,
} from './failmode.ts';
export {
  isWebSdkError,
  UNREACHABLE_KINDS,
  WEB_SDK_ERROR_KINDS,
  WebSdkError,
  type WebSdkErrorKind,
} from './web-sdk-error.ts';
export type { HttpSend, HttpSendRequest, HttpSendResponse } from '../runtime/http-send.ts';
export { HttpSendError } from '../runtime/http-send.ts';
