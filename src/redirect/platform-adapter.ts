import type { TaskRecord } from '../core/task.js';

/** One message for one channel, already formatted and truncated. */
export interface OutgoingMessage {
  channelId: string;
  text: string;
  truncated: boolean;
  task: TaskRecord;
  /** Owned by the delivery, kept across its attempts: parts of a split message already accepted. */
  sent: { parts: number };
  /** A task's result (the default), or the question of a task waiting for input. */
  kind?: 'result' | 'question';
}

/** Posts messages to one chat platform. */
export interface PlatformAdapter {
  /** The platform name callers use in redirects. */
  readonly platform: string;
  readonly kind: string;
  /** The longest text one delivery may carry, in characters. */
  readonly maxChars: number;
  /**
   * Sends the message. Rejects with PermanentDeliveryError when retrying
   * cannot help, RetryableDeliveryError (optionally with the wait the
   * receiver asked for), or any other error (treated as retryable).
   */
  send(message: OutgoingMessage, signal: AbortSignal): Promise<void>;
  close?(): Promise<void>;
}

/** A failure that retrying cannot fix (a 4xx answer, say). */
export class PermanentDeliveryError extends Error {}

/** A failure worth retrying; `retryAfterMs` is the wait the receiver asked for (429 Retry-After). */
export class RetryableDeliveryError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}
