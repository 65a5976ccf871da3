import { type OutgoingMessage, PermanentDeliveryError, type PlatformAdapter } from './adapter.js';

export interface WebhookConfig {
  platform: string;
  /** `{channel_id}` in the URL is replaced by the (URL-encoded) channel id. */
  url: string;
  maxChars: number;
  headers: Record<string, string>;
}

/**
 * POSTs a JSON body per message:
 * {platform, channel_id, task_id, tool_name, status, failure_reason, text, truncated}.
 * 2xx is success; other 4xx (but 408 and 429) are permanent failures.
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
    const url = this.config.url.replaceAll('{channel_id}', encodeURIComponent(message.channelId));
    const { task } = message;
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...this.config.headers },
      body: JSON.stringify({
        platform: this.config.platform,
        channel_id: message.channelId,
        task_id: task.taskId,
        tool_name: task.toolName,
        status: task.status,
        failure_reason: task.failureReason ?? null,
        text: message.text,
        truncated: message.truncated,
      }),
      signal,
    });
    // Read the body so the connection can be reused, but keep only a little of it.
    const body = (await response.text()).slice(0, 200);
    if (response.ok) return;
    const detail = `HTTP ${response.status} from ${this.config.platform} webhook${body ? `: ${body}` : ''}`;
    const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
    throw retryable ? new Error(detail) : new PermanentDeliveryError(detail);
  }
}
