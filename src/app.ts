import type { Config } from './config.js';
import type { Logger } from './core/logger.js';
import { TaskManager } from './core/manager.js';
import { GrpcServer } from './grpc/server.js';
import { RedirectDispatcher } from './redirect/dispatcher.js';
import { WebhookAdapter } from './redirect/webhook.js';
import { MemoryStore } from './store/memory.js';
import { exampleTools } from './tools/examples.js';
import { metaTools } from './tools/meta.js';
import { ToolRegistry } from './tools/registry.js';
import type { AnyToolSpec } from './tools/define.js';

export interface AppOptions {
  /** More tools, e.g. from tests. */
  tools?: AnyToolSpec[];
}

/**
 * The composition root: builds the store, tools, redirect, manager and gRPC
 * server from one Config, and owns their shutdown order.
 */
export class App {
  readonly store: MemoryStore;
  readonly tools = new ToolRegistry();
  readonly manager: TaskManager;
  readonly grpc: GrpcServer;
  private closing?: Promise<void>;

  constructor(
    readonly config: Readonly<Config>,
    readonly logger: Logger,
    options: AppOptions = {},
  ) {
    this.store = new MemoryStore({ retentionMs: config.retentionSeconds * 1000 });
    const adapters = config.platforms.map((p) => new WebhookAdapter({ platform: p.name, ...p }));
    const redirects = new RedirectDispatcher(
      this.store,
      adapters,
      {
        attempts: config.redirectAttempts,
        attemptTimeoutMs: config.redirectTimeoutSeconds * 1000,
        backoffMs: config.redirectBackoffSeconds * 1000,
        closeGraceMs: config.shutdownGraceSeconds * 1000,
      },
      logger.child({ component: 'redirect' }),
    );
    this.manager = new TaskManager(
      this.store,
      this.tools,
      redirects,
      {
        instanceId: config.instanceId,
        defaultBudgetSeconds: config.defaultTimeoutSeconds,
        maxBudgetSeconds: config.maxTimeoutSeconds,
        hardTimeoutSeconds: config.hardTimeoutSeconds,
        awaitDefaultSeconds: config.awaitDefaultSeconds,
        awaitMaxSeconds: config.awaitMaxSeconds,
        heartbeatDefaultSeconds: config.heartbeatSeconds,
        defaultPageSize: 50,
        maxPageSize: 500,
      },
      logger,
    );
    if (config.exampleTools) for (const tool of exampleTools) this.tools.register(tool, 'example');
    for (const tool of metaTools(this.manager)) this.tools.register(tool, 'meta');
    for (const tool of options.tools ?? []) this.tools.register(tool, 'module');
    this.grpc = new GrpcServer(
      this.manager,
      {
        ...config.addr,
        reflection: config.reflection,
        keepaliveTimeSeconds: config.keepaliveTimeSeconds,
        keepaliveTimeoutSeconds: config.keepaliveTimeoutSeconds,
        defaults: { timeoutSeconds: config.defaultTimeoutSeconds, hardTimeoutSeconds: config.hardTimeoutSeconds },
      },
      logger,
    );
  }

  /** Binds the port; returns it. */
  async start(): Promise<number> {
    return this.grpc.listen();
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
      await this.manager.shutdown(graceMs);
      await drained;
      await this.store.close();
    })();
    return this.closing;
  }
}
