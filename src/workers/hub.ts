import { FailedPrecondition, Unavailable } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { HERE, type Placement, type Tool, type ToolCatalog, type ToolContext } from '../core/tool.js';
import type { LocalWorkers, LocalWorkerTool, RemoteWorkers, WorkerToolSpec } from '../core/worker-tools.js';
import type { ArgumentSchemas } from '../tools/schema.js';
import { checkRegistration, sameDefinition } from './registration.js';
import type { Keepalive, Registration, WorkerLink } from './protocol.js';
import { WorkerSession } from './session.js';

interface Waiter {
  /** Starts the call on `session` at once, so the slot is taken before the next pick. */
  grant(session: WorkerSession): void;
}

/**
 * The workers connected to this replica, and the tools they host. Spreads
 * invocations over the workers of a tool (least busy first, ties in turn),
 * never past a worker's declared concurrency: calls beyond it wait in order
 * for a free slot, within their own budget and hard limit.
 */
export class WorkerHub implements ToolCatalog, LocalWorkers {
  private readonly sessions = new Set<WorkerSession>();
  /**
   * Every worker tool this replica has seen, kept after its workers leave so a call gets
   * UNAVAILABLE, not NOT_FOUND.
   */
  private readonly known = new Map<string, Tool & { spec: WorkerToolSpec }>();
  private readonly waiting = new Map<string, Waiter[]>();
  private readonly changeListeners = new Set<() => void>();
  private nextId = 0;
  private turn = 0;
  private closed = false;

  constructor(
    private readonly schemas: ArgumentSchemas,
    /** The source of a non-worker tool with this name, if any: worker tools may not shadow it. */
    private readonly reservedBy: (name: string) => string | undefined,
    private readonly keepalive: Keepalive,
    private readonly logger: Logger,
    private readonly remote?: RemoteWorkers,
  ) {}

  /** Workers connected now. */
  get size(): number {
    return this.sessions.size;
  }

  /**
   * Admits a worker. Throws InvalidArgument for a malformed registration and
   * FailedPrecondition for a tool that clashes with one already served.
   */
  register(registration: Registration, link: WorkerLink): WorkerSession {
    if (this.closed) throw new Unavailable('the server is shutting down; connect to another replica');
    const checked = checkRegistration(registration, this.schemas);
    for (const { spec } of checked) this.checkNoClash(spec);
    const session = new WorkerSession(
      `w${++this.nextId}-${Date.now().toString(36)}`,
      { ...registration, tools: checked.map((c) => c.spec) },
      link,
      this.keepalive,
      { freed: (s) => this.pump([...s.tools.keys()]), closed: (s) => this.remove(s) },
      this.logger.child({ component: 'worker', worker: registration.workerName }),
    );
    for (const { spec, validate } of checked) {
      if (!this.known.has(spec.name) || this.hostsOf(spec.name).length === 0) {
        this.known.set(spec.name, this.toolFor(spec, validate));
      }
    }
    this.sessions.add(session);
    this.logger.info({ worker: session.id, name: session.name, tools: [...session.tools.keys()] }, 'worker connected');
    this.changed();
    // After the caller has answered the registration: the worker must hear that first.
    queueMicrotask(() => this.pump([...session.tools.keys()]));
    return session;
  }

  /** A worker tool by name: hosted here, hosted on another replica, or known from before. */
  get(name: string): Tool | undefined {
    const cached = this.known.get(name);
    if (cached && this.hostsOf(name).length > 0) return cached;
    const elsewhere = this.remote?.tools().get(name);
    if (elsewhere && !(cached && sameDefinition(cached.spec, elsewhere.spec))) {
      // Built once per definition, so its validator is compiled once.
      const validate = this.schemas.compile(name, JSON.parse(elsewhere.spec.parametersJson));
      this.known.set(name, this.toolFor(elsewhere.spec, validate));
    }
    return this.known.get(name);
  }

  list(): Tool[] {
    const names = new Set([...this.known.keys(), ...(this.remote?.tools().keys() ?? [])]);
    return [...names].flatMap((name) => this.get(name) ?? []);
  }

  /** The tools hosted by workers on this replica, for the directory other replicas read. */
  localTools(): Map<string, LocalWorkerTool> {
    const table = new Map<string, LocalWorkerTool>();
    for (const session of this.sessions) {
      for (const spec of session.tools.values()) {
        const entry = table.get(spec.name) ?? { spec, workers: 0 };
        entry.workers++;
        table.set(spec.name, entry);
      }
    }
    return table;
  }

  /** Called whenever workers come or go. Returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  get workerCount(): number {
    return this.sessions.size;
  }

  /** Ends every worker stream (UNAVAILABLE) and fails what they ran WORKER_LOST. */
  close(): void {
    this.closed = true;
    for (const session of [...this.sessions]) session.lose('the server is shutting down');
  }

  /** Runs one invocation on a worker hosting `toolName`, waiting for a free slot if every one is busy. */
  async invoke(toolName: string, argumentsJson: string, ctx: ToolContext): Promise<string> {
    const run = (session: WorkerSession) => session.invoke(toolName, argumentsJson, ctx);
    const session = this.pick(toolName);
    return session ? run(session) : this.waitForRoom(toolName, ctx.signal, run);
  }

  private place(name: string): Placement {
    if (this.hostsOf(name).length > 0) return HERE;
    const elsewhere = this.remote?.tools().get(name);
    if (elsewhere && elsewhere.instanceIds.length > 0) {
      return { kind: 'replica', instanceId: elsewhere.instanceIds[this.turn++ % elsewhere.instanceIds.length]! };
    }
    return {
      kind: 'nowhere',
      why: `tool "${name}" is served by tool workers and none is connected now; start a worker that hosts it`,
    };
  }

  private countWorkers(name: string): number {
    return this.hostsOf(name).length + (this.remote?.tools().get(name)?.workers ?? 0);
  }

  private toolFor(spec: WorkerToolSpec, validate: Tool['validate']): Tool & { spec: WorkerToolSpec } {
    return {
      spec,
      name: spec.name,
      description: spec.description,
      // checkRegistration normalised it: always a JSON object's text.
      parameters: JSON.parse(spec.parametersJson),
      noBackground: spec.noBackground,
      budgetSeconds: spec.timeoutSeconds,
      hardTimeoutSeconds: spec.hardTimeoutSeconds,
      inputTimeoutSeconds: spec.inputTimeoutSeconds,
      source: 'worker',
      validate,
      handler: (args, ctx) => this.invoke(spec.name, JSON.stringify(args), ctx),
      place: () => this.place(spec.name),
      workerCount: () => this.countWorkers(spec.name),
      concurrency: spec.concurrency,
    };
  }

  private checkNoClash(spec: WorkerToolSpec): void {
    const source = this.reservedBy(spec.name);
    if (source) {
      throw new FailedPrecondition(
        `tool "${spec.name}" already exists on this server (source: ${source}); rename the worker's tool`,
      );
    }
    const hosts = this.hostsOf(spec.name);
    const current = hosts[0]?.tools.get(spec.name) ?? this.remote?.tools().get(spec.name)?.spec;
    if (current && !sameDefinition(current, spec)) {
      throw new FailedPrecondition(
        `tool "${spec.name}" is already served with a different definition ` +
          '(description, parameters, no_background or limits); ' +
          'every worker hosting a tool must declare it the same way',
      );
    }
  }

  private hostsOf(toolName: string): WorkerSession[] {
    return [...this.sessions].filter((s) => s.tools.has(toolName));
  }

  /** The least busy worker with room for one more call of the tool; ties go round in turn. */
  private pick(toolName: string): WorkerSession | undefined {
    const candidates = this.hostsOf(toolName).filter((s) => s.hasRoomFor(toolName));
    if (candidates.length === 0) return undefined;
    const start = this.turn++ % candidates.length;
    let best = candidates[start]!;
    for (let i = 1; i < candidates.length; i++) {
      const c = candidates[(start + i) % candidates.length]!;
      if (c.load < best.load) best = c;
    }
    return best;
  }

  /**
   * Queues until a worker has room. A waiter stays queued when the tool's
   * last worker leaves (a restarting worker reconnects): its hard limit,
   * cancel or shutdown ends the wait.
   */
  private waitForRoom(
    toolName: string,
    signal: AbortSignal,
    run: (session: WorkerSession) => Promise<string>,
  ): Promise<string> {
    signal.throwIfAborted();
    if (this.closed) throw new Unavailable('the server is shutting down');
    return new Promise((resolve, reject) => {
      const queue = this.waiting.get(toolName) ?? [];
      const waiter: Waiter = {
        grant: (session) => {
          signal.removeEventListener('abort', onAbort);
          resolve(run(session));
        },
      };
      const onAbort = () => {
        queue.splice(queue.indexOf(waiter), 1);
        if (queue.length === 0) this.waiting.delete(toolName);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      queue.push(waiter);
      this.waiting.set(toolName, queue);
    });
  }

  /** Hands free slots to waiting calls of these tools, oldest first. */
  private pump(toolNames: string[]): void {
    for (const name of toolNames) {
      const queue = this.waiting.get(name);
      while (queue && queue.length > 0) {
        const session = this.pick(name);
        if (!session) break;
        queue.shift()!.grant(session);
      }
      if (queue?.length === 0) this.waiting.delete(name);
    }
  }

  private remove(session: WorkerSession): void {
    this.sessions.delete(session);
    this.changed();
  }

  private changed(): void {
    for (const listener of this.changeListeners) listener();
  }
}
