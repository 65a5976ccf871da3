import { isJsonObject } from '../core/json.js';
import type { EnvReader } from './env-reader.js';
import { ENV_NAME, failAt, HEADERS, HTTP_URL, inlineOrEnv, oneOfKeys, schemaCheck } from './schema.js';
import type { Env, PlatformConfig } from './types.js';

const MAX_CHARS = { type: 'integer', minimum: 20, description: 'must be a whole number >= 20' };
const REDIS_URL = { type: 'string', pattern: '^rediss?://', description: 'must be a redis:// or rediss:// URL' };
const TEXT = { type: 'string' };
const LONG_MESSAGES = { enum: ['split', 'truncate'], description: 'must be "split" or "truncate"' };
const MAX_LEN = { type: 'integer', minimum: 1, description: 'must be a positive whole number' };

/**
 * Each kind's keys. `url`, `secret` and `stream_prefix` may instead name an
 * environment variable (`url_env`, ...); a key of another kind is refused.
 */
const KINDS = {
  webhook: entryCheck('webhook', { url: HTTP_URL, secret: TEXT, headers: HEADERS }, ['url']),
  slack: entryCheck('slack', { url: HTTP_URL }, ['url']),
  discord: entryCheck('discord', { url: HTTP_URL, long_messages: LONG_MESSAGES }, ['url']),
  'redis-stream': entryCheck('redis-stream', { url: REDIS_URL, stream_prefix: TEXT, max_len: MAX_LEN }, []),
};
type Kind = keyof typeof KINDS;

const checkName = schemaCheck({
  type: 'string',
  pattern: '^[a-z][a-z0-9_-]{0,31}$',
  description: 'the name must be lowercase a-z 0-9 _ - (a-z first, at most 32)',
});
const checkHttpUrl = schemaCheck(HTTP_URL);
const checkRedisUrl = schemaCheck(REDIS_URL);

/** An entry that passed its kind's schema. */
interface Entry {
  [key: string]: unknown;
  max_chars?: number;
  headers?: Record<string, string>;
  long_messages?: 'split' | 'truncate';
  max_len?: number;
}

/** TASKSERVICE_PLATFORMS (inline) or _FILE: {"name": {"kind": "webhook", "url": "...", "max_chars": 4000}} */
export function readPlatforms(r: EnvReader): PlatformConfig[] {
  const setting = r.jsonObject('TASKSERVICE_PLATFORMS', 'TASKSERVICE_PLATFORMS_FILE', 'platform name -> settings');
  if (!setting) return [];
  return Object.entries(setting.value).map(([name, raw]) => parsePlatform(setting.source, name, raw, r.env));
}

function parsePlatform(source: string, name: string, raw: unknown, env: Env): PlatformConfig {
  const fail = failAt(`${source}: platform "${name}"`);
  const badName = checkName(name);
  if (badName) fail(badName);
  const kind = (isJsonObject(raw) ? (raw.kind ?? 'webhook') : 'webhook') as Kind;
  if (!Object.hasOwn(KINDS, kind)) {
    fail(`kind "${String(kind)}" is not supported (supported: ${Object.keys(KINDS).join(', ')})`);
  }
  const problem = KINDS[kind](raw);
  if (problem) fail(problem);
  const p = raw as Entry;
  const maxChars = p.max_chars ?? (kind === 'discord' ? 2000 : 4000);
  if (kind === 'redis-stream') {
    // The platform may share the task store's Redis.
    const url = inlineOrEnv(p, 'url', env, fail, checkRedisUrl) ?? env.REDIS_URL;
    if (!url || checkRedisUrl(url)) fail('url must be a redis:// or rediss:// URL (or set REDIS_URL)');
    const streamPrefix = inlineOrEnv(p, 'stream_prefix', env, fail) ?? 'taskservice:deliveries:';
    return { name, kind, url: url!, streamPrefix, maxLen: p.max_len ?? 10_000, maxChars };
  }
  const url = inlineOrEnv(p, 'url', env, fail, checkHttpUrl)!;
  if (kind === 'slack') return { name, kind, url, maxChars };
  if (kind === 'discord') return { name, kind, url, maxChars, longMessages: p.long_messages ?? 'split' };
  const secret = inlineOrEnv(p, 'secret', env, fail);
  return { name, kind, url, maxChars, headers: p.headers ?? {}, ...(secret && { secret }) };
}

/** The check of one kind's entry. */
function entryCheck(kind: string, fields: Record<string, object>, required: string[]) {
  const properties: Record<string, object> = { kind: { const: kind }, max_chars: MAX_CHARS, ...fields };
  const envKeys = ['url', 'secret', 'stream_prefix'].filter((key) => key in fields);
  for (const key of envKeys) properties[`${key}_env`] = ENV_NAME;
  return schemaCheck({
    type: 'object',
    properties,
    additionalProperties: false,
    allOf: envKeys.map((key) => oneOfKeys(key, `${key}_env`, required.includes(key))),
  });
}
