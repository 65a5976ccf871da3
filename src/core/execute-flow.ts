import type { Cancellation } from './cancellation.js';
import { type OutputChunk, UpdateKind, watchTask } from './await.js';
import type { BackgroundRuns } from './background-runs.js';
import { hardTimeoutMs, resolveBudgetMs } from './budget.js';
import { ANYONE, type Caller, mayActFor } from './caller.js';
import { FailedPrecondition, InvalidArgument, PermissionDenied, ToolNotFound, Unavailable } from './errors.js';
import type { HandoffPort, HandoffRequest } from './handoff.js';
import { checkExternalId, newTaskId } from './ids.js';
import type { TaskObserver } from './observer.js';
import { type ExecuteResult, inlineAnswer, outcomeText, withOutcome } from './outcome.js';
import type { RedirectPort } from './redirect-port.js';
import { type RunningLimits, Slot } from './running-limits.js';
import { CALLER_GONE, type ToolRun } from './run.js';
import type { NewTask, TaskStore } from './store.js';
import {
  FailureReason,
  isTerminal,
  type Origin,
  type Progress,
  type RedirectTarget,
  type TaskRecord,
  TaskStatus,
} from './task.js';
import { envelopeText } from './text.js';
import type { TraceContext } from './trace.js';
import { HERE, type Placement, type Tool, type ToolCatalog } from './tool.js';
import { checkDepth, checkOrigin, checkRedirect, checkSize, parseArguments } from './validation.js';
import { waitAtMost } from './wait-at-most.js';

export interface ExecuteCall {
  toolName: string;
  /** The model's raw arguments text: one JSON object; empty means {}. */
  argumentsJson: string;
  origin: Origin;
  /**
   * The budget asked for (seconds): past it the tool goes on in the background. 0 or absent: the
   * tool's or server's default.
   */
  budgetSeconds?: number;
  requestId?: string;
  redirect?: RedirectTarget;
  /** The caller's deadline (epoch ms): the budget ends early enough to answer before it. */
  callerDeadline?: number;
  /** Fires when the caller goes away before an answer. Read only when a wait begins (it may be made on first read). */
  readonly callerSignal?: Cancellation;
  /** Who is calling; it must be allowed to act for origin.userId. */
  caller?: Caller;
  /** The caller's trace context, handed to the tool. */
  trace?: TraceContext;
  /** Told of the tool's progress while the call waits inline (not after it is answered). */
  onProgress?: (progress: Progress) => void;
  /** Told of the tool's output while the call waits inline, every piece once, from offset 0. */
  onOutput?: (chunk: OutputChunk) => void;
  /** Told when a call outlives its budget, just before its task is recorded (a follower can subscribe first). */
  onRecording?: (taskId: string) => void;
  /** Told of the task as recorded, when `onRecording` was told first. */
  onRecorded?: (task: TaskRecord) => void;
}

export interface ExecuteLimits {
  /** This process's id: stored as the owner of the tasks it runs. */
  instanceId: string;
  defaultBudgetSeconds: number;
  maxBudgetSeconds: number;
  hardTimeoutSeconds: number;
  /** arguments_json larger than this (UTF-8 bytes) is refused. */
  maxArgumentsBytes: number;
  /** Arguments nesting deeper than this are refused. */
  maxJsonDepth: number;
  /** Keep each stored task's arguments, for the console (only where logs may show them too). */
  keepArguments?: boolean;
}

/** What the flow works with; the manager builds them and shares them with its other parts. */
export interface ExecuteParts {
  store: TaskStore;
  tools: ToolCatalog;
  redirects: RedirectPort;
  runs: BackgroundRuns;
  running: RunningLimits;
  observer: TaskObserver;
  /** Sends calls to the replica that has the tool's workers; absent with a single instance. */
  handoff?: HandoffPort;
}

/** The caller hears of the run's progress and output while it waits inline. */
function watchInline(run: ToolRun, { onProgress, onOutput }: ExecuteCall): void {
  run.watcher = onProgress;
  run.outputWatcher = onOutput;
}

function unwatchInline(run: ToolRun): void {
  run.watcher = undefined;
  run.outputWatcher = undefined;
}

/** How long one call may wait and where it may run: decided once, before anything starts. */
interface Plan {
  tool: Tool;
  placement: Placement;
  args: Record<string, unknown>;
  draft: NewTask;
  budgetMs: number;
  /**
   * How long a stored call waits for its outcome. A no_background tool is awaited to the end,
   * which its hard limit bounds.
   */
  waitMs: number;
  slot?: Slot;
  call: ExecuteCall;
}

/**
 * The Execute flow: validate the call, start the tool, race it against its
 * budget, answer inline or hand the run to BackgroundRuns with its envelope.
 * Also the flow's other entry, a call another replica recorded for this one
 * (`runHandedOff`), and the drain of inline calls at shutdown (`stop`).
 */
export class ExecuteFlow {
  private inlineCalls = 0;
  private inlineDrained?: () => void;
  private stopping = false;

  constructor(
    private readonly parts: ExecuteParts,
    private readonly limits: ExecuteLimits,
  ) {}

  async execute(call: ExecuteCall): Promise<ExecuteResult> {
    if (this.stopping) throw new Unavailable('the server is shutting down; retry on another replica');
    const plan = this.plan(call);
    this.inlineCalls++;
    try {
      // Taken before anything is stored, so a refused call leaves no trace; handed to the run it starts.
      if (plan.placement.kind === 'here') {
        const slot = this.parts.running.take(plan.draft.userId, call.callerDeadline);
        plan.slot = slot instanceof Slot ? slot : await slot;
      }
      const answer = await this.answer(plan);
      this.parts.observer.executeAnswered(plan.tool.name, answer.backgrounded);
      return answer;
    } finally {
      // A no-op when a run took the slot (it releases it when the tool ends).
      plan.slot?.releaseIfHeld();
      if (--this.inlineCalls === 0) this.inlineDrained?.();
    }
  }

  /**
   * Runs a task another replica recorded for this one (its tool's workers
   * are connected here). The task is ours from its creation; if the workers
   * left meanwhile it fails at once.
   */
  runHandedOff(request: HandoffRequest): void {
    const { runs, tools } = this.parts;
    const { taskId } = request;
    if (runs.has(taskId)) return;
    const fail = (reason: FailureReason, error: string) =>
      void runs.settle(taskId, { status: TaskStatus.Failed, reason, error });
    if (this.stopping) return fail(FailureReason.Shutdown, 'the server shut down');
    const tool = tools.get(request.toolName);
    if (!tool || (tool.place?.() ?? HERE).kind !== 'here') {
      return fail(
        FailureReason.WorkerLost,
        `no worker hosting tool "${request.toolName}" is connected to replica ${this.limits.instanceId} any more`,
      );
    }
    const draft: NewTask = { taskId, toolName: tool.name, owner: this.limits.instanceId, ...request.origin };
    const run = runs.start(tool, JSON.parse(request.argumentsJson) as Record<string, unknown>, draft, {
      trace: request.trace,
    });
    runs.recorded(runs.adopt(run));
  }

  /** Takes no more calls and waits up to `graceMs` for the inline calls under way. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    if (this.inlineCalls === 0) return;
    await waitAtMost(new Promise<void>((resolve) => (this.inlineDrained = resolve)), graceMs);
  }

  /** Every check that can refuse the call, in the order a caller should fix them; nothing runs or is stored yet. */
  private plan(call: ExecuteCall): Plan {
    const { tools, redirects } = this.parts;
    const tool = tools.get(call.toolName);
    if (!tool) {
      if (!call.toolName) throw new InvalidArgument('tool_name', 'is required');
      throw new ToolNotFound(
        call.toolName,
        tools.list().map((t) => t.name),
      );
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
    if (call.redirect) checkRedirect(call.redirect, redirects);
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
    // Built field by field: object spreads cost more than the rest of the plan, on every call.
    const draft: NewTask = {
      taskId: this.parts.store.taskIdFor?.(origin.userId, call.requestId ?? '') ?? newTaskId(),
      toolName: tool.name,
      owner: this.limits.instanceId,
      userId: origin.userId,
      channelId: origin.channelId,
      platform: origin.platform,
    };
    if (call.requestId) draft.requestId = call.requestId;
    if (call.redirect) draft.redirect = call.redirect;
    if (this.limits.keepArguments) draft.argumentsJson = call.argumentsJson || '{}';
    const waitMs = tool.noBackground ? hardTimeoutMs(tool, this.limits.hardTimeoutSeconds) + 1000 : budgetMs;
    return { tool, placement, args, draft, budgetMs, waitMs, call };
  }

  /** Runs the call where its tool is placed, tracked or not; the answer Execute gives. */
  private async answer(plan: Plan): Promise<ExecuteResult> {
    if (plan.placement.kind === 'replica') return this.runElsewhere(plan.placement.instanceId, plan);
    const { draft, call, tool, waitMs } = plan;
    // An idempotency key must be claimed before the tool starts, or two
    // concurrent retries would both run it; so such calls are stored at once.
    if (!draft.requestId) return this.runUntracked(plan);
    const claim = await this.parts.runs.createRecord(draft, call.callerDeadline);
    if (claim.created) return this.runTracked(plan, claim.task);
    // A retry must be the same call; a key reused for another tool is a client bug, not a retry.
    if (claim.task.toolName !== tool.name) {
      throw new FailedPrecondition(
        `request_id "${draft.requestId}" was already used for tool "${claim.task.toolName}"; ` +
          'use a new request_id for a different call',
      );
    }
    return this.answerFor(claim.task, waitMs, call);
  }

  /** The fast path: nothing is stored unless the budget runs out. */
  private async runUntracked({ tool, args, draft, budgetMs, slot, call }: Plan): Promise<ExecuteResult> {
    const { runs, observer } = this.parts;
    const startedAt = Date.now();
    const run = runs.start(tool, args, draft, { slot, trace: call.trace });
    // A tool that settled at once needs no wait, nor the caller's signal.
    if (!run.settled) watchInline(run, call);
    const settled =
      run.settled ?? (tool.noBackground ? await run.outcome : await run.waitFor(budgetMs, call.callerSignal));
    unwatchInline(run);
    if (settled === CALLER_GONE) {
      run.abort(FailureReason.Cancelled, 'the caller went away before the tool settled');
      return inlineAnswer(draft, await run.outcome, startedAt);
    }
    if (settled) return inlineAnswer(draft, settled, startedAt);
    observer.budgetExceeded(tool.name);
    if (this.stopping) {
      run.abort(FailureReason.Shutdown, 'the server shut down');
      return inlineAnswer(draft, await run.outcome, startedAt);
    }
    const adopted = runs.adopt(run);
    let task: TaskRecord;
    try {
      call.onRecording?.(draft.taskId);
      ({ task } = await runs.createRecord({ ...draft, startedAt, progress: run.progress }, call.callerDeadline));
      call.onRecorded?.(task);
    } catch (err) {
      runs.forget(adopted);
      run.abort(FailureReason.ToolError, 'the task could not be recorded');
      throw err;
    }
    runs.recorded(adopted);
    // A question backgrounds the call at once; the envelope carries it.
    task = (await runs.questionAsked(task.taskId)) ?? task;
    return { backgrounded: true, task, text: envelopeText(task) };
  }

  /**
   * For calls whose record exists from the start (idempotency key). The
   * answer comes from the run itself, not from reading the store back: once
   * the record exists, the caller must learn of it (inline or as an
   * envelope), never get UNAVAILABLE for a task that is running.
   */
  private async runTracked({ tool, args, draft, waitMs, slot, call }: Plan, task: TaskRecord): Promise<ExecuteResult> {
    const { runs, observer } = this.parts;
    const run = runs.start(tool, args, draft, { slot, trace: call.trace });
    runs.recorded(runs.adopt(run));
    // The caller going away stops the wait, not the tracked task: its retry will find it.
    watchInline(run, call);
    const settled = await run.waitFor(waitMs, call.callerSignal);
    unwatchInline(run);
    if (settled && settled !== CALLER_GONE) {
      const finished = withOutcome(task, settled, Date.now());
      return { backgrounded: false, task: finished, text: outcomeText(finished) };
    }
    if (settled === undefined) observer.budgetExceeded(tool.name);
    const asked = await runs.questionAsked(task.taskId);
    return { backgrounded: true, task: asked ?? task, text: envelopeText(asked ?? task) };
  }

  /**
   * For a tool whose workers are on another replica: the task is recorded at
   * once with that replica as its owner and handed to it; this call then
   * waits for the outcome through the store like any watcher.
   */
  private async runElsewhere(instanceId: string, { args, draft, waitMs, call }: Plan): Promise<ExecuteResult> {
    const { handoff, runs } = this.parts;
    if (!handoff)
      throw new Unavailable(`tool "${draft.toolName}" runs on another replica, and this one cannot reach it`);
    const claim = await runs.createRecord({ ...draft, owner: instanceId }, call.callerDeadline);
    if (claim.created) {
      const request: HandoffRequest = {
        taskId: draft.taskId,
        toolName: draft.toolName,
        argumentsJson: JSON.stringify(args),
        origin: { userId: draft.userId, channelId: draft.channelId, platform: draft.platform },
        ...(call.trace && { trace: call.trace }),
      };
      try {
        await handoff.send(instanceId, request);
      } catch (err) {
        // Nobody will run it: end it (or keep the outcome until the store is back).
        void runs.settle(draft.taskId, {
          status: TaskStatus.Failed,
          reason: FailureReason.WorkerLost,
          error: `could not hand the task to replica ${instanceId}`,
        });
        throw err;
      }
    }
    return this.answerFor(claim.task, waitMs, call);
  }

  /** Waits for a stored task up to the budget: the inline outcome if it ends, else the envelope. */
  private async answerFor(
    task: TaskRecord,
    budgetMs: number,
    { callerSignal, callerDeadline, onProgress, onOutput }: ExecuteCall,
  ): Promise<ExecuteResult> {
    let current = task;
    // A caller that follows output gets a finished task's output too (a retry of a call that has ended).
    if (!isTerminal(current) || (onOutput && (current.outputBytes ?? 0) > 0)) {
      const stop = new AbortController();
      const onCallerGone = () => stop.abort();
      callerSignal?.addEventListener('abort', onCallerGone, { once: true });
      try {
        const updates = watchTask(this.parts.store, task.taskId, {
          userId: '',
          timeoutMs: budgetMs,
          heartbeatMs: budgetMs + 1000,
          signal: stop.signal,
          ...(callerDeadline !== undefined && { readDeadline: callerDeadline }),
          ...(onOutput && { outputOffset: 0 }),
        });
        for await (const update of updates) {
          if (update.output) {
            onOutput?.(update.output);
            continue;
          }
          current = update.task;
          if (update.kind === UpdateKind.Progress && current.progress) onProgress?.(current.progress);
          // A question ends the inline wait: the caller gets the envelope with it.
          if (current.status === TaskStatus.InputRequired) break;
        }
      } finally {
        callerSignal?.removeEventListener('abort', onCallerGone);
      }
    }
    if (!isTerminal(current)) {
      this.parts.observer.budgetExceeded(current.toolName);
      return { backgrounded: true, task: current, text: envelopeText(current) };
    }
    return { backgrounded: false, task: current, text: outcomeText(current) };
  }
}
