import type { EnvReader } from './env-reader.js';
import { ConfigError, type Env, type PlatformConfig } from './types.js';

/** TASKSERVICE_PLATFORMS (inline) or _FILE: {"name": {"kind": "webhook", "url": "...", "max_chars": 4000, "headers": {}}} */
export function readPlatforms(r: EnvReader): PlatformConfig[] {
  const setting = r.jsonObject('TASKSERVICE_PLATFORMS', 'TASKSERVICE_PLATFORMS_FILE', 'platform name -> settings');
  if (!setting) return [];
  return Object.entries(setting.value).map(([name, raw]) => parsePlatform(setting.source, name, raw, r.env));
}

const PLATFORM_KINDS = ['webhook', 'slack', 'discord', 'redis-stream'] as const;

function parsePlatform(source: string, name: string, raw: unknown, env: Env): PlatformConfig {
  const where = `${source}: platform "${name}"`;
  const fail = (what: string): never => {
    throw new ConfigError(`${where}: ${what}`);
  };
  if (!/^[a-z][a-z0-9_-]{0,31}$/.test(name)) fail('the name must be lowercase a-z 0-9 _ - (a-z first, at most 32)');
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('must be an object');
  const p = raw as Record<string, unknown>;
  const kind = (p.kind ?? 'webhook') as PlatformConfig['kind'];
  if (!PLATFORM_KINDS.includes(kind)) fail(`kind "${String(kind)}" is not supported (supported: ${PLATFORM_KINDS.join(', ')})`);
  /** A string setting, given inline or (for secrets) as the name of an environment variable: `<key>_env`. */
  const text = (key: string): string | undefined => {
    const envName = p[`${key}_env`];
    if (envName !== undefined) {
      if (typeof envName !== 'string' || !env[envName]) fail(`${key}_env names ${String(envName)}, which is not set in the environment`);
      return env[envName as string];
    }
    if (p[key] !== undefined && typeof p[key] !== 'string') fail(`${key} must be a string`);
    return p[key] as string | undefined;
  };
  const limit = kind === 'discord' ? 2000 : 4000;
  const maxChars = p.max_chars ?? limit;
  if (!Number.isInteger(maxChars) || (maxChars as number) < 20) fail('max_chars must be a whole number >= 20');
  const url = text('url');
  if (kind === 'redis-stream') {
    const redisUrl = url ?? env.REDIS_URL;
    if (!redisUrl || !/^rediss?:\/\//.test(redisUrl)) fail('url must be a redis:// or rediss:// URL (or set REDIS_URL)');
    const maxLen = p.max_len ?? 10_000;
    if (!Number.isInteger(maxLen) || (maxLen as number) < 1) fail('max_len must be a positive whole number');
    return { name, kind, url: redisUrl!, streamPrefix: text('stream_prefix') ?? 'taskservice:deliveries:', maxLen: maxLen as number, maxChars: maxChars as number };
  }
  if (!url || !/^https?:\/\//.test(url)) fail('url must be an http(s) URL');
  if (kind === 'slack') return { name, kind, url: url!, maxChars: maxChars as number };
  if (kind === 'discord') {
    const longMessages = p.long_messages ?? 'split';
    if (longMessages !== 'split' && longMessages !== 'truncate') fail('long_messages must be "split" or "truncate"');
    return { name, kind, url: url!, maxChars: maxChars as number, longMessages: longMessages as 'split' | 'truncate' };
  }
  const headers = p.headers ?? {};
  if (typeof headers !== 'object' || headers === null || Object.values(headers).some((v) => typeof v !== 'string')) {
    fail('headers must be an object of strings');
  }
  const secret = text('secret');
  return { name, kind: 'webhook', url: url!, maxChars: maxChars as number, headers: headers as Record<string, string>, ...(secret && { secret }) };
}
