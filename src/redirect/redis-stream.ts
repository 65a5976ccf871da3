import { Redis } from 'ioredis';
import type { OutgoingMessage, PlatformAdapter } from './platform-adapter.js';

export interface RedisStreamConfig {
  platform: string;
  /** redis:// or rediss:// of the Redis that holds the streams. */
  url: string;
  /** Stream key = `${streamPrefix}${platform}:${channel_id}`. */
  streamPrefix: string;
  /** Approximate cap on each stream's length (XADD MAXLEN ~). */
  maxLen: number;
  maxChars: number;
}

/**
 * Appends each delivery to a Redis Stream per platform and channel, so
 * consumers in any language read them with XREAD / XREADGROUP. Entry fields:
 * task_id, tool_name, status, failure_reason, text, truncated, kind (result or question).
 */
export class RedisStreamAdapter implements PlatformAdapter {
  readonly kind = 'redis-stream';
  private readonly redis: Redis;

  constructor(private readonly config: RedisStreamConfig) {
    // Fail a delivery at once while Redis is away; the dispatcher retries.
    this.redis = new Redis(config.url, { lazyConnect: true, enableOfflineQueue: true, maxRetriesPerRequest: 0 });
    this.redis.on('error', () => undefined);
  }

  get platform(): string {
    return this.config.platform;
  }

  get maxChars(): number {
    return this.config.maxChars;
  }

  streamKey(channelId: string): string {
    return `${this.config.streamPrefix}${this.config.platform}:${channelId}`;
  }

  async send(message: OutgoingMessage, signal: AbortSignal): Promise<void> {
    const { task } = message;
    const added = this.redis.xadd(
      this.streamKey(message.channelId),
      'MAXLEN',
      '~',
      this.config.maxLen,
      '*',
      'task_id',
      task.taskId,
      'tool_name',
      task.toolName,
      'status',
      task.status,
      'failure_reason',
      task.failureReason ?? '',
      'text',
      message.text,
      'truncated',
      message.truncated ? '1' : '0',
      'kind',
      message.kind ?? 'result',
    );
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal.reason ?? new Error('aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      added.then(
        () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      );
    });
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
