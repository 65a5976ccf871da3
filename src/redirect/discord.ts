import type { OutgoingMessage, PlatformAdapter } from './platform-adapter.js';
import { splitText } from './format.js';
import { channelUrl, post } from './http.js';

/** Discord's limit for one message's content. */
export const DISCORD_MESSAGE_CHARS = 2000;

export interface DiscordConfig {
  platform: string;
  /** The webhook URL; `{channel_id}` lets one template serve several channels. */
  url: string;
  /** The most a result may take in total (split: across messages). */
  maxChars: number;
  /** Longer results: several 2,000-character messages, or one truncated message. */
  longMessages: 'split' | 'truncate';
}

/**
 * Discord webhook: `{"content": ...}`, 2,000 characters a message. With
 * `split`, a long result goes out as consecutive messages cut at grapheme
 * boundaries (preferring line breaks). Parts already accepted are not sent
 * again when a later part fails and the delivery is retried.
 */
export class DiscordAdapter implements PlatformAdapter {
  readonly kind = 'discord';

  constructor(private readonly config: DiscordConfig) {}

  get platform(): string {
    return this.config.platform;
  }

  get maxChars(): number {
    return this.config.longMessages === 'split'
      ? this.config.maxChars
      : Math.min(this.config.maxChars, DISCORD_MESSAGE_CHARS);
  }

  async send(message: OutgoingMessage, signal: AbortSignal): Promise<void> {
    const parts = splitText(message.text, DISCORD_MESSAGE_CHARS);
    const url = channelUrl(this.config.url, message.channelId);
    for (let i = message.sent.parts; i < parts.length; i++) {
      await post(url, JSON.stringify({ content: parts[i] }), {}, signal, `${this.config.platform} (discord)`);
      message.sent.parts = i + 1;
    }
  }
}
