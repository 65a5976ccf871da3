import { createHmac } from 'node:crypto';
import type { OutgoingMessage, PlatformAdapter } from './platform-adapter.js';
import { channelUrl, post } from './http.js';

export interface WebhookConfig {
  platform: string;
  /** `{channel_id}` is replaced by the URL-encoded channel id. */
  url: string;
  maxChars: number;
  headers: Record<string, string>;
  /** When set, every request is signed (see signatureFor). */
  secret?: string;
}

export const SIGNATURE_HEADER = 'x-taskservice-signature';
export const TIMESTAMP_HEADER = 'x-taskservice-timestamp';

/**
 * `v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`. A receiver
 * recomputes it over the raw body and the timestamp header, compares in
 * constant time, and rejects old timestamps (replays).
 */
export function signatureFor(secret: string, timestamp: string, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * Generic webhook: a JSON POST per message,
 * {platform, channel_id, task_id, tool_name, status, failure_reason, text, truncated},
 * signed with HMAC-SHA256 when a secret is configured.
 */
export class WebhookAdapter implements PlatformAdapter {
  readonly kind = 'webhook';

  constructor(private readonly config: WebhookConfig) {}

  get platform(): string {
    return this.config.platform;
  }

  get maxChars(): number {
    return this.config.maxChars;
  }

  async send(message: OutgoingMessage, signal: AbortSignal): Promise<void> {
    const { task } = message;
    const body = JSON.stringify({
      platform: this.config.platform,
      channel_id: message.channelId,
      task_id: task.taskId,
      tool_name: task.toolName,
      status: task.status,
      failure_reason: task.failureReason ?? null,
      text: message.text,
      truncated: message.truncated,
      kind: message.kind ?? 'result',
      ...(message.kind === 'question' && { input_request_id: task.inputRequest?.id ?? '' }),
    });
    const headers = { ...this.config.headers };
    if (this.config.secret) {
      const timestamp = String(Math.floor(Date.now() / 1000));
      headers[TIMESTAMP_HEADER] = timestamp;
      headers[SIGNATURE_HEADER] = signatureFor(this.config.secret, timestamp, body);
    }
    await post(
      channelUrl(this.config.url, message.channelId),
      body,
      headers,
      signal,
      `${this.config.platform} webhook`,
    );
  }
}
