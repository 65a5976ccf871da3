import type { TaskRecord } from '../core/task.js';

/** One message for one channel, already formatted and truncated. */
export interface OutgoingMessage {
  channelId: string;
  text: string;
  truncated: boolean;
  task: TaskRecord;
}

/** Posts messages to one chat platform. */
export interface PlatformAdapter {
  /** The platform name callers use in redirects. */
  readonly platform: string;
  readonly kind: string;
  /** The longest message the platform takes, in characters. */
  readonly maxChars: number;
  /** Rejects on failure; `PermanentDeliveryError` means retrying cannot help. */
  send(message: OutgoingMessage, signal: AbortSignal): Promise<void>;
}

/** A failure that retrying cannot fix (a 4xx answer, say). */
export class PermanentDeliveryError extends Error {}
