import type { EnvReader } from './env-reader.js';
import { ConfigError, type Env, type TokenConfig } from './types.js';

/** TASKSERVICE_AUTH_TOKENS (inline) or _FILE: {"name": {"token" | "token_env": "...", "users": ["alice"] | "*"}} */
export function readTokens(r: EnvReader): TokenConfig[] {
  const setting = r.jsonObject('TASKSERVICE_AUTH_TOKENS', 'TASKSERVICE_AUTH_TOKENS_FILE', 'token name -> settings');
  if (!setting) return [];
  const tokens = Object.entries(setting.value).map(([name, raw]) => parseToken(setting.source, name, raw, r.env));
  if (tokens.length === 0) throw new ConfigError(`${setting.source} names no token; leave it unset to turn authentication off`);
  return tokens;
}

/** Short tokens can be guessed; 16 characters of a random token is the floor. */
const MIN_TOKEN_LENGTH = 16;

function parseToken(source: string, name: string, raw: unknown, env: Env): TokenConfig {
  const fail = (what: string): never => {
    throw new ConfigError(`${source}: token "${name}": ${what}`);
  };
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) fail('the name must be 1-64 of A-Z a-z 0-9 _ . -');
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('must be an object');
  const p = raw as Record<string, unknown>;
  if ((p.token === undefined) === (p.token_env === undefined)) fail('set exactly one of token and token_env');
  let token = p.token;
  if (p.token_env !== undefined) {
    if (typeof p.token_env !== 'string' || !env[p.token_env]) fail(`token_env names ${String(p.token_env)}, which is not set in the environment`);
    token = env[p.token_env as string];
  }
  if (typeof token !== 'string' || token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
    fail(`the token must be at least ${MIN_TOKEN_LENGTH} characters without whitespace`);
  }
  const users = p.users;
  if (users === '*') return { name, token: token as string, users: '*' };
  if (!Array.isArray(users) || users.length === 0 || users.some((u) => typeof u !== 'string' || u === '')) {
    fail('users must be "*" (any user) or a non-empty array of user ids');
  }
  return { name, token: token as string, users: users as string[] };
}
