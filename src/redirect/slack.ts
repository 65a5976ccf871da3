import type { OutgoingMessage, PlatformAdapter } from './platform-adapter.js';
import { channelUrl, post } from './http.js';

export interface SlackConfig {
  platform: string;
  /** The incoming-webhook URL; `{channel_id}` lets one template serve several channels. */
  url: string;
  maxChars: number;
}

/** Slack incoming webhook: `{"text": ...}` (mrkdwn), one message per delivery. */
export class SlackAdapter implements PlatformAdapter {
  readonly kind = 'slack';

  constructor(private readonly config: SlackConfig) {}

  get platform(): string {
    return this.config.platform;
  }

  get maxChars(): number {
    return this.config.maxChars;
  }

  async send(message: OutgoingMessage, signal: AbortSignal): Promise<void> {
    const body = JSON.stringify({ text: message.text });
    await post(channelUrl(this.config.url, message.channelId), body, {}, signal, `${this.config.platform} (slack)`);
  }
}
