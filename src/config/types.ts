import type { EnumValue } from './setting-lookup.js';

/** Thrown for a setting that cannot be used; the message names the variable and what it accepts. */
export class ConfigError extends Error {}

/** The environment, or any map of variables (tests pass their own). */
export type Env = Record<string, string | undefined>;

/** A listening address. */
export interface Addr {
  host: string;
  port: number;
}

/**
 * The validated settings; loadConfig returns them frozen. Each field's
 * variable, default and range are in SETTINGS (src/config/settings.ts).
 */
export interface Config {
  addr: Addr;
  logLevel: EnumValue<'TASKSERVICE_LOG_LEVEL'>;
  /** One info line per RPC; false: only failed RPCs are logged. */
  logRpcs: boolean;
  /** Tool arguments in log lines (Execute's line, tools' own logs); redacted when false. */
  logToolArguments: boolean;
  /** Prometheus /metrics, /healthz, /readyz and the console over HTTP; undefined: not served. */
  httpAddr?: Addr;
  /** The operators' console on httpAddr: on (tokens, or loopback clients only), open, or off. */
  console: EnumValue<'TASKSERVICE_CONSOLE'>;
  /** The MCP front door: Streamable HTTP at /mcp on `addr` (undefined: off). */
  mcp: { addr?: Addr; allowedOrigins: string[] };
  instanceId: string;
  /** The budget (inline wait) when neither the call nor the tool gives one. */
  defaultBudgetSeconds: number;
  /** Cap on any requested budget. */
  maxBudgetSeconds: number;
  hardTimeoutSeconds: number;
  /** How long a tool's question waits for its answer, unless the tool sets its own limit. */
  inputTimeoutSeconds: number;
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
    outputBytes: number;
    running: number;
    runningPerUser: number;
    /** Across every replica sharing Redis; 0: none. */
    runningTotal: number;
    streamsPerConnection: number;
  };
  /** Tool modules to load at start (paths). */
  toolModules: string[];
  /** MCP servers whose tools join the catalog. */
  mcpServers: McpServerConfig[];
  /** HTTP tools: the file's path and its text, read at start. */
  httpTools?: { path: string; text: string };
  /** Old variable names that were set (still read): one warning each at start. */
  deprecatedVariables: readonly DeprecatedVariable[];
}

/** An old name of a variable that was set, and the name to use instead. */
export interface DeprecatedVariable {
  name: string;
  use: string;
}

/** Where task state lives. `none`: the in-memory store of one instance. */
export interface RedisConfig {
  mode: 'none' | 'single' | 'cluster' | 'sentinel';
  /** redis:// or rediss:// (single). */
  url?: string;
  /** host:port seeds (cluster) or sentinels (sentinel). */
  nodes: Addr[];
  sentinelMaster?: string;
  password?: string;
  tls: boolean;
  prefix: string;
  commandTimeoutSeconds: number;
  leaseTtlSeconds: number;
  sweepIntervalSeconds: number;
  /** Key shards (docs/REDIS.md): 1 keeps every key on the prefix. */
  shards: number;
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

/** An MCP server whose tools join the catalog (TASKSERVICE_MCP_SERVERS). */
export type McpServerConfig = McpServerCommon &
  (
    | {
        transport: 'stdio';
        command: string;
        args: string[];
        /** Added to the SDK's safe default environment (PATH, HOME, ...); values may hold secrets. */
        env: Record<string, string>;
        cwd?: string;
      }
    | {
        transport: 'http';
        url: string;
        /** Values may hold secrets. */
        headers: Record<string, string>;
      }
  );

export interface McpServerCommon {
  name: string;
  /** Put before each tool's name, e.g. "github_". */
  toolPrefix: string;
  /** Only these of the server's tools (their MCP names); absent: all. */
  include?: string[];
  /** All of the server's tools but these (their MCP names). */
  exclude?: string[];
  /** Calls at once to this server; more wait their turn within their budget. Absent: no limit. */
  concurrency?: number;
  budgetSeconds?: number;
  hardTimeoutSeconds?: number;
  /** How long an elicitation of the server (the task's question) waits for its answer. */
  inputTimeoutSeconds?: number;
}
