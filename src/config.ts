import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { hasHashTag } from './store/redis/keys.js';

/**
 * Every setting, its environment variable, its default and what it accepts.
 * README.md's configuration table mirrors this table.
 */
export interface Config {
  addr: { host: string; port: number };
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** One info line per RPC; false: only failed RPCs are logged. */
  logRpcs: boolean;
  /** Tool arguments in log lines (Execute's line, tools' own logs); redacted when false. */
  logToolArguments: boolean;
  /** Prometheus /metrics, /healthz and /readyz over HTTP; undefined: not served. */
  metricsAddr?: { host: string; port: number };
  instanceId: string;
  defaultTimeoutSeconds: number;
  maxTimeoutSeconds: number;
  hardTimeoutSeconds: number;
  awaitDefaultSeconds: number;
  awaitMaxSeconds: number;
  heartbeatSeconds: number;
  retentionSeconds: number;
  shutdownGraceSeconds: number;
  keepaliveTimeSeconds: number;
  keepaliveTimeoutSeconds: number;
  exampleTools: boolean;
  /** Serve ToolWorkerService (tool workers in other processes). */
  workers: boolean;
  /** The server pings each worker this often. */
  workerPingSeconds: number;
  /** A worker silent this long is lost; its in-flight tasks fail WORKER_LOST. */
  workerTimeoutSeconds: number;
  reflection: boolean;
  /** Server certificate (PEM files) for TLS; with clientCaPath, mutual TLS. Undefined: plaintext. */
  tls?: { certPath: string; cert: Buffer; key: Buffer; clientCaPath?: string; clientCa?: Buffer };
  /** Plaintext on a non-loopback address, explicitly allowed. */
  plaintext: boolean;
  /** Bearer tokens; empty: no authentication. */
  tokens: TokenConfig[];
  /** With tokens: whether reflection needs one too. */
  reflectionNeedsToken: boolean;
  platforms: PlatformConfig[];
  redirectAttempts: number;
  redirectTimeoutSeconds: number;
  redirectBackoffSeconds: number;
  /** Deliveries stop retrying this long after the task finished. */
  redirectDeadlineSeconds: number;
  redis: RedisConfig;
  /** Outcomes kept in memory while the store is unreachable, at most. */
  pendingOutcomesMax: number;
  limits: {
    argumentsBytes: number;
    jsonDepth: number;
    resultBytes: number;
    running: number;
    runningPerUser: number;
    streamsPerConnection: number;
  };
  /** Tool modules to load at start (paths). */
  toolModules: string[];
  /** HTTP tools: the file's path and its text, read at start. */
  httpTools?: { path: string; text: string };
}

/** Where task state lives. `none`: the in-memory store of one instance. */
export interface RedisConfig {
  mode: 'none' | 'single' | 'cluster' | 'sentinel';
  /** redis:// or rediss:// (single). */
  url?: string;
  /** host:port seeds (cluster) or sentinels (sentinel). */
  nodes: { host: string; port: number }[];
  sentinelMaster?: string;
  password?: string;
  tls: boolean;
  prefix: string;
  commandTimeoutSeconds: number;
  leaseTtlSeconds: number;
  sweepIntervalSeconds: number;
  expirySweepSeconds: number;
  safetyPollSeconds: number;
}

/** One output-redirect platform; `name` is what callers put in `platform`. */
export type PlatformConfig =
  | { name: string; kind: 'webhook'; url: string; maxChars: number; headers: Record<string, string>; secret?: string }
  | { name: string; kind: 'slack'; url: string; maxChars: number }
  | { name: string; kind: 'discord'; url: string; maxChars: number; longMessages: 'split' | 'truncate' }
  | { name: string; kind: 'redis-stream'; url: string; streamPrefix: string; maxLen: number; maxChars: number };

/** A bearer token and the users it may act for ("*": any). */
export interface TokenConfig {
  name: string;
  token: string;
  users: string[] | '*';
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

/** Reads and validates the environment; throws ConfigError naming the variable. */
export function loadConfig(env: Env = process.env): Readonly<Config> {
  const r = new EnvReader(env);
  const config: Config = {
    addr: r.addr('TASKSERVICE_ADDR', '127.0.0.1:50051'),
    logLevel: r.oneOf('TASKSERVICE_LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    logRpcs: r.bool('TASKSERVICE_LOG_RPCS', true),
    logToolArguments: r.bool('TASKSERVICE_LOG_TOOL_ARGUMENTS', false),
    metricsAddr: r.optionalAddr('TASKSERVICE_METRICS_ADDR', '0.0.0.0:9464'),
    instanceId: r.string('TASKSERVICE_INSTANCE_ID', `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`),
    defaultTimeoutSeconds: r.seconds('TASKSERVICE_DEFAULT_TIMEOUT_SECONDS', 10, 0.001, 86_400),
    maxTimeoutSeconds: r.seconds('TASKSERVICE_MAX_TIMEOUT_SECONDS', 300, 0.001, 86_400),
    hardTimeoutSeconds: r.seconds('TASKSERVICE_HARD_TIMEOUT_SECONDS', 3600, 0.001, 86_400 * 7),
    awaitDefaultSeconds: r.seconds('TASKSERVICE_AWAIT_DEFAULT_SECONDS', 300, 0.001, 86_400),
    awaitMaxSeconds: r.seconds('TASKSERVICE_AWAIT_MAX_SECONDS', 3600, 0.001, 86_400),
    heartbeatSeconds: r.seconds('TASKSERVICE_HEARTBEAT_SECONDS', 15, 0.05, 3600),
    retentionSeconds: r.seconds('TASKSERVICE_RETENTION_SECONDS', 86_400, 1, 86_400 * 30),
    shutdownGraceSeconds: r.seconds('TASKSERVICE_SHUTDOWN_GRACE_SECONDS', 10, 0, 3600),
    keepaliveTimeSeconds: r.seconds('TASKSERVICE_KEEPALIVE_TIME_SECONDS', 30, 1, 7200),
    keepaliveTimeoutSeconds: r.seconds('TASKSERVICE_KEEPALIVE_TIMEOUT_SECONDS', 10, 1, 600),
    exampleTools: r.bool('TASKSERVICE_EXAMPLE_TOOLS', true),
    workers: r.bool('TASKSERVICE_WORKERS', true),
    workerPingSeconds: r.seconds('TASKSERVICE_WORKER_PING_SECONDS', 5, 0.05, 600),
    workerTimeoutSeconds: r.seconds('TASKSERVICE_WORKER_TIMEOUT_SECONDS', 15, 0.1, 3600),
    reflection: r.bool('TASKSERVICE_REFLECTION', true),
    tls: r.tls(),
    plaintext: r.bool('TASKSERVICE_PLAINTEXT', false),
    tokens: r.tokens('TASKSERVICE_AUTH_TOKENS', 'TASKSERVICE_AUTH_TOKENS_FILE'),
    reflectionNeedsToken: r.bool('TASKSERVICE_REFLECTION_NEEDS_TOKEN', true),
    platforms: r.platforms('TASKSERVICE_PLATFORMS', 'TASKSERVICE_PLATFORMS_FILE'),
    redirectAttempts: r.integer('TASKSERVICE_REDIRECT_ATTEMPTS', 3, 1, 100),
    redirectTimeoutSeconds: r.seconds('TASKSERVICE_REDIRECT_TIMEOUT_SECONDS', 10, 0.01, 600),
    redirectBackoffSeconds: r.seconds('TASKSERVICE_REDIRECT_BACKOFF_SECONDS', 0.5, 0, 600),
    redirectDeadlineSeconds: r.seconds('TASKSERVICE_REDIRECT_DEADLINE_SECONDS', 600, 0.1, 86_400),
    redis: r.redis(),
    pendingOutcomesMax: r.integer('TASKSERVICE_PENDING_OUTCOMES_MAX', 10_000, 0, 10_000_000),
    limits: {
      argumentsBytes: r.integer('TASKSERVICE_MAX_ARGUMENTS_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
      jsonDepth: r.integer('TASKSERVICE_MAX_JSON_DEPTH', 64, 1, 10_000),
      resultBytes: r.integer('TASKSERVICE_MAX_RESULT_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
      running: r.integer('TASKSERVICE_MAX_RUNNING', 10_000, 1, 10_000_000),
      runningPerUser: r.integer('TASKSERVICE_MAX_RUNNING_PER_USER', 1_000, 1, 10_000_000),
      streamsPerConnection: r.integer('TASKSERVICE_MAX_STREAMS_PER_CONNECTION', 10_000, 1, 1_000_000),
    },
    toolModules: (r.string('TASKSERVICE_TOOL_MODULES', '') || '').split(',').map((p) => p.trim()).filter(Boolean),
    httpTools: r.file('TASKSERVICE_HTTP_TOOLS_FILE'),
  };
  if (config.defaultTimeoutSeconds > config.maxTimeoutSeconds) {
    throw new ConfigError(
      `TASKSERVICE_DEFAULT_TIMEOUT_SECONDS (${config.defaultTimeoutSeconds}) must not exceed TASKSERVICE_MAX_TIMEOUT_SECONDS (${config.maxTimeoutSeconds})`,
    );
  }
  if (!config.tls && !config.plaintext && !isLoopback(config.addr.host)) {
    throw new ConfigError(
      `TASKSERVICE_ADDR=${config.addr.host}:${config.addr.port} is not a loopback address: set TASKSERVICE_TLS_CERT_FILE and TASKSERVICE_TLS_KEY_FILE, or TASKSERVICE_PLAINTEXT=true to serve plaintext there on purpose`,
    );
  }
  if (config.workerTimeoutSeconds <= config.workerPingSeconds) {
    throw new ConfigError(
      `TASKSERVICE_WORKER_TIMEOUT_SECONDS (${config.workerTimeoutSeconds}) must exceed TASKSERVICE_WORKER_PING_SECONDS (${config.workerPingSeconds}), or every worker would be lost between two pings`,
    );
  }
  return Object.freeze(config);
}

/** Plaintext is safe by default only where nothing else can listen in. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

class EnvReader {
  constructor(private readonly env: Env) {}

  private raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === '' ? undefined : value;
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  addr(name: string, fallback: string): Config['addr'] {
    const value = this.raw(name) ?? fallback;
    const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
    const port = match ? Number(match[2]) : -1;
    if (!match || port > 65_535) {
      throw new ConfigError(`${name}="${value}" must be host:port, e.g. 127.0.0.1:50051 (port 0 picks a free port)`);
    }
    return { host: match[1], port };
  }

  /** An address, or undefined when the variable is unset or empty. */
  optionalAddr(name: string, example: string): Config['addr'] | undefined {
    if (this.raw(name) === undefined) return undefined;
    return this.addr(name, example);
  }

  seconds(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max) {
      throw new ConfigError(`${name}="${value}" must be a number of seconds from ${min} to ${max}`);
    }
    return n;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new ConfigError(`${name}="${value}" must be a whole number from ${min} to ${max}`);
    }
    return n;
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(value)) return true;
    if (['0', 'false', 'no', 'off'].includes(value)) return false;
    throw new ConfigError(`${name}="${value}" must be true or false`);
  }

  oneOf<T extends string>(name: string, values: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!(values as readonly string[]).includes(value)) {
      throw new ConfigError(`${name}="${value}" must be one of ${values.join(', ')}`);
    }
    return value as T;
  }

  file(name: string): { path: string; text: string } | undefined {
    const path = this.raw(name);
    if (path === undefined) return undefined;
    try {
      return { path, text: readFileSync(path, 'utf8') };
    } catch (err) {
      throw new ConfigError(`${name}: cannot read ${path} (${(err as Error).message})`);
    }
  }

  hostList(name: string): { host: string; port: number }[] {
    const value = this.raw(name);
    if (value === undefined) return [];
    return value.split(',').map((item) => {
      const match = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:.]+\]):(\d{1,5})$/.exec(item.trim());
      if (!match) throw new ConfigError(`${name}="${value}" must be a comma-separated list of host:port`);
      return { host: match[1], port: Number(match[2]) };
    });
  }

  redis(): RedisConfig {
    const url = this.raw('REDIS_URL');
    const cluster = this.hostList('TASKSERVICE_REDIS_CLUSTER_NODES');
    const sentinels = this.hostList('TASKSERVICE_REDIS_SENTINELS');
    const chosen = [url && 'REDIS_URL', cluster.length && 'TASKSERVICE_REDIS_CLUSTER_NODES', sentinels.length && 'TASKSERVICE_REDIS_SENTINELS'].filter(Boolean);
    if (chosen.length > 1) throw new ConfigError(`set only one of ${chosen.join(', ')}`);
    if (url && !/^rediss?:\/\//.test(url)) throw new ConfigError(`REDIS_URL must start with redis:// or rediss://`);
    const mode: RedisConfig['mode'] = url ? 'single' : cluster.length ? 'cluster' : sentinels.length ? 'sentinel' : 'none';
    const sentinelMaster = this.raw('TASKSERVICE_REDIS_SENTINEL_MASTER');
    if (mode === 'sentinel' && !sentinelMaster) {
      throw new ConfigError('TASKSERVICE_REDIS_SENTINEL_MASTER must name the master set when TASKSERVICE_REDIS_SENTINELS is set');
    }
    const prefix = this.string('TASKSERVICE_REDIS_PREFIX', 'sg:');
    if (!/^[^\s*]{1,64}$/.test(prefix)) throw new ConfigError(`TASKSERVICE_REDIS_PREFIX="${prefix}" must be 1-64 characters without spaces or "*"`);
    if (mode === 'cluster' && !hasHashTag(prefix)) {
      throw new ConfigError(
        `TASKSERVICE_REDIS_PREFIX="${prefix}" needs a hash tag in Redis Cluster, e.g. "{sg}:", so that the keys one script touches share a slot`,
      );
    }
    const leaseTtlSeconds = this.seconds('TASKSERVICE_LEASE_TTL_SECONDS', 10, 0.3, 600);
    const sweepIntervalSeconds = this.seconds('TASKSERVICE_SWEEP_INTERVAL_SECONDS', 2, 0.1, 600);
    return {
      mode,
      url,
      nodes: mode === 'cluster' ? cluster : sentinels,
      sentinelMaster,
      password: this.raw('TASKSERVICE_REDIS_PASSWORD'),
      tls: this.bool('TASKSERVICE_REDIS_TLS', false),
      prefix,
      commandTimeoutSeconds: this.seconds('TASKSERVICE_REDIS_COMMAND_TIMEOUT_SECONDS', 2, 0.05, 60),
      leaseTtlSeconds,
      sweepIntervalSeconds,
      expirySweepSeconds: this.seconds('TASKSERVICE_EXPIRY_SWEEP_SECONDS', 10, 0.1, 3600),
      safetyPollSeconds: this.seconds('TASKSERVICE_SAFETY_POLL_SECONDS', 5, 0.1, 600),
    };
  }

  /** TLS from PEM files: a certificate and its key (both or neither), and a client CA for mutual TLS. */
  tls(): Config['tls'] {
    const cert = this.binaryFile('TASKSERVICE_TLS_CERT_FILE');
    const key = this.binaryFile('TASKSERVICE_TLS_KEY_FILE');
    const clientCa = this.binaryFile('TASKSERVICE_TLS_CLIENT_CA_FILE');
    if (!cert !== !key) throw new ConfigError('set both TASKSERVICE_TLS_CERT_FILE and TASKSERVICE_TLS_KEY_FILE, or neither');
    if (!cert || !key) {
      if (clientCa) throw new ConfigError('TASKSERVICE_TLS_CLIENT_CA_FILE needs TASKSERVICE_TLS_CERT_FILE and TASKSERVICE_TLS_KEY_FILE');
      return undefined;
    }
    for (const [name, file, marker] of [
      ['TASKSERVICE_TLS_CERT_FILE', cert, 'CERTIFICATE'],
      ['TASKSERVICE_TLS_KEY_FILE', key, 'PRIVATE KEY'],
      ['TASKSERVICE_TLS_CLIENT_CA_FILE', clientCa, 'CERTIFICATE'],
    ] as const) {
      if (file && !file.data.toString('latin1').includes(`-----BEGIN`)) throw new ConfigError(`${name}: ${file.path} is not a PEM file`);
      if (file && !file.data.toString('latin1').includes(marker)) throw new ConfigError(`${name}: ${file.path} holds no ${marker}`);
    }
    return {
      certPath: cert.path,
      cert: cert.data,
      key: key.data,
      ...(clientCa && { clientCaPath: clientCa.path, clientCa: clientCa.data }),
    };
  }

  private binaryFile(name: string): { path: string; data: Buffer } | undefined {
    const path = this.raw(name);
    if (path === undefined) return undefined;
    try {
      return { path, data: readFileSync(path) };
    } catch (err) {
      throw new ConfigError(`${name}: cannot read ${path} (${(err as Error).message})`);
    }
  }

  /** JSON inline, or a JSON file: {"name": {"kind": "webhook", "url": "...", "max_chars": 4000, "headers": {}}} */
  platforms(inlineName: string, fileName: string): PlatformConfig[] {
    const setting = this.jsonObject(inlineName, fileName, 'platform name -> settings');
    if (!setting) return [];
    return Object.entries(setting.value).map(([name, raw]) => parsePlatform(setting.source, name, raw, this.env));
  }

  /** {"name": {"token" | "token_env": "...", "users": ["alice"] | "*"}}, inline or from a file. */
  tokens(inlineName: string, fileName: string): TokenConfig[] {
    const setting = this.jsonObject(inlineName, fileName, 'token name -> settings');
    if (!setting) return [];
    const tokens = Object.entries(setting.value).map(([name, raw]) => parseToken(setting.source, name, raw, this.env));
    if (tokens.length === 0) throw new ConfigError(`${setting.source} names no token; leave it unset to turn authentication off`);
    return tokens;
  }

  /** A JSON object given inline in one variable or as a file named by another (not both). */
  private jsonObject(inlineName: string, fileName: string, shape: string): { source: string; value: object } | undefined {
    const inline = this.raw(inlineName);
    const file = this.raw(fileName);
    if (inline && file) throw new ConfigError(`set ${inlineName} or ${fileName}, not both`);
    const source = inline ? inlineName : fileName;
    let text = inline;
    if (file) {
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new ConfigError(`${fileName}: cannot read ${file} (${(err as Error).message})`);
      }
    }
    if (!text) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(`${source} is not valid JSON (${(err as Error).message})`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError(`${source} must be a JSON object of ${shape}`);
    }
    return { source, value: parsed };
  }
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
