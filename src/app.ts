import type { Config } from './config/index.js';
import type { Logger } from './core/logger.js';
import { TaskManager } from './core/manager.js';
import { GrpcServer } from './grpc/server.js';
import { TokenBook } from './auth/tokens.js';
import { RedirectDispatcher } from './redirect/dispatcher.js';
import { createAdapters } from './redirect/platforms.js';
import type { TaskStore } from './core/store.js';
import { MemoryStore } from './store/memory.js';
import { createRedisBackend, type RedisBackend } from './store/redis/backend.js';
import { exampleTools } from './tools/examples.js';
import { metaTools } from './tools/meta.js';
import { ToolRegistry } from './tools/registry.js';
import { AnswerChecker } from './tools/schema.js';
import type { AnyToolSpec } from './tools/define.js';
import { CombinedCatalog } from './tools/catalog.js';
import { WorkerHub } from './workers/hub.js';
import { McpToolSource } from './tools/mcp/source.js';
import { Metrics } from './metrics/metrics.js';
import type { McpHttpServer } from './mcp/http.js';
import { VERSION } from './version.js';
import { MetricsServer } from './metrics/http.js';
import { OperatorConsole } from './console/console.js';

/** A store that can also say how many subscriptions it holds (leak checks). */
export type CountingStore = TaskStore & { readonly listenerCount: number };

export interface AppOptions {
  /** More tools (source "module"), e.g. loaded from TASKSERVICE_TOOL_MODULES or made by tests. */
  tools?: AnyToolSpec[];
  /** Tools from TASKSERVICE_HTTP_TOOLS_FILE (source "http"). */
  httpTools?: AnyToolSpec[];
}

/**
 * The composition root: builds the store, tools, redirect, manager and gRPC
 * server from one Config, and owns their shutdown order.
 */
export class App {
  readonly store: CountingStore;
  /** The store, the lease and sweeps, and workers on other replicas: only with Redis. */
  readonly redis?: RedisBackend;
  readonly tools = new ToolRegistry();
  /** Tool workers connected to this replica (ToolWorkerService). */
  readonly workers: WorkerHub;
  /** The tools of TASKSERVICE_MCP_SERVERS (source "mcp:<server>"); connected by start(). */
  readonly mcpTools?: McpToolSource;
  readonly manager: TaskManager;
  readonly redirects: RedirectDispatcher;
  readonly grpc: GrpcServer;
  /** Counted always (cheap); served over HTTP when TASKSERVICE_HTTP_ADDR is set. */
  readonly metrics: Metrics;
  private readonly metricsServer?: MetricsServer;
  /** The operators' console on the HTTP port (TASKSERVICE_HTTP_ADDR, unless TASKSERVICE_CONSOLE=off). */
  readonly console?: OperatorConsole;
  private metricsBoundPort = -1;
  /** The MCP front door (Streamable HTTP at /mcp): made by start(), only with TASKSERVICE_MCP_ADDR. */
  private mcpServer?: McpHttpServer;
  private readonly tokens: TokenBook;
  private readonly maxMessageBytes: number;
  private mcpBoundPort = -1;
  private closing?: Promise<void>;

  constructor(
    readonly config: Readonly<Config>,
    readonly logger: Logger,
    options: AppOptions = {},
  ) {
    this.metrics = new Metrics({
      serving: () => this.grpc.serving,
      awaitStreams: () => this.grpc.streams.total,
      backgroundTasks: () => this.manager.runningHere,
      pendingOutcomes: () => this.manager.pendingOutcomes,
      workers: () => this.workers.size,
    });
    if (config.redis.mode === 'none') {
      this.store = new MemoryStore({ retentionMs: config.retentionSeconds * 1000 });
    } else {
      this.redis = createRedisBackend(config, {
        logger,
        observer: this.metrics,
        // Called only once started, when this.redirects exists.
        deliver: (task, alreadyClaimed) => this.redirects.deliver(task, alreadyClaimed),
      });
      this.store = this.redis.store;
    }
    this.redirects = new RedirectDispatcher(
      this.store,
      createAdapters(config.platforms),
      {
        attempts: config.redirectAttempts,
        attemptTimeoutMs: config.redirectTimeoutSeconds * 1000,
        backoffMs: config.redirectBackoffSeconds * 1000,
        deadlineMs: config.redirectDeadlineSeconds * 1000,
        closeGraceMs: config.shutdownGraceSeconds * 1000,
      },
      logger.child({ component: 'redirect' }),
      this.metrics,
    );
    const keepalive = { pingMs: config.workerPingSeconds * 1000, timeoutMs: config.workerTimeoutSeconds * 1000 };
    this.workers = new WorkerHub(
      this.tools.schemas,
      (name) => (this.tools.get(name) ?? this.mcpTools?.get(name))?.source,
      keepalive,
      logger.child({ component: 'workers' }),
      this.redis?.router,
    );
    if (config.mcpServers.length > 0) {
      this.mcpTools = new McpToolSource(
        config.mcpServers,
        this.tools.schemas,
        { version: VERSION, ...keepalive, backoffMs: { initialMs: 250, maxMs: 30_000 } },
        logger.child({ component: 'mcp-tools' }),
        (name) => (this.tools.get(name) ?? this.workers.get(name))?.source,
      );
    }
    this.manager = new TaskManager(
      this.store,
      new CombinedCatalog([this.tools, this.workers, ...(this.mcpTools ? [this.mcpTools] : [])]),
      this.redirects,
      {
        instanceId: config.instanceId,
        defaultBudgetSeconds: config.defaultBudgetSeconds,
        maxBudgetSeconds: config.maxBudgetSeconds,
        hardTimeoutSeconds: config.hardTimeoutSeconds,
        inputTimeoutSeconds: config.inputTimeoutSeconds,
        awaitDefaultSeconds: config.awaitDefaultSeconds,
        awaitMaxSeconds: config.awaitMaxSeconds,
        heartbeatDefaultSeconds: config.heartbeatSeconds,
        defaultPageSize: 50,
        maxPageSize: 500,
        pendingOutcomesMax: config.pendingOutcomesMax,
        maxArgumentsBytes: config.limits.argumentsBytes,
        maxJsonDepth: config.limits.jsonDepth,
        keepArguments: config.logToolArguments,
        maxResultBytes: config.limits.resultBytes,
        maxOutputBytes: config.limits.outputBytes,
        maxRunning: config.limits.running,
        maxRunningPerUser: config.limits.runningPerUser,
        maxRunningTotal: config.limits.runningTotal,
        // A lost finish is found in two checks in a row: within about six lease times.
        ...(config.redis && { orphanCheckSeconds: Math.max(1, 3 * config.redis.leaseTtlSeconds) }),
      },
      logger,
      {
        handoff: this.redis?.router,
        places: this.redis?.store.places,
        observer: this.metrics,
        answers: new AnswerChecker(this.tools.schemas),
      },
    );
    if (config.exampleTools) for (const tool of exampleTools) this.tools.register(tool, 'example');
    for (const tool of metaTools(this.manager)) this.tools.register(tool, 'meta');
    for (const tool of options.tools ?? []) this.tools.register(tool, 'module');
    for (const tool of options.httpTools ?? []) this.tools.register(tool, 'http');
    const tokens = new TokenBook(config.tokens);
    // Room for the largest arguments or worker result plus the message around it; never below 4 MiB.
    const maxMessageBytes = Math.max(
      4 * 1024 * 1024,
      Math.max(config.limits.argumentsBytes, config.limits.resultBytes) + 64 * 1024,
    );
    this.grpc = new GrpcServer(
      this.manager,
      {
        ...config.addr,
        reflection: config.reflection,
        streamsPerConnection: config.limits.streamsPerConnection,
        maxMessageBytes,
        ...(config.tls && { tls: { cert: config.tls.cert, key: config.tls.key, clientCa: config.tls.clientCa } }),
        auth: { tokens, reflectionNeedsToken: config.reflectionNeedsToken },
        keepaliveTimeSeconds: config.keepaliveTimeSeconds,
        keepaliveTimeoutSeconds: config.keepaliveTimeoutSeconds,
        defaults: { budgetSeconds: config.defaultBudgetSeconds, hardTimeoutSeconds: config.hardTimeoutSeconds },
        ...(config.workers && { workers: { hub: this.workers, keepalive } }),
        rpcLog: { everyCall: config.logRpcs, toolArguments: config.logToolArguments },
        rpcObserver: this.metrics,
      },
      logger,
    );
    this.tokens = tokens;
    this.maxMessageBytes = maxMessageBytes;
    if (config.httpAddr) {
      this.console =
        config.console === 'off'
          ? undefined
          : new OperatorConsole(
              {
                manager: this.manager,
                self: {
                  instanceId: config.instanceId,
                  running: () => this.manager.runningHere,
                  leaseSeconds: config.redis.leaseTtlSeconds,
                },
                replicas: this.redis?.store.leases,
                defaults: { budgetSeconds: config.defaultBudgetSeconds, hardTimeoutSeconds: config.hardTimeoutSeconds },
                stats: () => this.metrics.consoleStats(),
                showArguments: config.logToolArguments,
              },
              tokens,
              { open: config.console === 'open' },
              logger.child({ component: 'console' }),
            );
      this.metricsServer = new MetricsServer(
        this.metrics,
        () => this.grpc.serving,
        logger.child({ component: 'metrics' }),
        this.console,
      );
    }
  }

  /** The MCP front door, once started; undefined without TASKSERVICE_MCP_ADDR. */
  get mcp(): McpHttpServer | undefined {
    return this.mcpServer;
  }

  /** The port of /mcp (the real one when 0 was asked for); -1 when not served. */
  get mcpPort(): number {
    return this.mcpBoundPort;
  }

  /** The port of /metrics, the probes and the console (the real one when 0 was asked for); -1 when not served. */
  get httpPort(): number {
    return this.metricsBoundPort;
  }

  /**
   * Binds the port; returns it. With Redis, waits briefly for the first
   * connection; if Redis is not there yet the server still starts, answers
   * UNAVAILABLE and reports NOT_SERVING until it is.
   */
  async start(): Promise<number> {
    if (this.redis) {
      const { store } = this.redis;
      await this.redis.waitUntilConnected();
      this.grpc.setServing(store.isAvailable);
      store.watchAvailability((available) => {
        if (!this.closing) this.grpc.setServing(available);
      });
      await this.redis.start(this.workers, (request) => this.manager.runHandedOff(request));
    }
    // Before serving: the servers' tools are in the catalog when the first call comes.
    await this.mcpTools?.start();
    if (this.metricsServer && this.config.httpAddr) {
      const { host, port } = this.config.httpAddr;
      this.metricsBoundPort = await this.metricsServer.listen(host, port);
    }
    const port = await this.grpc.listen();
    const mcp = this.config.mcp.addr;
    if (mcp && !this.closing) {
      // Loaded only when configured: the MCP SDK adds about 0.1 s to a start that takes 0.6 s.
      const { McpHttpServer } = await import('./mcp/http.js');
      this.mcpServer = new McpHttpServer(
        this.manager,
        this.tokens,
        {
          ...mcp,
          allowedOrigins: this.config.mcp.allowedOrigins,
          maxBodyBytes: this.maxMessageBytes,
          retentionMs: this.config.retentionSeconds * 1000,
          version: VERSION,
          ...(this.config.tls && { tls: { cert: this.config.tls.cert, key: this.config.tls.key } }),
        },
        this.logger.child({ component: 'mcp' }),
      );
      this.mcpBoundPort = await this.mcpServer.listen();
    }
    return port;
  }

  /**
   * Graceful stop, idempotent: health turns NOT_SERVING, no new calls, inline
   * calls finish, background tasks end as SHUTDOWN (their AwaitResult streams
   * get the terminal update), then the server and store close.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const graceMs = this.config.shutdownGraceSeconds * 1000;
      this.grpc.setServing(false);
      const drained = this.grpc.close(graceMs);
      this.mcp?.stopAccepting();
      // Other replicas stop sending calls for our workers; what was already sent ends SHUTDOWN.
      await this.redis?.stopHandoffs();
      await this.manager.shutdown(graceMs);
      // After the manager: inline calls of worker tools needed their workers until now, and the
      // MCP servers have been sent notifications/cancelled for what was still running.
      this.workers.close();
      await this.mcpTools?.close();
      await drained;
      // After the manager: subscriptions have seen their tasks end SHUTDOWN.
      await this.mcp?.close();
      // The console's feeds end before the store they follow closes; its pages answer until the port closes.
      this.console?.close();
      // With Redis: the lease goes (nothing runs any more), then the store.
      if (this.redis) await this.redis.close();
      else await this.store.close();
      // Last: scrapes and probes still answer (NOT ready) while the rest shuts down.
      await this.metricsServer?.close();
    })();
    return this.closing;
  }
}
