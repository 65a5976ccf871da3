import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { LIMIT_SETTINGS } from './limit-settings.js';
import type { ComputedDefault, Setting, SettingKind } from './setting.js';

export type { ComputedDefault, Setting, SettingKind };

const DAY = 86_400;
const PEM = 'path (PEM)';
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** Unique per process, readable in logs and in Redis (who owns a running task). */
const INSTANCE_ID: ComputedDefault = {
  shown: '<hostname>-<pid>-<random>',
  compute: () => `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
};

/**
 * Every setting, in the order of README.md's configuration table, which
 * mirrors this one (test/unit/settings.test.ts compares them row by row).
 * `taskservice serve --help` prints it.
 */
export const SETTINGS = [
  {
    name: 'TASKSERVICE_ADDR',
    kind: 'addr',
    default: '127.0.0.1:50051',
    accepts: '`host:port` (port 0 = a free port)',
    meaning: 'where to listen',
  },
  {
    name: 'TASKSERVICE_LOG_LEVEL',
    kind: 'enum',
    default: 'info',
    values: LOG_LEVELS,
    meaning: 'pino JSON logs on stdout',
  },
  {
    name: 'TASKSERVICE_LOG_RPCS',
    kind: 'bool',
    default: true,
    meaning: 'one info line per RPC; `false`: only failed RPCs',
  },
  {
    name: 'TASKSERVICE_LOG_TOOL_ARGUMENTS',
    kind: 'bool',
    default: false,
    meaning:
      "tool arguments in log lines (Execute's line, tools' own logs) and kept with each stored task for the " +
      'console; redacted and not kept when false',
  },
  {
    name: 'TASKSERVICE_HTTP_ADDR',
    kind: 'addr',
    meaning:
      "serve `/metrics` (Prometheus), `/healthz`, `/readyz` and the operators' console (`/console/`) over HTTP " +
      'here; unset: not served',
    deprecatedNames: ['TASKSERVICE_METRICS_ADDR'],
  },
  {
    name: 'TASKSERVICE_CONSOLE',
    kind: 'enum',
    default: 'on',
    values: ['on', 'open', 'off'],
    meaning:
      'the console at `/console/` on the HTTP address: `on` (with tokens it needs one; without, it answers only ' +
      'loopback clients), `open` (without tokens, any client too), `off` (not served)',
  },
  {
    name: 'TASKSERVICE_MCP_ADDR',
    kind: 'addr',
    meaning: 'serve MCP (Streamable HTTP) at `http://<host:port>/mcp`; unset: not served',
  },
  {
    name: 'TASKSERVICE_MCP_ALLOWED_ORIGINS',
    kind: 'text',
    default: 'localhost,127.0.0.1,[::1]',
    pattern: /^[^\s,]+(,[^\s,]+)*$/,
    accepts: 'comma-separated hostnames',
    meaning: 'browser origins that may call `/mcp` (others get 403; a request without `Origin` passes)',
  },
  {
    name: 'TASKSERVICE_INSTANCE_ID',
    kind: 'text',
    default: INSTANCE_ID,
    meaning: 'stored as the owner of the tasks this process runs',
  },
  {
    name: 'TASKSERVICE_DEFAULT_BUDGET_SECONDS',
    kind: 'seconds',
    default: 10,
    min: 0.001,
    max: DAY,
    deprecatedNames: ['TASKSERVICE_DEFAULT_TIMEOUT_SECONDS'],
    meaning: 'budget when neither call nor tool gives one',
  },
  {
    name: 'TASKSERVICE_MAX_BUDGET_SECONDS',
    kind: 'seconds',
    default: 300,
    min: 0.001,
    max: DAY,
    deprecatedNames: ['TASKSERVICE_MAX_TIMEOUT_SECONDS'],
    meaning: 'cap on any requested budget',
  },
  {
    name: 'TASKSERVICE_HARD_TIMEOUT_SECONDS',
    kind: 'seconds',
    default: 3600,
    min: 0.001,
    max: 7 * DAY,
    meaning: 'runtime limit of a task unless its tool sets one',
  },
  {
    name: 'TASKSERVICE_INPUT_TIMEOUT_SECONDS',
    kind: 'seconds',
    default: 3600,
    min: 0.1,
    max: 7 * DAY,
    meaning: 'how long a question of a tool waits for its answer unless its tool sets a limit',
  },
  {
    name: 'TASKSERVICE_AWAIT_DEFAULT_SECONDS',
    kind: 'seconds',
    default: 300,
    min: 0.001,
    max: DAY,
    meaning: 'AwaitResult wait limit when the call gives none',
  },
  {
    name: 'TASKSERVICE_AWAIT_MAX_SECONDS',
    kind: 'seconds',
    default: 3600,
    min: 0.001,
    max: DAY,
    meaning: 'cap on a requested wait limit',
  },
  {
    name: 'TASKSERVICE_HEARTBEAT_SECONDS',
    kind: 'seconds',
    default: 15,
    min: 0.05,
    max: 3600,
    meaning: 'AwaitResult heartbeat after this long without a message',
  },
  {
    name: 'TASKSERVICE_RETENTION_SECONDS',
    kind: 'seconds',
    default: DAY,
    min: 1,
    max: 30 * DAY,
    meaning: 'how long finished tasks (and their request ids) are kept',
  },
  {
    name: 'TASKSERVICE_SHUTDOWN_GRACE_SECONDS',
    kind: 'seconds',
    default: 10,
    min: 0,
    max: 3600,
    meaning: 'on SIGTERM: how long inline calls and deliveries may take',
  },
  {
    name: 'TASKSERVICE_KEEPALIVE_TIME_SECONDS',
    kind: 'seconds',
    default: 30,
    min: 1,
    max: 7200,
    meaning: 'server pings an idle connection this often…',
  },
  {
    name: 'TASKSERVICE_KEEPALIVE_TIMEOUT_SECONDS',
    kind: 'seconds',
    default: 10,
    min: 1,
    max: 600,
    meaning: '…and drops it when a ping is not answered in this time',
  },
  { name: 'TASKSERVICE_EXAMPLE_TOOLS', kind: 'bool', default: true, meaning: 'tools echo, sleep, fail, ask, ticker' },
  { name: 'TASKSERVICE_TOOL_MODULES', kind: 'paths', meaning: 'TypeScript/JavaScript tool modules to load at start' },
  { name: 'TASKSERVICE_HTTP_TOOLS_FILE', kind: 'path', meaning: 'JSON array of HTTP tools' },
  { name: 'TASKSERVICE_MCP_SERVERS', kind: 'json', meaning: 'MCP servers as tool sources, see below' },
  { name: 'TASKSERVICE_MCP_SERVERS_FILE', kind: 'path', meaning: 'the same, from a file (not both)' },
  {
    name: 'TASKSERVICE_WORKERS',
    kind: 'bool',
    default: true,
    meaning: 'serve `ToolWorkerService` (tool workers in other processes)',
  },
  {
    name: 'TASKSERVICE_WORKER_PING_SECONDS',
    kind: 'seconds',
    default: 5,
    min: 0.05,
    max: 600,
    meaning: 'the server pings each worker this often…',
  },
  {
    name: 'TASKSERVICE_WORKER_TIMEOUT_SECONDS',
    kind: 'seconds',
    default: 15,
    min: 0.1,
    max: 3600,
    meaning: '…and a worker silent this long is lost (its tasks fail `worker_lost`); must exceed the ping interval',
  },
  { name: 'TASKSERVICE_REFLECTION', kind: 'bool', default: true, meaning: 'gRPC server reflection (for grpcurl)' },
  {
    name: 'TASKSERVICE_TLS_CERT_FILE',
    kind: 'path',
    accepts: PEM,
    meaning: 'server certificate chain: serve TLS (with the key)',
  },
  { name: 'TASKSERVICE_TLS_KEY_FILE', kind: 'path', accepts: PEM, meaning: "the certificate's private key" },
  {
    name: 'TASKSERVICE_TLS_CLIENT_CA_FILE',
    kind: 'path',
    accepts: PEM,
    meaning: 'mutual TLS: require client certificates signed by this CA',
  },
  { name: 'TASKSERVICE_PLAINTEXT', kind: 'bool', default: false, meaning: 'allow plaintext on a non-loopback address' },
  {
    name: 'TASKSERVICE_AUTH_TOKENS',
    kind: 'json',
    meaning: 'bearer tokens and the users each may act for (see [Security](#security)); unset: no authentication',
  },
  { name: 'TASKSERVICE_AUTH_TOKENS_FILE', kind: 'path', meaning: 'the same, from a file (not both)' },
  {
    name: 'TASKSERVICE_REFLECTION_NEEDS_TOKEN',
    kind: 'bool',
    default: true,
    meaning: 'with tokens: whether reflection needs one',
  },
  {
    name: 'TASKSERVICE_PLATFORMS',
    kind: 'json',
    meaning: 'output-redirect platforms (webhook, slack, discord, redis-stream), see above',
  },
  { name: 'TASKSERVICE_PLATFORMS_FILE', kind: 'path', meaning: 'the same, from a file (not both)' },
  {
    name: 'TASKSERVICE_REDIRECT_ATTEMPTS',
    kind: 'integer',
    default: 3,
    min: 1,
    max: 100,
    meaning: 'delivery attempts per result',
  },
  {
    name: 'TASKSERVICE_REDIRECT_TIMEOUT_SECONDS',
    kind: 'seconds',
    default: 10,
    min: 0.01,
    max: 600,
    meaning: 'per-attempt timeout',
  },
  {
    name: 'TASKSERVICE_REDIRECT_BACKOFF_SECONDS',
    kind: 'seconds',
    default: 0.5,
    min: 0,
    max: 600,
    meaning: 'delay before the second attempt; doubles after each (with jitter)',
  },
  {
    name: 'TASKSERVICE_REDIRECT_DEADLINE_SECONDS',
    kind: 'seconds',
    default: 600,
    min: 0.1,
    max: DAY,
    meaning: 'no retry starts later than this after delivery began',
  },
  {
    name: 'REDIS_URL',
    kind: 'url',
    pattern: /^rediss?:\/\//,
    accepts: '`redis://…` or `rediss://…`',
    meaning: 'keep task state in this Redis (else in memory)',
  },
  {
    name: 'TASKSERVICE_REDIS_CLUSTER_NODES',
    kind: 'hosts',
    meaning: 'keep task state in this Redis Cluster (seed nodes)',
  },
  { name: 'TASKSERVICE_REDIS_SENTINELS', kind: 'hosts', meaning: 'Redis through these Sentinels…' },
  {
    name: 'TASKSERVICE_REDIS_SENTINEL_MASTER',
    kind: 'text',
    accepts: 'name',
    meaning: '…for this master set (required with Sentinels)',
  },
  {
    name: 'TASKSERVICE_REDIS_PASSWORD',
    kind: 'text',
    meaning: 'password for Cluster or Sentinel nodes (with `REDIS_URL`, put it in the URL)',
  },
  {
    name: 'TASKSERVICE_REDIS_TLS',
    kind: 'bool',
    default: false,
    meaning: 'TLS for Cluster or Sentinel nodes (`rediss://` for a URL)',
  },
  {
    name: 'TASKSERVICE_REDIS_PREFIX',
    kind: 'text',
    default: 'sg:',
    pattern: /^[^\s*]{1,64}$/,
    accepts: '1–64 chars, no spaces or `*`',
    meaning: 'key prefix; in a Cluster it must hold a hash tag, e.g. `{sg}:`',
  },
  { name: 'TASKSERVICE_REDIS_SHARDS', kind: 'integer', default: 1, min: 1, max: 1024, meaning: 'shards; Cluster: 12' },
  {
    name: 'TASKSERVICE_REDIS_COMMAND_TIMEOUT_SECONDS',
    kind: 'seconds',
    default: 2,
    min: 0.05,
    max: 60,
    meaning: 'longest any Redis call may take (a shorter caller deadline wins)',
  },
  {
    name: 'TASKSERVICE_LEASE_TTL_SECONDS',
    kind: 'seconds',
    default: 10,
    min: 0.3,
    max: 600,
    meaning: 'a replica silent this long is presumed dead',
  },
  {
    name: 'TASKSERVICE_SWEEP_INTERVAL_SECONDS',
    kind: 'seconds',
    default: 2,
    min: 0.1,
    max: 600,
    meaning: 'how often replicas look for dead ones and fail their tasks as `worker_lost`',
  },
  {
    name: 'TASKSERVICE_EXPIRY_SWEEP_SECONDS',
    kind: 'seconds',
    default: 10,
    min: 0.1,
    max: 3600,
    meaning: 'how often finished tasks past retention are deleted',
  },
  {
    name: 'TASKSERVICE_SAFETY_POLL_SECONDS',
    kind: 'seconds',
    default: 5,
    min: 0.1,
    max: 600,
    meaning: 're-read watched tasks this often, in case a change event was lost',
  },
  ...LIMIT_SETTINGS,
] as const satisfies readonly Setting[];
