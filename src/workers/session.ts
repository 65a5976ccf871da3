import { CountsByKey } from '../core/counts.js';
import { Unavailable } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { ToolAbortReason } from '../core/run.js';
import { FailureReason } from '../core/task.js';
import { type ToolContext, ToolFailure } from '../core/tool.js';
import type { FromWorker, Keepalive, Registration, WorkerLink, WorkerToolSpec } from './protocol.js';

interface InFlight {
  toolName: string;
  ctx: ToolContext;
  resolve(result: string): void;
  reject(err: unknown): void;
  stopListening(): void;
}

/**
 * One connected worker: what it hosts, what it is running, and whether it is
 * still there. Owns its keepalive timer. When the worker goes (stream ended,
 * keepalive missed, server closing) every invocation it was running fails
 * WORKER_LOST; nothing is sent again to another worker, because the tool may
 * already have had its effect.
 */
export class WorkerSession {
  readonly tools: ReadonlyMap<string, WorkerToolSpec>;
  private readonly inFlight = new Map<string, InFlight>();
  private readonly perTool = new CountsByKey<string>();
  private readonly keepaliveTimer: NodeJS.Timeout;
  private lastHeard = Date.now();
  private pings = 0;
  private closed = false;

  constructor(
    readonly id: string,
    private readonly registration: Registration,
    private readonly link: WorkerLink,
    private readonly keepalive: Keepalive,
    private readonly events: {
      /** A slot came free: another invocation may be sent. */
      freed(session: WorkerSession): void;
      closed(session: WorkerSession): void;
    },
    private readonly logger: Logger,
  ) {
    this.tools = new Map(registration.tools.map((tool) => [tool.name, tool]));
    this.keepaliveTimer = setInterval(() => this.checkAlive(), keepalive.pingMs);
  }

  get name(): string {
    return this.registration.workerName;
  }

  /** Invocations under way. */
  get load(): number {
    return this.inFlight.size;
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** True when one more invocation of `toolName` fits both the tool's and the worker's limit. */
  hasRoomFor(toolName: string): boolean {
    const tool = this.tools.get(toolName);
    if (!tool || this.closed) return false;
    const { maxConcurrency } = this.registration;
    if (maxConcurrency > 0 && this.inFlight.size >= maxConcurrency) return false;
    return tool.concurrency === 0 || this.perTool.get(toolName) < tool.concurrency;
  }

  /**
   * Sends one invocation and settles with the worker's answer. The caller
   * checked hasRoomFor(). If ctx.signal fires first the worker is told to stop
   * and its late answer is ignored.
   */
  invoke(toolName: string, argumentsJson: string, ctx: ToolContext): Promise<string> {
    if (this.closed)
      return Promise.reject(new ToolFailure(FailureReason.WorkerLost, `worker ${this.describe()} is gone`));
    return new Promise<string>((resolve, reject) => {
      const { signal } = ctx;
      const onAbort = () => {
        if (!this.release(ctx.taskId)) return;
        const why = signal.reason instanceof ToolAbortReason ? signal.reason : undefined;
        this.link.send({
          kind: 'cancellation',
          taskId: ctx.taskId,
          reason: why?.reason ?? FailureReason.Cancelled,
          message: why?.message ?? 'cancelled',
        });
        reject(signal.reason);
        this.events.freed(this);
      };
      this.inFlight.set(ctx.taskId, {
        toolName,
        ctx,
        resolve,
        reject,
        stopListening: () => signal.removeEventListener('abort', onAbort),
      });
      this.perTool.add(toolName);
      signal.addEventListener('abort', onAbort, { once: true });
      this.link.send({
        kind: 'invocation',
        taskId: ctx.taskId,
        toolName,
        argumentsJson,
        origin: ctx.origin,
        hardTimeoutSeconds: Math.max(0, (ctx.deadline - Date.now()) / 1000),
        traceparent: ctx.trace?.traceparent ?? '',
        tracestate: ctx.trace?.tracestate ?? '',
      });
    });
  }

  /** A message from the worker. Answers for invocations it no longer runs (cancelled, late) are dropped. */
  received(message: FromWorker): void {
    this.lastHeard = Date.now();
    switch (message.kind) {
      case 'pong':
        return;
      case 'progress':
        this.inFlight.get(message.taskId)?.ctx.progress(message.fraction, message.message);
        return;
      case 'output':
        this.inFlight.get(message.taskId)?.ctx.output(message.text);
        return;
      case 'input_request':
        this.ask(message.taskId, message.message, message.schemaJson);
        return;
      case 'result':
      case 'error': {
        const entry = this.inFlight.get(message.taskId);
        if (!entry || !this.release(message.taskId)) return;
        if (message.kind === 'result') entry.resolve(message.result);
        else entry.reject(new Error(message.error || 'the worker reported an error without a message'));
        this.events.freed(this);
        return;
      }
    }
  }

  /**
   * The worker is gone (or must go): fail what it was running WORKER_LOST,
   * end the stream, stop the timer. Idempotent.
   */
  lose(why: string, error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepaliveTimer);
    const running = [...this.inFlight.entries()];
    for (const [taskId] of running) this.release(taskId);
    for (const [taskId, entry] of running) {
      entry.reject(new ToolFailure(FailureReason.WorkerLost, `worker ${this.describe()} was lost (${why})`));
      this.logger.warn({ taskId, worker: this.id }, 'task lost with its worker');
    }
    this.link.close(error ?? new Unavailable(why));
    this.logger.info({ worker: this.id, name: this.name, why, lost: running.length }, 'worker disconnected');
    this.events.closed(this);
  }

  /**
   * The worker's tool asks a question: asked through the invocation's context
   * like a TypeScript tool's, and the answer sent back. A task that ends while
   * waiting gets its Cancellation instead (onAbort in invoke()).
   */
  private ask(taskId: string, message: string, schemaJson: string): void {
    const entry = this.inFlight.get(taskId);
    if (!entry) return;
    let schema: object;
    try {
      schema = JSON.parse(schemaJson) as object;
    } catch {
      this.link.send({ kind: 'input', taskId, responseJson: '', error: 'schema_json is not JSON' });
      return;
    }
    entry.ctx.requestInput({ message, schema }).then(
      (answer) => {
        if (this.inFlight.get(taskId) === entry && !this.closed) {
          this.link.send({ kind: 'input', taskId, responseJson: JSON.stringify(answer) });
        }
      },
      (err: unknown) => {
        // Ended (cancel, timeout): the Cancellation says so. Refused: tell the tool why.
        if (entry.ctx.signal.aborted || this.inFlight.get(taskId) !== entry || this.closed) return;
        this.link.send({ kind: 'input', taskId, responseJson: '', error: (err as Error).message });
      },
    );
  }

  private describe(): string {
    return `"${this.name}" (${this.id})`;
  }

  private release(taskId: string): boolean {
    const entry = this.inFlight.get(taskId);
    if (!entry) return false;
    entry.stopListening();
    this.inFlight.delete(taskId);
    this.perTool.remove(entry.toolName);
    return true;
  }

  private checkAlive(): void {
    const silentMs = Date.now() - this.lastHeard;
    if (silentMs > this.keepalive.timeoutMs) {
      this.lose(`no answer to keepalive pings for ${(silentMs / 1000).toFixed(1)} s`);
      return;
    }
    this.link.send({ kind: 'ping', sequence: ++this.pings });
  }
}
