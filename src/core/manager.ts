import { watchTask, type TaskUpdate } from './await.js';
import { ANYONE, type Caller, mayActFor } from './caller.js';
import type { HandoffPort, HandoffRequest } from './handoff.js';
import { resolveBudgetMs } from './budget.js';
import { FailedPrecondition, InvalidArgument, PermissionDenied, StoreUnavailable, TaskNotFound, ToolNotFound, Unavailable } from './errors.js';
import { checkExternalId, checkPlatform, checkTaskId, newTaskId } from './ids.js';
import type { Logger } from './logger.js';
import { NO_OBSERVER, type TaskObserver } from './observer.js';
import { PendingOutcomes } from './pending-outcomes.js';
import { ProgressWriter } from './progress-writer.js';
import type { RedirectPort } from './redirect-port.js';
import { alreadyEnded, type ExecuteResult, inlineAnswer, outcomeText, withOutcome } from './outcome.js';
import { checkDepth, checkSize, RunningLimits, type Slot } from './limits.js';
import { CALLER_GONE, type RunOwner, ToolRun } from './run.js';
import { checkOrigin, optionalSeconds, parseArguments } from './validation.js';
import type { ListPage, NewTask, TaskStore } from './store.js';
import {
  FailureReason,
  isTerminal,
  type Origin,
  type Outcome,
  type RedirectTarget,
  type TaskRecord,
  TaskStatus,
} from './task.js';
import { envelopeText } from './text.js';
import type { TraceContext } from './trace.js';
import { HERE, type Placement, type Tool, type ToolCatalog } from './tool.js';

export interface ManagerLimits {
  /** This process's id: stored as the owner of the tasks it runs. */
  instanceId: string;
  defaultBudgetSeconds: number;
  maxBudgetSeconds: number;
  hardTimeoutSeconds: number;
  awaitDefaultSeconds: number;
  awaitMaxSeconds: number;
  heartbeatDefaultSeconds: number;
  defaultPageSize: number;
  maxPageSize: number;
  /** Outcomes buffered while the store is unreachable, at most. */
  pendingOutcomesMax: number;
  /** arguments_json larger than this (UTF-8 bytes) is refused. */
  maxArgumentsBytes: number;
  /** Arguments nesting deeper than this are refused. */
  maxJsonDepth: number;
  /** Results (and errors) are cut to this many bytes, with a note. */
  maxResultBytes: number;
  /** Tools running at once in this process, overall and per user. */
  maxRunning: number;
  maxRunningPerUser: number;
}

export interface ExecuteCall {
  toolName: string;
  /** The model's raw arguments text: one JSON object; empty means {}. */
  argumentsJson: string;
  origin: Origin;
  /** The budget asked for (seconds): past it the tool goes on in the background. 0 or absent: the tool's or server's default. */
  budgetSeconds?: number;
  requestId?: string;
  redirect?: RedirectTarget;
  /** The caller's deadline (epoch ms): the budget ends early enough to answer before it. */
  callerDeadline?: number;
  /** Fires when the caller goes away before an answer. Read only when a wait begins (it may be made on first read). */
  readonly callerSignal?: AbortSignal;
  /** Who is calling; it must be allowed to act for origin.userId. */
  caller?: Caller;
  /** The caller's trace context, handed to the tool. */
  trace?: TraceContext;
}

/** Optional collaborators of the manager. */
export interface ManagerPorts {
  /** Sends calls to the replica that has the tool's workers; absent with a single instance. */
  handoff?: HandoffPort;
  /** Counts runs and answers (metrics). */
  observer?: TaskObserver;
}

export interface AwaitOptions {
  userId: string;
  caller?: Caller;
  timeoutSeconds?: number;
  heartbeatSeconds?: number;
  signal: AbortSignal;
}

export interface ListOptions {
  userId: string;
  caller?: Caller;
  status?: TaskStatus;
  toolName?: string;
  pageSize?: number;
  pageToken?: string;
  /** The caller's deadline (epoch ms), which bounds the store's work. */
  deadline?: number;
}

/**
 * A background run this process answers for until its outcome is stored.
 * There is one per running task, so it holds state, not closures.
 */
interface Adopted {
  run: ToolRun;
  /** The record exists, so the outcome can be stored. */
  recorded: boolean;
  /** Ends the store subscription that stops the tool when its task is ended elsewhere. */
  unwatch?: () => void;
  /** Set by shutdown, which waits for the outcome to be stored. */
  onDone?: () => void;
}

/** The smallest heartbeat interval accepted, so a stream cannot be made to spin. */
const MIN_HEARTBEAT_SECONDS = 0.05;

/**
 * Runs tools under a budget and tracks the ones that outlive it. Knows
 * nothing of gRPC or Redis: it speaks to a TaskStore, a ToolCatalog and a
 * RedirectPort.
 */
export class TaskManager {
  /** Background runs of this process, by task id. */
  private readonly runs = new Map<string, Adopted>();
  /** Told by every run of its progress and outcome. */
  private readonly runOwner: RunOwner = {
    progressed: (run, progress) => {
      if (this.runs.has(run.taskId)) this.progress.push(run.taskId, progress);
    },
    settled: (run, outcome) => {
      this.observer.runFinished(run.tool.name, outcome, (performance.now() - run.startedAt) / 1000);
      const adopted = this.runs.get(run.taskId);
      // Stored now if the record exists; otherwise once it does (see recorded()).
      if (adopted?.run === run && adopted.recorded) void this.settle(run.taskId, outcome);
    },
  };
  private readonly progress: ProgressWriter;
  private readonly unstored: PendingOutcomes;
  private readonly running: RunningLimits;
  private inlineCalls = 0;
  private inlineDrained?: () => void;
  private stopping = false;
  private shutdownPromise?: Promise<void>;
  private readonly handoff?: HandoffPort;
  private readonly observer: TaskObserver;

  constructor(
    private readonly store: TaskStore,
    private readonly tools: ToolCatalog,
    private readonly redirects: RedirectPort,
    private readonly limits: ManagerLimits,
    private readonly logger: Logger,
    ports: ManagerPorts = {},
  ) {
    this.handoff = ports.handoff;
    this.observer = ports.observer ?? NO_OBSERVER;
    this.progress = new ProgressWriter(store, logger);
    this.running = new RunningLimits(limits.maxRunning, limits.maxRunningPerUser);
    this.unstored = new PendingOutcomes(
      store,
      limits.pendingOutcomesMax,
      500,
      (task, applied) => {
        if (applied) this.afterFinish(task);
      },
      logger,
    );
  }

  /** Outcomes waiting for the store to come back. */
  get bufferedOutcomes(): number {
    return this.unstored.size;
  }

  /** Background tasks running in this process. */
  get runningHere(): number {
    return this.runs.size;
  }

  listTools(): Tool[] {
    return this.tools.list();
  }

  async execute(call: ExecuteCall): Promise<ExecuteResult> {
    if (this.stopping) throw new Unavailable('the server is shutting down; retry on another replica');
    const tool = this.tools.get(call.toolName);
    if (!tool) {
      if (!call.toolName) throw new InvalidArgument('tool_name', 'is required');
      throw new ToolNotFound(call.toolName, this.tools.list().map((t) => t.name));
    }
    const origin = checkOrigin(call.origin);
    const caller = call.caller ?? ANYONE;
    if (!mayActFor(caller, origin.userId)) {
      throw new PermissionDenied(`credentials "${caller.name}" may not act for user_id "${origin.userId}"`);
    }
    checkExternalId(call.requestId ?? '', 'request_id');
    const { maxArgumentsBytes, maxJsonDepth } = this.limits;
    checkSize(call.argumentsJson, maxArgumentsBytes, 'arguments_json', 'TASKSERVICE_MAX_ARGUMENTS_BYTES');
    const args = parseArguments(call.argumentsJson);
    checkDepth(args, maxJsonDepth, 'arguments_json', 'TASKSERVICE_MAX_JSON_DEPTH');
    tool.validate(args);
    if (call.redirect) this.checkRedirect(call.redirect);
    const placement = tool.place?.() ?? HERE;
    if (placement.kind === 'nowhere') throw new Unavailable(placement.why);
    const budgetMs = resolveBudgetMs({
      requestedSeconds: call.budgetSeconds,
      toolDefaultSeconds: tool.budgetSeconds,
      serverDefaultSeconds: this.limits.defaultBudgetSeconds,
      serverMaxSeconds: this.limits.maxBudgetSeconds,
      callerDeadline: call.callerDeadline,
      now: Date.now(),
    });
    const draft: NewTask = {
      taskId: newTaskId(),
      toolName: tool.name,
      owner: this.limits.instanceId,
      ...origin,
      ...(call.requestId && { requestId: call.requestId }),
      ...(call.redirect && { redirect: call.redirect }),
    };

    // Taken before anything is stored, so a refused call leaves no trace; handed to the run it starts.
    const slot = placement.kind === 'here' ? this.running.take(origin.userId) : undefined;
    // How long a stored call waits for its outcome. A no_background tool is awaited to the end, which its hard limit bounds.
    const waitMs = tool.noBackground ? this.hardTimeoutMs(tool) + 1000 : budgetMs;
    this.inlineCalls++;
    try {
      const answer = await this.answer(tool, placement, args, draft, { budgetMs, waitMs, slot, call });
      this.observer.executeAnswered(tool.name, answer.backgrounded);
      return answer;
    } finally {
      // A no-op when a run took the slot (it releases it when the tool ends).
      slot?.releaseIfHeld();
      if (--this.inlineCalls === 0) this.inlineDrained?.();
    }
  }

  /** Runs the call where its tool is placed, tracked or not; the answer Execute gives. */
  private async answer(
    tool: Tool,
    placement: Placement,
    args: Record<string, unknown>,
    draft: NewTask,
    { budgetMs, waitMs, slot, call }: { budgetMs: number; waitMs: number; slot?: Slot; call: ExecuteCall },
  ): Promise<ExecuteResult> {
    if (placement.kind === 'replica') {
      return this.runElsewhere(placement.instanceId, args, draft, waitMs, call);
    }
    // An idempotency key must be claimed before the tool starts, or two
    // concurrent retries would both run it; so such calls are stored at once.
    if (draft.requestId) {
      const claim = await this.createOrDiscard(draft, call.callerDeadline);
      if (!claim.created) {
        // A retry must be the same call; a key reused for another tool is a client bug, not a retry.
        if (claim.task.toolName !== draft.toolName) {
          throw new FailedPrecondition(
            `request_id "${draft.requestId}" was already used for tool "${claim.task.toolName}"; use a new request_id for a different call`,
          );
        }
        return this.answerFor(claim.task, waitMs, call);
      }
      return this.runTracked(tool, args, claim.task, draft, waitMs, call, slot);
    }
    return this.runUntracked(tool, args, draft, budgetMs, call, slot);
  }

  /** The fast path: nothing is stored unless the budget runs out. */
  private async runUntracked(
    tool: Tool,
    args: Record<string, unknown>,
    draft: NewTask,
    budgetMs: number,
    call: ExecuteCall,
    slot?: Slot,
  ): Promise<ExecuteResult> {
    const startedAt = Date.now();
    const { callerDeadline, trace } = call;
    const run = this.startRun(tool, args, draft, { slot, trace });
    // A tool that settled at once needs no wait, nor the caller's signal.
    const settled = run.settled ?? (tool.noBackground ? await run.outcome : await run.waitFor(budgetMs, call.callerSignal));
    if (settled === CALLER_GONE) {
      run.abort(FailureReason.Cancelled, 'the caller went away before the tool settled');
      return inlineAnswer(draft, await run.outcome, startedAt);
    }
    if (settled) return inlineAnswer(draft, settled, startedAt);
    this.observer.budgetExceeded(tool.name);
    if (this.stopping) {
      run.abort(FailureReason.Shutdown, 'the server shut down');
      return inlineAnswer(draft, await run.outcome, startedAt);
    }
    const adopted = this.adopt(run);
    let task: TaskRecord;
    try {
      ({ task } = await this.createOrDiscard({ ...draft, startedAt, progress: run.progress }, callerDeadline));
    } catch (err) {
      this.forget(adopted);
      run.abort(FailureReason.ToolError, 'the task could not be recorded');
      throw err;
    }
    this.recorded(adopted);
    return { backgrounded: true, task, text: envelopeText(task) };
  }

  /**
   * For a tool whose workers are on another replica: the task is recorded at
   * once with that replica as its owner and handed to it; this call then
   * waits for the outcome through the store like any watcher.
   */
  private async runElsewhere(
    instanceId: string,
    args: Record<string, unknown>,
    draft: NewTask,
    waitMs: number,
    call: ExecuteCall,
  ): Promise<ExecuteResult> {
    const { trace, callerDeadline } = call;
    if (!this.handoff) throw new Unavailable(`tool "${draft.toolName}" runs on another replica, and this one cannot reach it`);
    const claim = await this.createOrDiscard({ ...draft, owner: instanceId }, callerDeadline);
    if (claim.created) {
      const request: HandoffRequest = {
        taskId: draft.taskId,
        toolName: draft.toolName,
        argumentsJson: JSON.stringify(args),
        origin: { userId: draft.userId, channelId: draft.channelId, platform: draft.platform },
        ...(trace && { trace }),
      };
      try {
        await this.handoff.send(instanceId, request);
      } catch (err) {
        // Nobody will run it: end it (or keep the outcome until the store is back).
        void this.settle(draft.taskId, {
          status: TaskStatus.Failed,
          reason: FailureReason.WorkerLost,
          error: `could not hand the task to replica ${instanceId}`,
        });
        throw err;
      }
    }
    return this.answerFor(claim.task, waitMs, call);
  }

  /**
   * Runs a task another replica recorded for this one (its tool's workers
   * are connected here). The task is ours from its creation; if the workers
   * left meanwhile it fails at once.
   */
  runHandedOff(request: HandoffRequest): void {
    const { taskId } = request;
    if (this.runs.has(taskId)) return;
    const fail = (reason: FailureReason, error: string) => void this.settle(taskId, { status: TaskStatus.Failed, reason, error });
    if (this.stopping) return fail(FailureReason.Shutdown, 'the server shut down');
    const tool = this.tools.get(request.toolName);
    if (!tool || (tool.place?.() ?? HERE).kind !== 'here') {
      return fail(
        FailureReason.WorkerLost,
        `no worker hosting tool "${request.toolName}" is connected to replica ${this.limits.instanceId} any more`,
      );
    }
    const draft: NewTask = { taskId, toolName: tool.name, owner: this.limits.instanceId, ...request.origin };
    const run = this.startRun(tool, JSON.parse(request.argumentsJson) as Record<string, unknown>, draft, { trace: request.trace });
    this.recorded(this.adopt(run));
  }

  /**
   * Creates the record. If the store could not be reached, the create may
   * still have landed (the reply lost on the way): the caller is answered
   * UNAVAILABLE, so that record is discarded once the store is back.
   */
  private async createOrDiscard(draft: NewTask, deadline?: number) {
    try {
      return await this.store.create(draft, deadline);
    } catch (err) {
      if (err instanceof StoreUnavailable) this.unstored.discard(draft);
      throw err;
    }
  }

  /**
   * For calls whose record exists from the start (idempotency key). The
   * answer comes from the run itself, not from reading the store back: once
   * the record exists, the caller must learn of it (inline or as an
   * envelope), never get UNAVAILABLE for a task that is running.
   */
  private async runTracked(
    tool: Tool,
    args: Record<string, unknown>,
    task: TaskRecord,
    draft: NewTask,
    waitMs: number,
    { callerSignal, trace }: ExecuteCall,
    slot?: Slot,
  ): Promise<ExecuteResult> {
    const run = this.startRun(tool, args, draft, { slot, trace });
    this.recorded(this.adopt(run));
    // The caller going away stops the wait, not the tracked task: its retry will find it.
    const settled = await run.waitFor(waitMs, callerSignal);
    if (settled && settled !== CALLER_GONE) {
      const finished = withOutcome(task, settled, Date.now());
      return { backgrounded: false, task: finished, text: outcomeText(finished) };
    }
    if (settled === undefined) this.observer.budgetExceeded(tool.name);
    return { backgrounded: true, task, text: envelopeText(task) };
  }

  /** Waits for a stored task up to the budget: the inline outcome if it ends, else the envelope. */
  private async answerFor(
    task: TaskRecord,
    budgetMs: number,
    { callerSignal: waitSignal, callerDeadline }: ExecuteCall,
  ): Promise<ExecuteResult> {
    let current = task;
    if (!isTerminal(current)) {
      const stop = new AbortController();
      const onCallerGone = () => stop.abort();
      waitSignal?.addEventListener('abort', onCallerGone, { once: true });
      try {
        const updates = watchTask(this.store, task.taskId, {
          userId: '',
          timeoutMs: budgetMs,
          heartbeatMs: budgetMs + 1000,
          signal: stop.signal,
          ...(callerDeadline !== undefined && { readDeadline: callerDeadline }),
        });
        for await (const update of updates) current = update.task;
      } finally {
        waitSignal?.removeEventListener('abort', onCallerGone);
      }
    }
    if (!isTerminal(current)) {
      this.observer.budgetExceeded(current.toolName);
      return { backgrounded: true, task: current, text: envelopeText(current) };
    }
    return { backgrounded: false, task: current, text: outcomeText(current) };
  }

  private startRun(
    tool: Tool,
    args: Record<string, unknown>,
    draft: NewTask,
    { slot, trace }: { slot?: Slot; trace?: TraceContext } = {},
  ): ToolRun {
    this.observer.runStarted(tool.name);
    return new ToolRun(
      {
        taskId: draft.taskId,
        tool,
        origin: { userId: draft.userId, channelId: draft.channelId, platform: draft.platform },
        hardTimeoutMs: this.hardTimeoutMs(tool),
        maxResultBytes: this.limits.maxResultBytes,
        logger: this.logger,
        ...(trace && { trace }),
        ...(slot && { slot }),
        owner: this.runOwner,
      },
      args,
    );
  }

  private hardTimeoutMs(tool: Tool): number {
    return (tool.hardTimeoutSeconds ?? this.limits.hardTimeoutSeconds) * 1000;
  }

  /**
   * This process now answers for the run until its outcome is stored. The
   * outcome is stored only once the record exists (`recorded()`); if it never
   * comes to exist, the run is forgotten (`forget()`).
   */
  private adopt(run: ToolRun): Adopted {
    const adopted: Adopted = { run, recorded: false };
    this.runs.set(run.taskId, adopted);
    return adopted;
  }

  /**
   * The run's record exists. While the run lasts, the task may be ended
   * elsewhere (CancelTask, on any replica): the subscription stops the tool
   * when it is. If the run already settled, its outcome is stored now.
   */
  private recorded(adopted: Adopted): void {
    if (this.runs.get(adopted.run.taskId) !== adopted) return;
    adopted.recorded = true;
    const { run } = adopted;
    if (run.settled) {
      void this.settle(run.taskId, run.settled);
      return;
    }
    // Without the safety poll: one per running task would re-read them all every few seconds,
    // and a lost cancel event only lets the tool run on (its outcome is then refused).
    adopted.unwatch = this.store.subscribe(run.taskId, (task) => this.endedElsewhere(run, task), { safetyPoll: false });
  }

  /** The record never came to exist: nobody will store the outcome. */
  private forget(adopted: Adopted): void {
    if (this.runs.get(adopted.run.taskId) === adopted) this.runs.delete(adopted.run.taskId);
    adopted.onDone?.();
  }

  private endedElsewhere(run: ToolRun, task: TaskRecord | null): void {
    if (!task || !isTerminal(task)) return;
    if (run.abort(task.failureReason ?? FailureReason.Cancelled, task.error ?? 'the task ended')) {
      this.logger.info({ taskId: run.taskId, reason: task.failureReason }, 'stopped a tool: its task was ended elsewhere');
    }
  }

  private async settle(taskId: string, outcome: Outcome): Promise<void> {
    try {
      const { applied, task } = await this.store.finish(taskId, outcome);
      if (applied) this.afterFinish(task);
    } catch (err) {
      if (err instanceof StoreUnavailable) {
        this.logger.warn({ taskId }, 'store unreachable: outcome kept in memory until it is back');
        this.unstored.add(taskId, outcome);
      } else {
        this.logger.error({ err, taskId }, 'could not store the outcome of a task');
      }
    } finally {
      const adopted = this.runs.get(taskId);
      if (adopted) {
        this.runs.delete(taskId);
        adopted.unwatch?.();
        adopted.onDone?.();
      }
    }
  }

  private afterFinish(task: TaskRecord): void {
    if (task.redirect) this.redirects.deliver(task);
  }

  /**
   * The task, if this request may see it: NOT_FOUND alike for a missing task,
   * another user's (when `userId` is set) and one outside the caller's users,
   * so nothing tells them apart.
   */
  async get(taskId: string, userId: string, caller: Caller = ANYONE, deadline?: number): Promise<TaskRecord> {
    checkTaskId(taskId);
    checkExternalId(userId, 'user_id');
    const task = await this.store.get(taskId, deadline);
    if (!task || (userId && task.userId !== userId) || !mayActFor(caller, task.userId)) throw new TaskNotFound(taskId);
    return task;
  }

  async cancel(taskId: string, userId: string, caller: Caller = ANYONE, deadline?: number): Promise<TaskRecord> {
    const task = await this.get(taskId, userId, caller, deadline);
    if (!isTerminal(task)) {
      const cancelled: Outcome = { status: TaskStatus.Failed, reason: FailureReason.Cancelled, error: 'cancelled by request' };
      const { applied, task: stored } = await this.store.finish(taskId, cancelled, deadline);
      if (applied) {
        this.runs.get(taskId)?.run.abort(FailureReason.Cancelled, 'cancelled by request');
        this.afterFinish(stored);
        return stored;
      }
      return alreadyEnded(stored);
    }
    return alreadyEnded(task);
  }

  async setRedirect(
    taskId: string,
    userId: string,
    target: RedirectTarget,
    caller: Caller = ANYONE,
    deadline?: number,
  ): Promise<TaskRecord> {
    this.checkRedirect(target);
    await this.get(taskId, userId, caller, deadline);
    const task = await this.store.setRedirect(taskId, target, deadline);
    if (isTerminal(task)) this.redirects.deliver(task);
    return task;
  }

  watch(taskId: string, options: AwaitOptions): AsyncGenerator<TaskUpdate> {
    checkTaskId(taskId);
    checkExternalId(options.userId, 'user_id');
    const timeoutSeconds = optionalSeconds(options.timeoutSeconds, 'timeout_seconds') || this.limits.awaitDefaultSeconds;
    const heartbeatSeconds =
      optionalSeconds(options.heartbeatSeconds, 'heartbeat_seconds') || this.limits.heartbeatDefaultSeconds;
    const watch = (userId: string) =>
      watchTask(this.store, taskId, {
        userId,
        timeoutMs: Math.min(timeoutSeconds, this.limits.awaitMaxSeconds) * 1000,
        heartbeatMs: Math.max(heartbeatSeconds, MIN_HEARTBEAT_SECONDS) * 1000,
        signal: options.signal,
      });
    const caller = options.caller ?? ANYONE;
    if (caller.users === null) return watch(options.userId);
    // A limited caller: the owner is checked first, then the watch is scoped to that owner.
    const get = () => this.get(taskId, options.userId, caller);
    return (async function* () {
      const task = await get();
      yield* watch(task.userId);
    })();
  }

  async list(options: ListOptions): Promise<ListPage> {
    checkExternalId(options.userId, 'user_id');
    const caller = options.caller ?? ANYONE;
    let userId = options.userId;
    if (caller.users !== null) {
      if (!userId) {
        if (caller.users.size !== 1) {
          throw new PermissionDenied(`credentials "${caller.name}" act for several users; set user_id to one of them`);
        }
        [userId] = caller.users;
      }
      // Another user's list looks like an unknown user's: empty.
      if (!caller.users.has(userId!)) return { tasks: [] };
    }
    const size = options.pageSize ?? 0;
    if (!Number.isInteger(size) || size < 0) throw new InvalidArgument('page_size', 'must be 0 (default) or positive');
    return this.store.list({
      userId: userId!,
      status: options.status,
      toolName: options.toolName || undefined,
      // Larger pages are cut to the maximum rather than refused (AIP-158).
      limit: Math.min(size || this.limits.defaultPageSize, this.limits.maxPageSize),
      cursor: options.pageToken || undefined,
      deadline: options.deadline,
    });
  }

  /**
   * Stops taking calls, lets inline calls finish (up to `graceMs`), then ends
   * every background task of this process with reason SHUTDOWN. Idempotent.
   */
  shutdown(graceMs: number): Promise<void> {
    this.shutdownPromise ??= this.doShutdown(graceMs);
    return this.shutdownPromise;
  }

  private async doShutdown(graceMs: number): Promise<void> {
    this.stopping = true;
    if (this.inlineCalls > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.inlineDrained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const outcome: Outcome = { status: TaskStatus.Failed, reason: FailureReason.Shutdown, error: 'the server shut down' };
    const pending = [...this.runs.values()];
    const stored = pending.map((adopted) => new Promise<void>((resolve) => (adopted.onDone = resolve)));
    for (const { run } of pending) run.abort(outcome.reason, outcome.error);
    await Promise.all(stored);
    // One last try for outcomes that waited for the store; what still fails is logged.
    await this.unstored.flush().catch(() => undefined);
    this.unstored.close();
    if (this.unstored.size > 0) this.logger.error({ outcomes: this.unstored.size }, 'shut down with outcomes the store never took');
    await this.redirects.close();
  }

  private checkRedirect(target: RedirectTarget): void {
    if (!target.channelId) throw new InvalidArgument('channel_id', 'is required for an output redirect');
    checkExternalId(target.channelId, 'channel_id');
    if (!target.platform) throw new InvalidArgument('platform', 'is required for an output redirect');
    checkPlatform(target.platform);
    if (!Number.isInteger(target.maxChars) || target.maxChars < 0) {
      throw new InvalidArgument('max_chars', 'must be 0 (the platform limit) or a positive integer');
    }
    this.redirects.validateTarget(target);
  }
}

export type { ExecuteResult };
