import type { Logger } from '../../src/core/logger.js';
import { silentLogger } from '../../src/core/logger.js';
import { type ManagerLimits, TaskManager } from '../../src/core/manager.js';
import { noRedirects, type RedirectPort } from '../../src/core/redirect-port.js';
import type { ToolContext } from '../../src/core/tool.js';
import { MemoryStore } from '../../src/store/memory.js';
import { type AnyToolSpec, defineTool } from '../../src/tools/define.js';
import { ToolRegistry } from '../../src/tools/registry.js';

export const LIMITS: ManagerLimits = {
  instanceId: 'test-instance',
  defaultBudgetSeconds: 0.2,
  maxBudgetSeconds: 5,
  hardTimeoutSeconds: 30,
  awaitDefaultSeconds: 5,
  awaitMaxSeconds: 10,
  heartbeatDefaultSeconds: 5,
  defaultPageSize: 50,
  maxPageSize: 500,
  pendingOutcomesMax: 100,
  inputTimeoutSeconds: 60,
  maxArgumentsBytes: 64 * 1024,
  maxJsonDepth: 16,
  maxResultBytes: 64 * 1024,
  maxOutputBytes: 64 * 1024,
  maxRunning: 1000,
  maxRunningPerUser: 500,
};

/** A tool the test controls: it settles when the test says so, and records what it saw. */
export class Gate {
  readonly contexts: ToolContext[] = [];
  private resolvers: ((value: string) => void)[] = [];

  readonly tool = (name = 'gate', extra: Partial<AnyToolSpec> = {}): AnyToolSpec =>
    defineTool({
      name,
      description: 'waits for the test',
      parameters: { type: 'object' },
      ...extra,
      handler: (_args: unknown, ctx: ToolContext) => {
        this.contexts.push(ctx);
        return new Promise<string>((resolve) => this.resolvers.push(resolve));
      },
    }) as AnyToolSpec;

  get calls(): number {
    return this.contexts.length;
  }

  release(value = 'done'): void {
    for (const resolve of this.resolvers.splice(0)) resolve(value);
  }
}

export interface Harness {
  store: MemoryStore;
  tools: ToolRegistry;
  manager: TaskManager;
  close(): Promise<void>;
}

export function makeManager(
  tools: AnyToolSpec[],
  options: { limits?: Partial<ManagerLimits>; redirects?: RedirectPort; logger?: Logger; retentionMs?: number } = {},
): Harness {
  const store = new MemoryStore({ retentionMs: options.retentionMs ?? 60_000 });
  const registry = new ToolRegistry();
  for (const tool of tools) registry.register(tool, 'test');
  const manager = new TaskManager(
    store,
    registry,
    options.redirects ?? noRedirects,
    { ...LIMITS, ...options.limits },
    options.logger ?? silentLogger,
  );
  return {
    store,
    tools: registry,
    manager,
    async close() {
      await manager.shutdown(100);
      await store.close();
    },
  };
}

export const origin = (userId = 'alice') => ({ userId, channelId: 'c1', platform: 'slack' });

// Re-exported: most tests that drive the core also poll for its effects.
export { eventually } from './eventually.js';
