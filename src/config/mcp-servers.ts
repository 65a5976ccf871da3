import { isJsonObject } from '../core/json.js';
import type { EnvReader } from './env-reader.js';
import { ENV_NAME, failAt, HEADERS, HTTP_URL, inlineOrEnv, oneOfKeys, schemaCheck } from './schema.js';
import type { Env, McpServerConfig } from './types.js';

const SECONDS = { type: 'number', exclusiveMinimum: 0, description: 'must be a positive number of seconds' };
const TOOL_NAMES = { type: 'array', items: { type: 'string' }, description: 'must be an array of tool names' };
const STRINGS = {
  type: 'object',
  additionalProperties: { type: 'string' },
  description: 'must be an object of strings',
};
const ENV_NAMES = {
  type: 'object',
  additionalProperties: ENV_NAME,
  description: 'must be an object whose values name environment variables',
};

/** Keys every server may have, whatever its transport. */
const COMMON = {
  tool_prefix: {
    type: 'string',
    pattern: '^[a-z][a-z0-9_]{0,31}$',
    description: 'must be lowercase a-z 0-9 _ (a-z first, at most 32), e.g. "github_"',
  },
  include: TOOL_NAMES,
  exclude: TOOL_NAMES,
  concurrency: { type: 'integer', minimum: 1, description: 'must be a positive whole number' },
  default_budget_seconds: SECONDS,
  hard_timeout_seconds: SECONDS,
  input_timeout_seconds: SECONDS,
};

const checkStdio = schemaCheck({
  type: 'object',
  properties: {
    ...COMMON,
    command: { type: 'string', minLength: 1, description: 'must be the program to start' },
    args: { type: 'array', items: { type: 'string' }, description: 'must be an array of strings' },
    env: STRINGS,
    // Child variable -> TaskService variable: secrets stay out of the file.
    env_from: ENV_NAMES,
    cwd: { type: 'string', minLength: 1 },
  },
  required: ['command'],
  additionalProperties: false,
});

const checkHttp = schemaCheck({
  type: 'object',
  properties: {
    ...COMMON,
    url: HTTP_URL,
    url_env: ENV_NAME,
    headers: HEADERS,
    // Header -> TaskService variable holding its value (an Authorization header, say).
    headers_env: ENV_NAMES,
  },
  additionalProperties: false,
  allOf: [oneOfKeys('url', 'url_env', true)],
});
const checkUrl = schemaCheck(HTTP_URL);

const checkName = schemaCheck({
  type: 'string',
  pattern: '^[a-z][a-z0-9_-]{0,31}$',
  description: 'the name must be lowercase a-z 0-9 _ - (a-z first, at most 32)',
});

/**
 * TASKSERVICE_MCP_SERVERS (inline) or _FILE:
 * {"name": {"command": "npx", "args": [...]}} for a stdio server,
 * {"name": {"url": "https://.../mcp"}} for a Streamable HTTP one.
 */
export function readMcpServers(r: EnvReader): McpServerConfig[] {
  const setting = r.jsonObject('TASKSERVICE_MCP_SERVERS', 'TASKSERVICE_MCP_SERVERS_FILE', 'server name -> settings');
  if (!setting) return [];
  return Object.entries(setting.value).map(([name, raw]) => parseServer(setting.source, name, raw, r.env));
}

function parseServer(source: string, name: string, raw: unknown, env: Env): McpServerConfig {
  const fail: (problem: string) => never = failAt(`${source}: MCP server "${name}"`);
  const badName = checkName(name);
  if (badName) fail(badName);
  if (!isJsonObject(raw)) fail('must be an object with "command" (stdio) or "url" (Streamable HTTP)');
  const stdio = 'command' in raw;
  if (!stdio && !('url' in raw || 'url_env' in raw)) {
    fail('set "command" (a stdio server) or "url" / "url_env" (a Streamable HTTP server)');
  }
  const problem = (stdio ? checkStdio : checkHttp)(raw);
  if (problem) fail(problem);
  const e = raw as Record<string, unknown>;
  const include = e.include as string[] | undefined;
  const exclude = e.exclude as string[] | undefined;
  if (include && exclude) fail('set include or exclude, not both');
  const common = {
    name,
    toolPrefix: (e.tool_prefix as string | undefined) ?? '',
    ...(include && { include }),
    ...(exclude && { exclude }),
    ...(e.concurrency !== undefined && { concurrency: e.concurrency as number }),
    ...(e.default_budget_seconds !== undefined && { budgetSeconds: e.default_budget_seconds as number }),
    ...(e.hard_timeout_seconds !== undefined && { hardTimeoutSeconds: e.hard_timeout_seconds as number }),
    ...(e.input_timeout_seconds !== undefined && { inputTimeoutSeconds: e.input_timeout_seconds as number }),
  };
  if (stdio) {
    const fromEnv = fromEnvironment(e.env_from as Record<string, string> | undefined, env, fail, 'env_from');
    return {
      ...common,
      transport: 'stdio',
      command: e.command as string,
      args: (e.args as string[] | undefined) ?? [],
      env: { ...(e.env as Record<string, string> | undefined), ...fromEnv },
      ...(e.cwd !== undefined && { cwd: e.cwd as string }),
    };
  }
  const url = inlineOrEnv(e, 'url', env, fail, checkUrl)!;
  const fromEnv = fromEnvironment(e.headers_env as Record<string, string> | undefined, env, fail, 'headers_env');
  return {
    ...common,
    transport: 'http',
    url,
    headers: { ...(e.headers as Record<string, string> | undefined), ...fromEnv },
  };
}

/** {"KEY": "ENV_NAME"} -> {"KEY": value of ENV_NAME}; a variable that is not set fails the start. */
function fromEnvironment(
  names: Record<string, string> | undefined,
  env: Env,
  fail: (problem: string) => never,
  key: string,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(names ?? {}).map(([target, variable]) => {
      const value = env[variable];
      if (value === undefined || value === '') fail(`${key}.${target} names ${variable}, which is not set`);
      return [target, value];
    }),
  );
}
