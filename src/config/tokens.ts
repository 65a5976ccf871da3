import type { EnvReader } from './env-reader.js';
import { ENV_NAME, failAt, inlineOrEnv, oneOfKeys, schemaCheck } from './schema.js';
import { ConfigError, type Env, type TokenConfig } from './types.js';

/** Short tokens can be guessed; 16 characters of a random token is the floor. */
const MIN_TOKEN_LENGTH = 16;

const TOKEN = {
  type: 'string',
  minLength: MIN_TOKEN_LENGTH,
  pattern: '^\\S*$',
  description: `must be at least ${MIN_TOKEN_LENGTH} characters without whitespace`,
};

const checkName = schemaCheck({
  type: 'string',
  pattern: '^[A-Za-z0-9_.-]{1,64}$',
  description: 'the name must be 1-64 of A-Z a-z 0-9 _ . -',
});
const checkToken = schemaCheck(TOKEN);
const checkEntry = schemaCheck({
  type: 'object',
  properties: {
    token: TOKEN,
    token_env: ENV_NAME,
    users: {
      anyOf: [{ const: '*' }, { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } }],
      description: 'must be "*" (any user) or a non-empty array of user ids',
    },
  },
  required: ['users'],
  additionalProperties: false,
  allOf: [oneOfKeys('token', 'token_env', true)],
});

/** TASKSERVICE_AUTH_TOKENS (inline) or _FILE: {"name": {"token" | "token_env": "...", "users": ["alice"] | "*"}} */
export function readTokens(r: EnvReader): TokenConfig[] {
  const setting = r.jsonObject('TASKSERVICE_AUTH_TOKENS', 'TASKSERVICE_AUTH_TOKENS_FILE', 'token name -> settings');
  if (!setting) return [];
  const tokens = Object.entries(setting.value).map(([name, raw]) => parseToken(setting.source, name, raw, r.env));
  if (tokens.length === 0) {
    throw new ConfigError(`${setting.source} names no token; leave it unset to turn authentication off`);
  }
  return tokens;
}

function parseToken(source: string, name: string, raw: unknown, env: Env): TokenConfig {
  const fail = failAt(`${source}: token "${name}"`);
  const problem = checkName(name) ?? checkEntry(raw);
  if (problem) fail(problem);
  const entry = raw as { users: string[] | '*' };
  return { name, token: inlineOrEnv(entry, 'token', env, fail, checkToken)!, users: entry.users };
}
