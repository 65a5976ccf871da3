import type { PlatformConfig } from '../config/index.js';
import type { PlatformAdapter } from './platform-adapter.js';
import { DiscordAdapter } from './discord.js';
import { RedisStreamAdapter } from './redis-stream.js';
import { SlackAdapter } from './slack.js';
import { WebhookAdapter } from './webhook.js';

/** One adapter per configured platform. */
export function createAdapters(platforms: readonly PlatformConfig[]): PlatformAdapter[] {
  return platforms.map((p): PlatformAdapter => {
    switch (p.kind) {
      case 'webhook':
        return new WebhookAdapter({
          platform: p.name,
          url: p.url,
          maxChars: p.maxChars,
          headers: p.headers,
          secret: p.secret,
        });
      case 'slack':
        return new SlackAdapter({ platform: p.name, url: p.url, maxChars: p.maxChars });
      case 'discord':
        return new DiscordAdapter({ platform: p.name, url: p.url, maxChars: p.maxChars, longMessages: p.longMessages });
      case 'redis-stream':
        return new RedisStreamAdapter({
          platform: p.name,
          url: p.url,
          streamPrefix: p.streamPrefix,
          maxLen: p.maxLen,
          maxChars: p.maxChars,
        });
    }
  });
}
