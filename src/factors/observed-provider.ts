// Wraps a message provider so every delivery attempt feeds the factor health board (outcome and latency).
import type { AuthFactor, FactorHealthBoard } from '../core/factor-health.ts';
import type { Clock } from '../runtime/clock.ts';
import {
  isProviderError,
  type CallRequest,
  type MessageProvider,
  type ProviderReceipt,
  type SmsMessage,
} from './message-provider.ts';

export interface ObservedProviderDeps {
  readonly clock: Clock;
  readonly health: FactorHealthBoard;
}

/**
 * The same provider, recording under (`factor`, provider name): `delivered` with the accept
 * latency, `failed` on a `ProviderError`. A caller's abort is not recorded: the user gave up,
 * which says nothing about the provider.
 *
 * @example
 * const sms = observeProvider({ clock, health }, 'sms', createTwilioProvider({}, options));
 */
export function observeProvider(
  deps: ObservedProviderDeps,
  factor: AuthFactor,
  provider: MessageProvider,
): MessageProvider {
  const observe = async (attempt: () => Promise<ProviderReceipt>): Promise<ProviderReceipt> => {
    const startMs = deps.clock.nowMs();
    try {
      const receipt = await attempt();
      const endMs = deps.clock.nowMs();
      deps.health.record(factor, provider.name, 'delivered', endMs - startMs, endMs);
      return receipt;
    } catch (e) {
      if (isProviderError(e)) {
        const endMs = deps.clock.nowMs();
        deps.health.record(factor, provider.name, 'failed', endMs - startMs, endMs);
      }
      throw e;
    }
  };
  return {
    name: provider.name,
    sendSms: (message: SmsMessage, signal?: AbortSignal) =>
      observe(() => provider.sendSms(message, signal)),
    startCall: (call: CallRequest, signal?: AbortSignal) =>
      observe(() => provider.startCall(call, signal)),
  };
}
