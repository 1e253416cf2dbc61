// Development provider: appends each SMS and call as one JSON line to a local file instead of reaching a carrier.
//
// The file holds live passcodes and callback URLs, so it is created (and kept) mode 0600, and
// nothing about a message is logged. Not for production: no phone ever rings.
import { open } from 'node:fs/promises';
import type { Clock } from '../runtime/clock.ts';
import {
  ProviderError,
  type CallRequest,
  type MessageProvider,
  type ProviderReceipt,
  type SmsMessage,
} from './message-provider.ts';

export interface FileProviderOptions {
  readonly path: string;
}

export interface FileProviderDeps {
  readonly clock: Clock;
  readonly newId: () => string;
}

/** One line of the file. */
export type FileProviderRecord =
  | { id: string; atMs: number; kind: 'sms'; to: string; body: string }
  | { id: string; atMs: number; kind: 'call'; to: string; callbackUrl: string; say: string };

/**
 * @example
 * const dev = createFileProvider({ clock, newId }, { path: 'data/messages.jsonl' });
 * await dev.sendSms({ to: '+15555550123', body: 'Code: 1234567' }); // one line in data/messages.jsonl
 */
export function createFileProvider(
  deps: FileProviderDeps,
  options: FileProviderOptions,
): MessageProvider {
  return new FileProvider(deps, options);
}

class FileProvider implements MessageProvider {
  readonly name = 'file' as const;
  readonly #deps: FileProviderDeps;
  readonly #path: string;

  constructor(deps: FileProviderDeps, options: FileProviderOptions) {
    this.#deps = deps;
    this.#path = options.path;
  }

  sendSms(message: SmsMessage, signal?: AbortSignal): Promise<ProviderReceipt> {
    const { id, atMs } = this.#stamp();
    return this.#append({ id, atMs, kind: 'sms', to: message.to, body: message.body }, signal);
  }

  startCall(call: CallRequest, signal?: AbortSignal): Promise<ProviderReceipt> {
    const { id, atMs } = this.#stamp();
    const record: FileProviderRecord = {
      id,
      atMs,
      kind: 'call',
      to: call.to,
      callbackUrl: call.callbackUrl,
      say: call.say,
    };
    return this.#append(record, signal);
  }

  #stamp(): { id: string; atMs: number } {
    return { id: this.#deps.newId(), atMs: this.#deps.clock.nowMs() };
  }

  async #append(
    record: FileProviderRecord,
    signal: AbortSignal | undefined,
  ): Promise<ProviderReceipt> {
    signal?.throwIfAborted();
    try {
      // O_APPEND: one write per line, so concurrent sends never interleave within a line.
      const handle = await open(this.#path, 'a', 0o600);
      try {
        // The mode above only applies to a new file; tighten one that was created looser.
        await handle.chmod(0o600);
        await handle.write(`${JSON.stringify(record)}\n`);
      } finally {
        await handle.close();
      }
    } catch (e) {
      // Like a carrier that cannot be reached: counted against the factor's health.
      const code = (e as { code?: unknown }).code;
      throw new ProviderError(
        'file',
        'unreachable',
        typeof code === 'string' ? code : 'write failed',
      );
    }
    return { providerId: record.id };
  }
}
