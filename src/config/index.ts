import { checkTogether } from './checks.js';
import { EnvReader } from './env-reader.js';
import { readMcpServers } from './mcp-servers.js';
import { readPlatforms } from './platforms.js';
import { readRedis } from './redis.js';
import { readTls } from './tls.js';
import { readTokens } from './tokens.js';
import type { Config, Env } from './types.js';

export { ConfigError } from './types.js';
export type {
  Addr,
  Config,
  DeprecatedVariable,
  Env,
  McpServerConfig,
  PlatformConfig,
  RedisConfig,
  TokenConfig,
} from './types.js';

/**
 * Reads and validates the environment into one frozen Config; throws
 * ConfigError naming the variable. Defaults and ranges: SETTINGS.
 */
export function loadConfig(env: Env = process.env): Readonly<Config> {
  const r = new EnvReader(env);
  const config: Config = {
    addr: r.addr('TASKSERVICE_ADDR'),
    logLevel: r.oneOf('TASKSERVICE_LOG_LEVEL'),
    logRpcs: r.bool('TASKSERVICE_LOG_RPCS'),
    logToolArguments: r.bool('TASKSERVICE_LOG_TOOL_ARGUMENTS'),
    httpAddr: r.addr('TASKSERVICE_HTTP_ADDR'),
    console: r.oneOf('TASKSERVICE_CONSOLE'),
    mcp: {
      addr: r.addr('TASKSERVICE_MCP_ADDR'),
      allowedOrigins: r.text('TASKSERVICE_MCP_ALLOWED_ORIGINS').split(','),
    },
    instanceId: r.text('TASKSERVICE_INSTANCE_ID'),
    defaultBudgetSeconds: r.seconds('TASKSERVICE_DEFAULT_BUDGET_SECONDS'),
    maxBudgetSeconds: r.seconds('TASKSERVICE_MAX_BUDGET_SECONDS'),
    hardTimeoutSeconds: r.seconds('TASKSERVICE_HARD_TIMEOUT_SECONDS'),
    inputTimeoutSeconds: r.seconds('TASKSERVICE_INPUT_TIMEOUT_SECONDS'),
    awaitDefaultSeconds: r.seconds('TASKSERVICE_AWAIT_DEFAULT_SECONDS'),
    awaitMaxSeconds: r.seconds('TASKSERVICE_AWAIT_MAX_SECONDS'),
    heartbeatSeconds: r.seconds('TASKSERVICE_HEARTBEAT_SECONDS'),
    retentionSeconds: r.seconds('TASKSERVICE_RETENTION_SECONDS'),
    shutdownGraceSeconds: r.seconds('TASKSERVICE_SHUTDOWN_GRACE_SECONDS'),
    keepaliveTimeSeconds: r.seconds('TASKSERVICE_KEEPALIVE_TIME_SECONDS'),
    keepaliveTimeoutSeconds: r.seconds('TASKSERVICE_KEEPALIVE_TIMEOUT_SECONDS'),
    exampleTools: r.bool('TASKSERVICE_EXAMPLE_TOOLS'),
    workers: r.bool('TASKSERVICE_WORKERS'),
    workerPingSeconds: r.seconds('TASKSERVICE_WORKER_PING_SECONDS'),
    workerTimeoutSeconds: r.seconds('TASKSERVICE_WORKER_TIMEOUT_SECONDS'),
    reflection: r.bool('TASKSERVICE_REFLECTION'),
    tls: readTls(r),
    plaintext: r.bool('TASKSERVICE_PLAINTEXT'),
    tokens: readTokens(r),
    reflectionNeedsToken: r.bool('TASKSERVICE_REFLECTION_NEEDS_TOKEN'),
    platforms: readPlatforms(r),
    redirectAttempts: r.integer('TASKSERVICE_REDIRECT_ATTEMPTS'),
    redirectTimeoutSeconds: r.seconds('TASKSERVICE_REDIRECT_TIMEOUT_SECONDS'),
    redirectBackoffSeconds: r.seconds('TASKSERVICE_REDIRECT_BACKOFF_SECONDS'),
    redirectDeadlineSeconds: r.seconds('TASKSERVICE_REDIRECT_DEADLINE_SECONDS'),
    redis: readRedis(r),
    pendingOutcomesMax: r.integer('TASKSERVICE_PENDING_OUTCOMES_MAX'),
    limits: {
      argumentsBytes: r.integer('TASKSERVICE_MAX_ARGUMENTS_BYTES'),
      jsonDepth: r.integer('TASKSERVICE_MAX_JSON_DEPTH'),
      resultBytes: r.integer('TASKSERVICE_MAX_RESULT_BYTES'),
      outputBytes: r.integer('TASKSERVICE_MAX_OUTPUT_BYTES'),
      running: r.integer('TASKSERVICE_MAX_RUNNING'),
      runningPerUser: r.integer('TASKSERVICE_MAX_RUNNING_PER_USER'),
      runningTotal: r.integer('TASKSERVICE_MAX_RUNNING_TOTAL'),
      streamsPerConnection: r.integer('TASKSERVICE_MAX_STREAMS_PER_CONNECTION'),
    },
    toolModules: r.paths('TASKSERVICE_TOOL_MODULES'),
    httpTools: r.textFile('TASKSERVICE_HTTP_TOOLS_FILE'),
    mcpServers: readMcpServers(r),
    deprecatedVariables: r.deprecated,
  };
  checkTogether(config, r);
  return Object.freeze(config);
}
